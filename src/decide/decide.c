/*
 * NAME
 *	decide.c - DANE first, then MTA-STS, with the shared cache
 * SYNOPSIS
 *	#include "decide.h"
 *
 *	int decide(struct decide_env *env, const char *domain,
 *	    unsigned flags, struct stsdane_decision **out,
 *	    char *err, size_t errlen)
 * DESCRIPTION
 *	From the cache first, touching nothing else: a DANE result is used
 *	until the smallest TTL involved; an MTA-STS answer is used until its
 *	TXT record is due to be looked at again (its TTL, bounded), and the
 *	policy itself never past fetched-at + max_age.
 *
 *	Otherwise from the network, in one event loop.  The MX RRset and the
 *	_mta-sts TXT record are looked up at once.  When the MX RRset is
 *	DNSSEC-secure, each MX host's A, AAAA and TLSA records follow, all in
 *	flight together (RFC 7672 2.2).  When the TXT record is valid, the
 *	policy host's addresses are looked up, and the policy is fetched
 *	once it is known that DANE does not apply (RFC 8461 2: DANE wins).
 *
 *	RFC 8461 5.1 with a cached policy P that has not expired: TXT id
 *	unchanged -> P, no fetch; id changed -> fetch, and on any failure
 *	keep P; TXT gone or its lookup failing -> keep P; a fetched
 *	"mode: none" replaces P.  Without P: no TXT -> no policy; a fetch
 *	failure -> no policy (delivery continues, as the RFC requires);
 *	a TXT lookup that fails -> tempfail.
 *
 *	Never merged: "no policy", "try again" (tempfail) and "DNSSEC
 *	bogus" (tempfail, with its own problem code).  Any bogus, SERVFAIL
 *	or timed-out lookup on the DANE path is tempfail: never clear text,
 *	never a fall-through to MTA-STS.
 * DIAGNOSTICS
 *	Every network outcome is a decision.  Only resource failures (out of
 *	memory, a resolver that cannot be set up) return an error, with the
 *	detail in err.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decide.h"

#define TXT_RECHECK_MIN 300	/* seconds: bounds on how long a TXT */
#define TXT_RECHECK_MAX 86400	/* answer is trusted without looking */
#define FETCH_FAIL_TTL 300	/* "fetch failed" remembered this long */
#define DANE_TTL_MAX 86400

enum state { ST_IDLE = 0, ST_WAIT, ST_DONE };

/* One DNS answer, reduced to what the decision needs. */
struct res {
	enum state state;
	enum dns_status status;
	int secure;
	uint32_t ttl;
	char why[160];
	char canon[SD_MAX_NAME];
};

struct host {
	char name[SD_MAX_NAME];
	unsigned pref;
	struct res a, aaaa;
	struct res tlsa, tlsa_canon;	/* at the name, at its CNAME target */
	struct stsdane_tlsa *recs, *recs_canon;
	size_t nrecs, nrecs_canon;
	char why_unusable[160];
};

struct job;

/* Callback argument: which lookup an answer is for. */
struct slot {
	struct job *job;
	int kind;
	int host;
};

enum kind {
	K_MX, K_TXT, K_PA, K_PAAAA, K_A, K_AAAA, K_TLSA, K_TLSA_CANON, K_PRIME
};

#define DNS_T_DS 43
#define DNS_T_DNSKEY 48
#define PRIME_MAX 8		/* DNSKEY and DS queries sent ahead */

struct job {
	struct decide_env *env;
	const struct dns_ops *dns;
	void *dns_impl;
	const char *domain;
	int stopping;
	int failed;			/* resource failure inside a callback */
	char fail_why[160];

	/* DANE part */
	int need_dane;
	struct res mx;
	int null_mx;
	int implicit_mx;
	size_t nhosts;
	struct host hosts[SD_MAX_MX_HOSTS];
	struct slot host_slots[SD_MAX_MX_HOSTS][5];

	/* MTA-STS part */
	struct res txt;
	int txt_valid;
	char txt_id[SD_MAX_ID + 1];
	enum stsdane_problem txt_problem;
	char txt_why[SD_ERRLEN];
	struct res pa, paaaa;		/* addresses of mta-sts.DOMAIN */
	char addrs[16][64];
	size_t naddrs;
	int fetch_wanted;
	enum state fetch;
	const struct fetch_ops *fops;
	void *fimpl;
	struct fetch_result fres;

	struct slot mx_slot, txt_slot, pa_slot, paaaa_slot;

	/* DNSSEC chain data asked for ahead, answers only warm the cache */
	struct slot prime_slots[PRIME_MAX];
	struct res prime[PRIME_MAX];
	int prime_pending;
};

/* ---- small helpers ---------------------------------------------------- */

static void
job_fail(struct job *j, const char *why)
{
	if (!j->failed)
		(void)sd_strlcpy(j->fail_why, why, sizeof(j->fail_why));
	j->failed = 1;
}

static void
res_set(struct res *r, const struct dns_answer *a)
{
	r->state = ST_DONE;
	r->status = a->status;
	r->secure = a->secure;
	r->ttl = a->ttl;
	(void)sd_strlcpy(r->why, a->why != NULL ? a->why : "", sizeof(r->why));
	if (a->canonname == NULL ||
	    sd_hostname_normalize(a->canonname, r->canon, sizeof(r->canon),
	    1) < 0)
		r->canon[0] = '\0';
}

static int res_failed(const struct res *r)
{
	return r->state == ST_DONE &&
	    (r->status == DNS_TEMPFAIL || r->status == DNS_BOGUS);
}

static void submit(struct job *j, struct slot *s, const char *name, int type,
    struct res *r);

static int64_t
earliest(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static uint32_t
min_ttl(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ---- DNS callbacks ------------------------------------------------------ */

static int
cmp_host(const void *a, const void *b)
{
	const struct host *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

static void
start_host_lookups(struct job *j)
{
	size_t i;
	char tlsa[SD_MAX_NAME + 16];

	for (i = 0; i < j->nhosts; i++) {
		struct host *h = &j->hosts[i];
		struct slot *s = j->host_slots[i];

		s[0] = (struct slot){ j, K_A, (int)i };
		s[1] = (struct slot){ j, K_AAAA, (int)i };
		s[2] = (struct slot){ j, K_TLSA, (int)i };
		submit(j, &s[0], h->name, DNS_T_A, &h->a);
		submit(j, &s[1], h->name, DNS_T_AAAA, &h->aaaa);
		if (sd_snprintf(tlsa, sizeof(tlsa), "_25._tcp.%s", h->name) < 0)
			continue;
		submit(j, &s[2], tlsa, DNS_T_TLSA, &h->tlsa);
	}
}

static void
on_mx(struct job *j, const struct dns_answer *a)
{
	size_t i;

	res_set(&j->mx, a);
	if (a->status == DNS_NODATA) {
		/* RFC 5321 5.1: the implicit MX is the domain itself */
		j->implicit_mx = 1;
		(void)sd_strlcpy(j->hosts[0].name, j->domain,
		    sizeof(j->hosts[0].name));
		j->nhosts = 1;
	} else if (a->status == DNS_OK) {
		for (i = 0; i < a->n && j->nhosts < SD_MAX_MX_HOSTS; i++) {
			struct host *h = &j->hosts[j->nhosts];
			char name[SD_MAX_NAME];

			if (rdata_mx(a->rdata[i], a->rdlen[i], &h->pref, name,
			    sizeof(name)) < 0)
				continue;	/* malformed: skip it */
			if (name[0] == '\0') {
				j->null_mx = 1;
				continue;
			}
			if (sd_hostname_normalize(name, h->name,
			    sizeof(h->name), 1) < 0)
				continue;
			j->nhosts++;
		}
		qsort(j->hosts, j->nhosts, sizeof(j->hosts[0]), cmp_host);
	}
	if (j->null_mx || !j->need_dane || !j->mx.secure || j->nhosts == 0)
		return;
	start_host_lookups(j);
}

/* Keep the usable TLSA records of an answer. */
static void
take_tlsa(struct job *j, struct host *h, const struct dns_answer *a,
    struct stsdane_tlsa **out, size_t *nout)
{
	size_t i;

	*out = NULL;
	*nout = 0;
	if (a->status != DNS_OK || a->n == 0)
		return;
	*out = calloc(a->n < SD_MAX_TLSA ? a->n : SD_MAX_TLSA, sizeof(**out));
	if (*out == NULL) {
		job_fail(j, "out of memory");
		return;
	}
	for (i = 0; i < a->n && *nout < SD_MAX_TLSA; i++) {
		struct stsdane_tlsa t;
		const unsigned char *data;

		if (rdata_tlsa(a->rdata[i], a->rdlen[i], &t.usage,
		    &t.selector, &t.mtype, &data, &t.len) < 0) {
			(void)sd_strlcpy(h->why_unusable, "malformed TLSA record",
			    sizeof(h->why_unusable));
			continue;
		}
		t.data = (unsigned char *)data;
		if (!tlsa_usable(&t, h->why_unusable,
		    sizeof(h->why_unusable)))
			continue;
		t.data = malloc(t.len ? t.len : 1);
		if (t.data == NULL) {
			job_fail(j, "out of memory");
			return;
		}
		memcpy(t.data, data, t.len);
		(*out)[(*nout)++] = t;
	}
}

static void
on_host_addr(struct job *j, struct host *h, struct res *r,
    const struct dns_answer *a, int idx)
{
	char tlsa[SD_MAX_NAME + 16];

	res_set(r, a);
	/*
	 * RFC 7672 2.2.2: a secure CNAME chain makes the expanded name a
	 * candidate TLSA base domain; look its TLSA up too (once).
	 */
	if (a->status == DNS_OK && a->secure && r->canon[0] != '\0' &&
	    strcmp(r->canon, h->name) != 0 &&
	    h->tlsa_canon.state == ST_IDLE &&
	    sd_snprintf(tlsa, sizeof(tlsa), "_25._tcp.%s", r->canon) == 0) {
		struct slot *s = &j->host_slots[idx][3];

		*s = (struct slot){ j, K_TLSA_CANON, idx };
		submit(j, s, tlsa, DNS_T_TLSA, &h->tlsa_canon);
	}
}

static void
on_txt(struct job *j, const struct dns_answer *a)
{
	const char *recs[16];
	size_t lens[16];
	char buf[16][SD_MAX_TXT];
	char err[SD_ERRLEN];
	size_t i, n = 0;
	int rc;

	res_set(&j->txt, a);
	switch (a->status) {
	case DNS_TEMPFAIL:
		j->txt_problem = STSDANE_PROBLEM_DNS_TEMPFAIL;
		(void)sd_snprintf(j->txt_why, sizeof(j->txt_why),
		    "TXT lookup for _mta-sts.%s failed: %s", j->domain,
		    j->txt.why);
		return;
	case DNS_BOGUS:
		j->txt_problem = STSDANE_PROBLEM_DNS_BOGUS;
		(void)sd_snprintf(j->txt_why, sizeof(j->txt_why),
		    "TXT record _mta-sts.%s is DNSSEC-bogus: %s", j->domain,
		    j->txt.why);
		return;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		j->txt_problem = STSDANE_PROBLEM_TXT_MISSING;
		(void)sd_snprintf(j->txt_why, sizeof(j->txt_why),
		    "no TXT record at _mta-sts.%s", j->domain);
		return;
	case DNS_OK:
		break;
	}
	for (i = 0; i < a->n && n < 16; i++) {
		if (rdata_txt(a->rdata[i], a->rdlen[i], buf[n], sizeof(buf[n]),
		    &lens[n]) < 0)
			continue;
		recs[n] = buf[n];
		n++;
	}
	rc = stsdane_txt_check(recs, lens, n, j->txt_id, err, sizeof(err));
	if (rc == STSDANE_OK) {
		j->txt_valid = 1;
		return;
	}
	if (rc == STSDANE_ERR_NOTFOUND) {
		j->txt_problem = STSDANE_PROBLEM_TXT_MISSING;
		(void)sd_snprintf(j->txt_why, sizeof(j->txt_why),
		    "no TXT record at _mta-sts.%s starts with 'v=STSv1'",
		    j->domain);
	} else {
		j->txt_problem = strstr(err, "v=STSv1") != NULL &&
		    strstr(err, "records") != NULL ?
		    STSDANE_PROBLEM_TXT_MULTIPLE : STSDANE_PROBLEM_TXT_SYNTAX;
		(void)sd_snprintf(j->txt_why, sizeof(j->txt_why),
		    "TXT record _mta-sts.%s: %s", j->domain, err);
	}
}

static void
on_policy_addr(struct job *j, struct res *r, const struct dns_answer *a,
    int type)
{
	size_t i;

	res_set(r, a);
	if (a->status != DNS_OK)
		return;
	for (i = 0; i < a->n && j->naddrs < 16; i++)
		if (rdata_addr(type, a->rdata[i], a->rdlen[i],
		    j->addrs[j->naddrs], sizeof(j->addrs[0])) == 0)
			j->naddrs++;
}

static void
on_answer(void *arg, const struct dns_answer *a)
{
	struct slot *s = arg;
	struct job *j = s->job;
	struct host *h = s->host >= 0 ? &j->hosts[s->host] : NULL;

	switch (s->kind) {
	case K_MX:
		on_mx(j, a);
		break;
	case K_TXT:
		on_txt(j, a);
		break;
	case K_PA:
		on_policy_addr(j, &j->pa, a, DNS_T_A);
		break;
	case K_PAAAA:
		on_policy_addr(j, &j->paaaa, a, DNS_T_AAAA);
		break;
	case K_A:
		on_host_addr(j, h, &h->a, a, s->host);
		break;
	case K_AAAA:
		on_host_addr(j, h, &h->aaaa, a, s->host);
		break;
	case K_TLSA:
		res_set(&h->tlsa, a);
		if (h->tlsa.secure)
			take_tlsa(j, h, a, &h->recs, &h->nrecs);
		break;
	case K_TLSA_CANON:
		res_set(&h->tlsa_canon, a);
		if (h->tlsa_canon.secure)
			take_tlsa(j, h, a, &h->recs_canon, &h->nrecs_canon);
		break;
	case K_PRIME:
		j->prime_pending--;
		break;
	}
}

static void
submit(struct job *j, struct slot *s, const char *name, int type,
    struct res *r)
{
	const char *why = NULL;
	struct dns_answer a;

	r->state = ST_WAIT;
	if (j->stopping)
		why = "timed out (dns_timeout)";
	else if (j->dns->query(j->dns_impl, name, type, on_answer, s,
	    &why) == 0)
		return;
	memset(&a, 0, sizeof(a));
	a.status = DNS_TEMPFAIL;
	a.why = why != NULL ? why : "resolver refused the query";
	on_answer(s, &a);
}

/* ---- DANE verdict ------------------------------------------------------- */

enum dane_outcome { DANE_NO, DANE_YES, DANE_TEMPFAIL, DANE_PENDING };

static int
host_lookups_done(const struct host *h)
{
	return h->a.state != ST_WAIT && h->aaaa.state != ST_WAIT &&
	    h->tlsa.state != ST_WAIT && h->tlsa_canon.state != ST_WAIT;
}

static enum stsdane_dane_status
host_status(const struct host *h, const char **base, const char **why)
{
	int secure_addr;

	*base = h->name;
	*why = "";
	if (res_failed(&h->a) || res_failed(&h->aaaa)) {
		const struct res *r = res_failed(&h->a) ? &h->a : &h->aaaa;

		*why = r->why;
		return r->status == DNS_BOGUS ? STSDANE_DANE_BOGUS :
		    STSDANE_DANE_TEMPFAIL;
	}
	secure_addr = (h->a.status == DNS_OK && h->a.secure) ||
	    (h->aaaa.status == DNS_OK && h->aaaa.secure);
	if (!secure_addr) {
		*why = "address records are not DNSSEC-secure";
		return STSDANE_DANE_INSECURE;
	}
	/* the expanded name first, when its TLSA is secure and present */
	if (h->tlsa_canon.state == ST_DONE) {
		if (res_failed(&h->tlsa_canon)) {
			*why = h->tlsa_canon.why;
			return h->tlsa_canon.status == DNS_BOGUS ?
			    STSDANE_DANE_BOGUS : STSDANE_DANE_TEMPFAIL;
		}
		if (h->tlsa_canon.status == DNS_OK && h->tlsa_canon.secure) {
			*base = h->a.canon[0] ? h->a.canon : h->aaaa.canon;
			return h->nrecs_canon > 0 ? STSDANE_DANE_SECURE :
			    STSDANE_DANE_UNUSABLE;
		}
	}
	if (res_failed(&h->tlsa)) {
		*why = h->tlsa.why;
		return h->tlsa.status == DNS_BOGUS ? STSDANE_DANE_BOGUS :
		    STSDANE_DANE_TEMPFAIL;
	}
	if (h->tlsa.status != DNS_OK) {
		*why = "no TLSA records";
		return STSDANE_DANE_INSECURE;
	}
	if (!h->tlsa.secure) {
		*why = "TLSA records are not DNSSEC-secure";
		return STSDANE_DANE_INSECURE;
	}
	return h->nrecs > 0 ? STSDANE_DANE_SECURE : STSDANE_DANE_UNUSABLE;
}

static enum dane_outcome
dane_outcome(const struct job *j)
{
	size_t i;
	int any = 0;

	if (!j->need_dane)
		return DANE_NO;
	if (j->mx.state != ST_DONE)
		return DANE_PENDING;
	if (res_failed(&j->mx))
		return DANE_TEMPFAIL;
	if (j->null_mx || !j->mx.secure || j->nhosts == 0)
		return DANE_NO;
	for (i = 0; i < j->nhosts; i++)
		if (!host_lookups_done(&j->hosts[i]))
			return DANE_PENDING;
	for (i = 0; i < j->nhosts; i++) {
		const char *base, *why;
		enum stsdane_dane_status st = host_status(&j->hosts[i], &base,
		    &why);

		if (st == STSDANE_DANE_BOGUS || st == STSDANE_DANE_TEMPFAIL)
			return DANE_TEMPFAIL;
		if (st == STSDANE_DANE_SECURE || st == STSDANE_DANE_UNUSABLE)
			any = 1;
	}
	return any ? DANE_YES : DANE_NO;
}

/* Fill d->dane with every MX host seen, DANE or not. */
static int
fill_hosts(const struct job *j, struct stsdane_decision *d)
{
	size_t i;

	if (j->nhosts == 0 || j->null_mx)
		return 0;
	d->dane = calloc(j->nhosts, sizeof(*d->dane));
	if (d->dane == NULL)
		return -1;
	for (i = 0; i < j->nhosts; i++) {
		const struct host *h = &j->hosts[i];
		struct stsdane_dane_host *o = &d->dane[i];
		const struct stsdane_tlsa *src;
		const char *base = h->name, *why;
		size_t k, n;

		d->ndane = i + 1;
		o->preference = h->pref;
		o->status = STSDANE_DANE_INSECURE;
		if (j->mx.secure && j->need_dane)
			o->status = host_status(h, &base, &why);
		o->name = sd_strdup(h->name);
		o->base_domain = sd_strdup(base);
		if (o->name == NULL || o->base_domain == NULL)
			return -1;
		if (o->status != STSDANE_DANE_SECURE)
			continue;
		src = strcmp(base, h->name) == 0 ? h->recs : h->recs_canon;
		n = strcmp(base, h->name) == 0 ? h->nrecs : h->nrecs_canon;
		o->tlsa = calloc(n, sizeof(*o->tlsa));
		if (o->tlsa == NULL)
			return -1;
		for (k = 0; k < n; k++) {
			o->tlsa[k] = src[k];
			o->tlsa[k].data = malloc(src[k].len ? src[k].len : 1);
			if (o->tlsa[k].data == NULL)
				return -1;
			memcpy(o->tlsa[k].data, src[k].data, src[k].len);
			o->ntlsa = k + 1;
		}
	}
	return 0;
}

static uint32_t
dane_ttl(const struct job *j)
{
	uint32_t ttl = min_ttl(j->mx.ttl, DANE_TTL_MAX);
	size_t i;

	for (i = 0; i < j->nhosts; i++) {
		const struct host *h = &j->hosts[i];
		const struct res *rs[] = { &h->a, &h->aaaa, &h->tlsa,
		    &h->tlsa_canon };
		size_t k;

		for (k = 0; k < 4; k++)
			if (rs[k]->state == ST_DONE)
				ttl = min_ttl(ttl, rs[k]->ttl);
	}
	return ttl;
}

/* The DANE decision, or the tempfail that replaces every decision. */
static struct stsdane_decision *
dane_decision(const struct job *j, enum dane_outcome o, int64_t now)
{
	struct stsdane_decision *d = decision_new(j->domain);
	size_t i, secure = 0, unusable = 0;
	const char *base, *why = "";

	if (d == NULL || fill_hosts(j, d) < 0)
		goto fail;
	if (o == DANE_TEMPFAIL) {
		d->tempfail = 1;
		d->require_tls = 1;
		if (res_failed(&j->mx)) {
			d->problem = j->mx.status == DNS_BOGUS ?
			    STSDANE_PROBLEM_DNS_BOGUS :
			    STSDANE_PROBLEM_DNS_TEMPFAIL;
			(void)decision_set_reason(d, "MX lookup for %s %s: %s",
			    j->domain, j->mx.status == DNS_BOGUS ?
			    "is DNSSEC-bogus" : "failed", j->mx.why);
			return d;
		}
		for (i = 0; i < j->nhosts; i++) {
			enum stsdane_dane_status st = host_status(&j->hosts[i],
			    &base, &why);

			if (st != STSDANE_DANE_BOGUS &&
			    st != STSDANE_DANE_TEMPFAIL)
				continue;
			d->problem = st == STSDANE_DANE_BOGUS ?
			    STSDANE_PROBLEM_DNS_BOGUS :
			    STSDANE_PROBLEM_DNS_TEMPFAIL;
			(void)decision_set_reason(d,
			    "DANE lookups for MX host %s %s: %s",
			    j->hosts[i].name, st == STSDANE_DANE_BOGUS ?
			    "are DNSSEC-bogus" : "failed", why);
			break;
		}
		return d;
	}
	d->mechanism = STSDANE_MECH_DANE;
	d->mode = STSDANE_MODE_ENFORCE;
	d->require_tls = 1;
	d->expires = now + dane_ttl(j);
	for (i = 0; i < d->ndane; i++) {
		secure += d->dane[i].status == STSDANE_DANE_SECURE;
		unusable += d->dane[i].status == STSDANE_DANE_UNUSABLE;
	}
	if (secure == 0) {
		d->problem = STSDANE_PROBLEM_DANE_UNUSABLE;
		(void)decision_set_reason(d,
		    "DANE: TLSA records are DNSSEC-secure but none is usable "
		    "(%s): TLS required, not authenticated",
		    j->hosts[0].why_unusable[0] ? j->hosts[0].why_unusable :
		    "unusable parameters");
	} else {
		(void)decision_set_reason(d,
		    "DANE: %zu of %zu MX hosts have usable DNSSEC-secure TLSA "
		    "records%s", secure, d->ndane,
		    unusable ? "; others only unusable ones" : "");
	}
	return d;
fail:
	stsdane_decision_free(d);
	return NULL;
}

/* ---- cache -------------------------------------------------------------- */

static struct stsdane_decision *
cache_load(struct decide_env *env, const char *prefix, const char *domain,
    int64_t now, int64_t *learned)
{
	char key[SD_MAX_NAME + 8];
	unsigned char *val = NULL;
	size_t len = 0;
	struct stsdane_decision *d = NULL;
	int64_t when = 0;

	if (env->cache == NULL ||
	    sd_snprintf(key, sizeof(key), "%s/%s", prefix, domain) < 0)
		return NULL;
	if (env->cache->get(env->cache_impl, key, &val, &len) != STSDANE_OK)
		return NULL;
	if (cache_record_decode(val, len, &d, &when) != STSDANE_OK ||
	    d == NULL) {
		(void)env->cache->del(env->cache_impl, key);
		free(val);
		return NULL;
	}
	free(val);
	if (d->expires <= now) {
		(void)env->cache->del(env->cache_impl, key);
		stsdane_decision_free(d);
		return NULL;
	}
	if (learned != NULL)
		*learned = when;
	return d;
}

static void
cache_store(struct decide_env *env, const char *prefix, const char *domain,
    const struct stsdane_decision *d, int64_t learned)
{
	char key[SD_MAX_NAME + 8];
	unsigned char *val = NULL;
	size_t len = 0;

	if (env->cache == NULL ||
	    sd_snprintf(key, sizeof(key), "%s/%s", prefix, domain) < 0)
		return;
	if (cache_record_encode(d, learned, &val, &len) != STSDANE_OK)
		return;
	(void)env->cache->put(env->cache_impl, key, val, len);
	free(val);
}

static void
cache_forget(struct decide_env *env, const char *prefix, const char *domain)
{
	char key[SD_MAX_NAME + 8];

	if (env->cache != NULL &&
	    sd_snprintf(key, sizeof(key), "%s/%s", prefix, domain) == 0)
		(void)env->cache->del(env->cache_impl, key);
}

/* A marker record: mechanism none, valid until `expires'. */
static void
cache_mark(struct decide_env *env, const char *prefix, const char *domain,
    const char *id, int64_t now, int64_t expires,
    enum stsdane_problem problem, const char *reason)
{
	struct stsdane_decision *m = decision_new(domain);

	if (m == NULL)
		return;
	m->expires = expires;
	m->problem = problem;
	m->policy_id = id != NULL ? sd_strdup(id) : NULL;
	(void)decision_set_reason(m, "%s", reason);
	cache_store(env, prefix, domain, m, now);
	stsdane_decision_free(m);
}

/* ---- the MTA-STS decision ---------------------------------------------- */

static struct stsdane_decision *
policy_decision(const char *domain, const struct stsdane_policy *p,
    const char *id, int64_t now)
{
	struct stsdane_decision *d = decision_new(domain);
	char list[512] = "";
	size_t i, off;

	if (d == NULL)
		return NULL;
	d->mechanism = STSDANE_MECH_MTASTS;
	d->mode = p->mode;
	d->require_tls = p->mode == STSDANE_MODE_ENFORCE;
	d->max_age = p->max_age;
	d->expires = now + p->max_age;
	d->policy_id = sd_strdup(id);
	if (d->policy_id == NULL)
		goto fail;
	for (i = 0; i < p->nmx; i++) {
		if (decision_add_mx(d, p->mx[i]) < 0)
			goto fail;
		off = strlen(list);
		(void)sd_snprintf(list + off, sizeof(list) - off, "%s%s",
		    i ? ", " : "", p->mx[i]);
	}
	if (decision_set_reason(d, "MTA-STS policy id %s, mode %s, mx: %s",
	    id, stsdane_mode_name(p->mode), p->nmx ? list : "(none)") < 0)
		goto fail;
	return d;
fail:
	stsdane_decision_free(d);
	return NULL;
}

static struct stsdane_decision *
none_decision(const char *domain, enum stsdane_problem problem,
    const char *why)
{
	struct stsdane_decision *d = decision_new(domain);

	if (d == NULL)
		return NULL;
	d->problem = problem;
	if (decision_set_reason(d, "no policy: %s", why) < 0) {
		stsdane_decision_free(d);
		return NULL;
	}
	return d;
}

static struct stsdane_decision *
tempfail_decision(const char *domain, enum stsdane_problem problem,
    const char *why)
{
	struct stsdane_decision *d = decision_new(domain);

	if (d == NULL)
		return NULL;
	d->tempfail = 1;
	d->require_tls = 1;	/* should a caller deliver anyway: never clear */
	d->problem = problem;
	if (decision_set_reason(d, "%s", why) < 0) {
		stsdane_decision_free(d);
		return NULL;
	}
	return d;
}

/* Keep applying cached policy P after a failure, saying why. */
static struct stsdane_decision *
keep_cached(const struct stsdane_decision *p, enum stsdane_problem problem,
    const char *why)
{
	struct stsdane_decision *d = decision_copy(p);

	if (d == NULL)
		return NULL;
	d->source = STSDANE_SOURCE_CACHE;
	d->problem = problem;
	if (decision_set_reason(d, "cached MTA-STS policy id %s, mode %s "
	    "(%s)", p->policy_id != NULL ? p->policy_id : "?",
	    stsdane_mode_name(p->mode), why) < 0) {
		stsdane_decision_free(d);
		return NULL;
	}
	return d;
}

static uint32_t
txt_recheck(const struct job *j)
{
	uint32_t t = j->txt.ttl;

	if (t < TXT_RECHECK_MIN)
		t = TXT_RECHECK_MIN;
	return t > TXT_RECHECK_MAX ? TXT_RECHECK_MAX : t;
}

/*
 * The MTA-STS part from what the network said, applying RFC 8461 5.1
 * against the cached policy `cached' (NULL when there is none).
 */
static struct stsdane_decision *
sts_decision(struct job *j, const struct stsdane_decision *cached,
    int64_t now, int64_t *horizon)
{
	struct decide_env *env = j->env;
	struct stsdane_policy *p = NULL;
	struct stsdane_decision *d;
	char err[SD_ERRLEN], why[SD_ERRLEN];
	int64_t recheck = now + txt_recheck(j);

	if (!j->txt_valid) {
		if (cached != NULL) {	/* TXT gone or failing: keep P */
			*horizon = now + TXT_RECHECK_MIN;
			cache_mark(env, "neg", j->domain, NULL, now,
			    now + TXT_RECHECK_MIN, j->txt_problem, j->txt_why);
			return keep_cached(cached, j->txt_problem, j->txt_why);
		}
		if (j->txt_problem == STSDANE_PROBLEM_DNS_TEMPFAIL ||
		    j->txt_problem == STSDANE_PROBLEM_DNS_BOGUS)
			return tempfail_decision(j->domain, j->txt_problem,
			    j->txt_why);
		if (j->txt_problem == STSDANE_PROBLEM_TXT_MISSING) {
			uint32_t ttl = j->txt.ttl;
			unsigned neg = env->settings->negative_ttl;

			*horizon = now + (ttl > 0 && ttl < neg ? ttl : neg);
			cache_mark(env, "neg", j->domain, NULL, now,
			    now + (ttl > 0 && ttl < neg ? ttl : neg),
			    j->txt_problem, j->txt_why);
		}
		return none_decision(j->domain, j->txt_problem, j->txt_why);
	}

	/* A valid TXT record. */
	if (j->fetch != ST_DONE && cached != NULL) {
		/* id unchanged: P applies without a fetch */
		*horizon = recheck;
		cache_mark(env, "txt", j->domain, j->txt_id, now, recheck,
		    STSDANE_PROBLEM_NONE, "TXT id last seen");
		d = decision_copy(cached);
		if (d != NULL)
			d->source = STSDANE_SOURCE_CACHE;
		return d;
	}
	if (j->fetch != ST_DONE) {
		j->fres.problem = STSDANE_PROBLEM_TIMEOUT;
		(void)sd_snprintf(j->fres.error, sizeof(j->fres.error),
		    "policy not fetched within dns_timeout");
	} else if (j->fres.problem == STSDANE_PROBLEM_NONE) {
		if (stsdane_policy_parse(j->fres.body, j->fres.len, &p, err,
		    sizeof(err)) != STSDANE_OK) {
			j->fres.problem = STSDANE_PROBLEM_POLICY_SYNTAX;
			(void)sd_snprintf(j->fres.error, sizeof(j->fres.error),
			    "policy syntax: %s", err);
		}
	}
	if (j->fres.problem != STSDANE_PROBLEM_NONE) {
		(void)sd_snprintf(why, sizeof(why),
		    "policy fetch from https://mta-sts.%s/.well-known/"
		    "mta-sts.txt failed: %s", j->domain, j->fres.error);
		*horizon = now + min_ttl(FETCH_FAIL_TTL,
		    env->settings->negative_ttl);
		cache_mark(env, "neg", j->domain, j->txt_id, now, *horizon,
		    j->fres.problem, why);
		if (cached != NULL)
			return keep_cached(cached, j->fres.problem, why);
		return none_decision(j->domain, j->fres.problem, why);
	}
	d = policy_decision(j->domain, p, j->txt_id, now);
	stsdane_policy_free(p);
	if (d == NULL)
		return NULL;
	/* a fetched policy, "mode: none" included, replaces P */
	*horizon = recheck;
	cache_store(env, "sts", j->domain, d, now);
	cache_mark(env, "txt", j->domain, j->txt_id, now, recheck,
	    STSDANE_PROBLEM_NONE, "TXT id last seen");
	cache_forget(env, "neg", j->domain);
	return d;
}

/* ---- the event loop ----------------------------------------------------- */

/*
 * Ask for the DNSKEY and DS RRsets along the domain's name (the root and
 * the last three labels' suffixes) at the same time as the MX and TXT
 * lookups.  Validating those answers needs them anyway, and libunbound
 * would otherwise fetch them one zone after the other, a round trip each;
 * asked for ahead, they come in parallel and the validator finds them in
 * its cache.  Nobody waits for these answers.
 */
static void
prime_chain(struct job *j)
{
	const char *suffix[4];
	size_t n = 0, i, k = 0;
	const char *p = j->domain + strlen(j->domain);

	/* the last three suffixes: "test", "enforce.test", ... */
	while (p > j->domain && n < 3) {
		do
			p--;
		while (p > j->domain && p[-1] != '.');
		suffix[n++] = p;
	}
	for (i = 0; i <= n && k + 2 <= PRIME_MAX; i++) {
		const char *name = i == 0 ? "." : suffix[i - 1];

		j->prime_slots[k] = (struct slot){ j, K_PRIME, -1 };
		j->prime_pending++;
		submit(j, &j->prime_slots[k], name, DNS_T_DNSKEY,
		    &j->prime[k]);
		k++;
		if (i == 0)
			continue;
		j->prime_slots[k] = (struct slot){ j, K_PRIME, -1 };
		j->prime_pending++;
		submit(j, &j->prime_slots[k], name, DNS_T_DS, &j->prime[k]);
		k++;
	}
}

static int
policy_addrs_done(const struct job *j)
{
	return j->pa.state == ST_DONE && j->paaaa.state == ST_DONE;
}

static void
maybe_lookup_policy_host(struct job *j, const struct stsdane_decision *cached)
{
	char host[SD_MAX_NAME + 8];

	if (!j->txt_valid || j->pa.state != ST_IDLE)
		return;
	if (cached != NULL && cached->policy_id != NULL &&
	    strcmp(cached->policy_id, j->txt_id) == 0 && !j->fetch_wanted)
		return;		/* RFC 8461 5.1: id unchanged, no fetch */
	j->fetch_wanted = 1;
	if (sd_snprintf(host, sizeof(host), "mta-sts.%s", j->domain) < 0)
		return;
	j->pa_slot = (struct slot){ j, K_PA, -1 };
	j->paaaa_slot = (struct slot){ j, K_PAAAA, -1 };
	submit(j, &j->pa_slot, host, DNS_T_A, &j->pa);
	submit(j, &j->paaaa_slot, host, DNS_T_AAAA, &j->paaaa);
}

static void
maybe_start_fetch(struct job *j)
{
	struct decide_env *env = j->env;
	struct fetch_request req;
	const char *addrs[16];
	char host[SD_MAX_NAME + 8], err[SD_ERRLEN];
	size_t i;

	if (!j->fetch_wanted || j->fetch != ST_IDLE || !policy_addrs_done(j))
		return;
	if (dane_outcome(j) != DANE_NO)
		return;		/* DANE decides, or not known yet */
	if (j->mx.state == ST_WAIT || j->null_mx)
		return;		/* a null MX takes no mail: no policy needed */
	j->fetch = ST_DONE;	/* unless started below */
	memset(&j->fres, 0, sizeof(j->fres));
	(void)sd_snprintf(host, sizeof(host), "mta-sts.%s", j->domain);
	if (j->naddrs == 0) {
		int failed = res_failed(&j->pa) || res_failed(&j->paaaa);

		j->fres.problem = STSDANE_PROBLEM_POLICY_HOST_DNS;
		(void)sd_snprintf(j->fres.error, sizeof(j->fres.error),
		    "policy host '%s' %s", host, failed ?
		    "could not be resolved (lookup failed)" :
		    "has no address record");
		return;
	}
	if (env->get_fetch(env->get_arg, &j->fops, &j->fimpl, err,
	    sizeof(err)) < 0) {
		j->fres.problem = STSDANE_PROBLEM_INTERNAL;
		(void)sd_snprintf(j->fres.error, sizeof(j->fres.error), "%s",
		    err);
		return;
	}
	for (i = 0; i < j->naddrs; i++)
		addrs[i] = j->addrs[i];
	memset(&req, 0, sizeof(req));
	req.host = host;
	req.port = 443;
	req.addrs = addrs;
	req.naddrs = j->naddrs;
	req.ca_file = env->settings->ca_file;
	req.timeout_ms = env->settings->fetch_timeout_ms;
	req.max_body = SD_MAX_POLICY;
	if (j->fops->start(j->fimpl, &req, err, sizeof(err)) < 0) {
		j->fres.problem = STSDANE_PROBLEM_INTERNAL;
		(void)sd_snprintf(j->fres.error, sizeof(j->fres.error), "%s",
		    err);
		return;
	}
	j->fetch = ST_WAIT;
}

static int
wait_dns(const struct job *j, int timeout_ms)
{
	struct pollfd pfd;
	int fd = j->dns->fd(j->dns_impl);

	if (fd < 0)
		return 0;
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
		return -1;
	return 0;
}

static void
run_loop(struct job *j, const struct stsdane_decision *cached)
{
	struct decide_env *env = j->env;
	int64_t start = env->mono_ms(env->clock_arg);
	int64_t dns_deadline = start + env->settings->dns_timeout_ms;
	int64_t fetch_deadline = 0;

	for (;;) {
		int64_t now = env->mono_ms(env->clock_arg);
		int dns_busy = j->dns->pending(j->dns_impl) > 0;
		int remaining;

		maybe_lookup_policy_host(j, cached);
		maybe_start_fetch(j);
		if (j->fetch == ST_WAIT && fetch_deadline == 0)
			fetch_deadline = now + env->settings->fetch_timeout_ms
			    + 1000;
		dns_busy = j->dns->pending(j->dns_impl) > j->prime_pending;
		if (!dns_busy && j->fetch != ST_WAIT) {
			if (j->prime_pending > 0) {
				j->stopping = 1;
				j->dns->cancel_all(j->dns_impl, "not needed");
			}
			break;
		}
		if (j->fetch != ST_WAIT && (j->null_mx ||
		    dane_outcome(j) == DANE_YES ||
		    dane_outcome(j) == DANE_TEMPFAIL)) {
			/* decided: what is still in flight does not matter */
			j->stopping = 1;
			j->dns->cancel_all(j->dns_impl, "not needed");
			break;
		}
		if (dns_busy && now >= dns_deadline) {
			j->stopping = 1;
			j->dns->cancel_all(j->dns_impl,
			    "timed out (dns_timeout)");
			continue;
		}
		if (j->fetch == ST_WAIT && now >= fetch_deadline) {
			j->fops->abort(j->fimpl);
			j->fetch = ST_DONE;
			j->fres.problem = STSDANE_PROBLEM_TIMEOUT;
			(void)sd_snprintf(j->fres.error, sizeof(j->fres.error),
			    "no answer within fetch_timeout");
			continue;
		}
		remaining = (int)((dns_busy ? dns_deadline : fetch_deadline)
		    - now);
		if (remaining > 1000)
			remaining = 1000;
		if (j->fetch == ST_WAIT) {
			if (j->fops->step(j->fimpl, j->dns->fd(j->dns_impl),
			    remaining)) {
				j->fops->finish(j->fimpl, &j->fres);
				j->fetch = ST_DONE;
			}
		} else if (wait_dns(j, remaining) < 0) {
			j->dns->cancel_all(j->dns_impl, "poll failed");
			continue;
		}
		j->dns->process(j->dns_impl);
	}
	j->stopping = 1;
}

static void
job_release(struct job *j)
{
	size_t i, k;

	for (i = 0; i < j->nhosts; i++) {
		struct host *h = &j->hosts[i];

		for (k = 0; k < h->nrecs; k++)
			free(h->recs[k].data);
		for (k = 0; k < h->nrecs_canon; k++)
			free(h->recs_canon[k].data);
		free(h->recs);
		free(h->recs_canon);
	}
	free(j->fres.body);
}

/* ---- decide() ------------------------------------------------------------ */

/*
 * Served from the cache alone, or NULL when the network is needed.
 * *policy is set to the cached, unexpired MTA-STS policy, if any, for
 * RFC 8461 5.1 on the network path.
 */
static struct stsdane_decision *
from_cache(struct decide_env *env, const char *domain, int64_t now,
    int64_t *dane_until, struct stsdane_decision **policy)
{
	struct stsdane_decision *dane, *txt = NULL, *neg = NULL, *d = NULL;
	int64_t until = 0;

	*dane_until = 0;
	*policy = NULL;
	/* the whole answer, in one read: the path nearly every call takes */
	d = cache_load(env, "ans", domain, now, NULL);
	if (d != NULL) {
		d->source = STSDANE_SOURCE_CACHE;
		return d;
	}
	*policy = cache_load(env, "sts", domain, now, NULL);
	dane = cache_load(env, "dane", domain, now, NULL);
	if (dane == NULL)
		return NULL;
	*dane_until = dane->expires;
	if (dane->mechanism == STSDANE_MECH_DANE) {
		dane->source = STSDANE_SOURCE_CACHE;
		return dane;
	}
	stsdane_decision_free(dane);
	neg = cache_load(env, "neg", domain, now, NULL);
	if (neg != NULL && *policy != NULL) {
		/* a recent failure; P still applies (RFC 8461 5.1) */
		d = keep_cached(*policy, neg->problem, neg->reason != NULL ?
		    neg->reason : "recent failure");
		until = earliest(neg->expires, (*policy)->expires);
	} else if (neg != NULL &&
	    neg->problem != STSDANE_PROBLEM_DNS_TEMPFAIL &&
	    neg->problem != STSDANE_PROBLEM_DNS_BOGUS) {
		/* "no policy"; a remembered lookup failure is never that */
		d = none_decision(domain, neg->problem, neg->reason != NULL ?
		    neg->reason : "none published");
		if (d != NULL)
			d->source = STSDANE_SOURCE_CACHE;
		until = neg->expires;
	} else if (*policy != NULL &&
	    (txt = cache_load(env, "txt", domain, now, NULL)) != NULL &&
	    txt->policy_id != NULL && (*policy)->policy_id != NULL &&
	    strcmp(txt->policy_id, (*policy)->policy_id) == 0) {
		d = decision_copy(*policy);
		if (d != NULL)
			d->source = STSDANE_SOURCE_CACHE;
		until = earliest(txt->expires, (*policy)->expires);
	}
	/* valid until the first of the records it was made from expires */
	if (d != NULL)
		d->expires = earliest(until, *dane_until);
	stsdane_decision_free(txt);
	stsdane_decision_free(neg);
	return d;
}

int
decide(struct decide_env *env, const char *domain, unsigned flags,
    struct stsdane_decision **out, char *err, size_t errlen)
{
	struct job *j = NULL;
	struct stsdane_decision *d = NULL, *policy = NULL;
	enum dane_outcome o;
	int64_t now = env->now(env->clock_arg);
	int64_t dane_until = 0, horizon = INT64_MAX;
	char txt_name[SD_MAX_NAME + 16];
	int rc = STSDANE_OK;

	*out = NULL;
	if (!(flags & STSDANE_QUERY_REFRESH)) {
		d = from_cache(env, domain, now, &dane_until, &policy);
		if (d != NULL) {
			stsdane_decision_free(policy);
			*out = d;
			return STSDANE_OK;
		}
	} else {
		policy = cache_load(env, "sts", domain, now, NULL);
	}

	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		rc = STSDANE_ERR_NOMEM;
		(void)sd_snprintf(err, errlen, "out of memory");
		goto out;
	}
	j->env = env;
	j->domain = domain;
	j->need_dane = dane_until == 0;
	j->fetch_wanted = (flags & STSDANE_QUERY_REFRESH) != 0;
	if (env->get_dns(env->get_arg, &j->dns, &j->dns_impl, err,
	    errlen) < 0) {
		rc = STSDANE_ERR_RESOLVER;
		goto out;
	}
	/*
	 * The MX RRset is needed even when the DANE answer is cached: the
	 * probe and people want the host list, but it costs nothing extra
	 * since it runs alongside the TXT lookup.
	 */
	j->mx_slot = (struct slot){ j, K_MX, -1 };
	j->txt_slot = (struct slot){ j, K_TXT, -1 };
	/* the chain data first, so its answers are in before they are used */
	prime_chain(j);
	submit(j, &j->mx_slot, domain, DNS_T_MX, &j->mx);
	if (sd_snprintf(txt_name, sizeof(txt_name), "_mta-sts.%s",
	    domain) == 0)
		submit(j, &j->txt_slot, txt_name, DNS_T_TXT, &j->txt);
	run_loop(j, policy);
	if (j->failed) {
		rc = STSDANE_ERR_NOMEM;
		(void)sd_snprintf(err, errlen, "%s", j->fail_why);
		goto out;
	}

	o = dane_outcome(j);
	if (j->null_mx) {
		d = decision_new(domain);
		if (d != NULL) {
			d->no_mail = 1;
			d->expires = now + min_ttl(j->mx.ttl, DANE_TTL_MAX);
			horizon = d->expires;
			d->problem = STSDANE_PROBLEM_NULL_MX;
			(void)decision_set_reason(d,
			    "%s publishes a null MX: it accepts no mail",
			    domain);
		}
	} else if (o == DANE_YES || o == DANE_TEMPFAIL) {
		d = dane_decision(j, o, now);
		if (d != NULL && o == DANE_YES) {
			cache_store(env, "dane", domain, d, now);
			horizon = d->expires;
		}
	} else if (j->mx.state == ST_DONE && j->mx.status == DNS_NXDOMAIN &&
	    !j->txt_valid && policy == NULL) {
		d = none_decision(domain, STSDANE_PROBLEM_NONE,
		    "the domain does not exist (NXDOMAIN)");
	} else {
		if (j->need_dane && j->mx.state == ST_DONE &&
		    !res_failed(&j->mx)) {
			/* "DANE does not apply", valid for the TTLs seen */
			dane_until = now + dane_ttl(j);
			cache_mark(env, "dane", domain, NULL, now, dane_until,
			    STSDANE_PROBLEM_NONE, "no DANE");
		}
		d = sts_decision(j, policy, now, &horizon);
		if (dane_until < horizon)
			horizon = dane_until;
		if (d != NULL && d->ndane == 0 && fill_hosts(j, d) < 0) {
			stsdane_decision_free(d);
			d = NULL;
		}
	}
	if (d == NULL) {
		rc = STSDANE_ERR_NOMEM;
		(void)sd_snprintf(err, errlen, "out of memory");
		goto out;
	}
	/*
	 * The answer itself, for the fast path, valid until the first of
	 * the records it was made from expires.  Never a tempfail: those
	 * are looked at again on the next call.
	 */
	if (d->mechanism == STSDANE_MECH_MTASTS && d->expires < horizon)
		horizon = d->expires;	/* never past fetched-at + max_age */
	if (!d->tempfail && horizon > now && horizon != INT64_MAX) {
		d->expires = horizon;
		cache_store(env, "ans", domain, d, now);
	} else if (d->tempfail) {
		cache_forget(env, "ans", domain);
	} else if (horizon <= now) {
		/* A part of it is already stale (a TTL of 0): this answer is
		   for this call only, and no tier above may keep it. */
		d->expires = now;
	}
	*out = d;
out:
	if (j != NULL) {
		if (j->fetch == ST_WAIT)
			j->fops->abort(j->fimpl);
		job_release(j);
		free(j);
	}
	stsdane_decision_free(policy);
	return rc;
}
