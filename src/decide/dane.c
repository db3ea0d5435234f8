/*
 * NAME
 *	dane.c - the DANE half of a decision (RFC 7672, RFC 7671)
 * SYNOPSIS
 *	#include "dane.h"
 *
 *	dane_start(&dn, &sched, domain, need);
 *	... sched_run() ...
 *	o = dane_outcome(&dn);
 *	d = dane_decision(&dn, o, now);
 *	dane_release(&dn);
 * DESCRIPTION
 *	The MX RRset is parsed once, here: null MX noted, names normalized,
 *	a name listed twice kept once (at its best preference), and the
 *	hosts ordered by preference, equal preferences in RRset order.  A
 *	NODATA answer gives the implicit MX, the domain itself (RFC 5321
 *	5.1).  When the RRset is DNSSEC-secure, each host's A, AAAA and
 *	TLSA (_25._tcp.HOST) records are looked up; an address answer that
 *	is secure and arrived through a CNAME makes the expanded name a
 *	candidate TLSA base domain, whose TLSA records are looked up too
 *	(RFC 7672 2.2.2), and win when they are secure and present.
 *
 *	The verdict: any bogus or failed lookup on the DANE path is
 *	TEMPFAIL, never clear text and never a fall-through to MTA-STS; a
 *	host with secure TLSA records (usable or not) makes DANE apply.
 * DIAGNOSTICS
 *	Out of memory inside a callback sets dn->failed; the composition
 *	turns that into STSDANE_ERR_NOMEM.
 */
#include <stdlib.h>
#include <string.h>

#include "dane.h"
#include "decision.h"
#include "rdata.h"
#include "tlsa.h"

#define DANE_TTL_MAX 86400

static uint32_t
min_ttl(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static void
dane_fail(struct dane *dn, const char *why)
{
	if (!dn->failed)
		(void)sd_strlcpy(dn->fail_why, why, sizeof(dn->fail_why));
	dn->failed = 1;
}

static void on_host_addr(void *arg, struct lookup *l,
    const struct dns_answer *a);
static void on_tlsa(void *arg, struct lookup *l, const struct dns_answer *a);

static void
start_host_lookups(struct dane *dn)
{
	size_t i;
	char tlsa[SD_MAX_NAME + 16];

	for (i = 0; i < dn->nhosts; i++) {
		struct dane_host *h = &dn->hosts[i];

		h->owner = dn;
		sched_lookup(dn->sched, &h->a, h->name, DNS_T_A, on_host_addr,
		    h);
		sched_lookup(dn->sched, &h->aaaa, h->name, DNS_T_AAAA,
		    on_host_addr, h);
		if (sd_snprintf(tlsa, sizeof(tlsa), "_25._tcp.%s", h->name) < 0)
			continue;
		sched_lookup(dn->sched, &h->tlsa, tlsa, DNS_T_TLSA, on_tlsa, h);
	}
}

/*
 * The MX RRset into dn->hosts: stable by preference, each name once.
 */
static void
take_mx(struct dane *dn, const struct dns_answer *a)
{
	size_t i, k, n = 0;

	for (i = 0; i < a->n && n < SD_MAX_MX_HOSTS; i++) {
		struct dane_host h;
		char name[SD_MAX_NAME];

		memset(&h, 0, sizeof(h));
		if (rdata_mx(a->rdata[i], a->rdlen[i], &h.pref, name,
		    sizeof(name)) < 0)
			continue;	/* malformed: skip it */
		if (name[0] == '\0') {
			dn->null_mx = 1;
			continue;
		}
		if (sd_hostname_normalize(name, h.name, sizeof(h.name), 1) < 0)
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(dn->hosts[k].name, h.name) == 0)
				break;
		if (k < n) {		/* listed twice: the better one */
			if (h.pref < dn->hosts[k].pref)
				dn->hosts[k].pref = h.pref;
			continue;
		}
		dn->hosts[n++] = h;
	}
	/* insertion sort: stable, and n is at most SD_MAX_MX_HOSTS */
	for (i = 1; i < n; i++) {
		struct dane_host h = dn->hosts[i];

		for (k = i; k > 0 && dn->hosts[k - 1].pref > h.pref; k--)
			dn->hosts[k] = dn->hosts[k - 1];
		dn->hosts[k] = h;
	}
	dn->nhosts = n;
}

static void
on_mx(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct dane *dn = arg;

	if (a->status == DNS_NODATA) {
		/* RFC 5321 5.1: the implicit MX is the domain itself */
		(void)sd_strlcpy(dn->hosts[0].name, dn->domain,
		    sizeof(dn->hosts[0].name));
		dn->hosts[0].pref = 0;
		dn->nhosts = 1;
	} else if (a->status == DNS_OK) {
		take_mx(dn, a);
	}
	if (dn->null_mx || !dn->need || !dn->mx.secure || dn->nhosts == 0)
		return;
	start_host_lookups(dn);
}

void
dane_start(struct dane *dn, struct sched *s, const char *domain, int need)
{
	memset(dn, 0, sizeof(*dn));
	dn->sched = s;
	dn->domain = domain;
	dn->need = need;
	sched_lookup(s, &dn->mx, domain, DNS_T_MX, on_mx, dn);
}

/* Keep the usable TLSA records of an answer. */
static void
take_tlsa(struct dane_host *h, const struct dns_answer *a,
    struct stsdane_tlsa **out, size_t *nout)
{
	size_t i;

	*out = NULL;
	*nout = 0;
	if (a->status != DNS_OK || a->n == 0)
		return;
	*out = calloc(a->n < SD_MAX_TLSA ? a->n : SD_MAX_TLSA, sizeof(**out));
	if (*out == NULL) {
		dane_fail(h->owner, "out of memory");
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
			dane_fail(h->owner, "out of memory");
			return;
		}
		memcpy(t.data, data, t.len);
		(*out)[(*nout)++] = t;
	}
}

static void
on_tlsa(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct dane_host *h = arg;

	if (!l->secure)
		return;
	if (l == &h->tlsa)
		take_tlsa(h, a, &h->recs, &h->nrecs);
	else
		take_tlsa(h, a, &h->recs_canon, &h->nrecs_canon);
}

static void
on_host_addr(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct dane_host *h = arg;
	char tlsa[SD_MAX_NAME + 16];

	/*
	 * RFC 7672 2.2.2: a secure CNAME chain makes the expanded name a
	 * candidate TLSA base domain; look its TLSA up too (once).
	 */
	if (a->status == DNS_OK && a->secure && l->canon[0] != '\0' &&
	    strcmp(l->canon, h->name) != 0 &&
	    h->tlsa_canon.state == LK_IDLE &&
	    sd_snprintf(tlsa, sizeof(tlsa), "_25._tcp.%s", l->canon) == 0)
		sched_lookup(h->owner->sched, &h->tlsa_canon, tlsa,
		    DNS_T_TLSA, on_tlsa, h);
}

/* ---- the verdict ----------------------------------------------------------- */

static int
host_lookups_done(const struct dane_host *h)
{
	return h->a.state != LK_WAIT && h->aaaa.state != LK_WAIT &&
	    h->tlsa.state != LK_WAIT && h->tlsa_canon.state != LK_WAIT;
}

static enum stsdane_dane_status
host_status(const struct dane_host *h, const char **base, const char **why)
{
	int secure_addr;

	*base = h->name;
	*why = "";
	if (lookup_failed(&h->a) || lookup_failed(&h->aaaa)) {
		const struct lookup *r = lookup_failed(&h->a) ? &h->a :
		    &h->aaaa;

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
	if (h->tlsa_canon.state == LK_DONE) {
		if (lookup_failed(&h->tlsa_canon)) {
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
	if (lookup_failed(&h->tlsa)) {
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

uint32_t
dane_mx_ttl(const struct dane *dn)
{
	return dn->mx.ttl;
}

int
dane_failed(const struct dane *dn, const char **why)
{
	*why = dn->fail_why;
	return dn->failed;
}

enum dane_mx
dane_mx(const struct dane *dn)
{
	if (dn->mx.state != LK_DONE)
		return DANE_MX_PENDING;
	if (lookup_failed(&dn->mx))
		return DANE_MX_FAILED;
	if (dn->null_mx)
		return DANE_MX_NULL;
	if (dn->mx.status == DNS_NXDOMAIN)
		return DANE_MX_NXDOMAIN;
	return dn->nhosts > 0 ? DANE_MX_HOSTS : DANE_MX_NONE;
}

enum dane_outcome
dane_outcome(const struct dane *dn)
{
	size_t i;
	int any = 0;

	if (!dn->need)
		return DANE_NO;
	if (dn->mx.state != LK_DONE)
		return DANE_PENDING;
	if (lookup_failed(&dn->mx))
		return DANE_TEMPFAIL;
	if (dn->null_mx || !dn->mx.secure || dn->nhosts == 0)
		return DANE_NO;
	for (i = 0; i < dn->nhosts; i++)
		if (!host_lookups_done(&dn->hosts[i]))
			return DANE_PENDING;
	for (i = 0; i < dn->nhosts; i++) {
		const char *base, *why;
		enum stsdane_dane_status st = host_status(&dn->hosts[i], &base,
		    &why);

		if (st == STSDANE_DANE_BOGUS || st == STSDANE_DANE_TEMPFAIL)
			return DANE_TEMPFAIL;
		if (st == STSDANE_DANE_SECURE || st == STSDANE_DANE_UNUSABLE)
			any = 1;
	}
	return any ? DANE_YES : DANE_NO;
}
/* Fill d->dane with every MX host seen, DANE or not. */
int
dane_fill_hosts(const struct dane *dn, struct stsdane_decision *d)
{
	size_t i;

	if (dn->nhosts == 0 || dn->null_mx)
		return 0;
	d->dane = calloc(dn->nhosts, sizeof(*d->dane));
	if (d->dane == NULL)
		return -1;
	for (i = 0; i < dn->nhosts; i++) {
		const struct dane_host *h = &dn->hosts[i];
		struct stsdane_dane_host *o = &d->dane[i];
		const struct stsdane_tlsa *src;
		const char *base = h->name, *why;
		size_t k, n;

		d->ndane = i + 1;
		o->preference = h->pref;
		o->status = STSDANE_DANE_INSECURE;
		if (dn->mx.secure && dn->need)
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

uint32_t
dane_ttl(const struct dane *dn)
{
	uint32_t ttl = min_ttl(dn->mx.ttl, DANE_TTL_MAX);
	size_t i;

	for (i = 0; i < dn->nhosts; i++) {
		const struct dane_host *h = &dn->hosts[i];
		const struct lookup *rs[] = { &h->a, &h->aaaa, &h->tlsa,
		    &h->tlsa_canon };
		size_t k;

		for (k = 0; k < 4; k++)
			if (rs[k]->state == LK_DONE)
				ttl = min_ttl(ttl, rs[k]->ttl);
	}
	return ttl;
}

/* The DANE decision, or the tempfail that replaces every decision. */
struct stsdane_decision *
dane_decision(const struct dane *dn, enum dane_outcome o, int64_t now)
{
	struct stsdane_decision *d = decision_new(dn->domain);
	size_t i, secure = 0, unusable = 0;
	const char *base, *why = "";

	if (d == NULL || dane_fill_hosts(dn, d) < 0)
		goto fail;
	if (o == DANE_TEMPFAIL) {
		d->tempfail = 1;
		d->require_tls = 1;
		if (lookup_failed(&dn->mx)) {
			d->problem = dn->mx.status == DNS_BOGUS ?
			    STSDANE_PROBLEM_DNS_BOGUS :
			    STSDANE_PROBLEM_DNS_TEMPFAIL;
			(void)decision_set_reason(d, "MX lookup for %s %s: %s",
			    dn->domain, dn->mx.status == DNS_BOGUS ?
			    "is DNSSEC-bogus" : "failed", dn->mx.why);
			return d;
		}
		for (i = 0; i < dn->nhosts; i++) {
			enum stsdane_dane_status st = host_status(&dn->hosts[i],
			    &base, &why);

			if (st != STSDANE_DANE_BOGUS &&
			    st != STSDANE_DANE_TEMPFAIL)
				continue;
			d->problem = st == STSDANE_DANE_BOGUS ?
			    STSDANE_PROBLEM_DNS_BOGUS :
			    STSDANE_PROBLEM_DNS_TEMPFAIL;
			(void)decision_set_reason(d,
			    "DANE lookups for MX host %s %s: %s",
			    dn->hosts[i].name, st == STSDANE_DANE_BOGUS ?
			    "are DNSSEC-bogus" : "failed", why);
			break;
		}
		return d;
	}
	d->mechanism = STSDANE_MECH_DANE;
	d->mode = STSDANE_MODE_ENFORCE;
	d->require_tls = 1;
	d->expires = now + dane_ttl(dn);
	for (i = 0; i < d->ndane; i++) {
		secure += d->dane[i].status == STSDANE_DANE_SECURE;
		unusable += d->dane[i].status == STSDANE_DANE_UNUSABLE;
	}
	if (secure == 0) {
		d->problem = STSDANE_PROBLEM_DANE_UNUSABLE;
		(void)decision_set_reason(d,
		    "DANE: TLSA records are DNSSEC-secure but none is usable "
		    "(%s): TLS required, not authenticated",
		    dn->hosts[0].why_unusable[0] ? dn->hosts[0].why_unusable :
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

void
dane_release(struct dane *dn)
{
	size_t i, k;

	for (i = 0; i < dn->nhosts; i++) {
		struct dane_host *h = &dn->hosts[i];

		for (k = 0; k < h->nrecs; k++)
			free(h->recs[k].data);
		for (k = 0; k < h->nrecs_canon; k++)
			free(h->recs_canon[k].data);
		free(h->recs);
		free(h->recs_canon);
	}
}
