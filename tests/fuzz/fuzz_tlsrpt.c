/*
 * NAME
 *	fuzz_tlsrpt.c - libFuzzer target: the _smtp._tls TXT record set
 * DESCRIPTION
 *	The input is up to 16 records separated by NUL bytes, handed to
 *	stsdane_tlsrpt_check() as the audit and the report sender do.  An
 *	accepted set has destinations that are mailto: or https: URIs (in
 *	any case) of printable ASCII only; the same input gives the same answer twice;
 *	and the record "v=TLSRPTv1; rua=U1,U2,..." made from the accepted
 *	destinations is accepted with the same ones, in order (round trip).
 */
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "stsdane.h"
#include "util.h"

#define MAXREC 16

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *recs[MAXREC];
	size_t lens[MAXREC], n = 0, pos = 0, i;
	struct stsdane_tlsrpt *r = NULL, *again = NULL, *back = NULL;
	char err[SD_ERRLEN], rec[8192];
	const char *one[1];
	size_t onelen[1], used;
	int rc, rc2;

	while (pos <= size && n < MAXREC) {
		const uint8_t *end = memchr(data + pos, '\0', size - pos);
		size_t l = end != NULL ? (size_t)(end - (data + pos)) :
		    size - pos;

		recs[n] = (const char *)data + pos;
		lens[n] = l;
		n++;
		pos += l + 1;
	}
	rc = stsdane_tlsrpt_check(recs, lens, n, &r, err, sizeof(err));
	rc2 = stsdane_tlsrpt_check(recs, lens, n, &again, err, sizeof(err));
	FUZZ_CHECK(rc == rc2);
	if (rc != STSDANE_OK) {
		FUZZ_CHECK(r == NULL && again == NULL);
		FUZZ_CHECK(rc == STSDANE_ERR_NOTFOUND ||
		    rc == STSDANE_ERR_SYNTAX);
		return 0;
	}
	FUZZ_CHECK(r != NULL && again != NULL);
	FUZZ_CHECK(r->nrua == again->nrua && r->nignored == again->nignored);
	used = (size_t)snprintf(rec, sizeof(rec), "v=TLSRPTv1; rua=");
	for (i = 0; i < r->nrua; i++) {
		const char *u = r->rua[i];

		FUZZ_CHECK(strcmp(u, again->rua[i]) == 0);
		/* schemes are case-insensitive (RFC 3986 3.1), and so
		   are send.c and the audit */
		FUZZ_CHECK(strncasecmp(u, "mailto:", 7) == 0 ||
		    strncasecmp(u, "https://", 8) == 0);
		FUZZ_CHECK(printable(u));
		if (used < sizeof(rec))
			used += (size_t)snprintf(rec + used, sizeof(rec) - used,
			    "%s%s", i > 0 ? "," : "", u);
	}
	if (r->nrua > 0 && used < sizeof(rec)) {
		one[0] = rec;
		onelen[0] = used;
		FUZZ_CHECK(stsdane_tlsrpt_check(one, onelen, 1, &back, err,
		    sizeof(err)) == STSDANE_OK);
		FUZZ_CHECK(back->nrua == r->nrua);
		for (i = 0; i < r->nrua; i++)
			FUZZ_CHECK(strcmp(back->rua[i], r->rua[i]) == 0);
		stsdane_tlsrpt_free(back);
	}
	stsdane_tlsrpt_free(r);
	stsdane_tlsrpt_free(again);
	return 0;
}
