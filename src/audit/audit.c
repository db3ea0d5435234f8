/*
 * NAME
 *	audit.c - stsdane_audit(): a domain checked at every layer at once
 * SUMMARY
 *	the DNS lookups of an audit, the findings, the verdicts, and the
 *	order in which the other parts run
 * SYNOPSIS
 *	#include <stsdane.h>
 *
 *	int stsdane_audit(stsdane_ctx *ctx, const char *domain,
 *	    const struct stsdane_audit_options *opt,
 *	    struct stsdane_audit **out);
 *	void stsdane_audit_free(struct stsdane_audit *a);
 * DESCRIPTION
 *	The audit is for the domain's owner, not for a sender: where a
 *	sender stops at the first thing that decides, the audit goes on and
 *	says everything it finds, each as a finding with a stable id, a
 *	severity, the layer, the host and address it concerns, what is
 *	wrong and how to fix it.
 *
 *	The lookups go through the context's DNS layer on the scheduler
 *	(scheduler.c), in three rounds each bounded by dns_timeout: the
 *	domain's SOA, MX, _mta-sts and _smtp._tls TXT and the policy
 *	host's addresses at once; then every MX host's A and AAAA; then
 *	every MX host's TLSA RRset, at the name its address lookup ended
 *	on (RFC 7672 2.2.2: a CNAME'd MX host's TLSA base is the target).
 *	Then the SMTP sessions to every address start, each in a thread of
 *	its own (audit_tls.c), and while they run this thread fetches and
 *	reads the policy (audit_sts.c), which needs the context.  What the
 *	sessions saw is checked after they all ended, here again, since
 *	verification uses the context.
 *
 *	The decision a sender makes now (stsdane_query(), no cache) comes
 *	with the report, so that the owner sees the outcome beside the
 *	reasons.  Nothing is read from or written to the cache.  Findings come out
 *	in layer order, and within a layer in the order they were found.
 * DIAGNOSTICS
 *	STSDANE_OK whatever the network said (it is in the findings);
 *	STSDANE_ERR_INVAL, STSDANE_ERR_NAME (not a domain name),
 *	STSDANE_ERR_NOMEM, STSDANE_ERR_RESOLVER (no DNS layer), with the
 *	message in stsdane_error(ctx).
 * SEE ALSO
 *	audit_sts.c, audit_tls.c, scheduler.c, RFC 7672, RFC 8461, RFC 8460
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "ctx.h"
#include "rdata.h"

#define DNS_T_SOA 6

static const char *const layer_names[STSDANE_AUDIT_LAYERS] = {
	"dns", "mta-sts-txt", "policy-host", "policy", "mx", "smtp", "dane",
	"tlsrpt"
};

SD_EXPORT const char *
stsdane_audit_layer_name(unsigned layer)
{
	return layer < STSDANE_AUDIT_LAYERS ? layer_names[layer] : NULL;
}

SD_EXPORT const char *
stsdane_severity_name(enum stsdane_severity s)
{
	switch (s) {
	case STSDANE_SEV_INFO: return "info";
	case STSDANE_SEV_WARNING: return "warning";
	case STSDANE_SEV_ERROR: return "error";
	}
	return "unknown";
}

SD_EXPORT const char *
stsdane_verdict_name(enum stsdane_verdict v)
{
	switch (v) {
	case STSDANE_VERDICT_PASS: return "pass";
	case STSDANE_VERDICT_WARN: return "warn";
	case STSDANE_VERDICT_FAIL: return "fail";
	case STSDANE_VERDICT_NA: return "n/a";
	}
	return "unknown";
}

void
aud_add(struct audit_run *r, unsigned layer, enum stsdane_severity sev,
    const char *id, const char *host, const char *addr, const char *fix,
    const char *fmt, ...)
{
	struct stsdane_audit *a = r->out;
	struct stsdane_finding *f, *grown;
	char msg[SD_ERRLEN];
	va_list ap;

	if (a->nfindings == r->cap) {
		grown = realloc(a->findings, (r->cap + 32) * sizeof(*grown));
		if (grown == NULL) {
			r->nomem = 1;
			return;
		}
		a->findings = grown;
		r->cap += 32;
	}
	va_start(ap, fmt);
	(void)sd_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f = &a->findings[a->nfindings];
	memset(f, 0, sizeof(*f));
	f->severity = sev;
	f->layer = layer;
	f->id = sd_strdup(id);
	f->message = sd_strdup(msg);
	f->host = host != NULL ? sd_strdup(host) : NULL;
	f->address = addr != NULL ? sd_strdup(addr) : NULL;
	f->fix = fix != NULL ? sd_strdup(fix) : NULL;
	a->nfindings++;
	if (f->id == NULL || f->message == NULL ||
	    (host != NULL && f->host == NULL) ||
	    (addr != NULL && f->address == NULL) ||
	    (fix != NULL && f->fix == NULL))
		r->nomem = 1;
}

/* ------------------------------------------------------------ lookups */

static void
on_mx(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct audit_run *r = arg;
	struct audit_mx *h;
	char name[SD_MAX_NAME];
	unsigned pref;
	size_t i, k;

	for (i = 0; a->status == DNS_OK && i < a->n; i++) {
		if (rdata_mx(a->rdata[i], a->rdlen[i], &pref, name,
		    sizeof(name)) < 0)
			continue;
		if (name[0] == '\0') {
			r->null_mx = 1;
			continue;
		}
		if (r->nmx >= SD_MAX_MX_HOSTS)
			break;
		/* in preference order, as a sender tries them */
		for (k = r->nmx; k > 0 && r->hosts[k - 1].pref > pref; k--)
			r->hosts[k] = r->hosts[k - 1];
		h = &r->hosts[k];
		memset(h, 0, sizeof(*h));
		if (sd_hostname_normalize(name, h->name, sizeof(h->name), 0) < 0)
			(void)sd_strlcpy(h->name, name, sizeof(h->name));
		h->pref = pref;
		r->nmx++;
	}
}

/* TXT records into an array of strings. */
static void
keep_txt(char **out, size_t *n, const struct dns_answer *a, int *nomem)
{
	char buf[SD_MAX_TXT];
	size_t i, len;

	for (i = 0; a->status == DNS_OK && i < a->n; i++) {
		if (*n >= AUDIT_MAX_TXT)
			return;
		if (rdata_txt(a->rdata[i], a->rdlen[i], buf, sizeof(buf),
		    &len) < 0)
			continue;
		out[*n] = sd_strndup(buf, len);
		if (out[*n] == NULL) {
			*nomem = 1;
			return;
		}
		(*n)++;
	}
}

static void
on_txt(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct audit_run *r = arg;

	keep_txt(r->txts, &r->ntxt, a, &r->nomem);
}

static void
on_rpt(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct audit_run *r = arg;

	keep_txt(r->rpts, &r->nrpt, a, &r->nomem);
}

static void
add_addrs(char (*addrs)[64], size_t *n, int type, const struct dns_answer *a)
{
	size_t i;

	for (i = 0; a->status == DNS_OK && i < a->n; i++) {
		if (*n >= AUDIT_MAX_ADDRS)
			return;
		if (rdata_addr(type, a->rdata[i], a->rdlen[i], addrs[*n],
		    sizeof(addrs[*n])) == 0)
			(*n)++;
	}
}

static void
on_pha(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct audit_run *r = arg;

	add_addrs(r->phaddrs, &r->nph, DNS_T_A, a);
}

static void
on_phaaaa(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct audit_run *r = arg;

	add_addrs(r->phaddrs, &r->nph, DNS_T_AAAA, a);
}

static void
on_host_a(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct audit_mx *h = arg;

	add_addrs(h->addrs, &h->naddrs, DNS_T_A, a);
}

static void
on_host_aaaa(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct audit_mx *h = arg;

	add_addrs(h->addrs, &h->naddrs, DNS_T_AAAA, a);
}

static void
on_tlsa(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct audit_mx *h = arg;
	struct audit_tlsa *t;
	const unsigned char *data;
	size_t i, len;

	for (i = 0; a->status == DNS_OK && i < a->n; i++) {
		if (h->ntlsa >= AUDIT_MAX_TLSA)
			return;
		t = &h->tlsas[h->ntlsa];
		if (rdata_tlsa(a->rdata[i], a->rdlen[i], &t->usage,
		    &t->selector, &t->mtype, &data, &len) < 0 ||
		    len > sizeof(t->data))
			continue;
		memcpy(t->data, data, len);
		t->len = len;
		h->ntlsa++;
	}
}

/* The three rounds of lookups; -1 with the context's error set. */
static int
lookups(struct audit_run *r)
{
	const struct dns_ops *dns;
	void *impl;
	struct sched s;
	char name[SD_MAX_NAME + 16], err[SD_ERRLEN];
	struct audit_mx *h;
	size_t i;

	if (r->env.get_dns(r->env.get_arg, &dns, &impl, err, sizeof(err)) < 0)
		return ctx_fail(r->ctx, STSDANE_ERR_RESOLVER, "%s", err);
	sched_init(&s, &r->env, dns, impl);
	sched_lookup(&s, &r->soa, r->domain, DNS_T_SOA, NULL, NULL);
	sched_lookup(&s, &r->mx, r->domain, DNS_T_MX, on_mx, r);
	(void)sd_snprintf(name, sizeof(name), "_mta-sts.%s", r->domain);
	sched_lookup(&s, &r->txt, name, DNS_T_TXT, on_txt, r);
	(void)sd_snprintf(name, sizeof(name), "_smtp._tls.%s", r->domain);
	sched_lookup(&s, &r->rpt, name, DNS_T_TXT, on_rpt, r);
	(void)sd_snprintf(name, sizeof(name), "mta-sts.%s", r->domain);
	sched_lookup(&s, &r->pha, name, DNS_T_A, on_pha, r);
	sched_lookup(&s, &r->phaaaa, name, DNS_T_AAAA, on_phaaaa, r);
	(void)sched_run(&s, NULL, NULL);
	sched_release(&s);

	sched_init(&s, &r->env, dns, impl);
	for (i = 0; i < r->nmx; i++) {
		h = &r->hosts[i];
		sched_lookup(&s, &h->a, h->name, DNS_T_A, on_host_a, h);
		sched_lookup(&s, &h->aaaa, h->name, DNS_T_AAAA, on_host_aaaa,
		    h);
	}
	(void)sched_run(&s, NULL, NULL);
	sched_release(&s);

	sched_init(&s, &r->env, dns, impl);
	for (i = 0; i < r->nmx; i++) {
		h = &r->hosts[i];
		/* RFC 7672 2.2.2: a secure CNAME chain moves the base */
		(void)sd_strlcpy(h->tlsa_base, h->a.canon[0] != '\0' &&
		    h->a.secure ? h->a.canon : h->name, sizeof(h->tlsa_base));
		(void)sd_snprintf(name, sizeof(name), "_25._tcp.%s",
		    h->tlsa_base);
		sched_lookup(&s, &h->tlsa, name, DNS_T_TLSA, on_tlsa, h);
	}
	(void)sched_run(&s, NULL, NULL);
	sched_release(&s);
	return STSDANE_OK;
}

/* ------------------------------------------------------------ dns */

static const char *
status_word(const struct lookup *l)
{
	switch (l->status) {
	case DNS_OK: return "answered";
	case DNS_NXDOMAIN: return "no such name";
	case DNS_NODATA: return "no records";
	case DNS_TEMPFAIL: return "temporary failure";
	case DNS_BOGUS: return "DNSSEC bogus";
	}
	return "unknown";
}

static void
dns_checks(struct audit_run *r)
{
	const struct audit_mx *h;
	size_t i;

	if (r->soa.status == DNS_BOGUS || r->mx.status == DNS_BOGUS)
		aud_add(r, L_DNS, STSDANE_SEV_ERROR, "dns.dnssec-bogus", NULL,
		    NULL, "fix the zone's signatures and the DS record at the "
		    "parent (check with 'drill -S' or 'delv'), or remove the "
		    "DS record until they are fixed",
		    "the %s RRset of '%s' fails DNSSEC validation: %s; "
		    "validating senders defer all mail",
		    r->mx.status == DNS_BOGUS ? "MX" : "SOA", r->domain,
		    r->mx.status == DNS_BOGUS ? r->mx.why : r->soa.why);
	if (r->mx.status == DNS_BOGUS)
		return;
	if (r->soa.status == DNS_BOGUS)
		;
	else if (r->mx.secure)
		aud_add(r, L_DNS, STSDANE_SEV_INFO, "dns.dnssec-secure", NULL,
		    NULL, NULL, "%s'%s'%s DNSSEC-signed MX RRset validates",
		    r->soa.secure ? "" : "the MX RRset of ", r->domain,
		    r->soa.secure ? " is in a signed zone, and its" : ": its");
	else if (!lookup_failed(&r->mx))
		aud_add(r, L_DNS, STSDANE_SEV_INFO, "dns.dnssec-insecure",
		    NULL, NULL, "sign the zone with DNSSEC to make DANE "
		    "possible", "the MX RRset of '%s' is not DNSSEC-signed: "
		    "DANE cannot apply", r->domain);
	if (r->mx.status == DNS_TEMPFAIL) {
		aud_add(r, L_DNS, STSDANE_SEV_ERROR, "dns.mx-lookup-failed",
		    NULL, NULL, "make the domain's name servers answer",
		    "the MX lookup for '%s' failed: %s", r->domain,
		    r->mx.why[0] != '\0' ? r->mx.why : status_word(&r->mx));
		return;
	}
	if (r->null_mx) {
		aud_add(r, L_DNS, STSDANE_SEV_INFO, "dns.null-mx", NULL, NULL,
		    NULL, "'%s' publishes a null MX (RFC 7505): it takes no "
		    "mail", r->domain);
		return;
	}
	if (r->nmx == 0) {
		aud_add(r, L_DNS, STSDANE_SEV_WARNING, "dns.no-mx", NULL, NULL,
		    "publish MX records, or a null MX if the domain takes no "
		    "mail", "'%s' has no MX records (%s): senders fall back to "
		    "its address records", r->domain, status_word(&r->mx));
		return;
	}
	for (i = 0; i < r->nmx; i++) {
		h = &r->hosts[i];
		if (h->a.canon[0] != '\0' && !sd_host_eq(h->a.canon, h->name))
			aud_add(r, L_DNS, STSDANE_SEV_WARNING, "dns.mx-cname",
			    h->name, NULL, "point the MX record at the "
			    "host's own name", "MX host '%s' is a CNAME for "
			    "'%s' (RFC 5321 5.1 wants a host name)", h->name,
			    h->a.canon);
		if (h->naddrs == 0)
			aud_add(r, L_DNS, STSDANE_SEV_ERROR,
			    "dns.mx-no-address", h->name, NULL, "give the "
			    "MX host A or AAAA records, or remove it from the "
			    "MX RRset", "MX host '%s' has no address (A: %s, "
			    "AAAA: %s)", h->name, status_word(&h->a),
			    status_word(&h->aaaa));
		else if (r->mx.secure &&
		    ((h->a.status == DNS_OK && !h->a.secure) ||
		    (h->aaaa.status == DNS_OK && !h->aaaa.secure)))
			aud_add(r, L_DNS, STSDANE_SEV_WARNING,
			    "dns.mx-address-insecure", h->name, NULL,
			    "sign the zone of the MX host too", "the MX "
			    "RRset is signed, but the addresses of '%s' are "
			    "not: DANE does not apply to it", h->name);
	}
}

/* ------------------------------------------------------------ report */

/* Stable: layer order, and the order found within a layer. */
static int
sort_findings(struct stsdane_audit *a)
{
	struct stsdane_finding *sorted;
	size_t i, n = 0;
	unsigned l;

	if (a->nfindings == 0)
		return 0;
	sorted = calloc(a->nfindings, sizeof(*sorted));
	if (sorted == NULL)
		return -1;
	for (l = 0; l < STSDANE_AUDIT_LAYERS; l++)
		for (i = 0; i < a->nfindings; i++)
			if (a->findings[i].layer == l)
				sorted[n++] = a->findings[i];
	free(a->findings);
	a->findings = sorted;
	return 0;
}

static void
verdicts(struct stsdane_audit *a)
{
	size_t i;
	unsigned l;
	enum stsdane_verdict v;

	for (l = 0; l < STSDANE_AUDIT_LAYERS; l++)
		a->layers[l] = STSDANE_VERDICT_NA;
	a->verdict = STSDANE_VERDICT_PASS;
	for (i = 0; i < a->nfindings; i++) {
		l = a->findings[i].layer;
		v = a->findings[i].severity == STSDANE_SEV_ERROR ?
		    STSDANE_VERDICT_FAIL :
		    a->findings[i].severity == STSDANE_SEV_WARNING ?
		    STSDANE_VERDICT_WARN : STSDANE_VERDICT_PASS;
		if (a->layers[l] == STSDANE_VERDICT_NA || a->layers[l] < v)
			a->layers[l] = v;
		if (a->verdict < v)
			a->verdict = v;
	}
}

static void
run_release(struct audit_run *r)
{
	size_t i;

	for (i = 0; i < r->ntxt; i++)
		free(r->txts[i]);
	for (i = 0; i < r->nrpt; i++)
		free(r->rpts[i]);
}

SD_EXPORT int
stsdane_audit(stsdane_ctx *ctx, const char *domain,
    const struct stsdane_audit_options *opt, struct stsdane_audit **out)
{
	struct audit_run *r;
	char name[SD_MAX_NAME];
	int64_t t0 = sd_mono_ms();
	int rc;

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || domain == NULL || out == NULL)
		return STSDANE_ERR_INVAL;
	if (sd_hostname_normalize(domain, name, sizeof(name), 0) < 0 ||
	    sd_is_ip_literal(name))
		return ctx_fail(ctx, STSDANE_ERR_NAME, "'%s' is not a domain "
		    "name", domain);
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return STSDANE_ERR_NOMEM;
	r->out = calloc(1, sizeof(*r->out));
	if (r->out == NULL || (r->out->domain = sd_strdup(name)) == NULL) {
		free(r->out);
		free(r);
		return STSDANE_ERR_NOMEM;
	}
	r->ctx = ctx;
	r->domain = r->out->domain;
	r->warn_days = opt != NULL && opt->warn_days > 0 ? opt->warn_days :
	    21;
	ctx_decide_env(ctx, STSDANE_QUERY_NO_CACHE, &r->env);
	r->now = r->env.now(r->env.clock_arg);

	rc = lookups(r);
	if (rc == STSDANE_OK) {
		dns_checks(r);
		rc = aud_probes_start(r);
	}
	if (rc == STSDANE_OK) {
		/* while the SMTP sessions run: the sender's view, and ours */
		if (stsdane_query(ctx, name, STSDANE_QUERY_NO_CACHE,
		    &r->out->decision) != STSDANE_OK)
			r->out->decision = NULL;
		aud_txt(r);
		aud_policy(r);
		aud_mx_vs_policy(r);
		aud_tlsrpt(r);
		aud_probes_finish(r);
	}
	run_release(r);
	r->out->elapsed_ms = sd_mono_ms() - t0;
	if (rc == STSDANE_OK && (r->nomem || sort_findings(r->out) < 0))
		rc = STSDANE_ERR_NOMEM;
	if (rc != STSDANE_OK) {
		stsdane_audit_free(r->out);
		free(r);
		return rc;
	}
	verdicts(r->out);
	*out = r->out;
	free(r);
	return STSDANE_OK;
}

SD_EXPORT void
stsdane_audit_free(struct stsdane_audit *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nfindings; i++) {
		free(a->findings[i].id);
		free(a->findings[i].host);
		free(a->findings[i].address);
		free(a->findings[i].message);
		free(a->findings[i].fix);
	}
	free(a->findings);
	free(a->domain);
	stsdane_decision_free(a->decision);
	free(a);
}
