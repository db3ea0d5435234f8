/*
 * NAME
 *	fuzz_cache_record.c - libFuzzer target: the cache record decoder
 * DESCRIPTION
 *	The input goes to cache_record_decode() as a value read from the
 *	database.  A record it accepts is encoded again; that encoding must
 *	decode, and encode once more to the same bytes (round trip), and be
 *	as long as the input.
 */
#include <string.h>

#include "cache.h"
#include "fuzz.h"
#include "util.h"
#include "seed.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int dane;

	for (dane = 0; dane < 2; dane++) {
		struct stsdane_decision *d = fuzz_sample_decision(
		    "example.test", dane, 1700000000);
		unsigned char *e = NULL;
		size_t n = 0;

		FUZZ_CHECK(cache_record_encode(d, 1690000000, &e, &n) ==
		    STSDANE_OK);
		fuzz_write_seed(dane ? "dane" : "mtasts", e, n);
		free(e);
		stsdane_decision_free(d);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stsdane_decision *d = NULL, *d2 = NULL;
	unsigned char *e1 = NULL, *e2 = NULL;
	size_t l1 = 0, l2 = 0;
	int64_t learned = 0, learned2 = 0;

	if (cache_record_decode(data, size, &d, &learned) != STSDANE_OK)
		return 0;
	FUZZ_CHECK(d != NULL && d->domain != NULL);
	FUZZ_CHECK(cache_record_encode(d, learned, &e1, &l1) == STSDANE_OK);
	FUZZ_CHECK(cache_record_decode(e1, l1, &d2, &learned2) == STSDANE_OK);
	FUZZ_CHECK(learned2 == learned);
	FUZZ_CHECK(cache_record_encode(d2, learned2, &e2, &l2) == STSDANE_OK);
	FUZZ_CHECK(l1 == l2 && memcmp(e1, e2, l1) == 0);
	/* nothing read is dropped: only the source byte may differ, as a
	   record read back is always "cache" */
	FUZZ_CHECK(l1 == size);
	free(e1);
	free(e2);
	stsdane_decision_free(d);
	stsdane_decision_free(d2);
	return 0;
}
