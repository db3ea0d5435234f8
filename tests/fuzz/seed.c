/*
 * NAME
 *	seed.c - sample decisions for the cache harnesses' seed corpora
 * DESCRIPTION
 *	fuzz_sample_decision() builds a decision with every part filled in
 *	(MX patterns, DANE hosts with TLSA records, id, reason), so that the
 *	seeds written from it reach every branch of the decoder.  When
 *	STSDANE_FUZZ_SEED_DIR is set, fuzz_write_seed() writes a seed file
 *	there; that is how tests/fuzz/corpus/ was made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"
#include "decision.h"
#include "seed.h"

struct stsdane_decision *
fuzz_sample_decision(const char *domain, int dane, int64_t expires)
{
	static const unsigned char digest[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct stsdane_decision *d = decision_new(domain);
	struct stsdane_dane_host *h;

	FUZZ_CHECK(d != NULL);
	d->expires = expires;
	d->require_tls = 1;
	if (!dane) {
		d->mechanism = STSDANE_MECH_MTASTS;
		d->mode = STSDANE_MODE_ENFORCE;
		d->max_age = 86400;
		d->policy_id = sd_strdup("20240101");
		FUZZ_CHECK(decision_add_mx(d, "mx.example.test") == 0);
		FUZZ_CHECK(decision_add_mx(d, "*.mx.example.test") == 0);
		FUZZ_CHECK(decision_set_reason(d, "MTA-STS policy in mode "
		    "enforce") == 0);
		return d;
	}
	d->mechanism = STSDANE_MECH_DANE;
	FUZZ_CHECK(decision_set_reason(d, "DANE: secure TLSA") == 0);
	h = calloc(1, sizeof(*h));
	FUZZ_CHECK(h != NULL);
	h->name = sd_strdup("mx.example.test");
	h->base_domain = sd_strdup("mx.example.test");
	h->preference = 10;
	h->status = STSDANE_DANE_SECURE;
	h->tlsa = calloc(1, sizeof(*h->tlsa));
	FUZZ_CHECK(h->tlsa != NULL);
	h->ntlsa = 1;
	h->tlsa[0].usage = 3;
	h->tlsa[0].selector = 1;
	h->tlsa[0].mtype = 1;
	h->tlsa[0].len = sizeof(digest);
	h->tlsa[0].data = malloc(sizeof(digest));
	FUZZ_CHECK(h->tlsa[0].data != NULL);
	memcpy(h->tlsa[0].data, digest, sizeof(digest));
	d->dane = h;
	d->ndane = 1;
	return d;
}

void
fuzz_write_seed(const char *name, const void *p, size_t n)
{
	const char *dir = getenv("STSDANE_FUZZ_SEED_DIR");
	char path[4096];
	FILE *fp;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	FUZZ_CHECK(fp != NULL);
	FUZZ_CHECK(fwrite(p, 1, n, fp) == n);
	FUZZ_CHECK(fclose(fp) == 0);
}
