/*
 * NAME
 *	cache_record.c - a decision as bytes for the shared cache, and back
 * SYNOPSIS
 *	#include "cache.h"
 *
 *	int cache_record_encode(const struct stsdane_decision *d,
 *	    int64_t learned, unsigned char **out, size_t *outlen)
 *	int cache_record_decode(const unsigned char *in, size_t len,
 *	    struct stsdane_decision **out, int64_t *learned)
 *	int cache_record_peek(const unsigned char *in, size_t len,
 *	    struct record_peek *out)
 * DESCRIPTION
 *	A record is an envelope followed by a payload.  The envelope is
 *	16 bytes: the magic "SDCR", a format version (u16), a record kind
 *	(u8, 1 = decision), a reserved byte (0), the payload length (u32)
 *	and a CRC-32 (IEEE) over the first 12 envelope bytes and the
 *	payload.  All integers are big-endian.
 *
 *	The payload holds every field of the decision in a fixed order:
 *	the time it was learned, the domain, the enums and flags, max_age,
 *	expires, policy id, reason, the MX patterns, then the DANE hosts
 *	with their TLSA records.  Strings are a u16 length and the bytes
 *	(no NUL inside); the length 0xffff stands for NULL.  Counts and
 *	lengths are bounded by the limits in util.h, on both sides, so
 *	that a record that one version writes another can always refuse
 *	cleanly.
 *
 *	The format version changes whenever the payload layout changes.
 *	An older stsdane reading a newer file, or the reverse, sees a
 *	version it does not know and treats the record as absent: a cache
 *	miss costs one lookup, a misread costs a wrong delivery decision.
 *
 *	cache_record_encode() allocates *out; the caller frees it.
 *	cache_record_decode() allocates a decision the caller releases
 *	with stsdane_decision_free(); the source field is set to
 *	STSDANE_SOURCE_CACHE.
 * DIAGNOSTICS
 *	encode: STSDANE_OK, STSDANE_ERR_INVAL (a field over its bound, or
 *	a NUL inside a string), STSDANE_ERR_NOMEM.
 *	decode: STSDANE_OK, STSDANE_ERR_NOTFOUND for anything that is not
 *	a whole, undamaged record of this version (wrong magic, version,
 *	kind, length or checksum; a field out of range; trailing bytes),
 *	STSDANE_ERR_NOMEM.
 * SEE ALSO
 *	cache.h, cache_bdb.c
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "util.h"
#include "decision.h"

#define REC_MAGIC "SDCR"
#define REC_VERSION 1
#define REC_KIND_DECISION 1
#define REC_HDR 16
#define REC_MAX (1024 * 1024)	/* whole record, far above any real one */
#define REC_MAX_STR 4096	/* reason, names, patterns, id */
#define REC_NULL_STR 0xffffu

#define FLAG_REQUIRE_TLS 0x1u
#define FLAG_TEMPFAIL 0x2u
#define FLAG_NO_MAIL 0x4u


/* Encoding: a growing buffer with a hard maximum. */
struct wbuf {
	unsigned char *p;
	size_t len;
	size_t cap;
	int err;		/* 0, or the STSDANE_ERR_* that stopped us */
};

static void
w_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->err != 0)
		return;
	if (n > REC_MAX - w->len) {
		w->err = STSDANE_ERR_INVAL;
		return;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		unsigned char *np;

		while (cap < w->len + n)
			cap *= 2;
		np = realloc(w->p, cap);
		if (np == NULL) {
			w->err = STSDANE_ERR_NOMEM;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void
w_u8(struct wbuf *w, unsigned v)
{
	unsigned char b = (unsigned char)v;

	w_bytes(w, &b, 1);
}

static void
w_u16(struct wbuf *w, unsigned v)
{
	unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	w_bytes(w, b, 2);
}

static void
w_u32(struct wbuf *w, uint32_t v)
{
	unsigned char b[4];
	int i;

	for (i = 3; i >= 0; i--) {
		b[i] = (unsigned char)v;
		v >>= 8;
	}
	w_bytes(w, b, 4);
}

static void
w_u64(struct wbuf *w, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)v;
		v >>= 8;
	}
	w_bytes(w, b, 8);
}

static void
w_str(struct wbuf *w, const char *s)
{
	size_t n;

	if (s == NULL) {
		w_u16(w, REC_NULL_STR);
		return;
	}
	n = strlen(s);
	if (n > REC_MAX_STR) {
		if (w->err == 0)
			w->err = STSDANE_ERR_INVAL;
		return;
	}
	w_u16(w, (unsigned)n);
	w_bytes(w, s, n);
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int
check_bounds(const struct stsdane_decision *d)
{
	size_t i, j;

	if (d->domain == NULL || d->nmx > SD_MAX_POLICY_MX ||
	    d->ndane > SD_MAX_MX_HOSTS || (d->nmx > 0 && d->mx == NULL) ||
	    (d->ndane > 0 && d->dane == NULL))
		return -1;
	for (i = 0; i < d->nmx; i++)
		if (d->mx[i] == NULL)
			return -1;
	for (i = 0; i < d->ndane; i++) {
		const struct stsdane_dane_host *h = &d->dane[i];

		if (h->name == NULL || h->ntlsa > SD_MAX_TLSA ||
		    (h->ntlsa > 0 && h->tlsa == NULL))
			return -1;
		for (j = 0; j < h->ntlsa; j++)
			if (h->tlsa[j].len > 0xffff ||
			    (h->tlsa[j].len > 0 && h->tlsa[j].data == NULL))
				return -1;
	}
	return 0;
}

int
cache_record_encode(const struct stsdane_decision *d, int64_t learned,
    unsigned char **out, size_t *outlen)
{
	struct wbuf w = {NULL, 0, 0, 0};
	unsigned flags = 0;
	size_t i, j;
	uint32_t crc;

	*out = NULL;
	*outlen = 0;
	if (d == NULL || check_bounds(d) < 0)
		return STSDANE_ERR_INVAL;
	if (d->require_tls)
		flags |= FLAG_REQUIRE_TLS;
	if (d->tempfail)
		flags |= FLAG_TEMPFAIL;
	if (d->no_mail)
		flags |= FLAG_NO_MAIL;

	/* envelope; length and checksum are filled in at the end */
	w_bytes(&w, REC_MAGIC, 4);
	w_u16(&w, REC_VERSION);
	w_u8(&w, REC_KIND_DECISION);
	w_u8(&w, 0);
	w_u32(&w, 0);
	w_u32(&w, 0);

	w_u64(&w, (uint64_t)learned);
	w_str(&w, d->domain);
	w_u8(&w, (unsigned)d->mechanism);
	w_u8(&w, (unsigned)d->mode);
	w_u8(&w, flags);
	w_u8(&w, (unsigned)d->source);
	w_u16(&w, (unsigned)d->problem);
	w_u32(&w, d->max_age);
	w_u64(&w, (uint64_t)d->expires);
	w_str(&w, d->policy_id);
	w_str(&w, d->reason);
	w_u16(&w, (unsigned)d->nmx);
	for (i = 0; i < d->nmx; i++)
		w_str(&w, d->mx[i]);
	w_u16(&w, (unsigned)d->ndane);
	for (i = 0; i < d->ndane; i++) {
		const struct stsdane_dane_host *h = &d->dane[i];

		w_str(&w, h->name);
		w_str(&w, h->base_domain);
		w_u32(&w, h->preference);
		w_u8(&w, (unsigned)h->status);
		w_u16(&w, (unsigned)h->ntlsa);
		for (j = 0; j < h->ntlsa; j++) {
			const struct stsdane_tlsa *t = &h->tlsa[j];

			w_u8(&w, t->usage);
			w_u8(&w, t->selector);
			w_u8(&w, t->mtype);
			w_u16(&w, (unsigned)t->len);
			w_bytes(&w, t->data, t->len);
		}
	}
	if (w.err != 0) {
		free(w.p);
		return w.err;
	}
	put_be32(w.p + 8, (uint32_t)(w.len - REC_HDR));
	crc = sd_crc32(0, w.p, 12);
	crc = sd_crc32(crc, w.p + REC_HDR, w.len - REC_HDR);
	put_be32(w.p + 12, crc);
	*out = w.p;
	*outlen = w.len;
	return STSDANE_OK;
}

/* Decoding: a cursor that turns "bad" on the first overrun. */
struct rbuf {
	const unsigned char *p;
	size_t len;
	size_t off;
	int bad;
};

static const unsigned char *
r_take(struct rbuf *r, size_t n)
{
	const unsigned char *p;

	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static unsigned
r_u8(struct rbuf *r)
{
	const unsigned char *p = r_take(r, 1);

	return p ? p[0] : 0;
}

static unsigned
r_u16(struct rbuf *r)
{
	const unsigned char *p = r_take(r, 2);

	return p ? (unsigned)p[0] << 8 | p[1] : 0;
}

static uint32_t
r_u32(struct rbuf *r)
{
	const unsigned char *p = r_take(r, 4);

	return p ? get_be32(p) : 0;
}

static uint64_t
r_u64(struct rbuf *r)
{
	const unsigned char *p = r_take(r, 8);

	return p ? (uint64_t)get_be32(p) << 32 | get_be32(p + 4) : 0;
}

/*
 * A string: 0 with *s set (NULL for the NULL marker when nullable),
 * 1 when the input is bad, -1 when out of memory.
 */
static int
r_str(struct rbuf *r, int nullable, char **s)
{
	unsigned n = r_u16(r);
	const unsigned char *p;

	*s = NULL;
	if (r->bad)
		return 1;
	if (n == REC_NULL_STR) {
		if (!nullable)
			r->bad = 1;
		return r->bad;
	}
	if (n > REC_MAX_STR) {
		r->bad = 1;
		return 1;
	}
	p = r_take(r, n);
	if (p == NULL || memchr(p, '\0', n) != NULL) {
		r->bad = 1;
		return 1;
	}
	*s = sd_strndup((const char *)p, n);
	return *s == NULL ? -1 : 0;
}

/* Map r_str()'s result onto the decoder's: 0, NOTFOUND or NOMEM. */
static int
str_rc(int rc)
{
	if (rc > 0)
		return STSDANE_ERR_NOTFOUND;
	return rc < 0 ? STSDANE_ERR_NOMEM : 0;
}

static int
decode_tlsa(struct rbuf *r, struct stsdane_tlsa *t)
{
	const unsigned char *p;

	t->usage = (uint8_t)r_u8(r);
	t->selector = (uint8_t)r_u8(r);
	t->mtype = (uint8_t)r_u8(r);
	t->len = r_u16(r);
	p = r_take(r, t->len);
	if (p == NULL)
		return STSDANE_ERR_NOTFOUND;
	t->data = malloc(t->len ? t->len : 1);
	if (t->data == NULL)
		return STSDANE_ERR_NOMEM;
	memcpy(t->data, p, t->len);
	return 0;
}

static int
decode_host(struct rbuf *r, struct stsdane_dane_host *h)
{
	unsigned status, n, i;
	int rc;

	if ((rc = str_rc(r_str(r, 0, &h->name))) != 0 ||
	    (rc = str_rc(r_str(r, 1, &h->base_domain))) != 0)
		return rc;
	h->preference = r_u32(r);
	status = r_u8(r);
	n = r_u16(r);
	if (r->bad || status > STSDANE_DANE_TEMPFAIL || n > SD_MAX_TLSA)
		return STSDANE_ERR_NOTFOUND;
	h->status = (enum stsdane_dane_status)status;
	if (n == 0)
		return 0;
	h->tlsa = calloc(n, sizeof(*h->tlsa));
	if (h->tlsa == NULL)
		return STSDANE_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		h->ntlsa = i + 1;
		if ((rc = decode_tlsa(r, &h->tlsa[i])) != 0)
			return rc;
	}
	return 0;
}

static int
decode_payload(struct rbuf *r, struct stsdane_decision **out,
    int64_t *learned)
{
	struct stsdane_decision *d = NULL;
	unsigned mech, mode, flags, source, problem, n, i;
	char *domain = NULL;
	int rc;

	*learned = (int64_t)r_u64(r);
	if ((rc = str_rc(r_str(r, 0, &domain))) != 0)
		return rc;
	d = decision_new(domain);
	free(domain);
	if (d == NULL)
		return STSDANE_ERR_NOMEM;
	mech = r_u8(r);
	mode = r_u8(r);
	flags = r_u8(r);
	source = r_u8(r);
	problem = r_u16(r);
	d->max_age = r_u32(r);
	d->expires = (int64_t)r_u64(r);
	if (r->bad || mech > STSDANE_MECH_DANE || mode > STSDANE_MODE_ENFORCE ||
	    (flags & ~(FLAG_REQUIRE_TLS | FLAG_TEMPFAIL | FLAG_NO_MAIL)) != 0 ||
	    source > STSDANE_SOURCE_SHARED ||
	    problem > SD_PROBLEM_LAST) {
		rc = STSDANE_ERR_NOTFOUND;
		goto fail;
	}
	d->mechanism = (enum stsdane_mechanism)mech;
	d->mode = (enum stsdane_mode)mode;
	d->require_tls = (flags & FLAG_REQUIRE_TLS) != 0;
	d->tempfail = (flags & FLAG_TEMPFAIL) != 0;
	d->no_mail = (flags & FLAG_NO_MAIL) != 0;
	d->problem = (enum stsdane_problem)problem;
	if ((rc = str_rc(r_str(r, 1, &d->policy_id))) != 0 ||
	    (rc = str_rc(r_str(r, 1, &d->reason))) != 0)
		goto fail;

	n = r_u16(r);
	if (r->bad || n > SD_MAX_POLICY_MX) {
		rc = STSDANE_ERR_NOTFOUND;
		goto fail;
	}
	if (n > 0) {
		d->mx = calloc(n, sizeof(*d->mx));
		if (d->mx == NULL) {
			rc = STSDANE_ERR_NOMEM;
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		d->nmx = i + 1;
		if ((rc = str_rc(r_str(r, 0, &d->mx[i]))) != 0)
			goto fail;
	}

	n = r_u16(r);
	if (r->bad || n > SD_MAX_MX_HOSTS) {
		rc = STSDANE_ERR_NOTFOUND;
		goto fail;
	}
	if (n > 0) {
		d->dane = calloc(n, sizeof(*d->dane));
		if (d->dane == NULL) {
			rc = STSDANE_ERR_NOMEM;
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		d->ndane = i + 1;
		if ((rc = decode_host(r, &d->dane[i])) != 0)
			goto fail;
	}
	if (r->bad || r->off != r->len) {
		rc = STSDANE_ERR_NOTFOUND;
		goto fail;
	}
	d->source = STSDANE_SOURCE_CACHE;
	(void)source;		/* always "cache" once read back */
	*out = d;
	return STSDANE_OK;
fail:
	stsdane_decision_free(d);
	return rc;
}

/* A whole, undamaged record of this version: its payload in r; or -1. */
static int
open_envelope(const unsigned char *in, size_t len, struct rbuf *r)
{
	uint32_t plen, crc;

	if (in == NULL || len < REC_HDR || len > REC_MAX)
		return -1;
	if (memcmp(in, REC_MAGIC, 4) != 0 ||
	    ((unsigned)in[4] << 8 | in[5]) != REC_VERSION ||
	    in[6] != REC_KIND_DECISION || in[7] != 0)
		return -1;
	plen = get_be32(in + 8);
	if (plen != len - REC_HDR)
		return -1;
	crc = sd_crc32(0, in, 12);
	crc = sd_crc32(crc, in + REC_HDR, plen);
	if (crc != get_be32(in + 12))
		return -1;
	r->p = in + REC_HDR;
	r->len = plen;
	r->off = 0;
	r->bad = 0;
	return 0;
}

int
cache_record_peek(const unsigned char *in, size_t len,
    struct record_peek *out)
{
	struct rbuf r;
	unsigned n, mech, mode;

	if (open_envelope(in, len, &r) < 0)
		return STSDANE_ERR_NOTFOUND;
	(void)r_u64(&r);		/* learned */
	n = r_u16(&r);			/* the domain, never NULL */
	if (n == REC_NULL_STR || n > REC_MAX_STR || r_take(&r, n) == NULL)
		return STSDANE_ERR_NOTFOUND;
	mech = r_u8(&r);
	mode = r_u8(&r);
	(void)r_take(&r, 1 + 1 + 2 + 4);	/* flags, source, problem,
						   max_age */
	out->expires = (int64_t)r_u64(&r);
	if (r.bad || mech > STSDANE_MECH_DANE || mode > STSDANE_MODE_ENFORCE)
		return STSDANE_ERR_NOTFOUND;
	out->mechanism = (enum stsdane_mechanism)mech;
	out->mode = (enum stsdane_mode)mode;
	return STSDANE_OK;
}

int
cache_record_decode(const unsigned char *in, size_t len,
    struct stsdane_decision **out, int64_t *learned)
{
	struct rbuf r;
	int64_t when = 0;
	int rc;

	*out = NULL;
	if (learned != NULL)
		*learned = 0;
	if (open_envelope(in, len, &r) < 0)
		return STSDANE_ERR_NOTFOUND;
	rc = decode_payload(&r, out, &when);
	if (rc == STSDANE_OK && learned != NULL)
		*learned = when;
	return rc;
}
