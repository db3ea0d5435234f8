/*
 * test_cache_record.c - cache_record_encode()/decode(): round trips, and
 * every damaged record reads as absent
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "util.h"
#include "decision.h"

static uint32_t
crc32_bitwise(const unsigned char *p, size_t n, uint32_t crc)
{
	size_t i;
	int b;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* Recompute the envelope checksum after a deliberate edit. */
static void
reseal(unsigned char *rec, size_t len)
{
	uint32_t crc = crc32_bitwise(rec, 12, 0);

	crc = crc32_bitwise(rec + 16, len - 16, crc);
	rec[12] = (unsigned char)(crc >> 24);
	rec[13] = (unsigned char)(crc >> 16);
	rec[14] = (unsigned char)(crc >> 8);
	rec[15] = (unsigned char)crc;
}

static void
add_tlsa(struct stsdane_dane_host *h, uint8_t u, uint8_t s, uint8_t m,
    size_t len, unsigned char fill)
{
	struct stsdane_tlsa *t;

	h->tlsa = realloc(h->tlsa, (h->ntlsa + 1) * sizeof(*h->tlsa));
	cr_assert_not_null(h->tlsa);
	t = &h->tlsa[h->ntlsa++];
	t->usage = u;
	t->selector = s;
	t->mtype = m;
	t->len = len;
	t->data = malloc(len ? len : 1);
	cr_assert_not_null(t->data);
	memset(t->data, fill, len);
	if (len > 0)
		t->data[len - 1] = (unsigned char)(fill ^ 0x5a);
}

static struct stsdane_decision *
make_sts(void)
{
	struct stsdane_decision *d = decision_new("example.com");

	cr_assert_not_null(d);
	d->mechanism = STSDANE_MECH_MTASTS;
	d->mode = STSDANE_MODE_ENFORCE;
	d->require_tls = 1;
	d->max_age = 604800;
	d->expires = 1700000000 + 604800;
	d->policy_id = sd_strdup("20160831085700Z");
	cr_assert_eq(decision_add_mx(d, "mail.example.com"), 0);
	cr_assert_eq(decision_add_mx(d, "*.example.net"), 0);
	cr_assert_eq(decision_add_mx(d, "backupmx.example.com"), 0);
	cr_assert_eq(decision_set_reason(d, "mta-sts policy '%s' enforced",
	    "20160831085700Z"), 0);
	return d;
}

static struct stsdane_decision *
make_dane(void)
{
	struct stsdane_decision *d = decision_new("dane.example");
	struct stsdane_dane_host *h;

	cr_assert_not_null(d);
	d->mechanism = STSDANE_MECH_DANE;
	d->mode = STSDANE_MODE_ENFORCE;
	d->require_tls = 1;
	d->expires = 1700003600;
	d->ndane = 3;
	d->dane = calloc(3, sizeof(*d->dane));
	cr_assert_not_null(d->dane);
	h = &d->dane[0];
	h->name = sd_strdup("mx1.dane.example");
	h->base_domain = sd_strdup("mx1.dane.example");
	h->preference = 10;
	h->status = STSDANE_DANE_SECURE;
	add_tlsa(h, 3, 1, 1, 32, 0xab);
	add_tlsa(h, 2, 0, 2, 64, 0x01);
	h = &d->dane[1];
	h->name = sd_strdup("mx2.dane.example");
	h->base_domain = NULL;
	h->preference = 20;
	h->status = STSDANE_DANE_UNUSABLE;
	h = &d->dane[2];
	h->name = sd_strdup("mx3.other.example");
	h->base_domain = sd_strdup("cname-target.example");
	h->preference = 65535;
	h->status = STSDANE_DANE_SECURE;
	add_tlsa(h, 3, 0, 0, 700, 0x30);
	add_tlsa(h, 3, 1, 1, 0, 0x00);
	return d;
}

static struct stsdane_decision *
make_none(void)
{
	struct stsdane_decision *d = decision_new("null-mx.example");

	cr_assert_not_null(d);
	d->no_mail = 1;
	d->problem = STSDANE_PROBLEM_NULL_MX;
	d->expires = -1;
	return d;
}

static struct stsdane_decision *
make_tempfail(void)
{
	struct stsdane_decision *d = decision_new("slow.example");

	cr_assert_not_null(d);
	d->tempfail = 1;
	d->mechanism = STSDANE_MECH_MTASTS;
	d->mode = STSDANE_MODE_TESTING;
	d->problem = STSDANE_PROBLEM_DNS_TEMPFAIL;
	d->policy_id = sd_strdup("");
	cr_assert_eq(decision_set_reason(d, "resolver timed out"), 0);
	return d;
}

struct rec_case {
	const char *what;
	struct stsdane_decision *(*make)(void);
	int64_t learned;
};

static const struct rec_case rec_cases[] = {
	{"mta-sts with mx list", make_sts, 1700000000},
	{"dane with hosts and tlsa", make_dane, 1700000123},
	{"none, null mx", make_none, 0},
	{"tempfail, empty id", make_tempfail, -5},
};

#define NCASES (sizeof(rec_cases) / sizeof(rec_cases[0]))

static void
str_eq(const char *a, const char *b, const char *what)
{
	if (a == NULL || b == NULL)
		cr_assert(a == b, "%s: NULL vs non-NULL", what);
	else
		cr_assert_str_eq(a, b, "%s", what);
}

static void
assert_same(const struct stsdane_decision *a,
    const struct stsdane_decision *b, const char *what)
{
	size_t i, j;

	str_eq(a->domain, b->domain, what);
	cr_assert_eq(a->mechanism, b->mechanism, "%s", what);
	cr_assert_eq(a->mode, b->mode, "%s", what);
	cr_assert_eq(a->require_tls, b->require_tls, "%s", what);
	cr_assert_eq(a->tempfail, b->tempfail, "%s", what);
	cr_assert_eq(a->no_mail, b->no_mail, "%s", what);
	cr_assert_eq(a->max_age, b->max_age, "%s", what);
	cr_assert_eq(a->expires, b->expires, "%s", what);
	cr_assert_eq(a->problem, b->problem, "%s", what);
	str_eq(a->policy_id, b->policy_id, what);
	str_eq(a->reason, b->reason, what);
	cr_assert_eq(a->nmx, b->nmx, "%s", what);
	for (i = 0; i < a->nmx; i++)
		str_eq(a->mx[i], b->mx[i], what);
	cr_assert_eq(a->ndane, b->ndane, "%s", what);
	for (i = 0; i < a->ndane; i++) {
		const struct stsdane_dane_host *x = &a->dane[i], *y = &b->dane[i];

		str_eq(x->name, y->name, what);
		str_eq(x->base_domain, y->base_domain, what);
		cr_assert_eq(x->preference, y->preference, "%s", what);
		cr_assert_eq(x->status, y->status, "%s", what);
		cr_assert_eq(x->ntlsa, y->ntlsa, "%s", what);
		for (j = 0; j < x->ntlsa; j++) {
			cr_assert_eq(x->tlsa[j].usage, y->tlsa[j].usage);
			cr_assert_eq(x->tlsa[j].selector, y->tlsa[j].selector);
			cr_assert_eq(x->tlsa[j].mtype, y->tlsa[j].mtype);
			cr_assert_eq(x->tlsa[j].len, y->tlsa[j].len);
			cr_assert_eq(memcmp(x->tlsa[j].data, y->tlsa[j].data,
			    x->tlsa[j].len), 0, "%s: tlsa data", what);
		}
	}
}

static void
encode_case(const struct rec_case *c, struct stsdane_decision **d,
    unsigned char **buf, size_t *len)
{
	*d = c->make();
	cr_assert_eq(cache_record_encode(*d, c->learned, buf, len),
	    STSDANE_OK, "%s: encode", c->what);
	cr_assert_gt(*len, 16);
}

Test(cache_record, round_trip)
{
	size_t i;

	for (i = 0; i < NCASES; i++) {
		struct stsdane_decision *d, *back = NULL;
		unsigned char *buf;
		size_t len;
		int64_t learned = 42;

		encode_case(&rec_cases[i], &d, &buf, &len);
		cr_assert_eq(cache_record_decode(buf, len, &back, &learned),
		    STSDANE_OK, "%s: decode", rec_cases[i].what);
		cr_assert_not_null(back);
		assert_same(d, back, rec_cases[i].what);
		cr_assert_eq(learned, rec_cases[i].learned);
		cr_assert_eq(back->source, STSDANE_SOURCE_CACHE);
		/* learned is optional */
		stsdane_decision_free(back);
		back = NULL;
		cr_assert_eq(cache_record_decode(buf, len, &back, NULL),
		    STSDANE_OK);
		stsdane_decision_free(back);
		stsdane_decision_free(d);
		free(buf);
	}
}

Test(cache_record, every_truncation_is_absent)
{
	size_t i, n;

	for (i = 0; i < NCASES; i++) {
		struct stsdane_decision *d, *back;
		unsigned char *buf, *copy;
		size_t len;

		encode_case(&rec_cases[i], &d, &buf, &len);
		for (n = 0; n < len; n++) {
			/* an exact-size copy, so overreads would be caught
			   by the sanitizer build */
			copy = malloc(n ? n : 1);
			cr_assert_not_null(copy);
			memcpy(copy, buf, n);
			back = (void *)1;
			cr_assert_eq(cache_record_decode(copy, n, &back, NULL),
			    STSDANE_ERR_NOTFOUND, "%s: cut at %zu",
			    rec_cases[i].what, n);
			cr_assert_null(back);
			free(copy);
		}
		stsdane_decision_free(d);
		free(buf);
	}
}

Test(cache_record, truncation_with_fixed_envelope_is_absent)
{
	/* a cut payload whose length and checksum were made to agree:
	   only the payload parser stands between it and a misread */
	size_t i, n;

	for (i = 0; i < NCASES; i++) {
		struct stsdane_decision *d, *back;
		unsigned char *buf, *copy;
		size_t len;

		encode_case(&rec_cases[i], &d, &buf, &len);
		for (n = 16; n < len; n++) {
			size_t plen = n - 16;

			copy = malloc(n);
			cr_assert_not_null(copy);
			memcpy(copy, buf, n);
			copy[8] = (unsigned char)(plen >> 24);
			copy[9] = (unsigned char)(plen >> 16);
			copy[10] = (unsigned char)(plen >> 8);
			copy[11] = (unsigned char)plen;
			reseal(copy, n);
			cr_assert_eq(cache_record_decode(copy, n, &back, NULL),
			    STSDANE_ERR_NOTFOUND, "%s: payload cut at %zu",
			    rec_cases[i].what, plen);
			free(copy);
		}
		stsdane_decision_free(d);
		free(buf);
	}
}

Test(cache_record, every_bit_flip_is_absent)
{
	size_t i, byte;
	int bit;

	for (i = 0; i < NCASES; i++) {
		struct stsdane_decision *d, *back;
		unsigned char *buf;
		size_t len;

		encode_case(&rec_cases[i], &d, &buf, &len);
		for (byte = 0; byte < len; byte++)
			for (bit = 0; bit < 8; bit++) {
				buf[byte] ^= (unsigned char)(1u << bit);
				cr_assert_eq(cache_record_decode(buf, len,
				    &back, NULL), STSDANE_ERR_NOTFOUND,
				    "%s: byte %zu bit %d", rec_cases[i].what,
				    byte, bit);
				buf[byte] ^= (unsigned char)(1u << bit);
			}
		cr_assert_eq(cache_record_decode(buf, len, &back, NULL),
		    STSDANE_OK);
		stsdane_decision_free(back);
		stsdane_decision_free(d);
		free(buf);
	}
}

Test(cache_record, other_version_or_kind_is_absent)
{
	static const struct {
		size_t off;
		unsigned char val;
	} edits[] = {
		{5, 0x02},		/* version 2 */
		{4, 0x01},		/* version 257 */
		{5, 0x00},		/* version 0 */
		{6, 0x02},		/* another kind of record */
		{7, 0x01},		/* reserved byte set */
		{0, 'X'},		/* magic */
	};
	struct stsdane_decision *d, *back;
	unsigned char *buf;
	size_t len, i;

	encode_case(&rec_cases[0], &d, &buf, &len);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		unsigned char save = buf[edits[i].off];

		buf[edits[i].off] = edits[i].val;
		reseal(buf, len);
		cr_assert_eq(cache_record_decode(buf, len, &back, NULL),
		    STSDANE_ERR_NOTFOUND, "edit %zu", i);
		buf[edits[i].off] = save;
	}
	reseal(buf, len);
	cr_assert_eq(cache_record_decode(buf, len, &back, NULL), STSDANE_OK);
	stsdane_decision_free(back);
	stsdane_decision_free(d);
	free(buf);
}

Test(cache_record, out_of_range_fields_are_absent)
{
	/* payload offsets: learned 0-7, domain 8.., then enums */
	struct stsdane_decision *d, *back;
	unsigned char *buf, *copy;
	size_t len, dlen, base, i;
	static const struct {
		size_t rel;
		unsigned char val;
	} edits[] = {
		{0, 3},		/* mechanism */
		{1, 9},		/* mode */
		{2, 0x08},	/* unknown flag */
		{3, 3},		/* source, past STSDANE_SOURCE_SHARED */
		{4, 0xff},	/* problem, high byte */
	};

	encode_case(&rec_cases[0], &d, &buf, &len);
	dlen = strlen(d->domain);
	base = 16 + 8 + 2 + dlen;
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		copy = malloc(len);
		cr_assert_not_null(copy);
		memcpy(copy, buf, len);
		copy[base + edits[i].rel] = edits[i].val;
		reseal(copy, len);
		cr_assert_eq(cache_record_decode(copy, len, &back, NULL),
		    STSDANE_ERR_NOTFOUND, "edit %zu", i);
		free(copy);
	}
	/* a NUL inside the domain */
	copy = malloc(len);
	cr_assert_not_null(copy);
	memcpy(copy, buf, len);
	copy[16 + 8 + 2 + 1] = '\0';
	reseal(copy, len);
	cr_assert_eq(cache_record_decode(copy, len, &back, NULL),
	    STSDANE_ERR_NOTFOUND);
	free(copy);
	stsdane_decision_free(d);
	free(buf);
}

Test(cache_record, trailing_bytes_are_absent)
{
	struct stsdane_decision *d, *back;
	unsigned char *buf, *copy;
	size_t len, plen;

	encode_case(&rec_cases[1], &d, &buf, &len);
	copy = malloc(len + 1);
	cr_assert_not_null(copy);
	memcpy(copy, buf, len);
	copy[len] = 0;
	cr_assert_eq(cache_record_decode(copy, len + 1, &back, NULL),
	    STSDANE_ERR_NOTFOUND);
	plen = len + 1 - 16;
	copy[8] = (unsigned char)(plen >> 24);
	copy[9] = (unsigned char)(plen >> 16);
	copy[10] = (unsigned char)(plen >> 8);
	copy[11] = (unsigned char)plen;
	reseal(copy, len + 1);
	cr_assert_eq(cache_record_decode(copy, len + 1, &back, NULL),
	    STSDANE_ERR_NOTFOUND);
	free(copy);
	stsdane_decision_free(d);
	free(buf);
}

Test(cache_record, encode_refuses_what_it_could_not_read_back)
{
	struct stsdane_decision *d = make_sts();
	unsigned char *buf = (void *)1;
	size_t len = 1, i;
	char *big;

	big = malloc(5000);
	cr_assert_not_null(big);
	memset(big, 'a', 4999);
	big[4999] = '\0';
	free(d->reason);
	d->reason = big;
	cr_assert_eq(cache_record_encode(d, 0, &buf, &len), STSDANE_ERR_INVAL);
	cr_assert_null(buf);
	cr_assert_eq(len, 0);
	stsdane_decision_free(d);

	d = make_sts();
	for (i = d->nmx; i <= SD_MAX_POLICY_MX; i++)
		cr_assert_eq(decision_add_mx(d, "mx.example"), 0);
	cr_assert_eq(cache_record_encode(d, 0, &buf, &len), STSDANE_ERR_INVAL);
	stsdane_decision_free(d);

	cr_assert_eq(cache_record_encode(NULL, 0, &buf, &len),
	    STSDANE_ERR_INVAL);
	cr_assert_eq(cache_record_decode(NULL, 0, &d, NULL),
	    STSDANE_ERR_NOTFOUND);
}

/* The eviction's peek reads what decode reads, and refuses what it refuses. */
Test(cache_record, peek_agrees_with_decode)
{
	size_t i, off;

	for (i = 0; i < NCASES; i++) {
		struct stsdane_decision *d;
		struct record_peek p;
		unsigned char *buf;
		size_t len;

		encode_case(&rec_cases[i], &d, &buf, &len);
		cr_assert_eq(cache_record_peek(buf, len, &p), STSDANE_OK,
		    "%s: peek", rec_cases[i].what);
		cr_assert_eq(p.mechanism, d->mechanism, "%s", rec_cases[i].what);
		cr_assert_eq(p.mode, d->mode, "%s", rec_cases[i].what);
		cr_assert_eq(p.expires, d->expires, "%s", rec_cases[i].what);
		for (off = 0; off < len; off++) {
			buf[off] ^= 0x10;
			cr_assert_eq(cache_record_peek(buf, len, &p),
			    STSDANE_ERR_NOTFOUND, "%s: byte %zu flipped",
			    rec_cases[i].what, off);
			buf[off] ^= 0x10;
		}
		cr_assert_eq(cache_record_peek(buf, len - 1, &p),
		    STSDANE_ERR_NOTFOUND);
		stsdane_decision_free(d);
		free(buf);
	}
}
