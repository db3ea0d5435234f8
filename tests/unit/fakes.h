/*
 * fakes.h - scripted DNS, fetch, cache and clock for unit tests
 *
 * One header for the fakes of tests/unit/: fake_dns.c, fake_fetch.c,
 * fake_cache.c, wire.c (the RDATA encoder) and fake_env.c (the clock
 * and the decide_env that wires them together).
 *
 * The decision module reaches the network, the cache and the clock only
 * through struct decide_env; these fakes fill it with state a test
 * controls and record what was asked of them, so that a test can say
 * "no fetch happened" or "no DNS at all".
 *
 *	struct fake_env w;
 *
 *	fake_env_init(&w, 1);			(1: with the in-memory cache)
 *	fake_dns_answer(&w.dns, "a.test", DNS_T_MX, 1, 3600,
 *	    "10 mx1.a.test", NULL);
 *	fake_dns_answer(&w.dns, "_mta-sts.a.test", DNS_T_TXT, 0, 600,
 *	    "v=STSv1; id=abc", NULL);
 *	fake_fetch_body(&w.fetch, "version: STSv1\nmode: enforce\n...");
 *	decide(&w.env, "a.test", 0, &d, err, sizeof(err));
 *	... assert on d, w.dns.nasked, w.fetch.nstart ...
 *	stsdane_decision_free(d);
 *	fake_env_release(&w);
 *
 * Record data is given in presentation form and encoded to the
 * uncompressed wire form rdata.c expects:
 *	A	"192.0.2.1"
 *	AAAA	"2001:db8::1"
 *	MX	"10 mx1.a.test", "0 ." (null MX)
 *	TXT	"v=STSv1; id=abc" (one record; cut into 255-byte strings)
 *	TLSA	"3 1 1 <hex>"
 *	CNAME	"target.test"
 *	any	"\\# <hex>" (RFC 3597 style: these bytes, as they are)
 * Names that were not scripted answer NXDOMAIN (insecure, TTL
 * fake_dns.default_ttl).  Names are compared without regard to case.
 */
#ifndef STSDANE_TEST_FAKES_H
#define STSDANE_TEST_FAKES_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decide.h"

#define FAKE_MAX_SETS 48
#define FAKE_MAX_RR 80	/* an RRset of 70 TXT records, as a test needs */
#define FAKE_MAX_RDLEN 512
#define FAKE_MAX_QUEUE 64
#define FAKE_MAX_ASKED 128

/* ---- clock -------------------------------------------------------------- */

struct fake_clock {
	int64_t now;		/* seconds since the epoch */
	int64_t mono;		/* milliseconds */
};

int64_t fake_clock_now(void *arg);
int64_t fake_clock_mono_ms(void *arg);

/* ---- DNS ---------------------------------------------------------------- */

/* One scripted RRset (or negative answer) for (name, type). */
struct fake_rrset {
	char name[SD_MAX_NAME];
	int type;
	enum dns_status status;
	int secure;
	uint32_t ttl;
	size_t n;
	unsigned char rdata[FAKE_MAX_RR][FAKE_MAX_RDLEN];
	size_t rdlen[FAKE_MAX_RR];
	char canon[SD_MAX_NAME];	/* "" for none */
	int hang;			/* never answered until cancel_all */
};

struct fake_query {
	struct fake_rrset *set;		/* NULL: unscripted, NXDOMAIN */
	int hang;
	dns_cb *cb;
	void *arg;
};

struct fake_asked {
	char name[SD_MAX_NAME + 16];
	int type;
};

enum fake_dns_mode {
	FAKE_DNS_ASYNC = 0,	/* answers wait for process(), as in dns.h */
	FAKE_DNS_SYNC		/* answers come from inside query() */
};

struct fake_dns {
	enum fake_dns_mode mode;
	struct fake_rrset sets[FAKE_MAX_SETS];
	size_t nsets;
	uint32_t default_ttl;	/* of the NXDOMAIN for unscripted names */

	struct fake_query queue[FAKE_MAX_QUEUE];
	size_t nqueue;

	struct fake_asked asked[FAKE_MAX_ASKED];
	size_t nasked;		/* queries asked (all of them counted) */
	int nprocess, ncancel;
	int refuse;		/* query() fails with -1 */

	/* process() moves this clock on, so "never answers" ends */
	struct fake_clock *clock;
	int64_t process_advance_ms;
};

extern const struct dns_ops fake_dns_ops;

void fake_dns_init(struct fake_dns *f);
/*
 * Script (name, type).  An existing script for the pair is replaced, so
 * that a test can change the world between two decisions.  The record
 * list ends with NULL.  -1 on a record that does not encode (the test
 * should fail on that).
 */
int fake_dns_answer(struct fake_dns *f, const char *name, int type,
    int secure, uint32_t ttl, ...);
/* The same with the records in an array that ends with NULL. */
int fake_dns_answer_v(struct fake_dns *f, const char *name, int type,
    int secure, uint32_t ttl, const char *const *rrs);
/* A negative or failed answer: DNS_NXDOMAIN, DNS_NODATA, DNS_TEMPFAIL... */
int fake_dns_status(struct fake_dns *f, const char *name, int type,
    enum dns_status status, int secure, uint32_t ttl);
/* Set the canonical name reported for an already scripted answer. */
int fake_dns_canon(struct fake_dns *f, const char *name, int type,
    const char *canon);
/* This (name, type) is never answered (until cancel_all). */
int fake_dns_hang(struct fake_dns *f, const char *name, int type);
/* Forget the script for (name, type): it answers NXDOMAIN again. */
void fake_dns_remove(struct fake_dns *f, const char *name, int type);
/* How often (name, type) was asked; type 0 counts every type. */
int fake_dns_asked(const struct fake_dns *f, const char *name, int type);
/* Forget what was asked (scripts stay). */
void fake_dns_reset_counts(struct fake_dns *f);
/*
 * Encode one record in presentation form to wire RDATA.  Length, or -1.
 * Exposed so that tests can check the encoding itself.
 */
int fake_rdata(int type, const char *text, unsigned char *out,
    size_t outlen);

/* ---- fetch -------------------------------------------------------------- */

struct fake_fetch {
	enum stsdane_problem problem;	/* what finish() reports */
	long http_status;
	char content_type[128];
	char body[SD_MAX_POLICY];
	size_t len;
	int hang;			/* step() never finishes */
	int start_fails;		/* start() returns -1 */
	struct fake_clock *clock;	/* a hanging step() moves it on */

	/* what was asked */
	int nstart, nstep, nfinish, nabort;
	char host[SD_MAX_NAME + 8];
	size_t naddrs;
	char addr0[64];
	long timeout_ms;
	size_t max_body;
	int running;
};

extern const struct fetch_ops fake_fetch_ops;

void fake_fetch_init(struct fake_fetch *f);
/* 200, text/plain, this body */
void fake_fetch_body(struct fake_fetch *f, const char *body);
/* a failed fetch with this problem */
void fake_fetch_fail(struct fake_fetch *f, enum stsdane_problem problem);
void fake_fetch_reset_counts(struct fake_fetch *f);

/* ---- cache -------------------------------------------------------------- */

#define FAKE_CACHE_MAX 32

struct fake_cache_entry {
	char key[SD_MAX_NAME + 16];
	unsigned char *val;
	size_t len;
};

struct fake_cache {
	struct fake_cache_entry e[FAKE_CACHE_MAX];
	size_t n;
	int nget, nput, ndel;
	int fail;			/* every call fails with ERR_CACHE */
};

extern const struct cache_ops fake_cache_ops;

void fake_cache_init(struct fake_cache *c);
void fake_cache_release(struct fake_cache *c);
/* The decoded decision stored under key, or NULL (caller frees). */
struct stsdane_decision *fake_cache_peek(const struct fake_cache *c,
    const char *key, int64_t *learned);
int fake_cache_has(const struct fake_cache *c, const char *key);

/* ---- all of it, wired into a decide_env -------------------------------- */

struct fake_env {
	struct settings settings;
	struct fake_clock clock;
	struct fake_dns dns;
	struct fake_fetch fetch;
	struct fake_cache cache;
	struct decide_env env;
	int nget_dns, nget_fetch;
	int get_dns_fails, get_fetch_fails;
};

/*
 * Defaults: now = 1700000000, mono = 1000000, dns_timeout 5 s,
 * fetch_timeout 5 s, negative_ttl 3600, process() advances mono by
 * 100 ms, a hanging fetch step by its timeout.
 */
void fake_env_init(struct fake_env *w, int with_cache);
void fake_env_release(struct fake_env *w);

#endif /* STSDANE_TEST_FAKES_H */
