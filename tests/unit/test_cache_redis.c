/*
 * test_cache_redis.c - the shared tier's envelope: version, length,
 * fetched-at and the HMAC-SHA256 (src/cache/cache_redis.c); the Redis
 * round trips themselves are tests/integration/redis.sh's
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define KEY "stsdane:ans/a.test"
#define T 1700000000

static const unsigned char REC[] = "a record, as cache_record_encode() makes";
static const unsigned char SECRET[] = "fleet secret";

static void
seal(const unsigned char *secret, unsigned char **v, size_t *vlen)
{
	cr_assert_eq(redis_record_seal(KEY, REC, sizeof(REC), T, T + 600,
	    secret, secret != NULL ? sizeof(SECRET) - 1 : 0, v, vlen),
	    STSDANE_OK);
}

static int
open_with(const char *key, const unsigned char *v, size_t vlen,
    const unsigned char *secret)
{
	const unsigned char *rec;
	size_t reclen;
	int64_t fetched = 0;
	int rc = redis_record_open(key, v, vlen, secret,
	    secret != NULL ? sizeof(SECRET) - 1 : 0, &rec, &reclen, &fetched);

	if (rc == STSDANE_OK) {
		cr_expect_eq(reclen, sizeof(REC));
		cr_expect(memcmp(rec, REC, reclen) == 0);
		cr_expect_eq(fetched, T);
	}
	return rc;
}

Test(cache_redis, round_trips)
{
	unsigned char *v;
	size_t vlen;

	seal(NULL, &v, &vlen);
	cr_expect_eq(vlen, 28 + sizeof(REC));
	cr_expect(memcmp(v, "SDRS\001\000", 6) == 0);
	cr_expect_eq(open_with(KEY, v, vlen, NULL), STSDANE_OK);
	/* a key is required to believe it */
	cr_expect_eq(open_with(KEY, v, vlen, SECRET), STSDANE_ERR_NOTFOUND);
	free(v);

	seal(SECRET, &v, &vlen);
	cr_expect_eq(vlen, 28 + 32 + sizeof(REC));
	cr_expect_eq(v[5], 1);
	cr_expect_eq(open_with(KEY, v, vlen, SECRET), STSDANE_OK);
	/* without a key of its own, a reader cannot check: it reads */
	cr_expect_eq(open_with(KEY, v, vlen, NULL), STSDANE_OK);
	free(v);
}

/* the HMAC covers the key's name: no replay under another domain */
Test(cache_redis, hmac_binds_the_key)
{
	unsigned char *v;
	size_t vlen;
	static const unsigned char other[] = "another secret";
	const unsigned char *rec;
	size_t reclen;
	int64_t f;

	seal(SECRET, &v, &vlen);
	cr_expect_eq(open_with("stsdane:ans/b.test", v, vlen, SECRET),
	    STSDANE_ERR_NOTFOUND);
	cr_expect_eq(redis_record_open(KEY, v, vlen, other, sizeof(other) - 1,
	    &rec, &reclen, &f), STSDANE_ERR_NOTFOUND);
	free(v);
}

Test(cache_redis, every_bit_flip_is_caught)
{
	unsigned char *v;
	size_t vlen, i;
	int bit;

	seal(SECRET, &v, &vlen);
	for (i = 0; i < vlen; i++)
		for (bit = 0; bit < 8; bit++) {
			v[i] ^= (unsigned char)(1 << bit);
			cr_expect_eq(open_with(KEY, v, vlen, SECRET),
			    STSDANE_ERR_NOTFOUND, "byte %zu bit %d", i, bit);
			v[i] ^= (unsigned char)(1 << bit);
		}
	free(v);
}

Test(cache_redis, truncations_and_trailing_bytes)
{
	unsigned char *v, *w;
	size_t vlen, n;

	seal(NULL, &v, &vlen);
	for (n = 0; n < vlen; n++)
		cr_expect_eq(open_with(KEY, v, n, NULL), STSDANE_ERR_NOTFOUND,
		    "length %zu", n);
	w = malloc(vlen + 1);
	cr_assert_not_null(w);
	memcpy(w, v, vlen);
	w[vlen] = 0;
	cr_expect_eq(open_with(KEY, w, vlen + 1, NULL), STSDANE_ERR_NOTFOUND);
	/* another envelope version, unknown flags, reserved bytes */
	w[4] = 2;
	cr_expect_eq(open_with(KEY, w, vlen, NULL), STSDANE_ERR_NOTFOUND);
	w[4] = 1;
	w[5] = 2;
	cr_expect_eq(open_with(KEY, w, vlen, NULL), STSDANE_ERR_NOTFOUND);
	w[5] = 0;
	w[7] = 1;
	cr_expect_eq(open_with(KEY, w, vlen, NULL), STSDANE_ERR_NOTFOUND);
	free(w);
	free(v);
}
