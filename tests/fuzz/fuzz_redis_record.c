/*
 * NAME
 *	fuzz_redis_record.c - libFuzzer target: a value read from the
 *	fleet's Redis tier (redis_record_open())
 * DESCRIPTION
 *	Whoever can write to that Redis chooses these bytes.  The first
 *	input byte says whether the reader has a shared_cache_key (odd) or
 *	not; the rest is the value.  Opened, the record lies inside the
 *	value and is what a record of that length sealed with the same
 *	times (and key) gives back, byte for byte: nothing is accepted that
 *	the writer's side could not have written.  With a key, a value
 *	without a MAC is refused.  The record then goes to the cache
 *	record decoder, as the tier's reader does.
 */
#include <string.h>

#include "fuzz.h"
#include "cache.h"
#include "decision.h"

static const unsigned char SECRET[] = "fuzz shared cache key";

static int64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *secret, *rec;
	struct stsdane_decision *d = NULL;
	unsigned char *again = NULL;
	size_t slen, reclen, alen;
	int64_t fetched, learned;
	int rc;

	if (size < 1)
		return 0;
	secret = (data[0] & 1) ? SECRET : NULL;
	slen = secret != NULL ? sizeof(SECRET) - 1 : 0;
	data++;
	size--;
	rc = redis_record_open("sts/example.test", data, size, secret, slen,
	    &rec, &reclen, &fetched);
	if (rc != STSDANE_OK) {
		FUZZ_CHECK(rc == STSDANE_ERR_NOTFOUND);
		FUZZ_CHECK(rec == NULL && reclen == 0);
		return 0;
	}
	FUZZ_CHECK(rec >= data && reclen <= size &&
	    rec + reclen == data + size);
	if (secret != NULL)
		FUZZ_CHECK(size >= 6 && (data[5] & 1) != 0);
	/* the writer's side makes exactly these bytes */
	FUZZ_CHECK(redis_record_seal("sts/example.test", rec, reclen, fetched,
	    be64(data + 16), secret, slen, &again, &alen) == STSDANE_OK);
	if (secret != NULL || (data[5] & 1) == 0) {
		FUZZ_CHECK(alen == size);
		FUZZ_CHECK(memcmp(again, data, size) == 0);
	}
	free(again);
	if (cache_record_decode(rec, reclen, &d, &learned) == STSDANE_OK)
		FUZZ_CHECK(d != NULL);
	stsdane_decision_free(d);
	return 0;
}
