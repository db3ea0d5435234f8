/*
 * NAME
 *	audit_tls.c - the SMTP and DANE layers of stsdane_audit()
 * SUMMARY
 *	one SMTP session per address of every MX host, all at once; then
 *	the certificates they saw, against Web PKI and against the TLSA
 *	records
 * SYNOPSIS
 *	#include "audit.h"
 *
 *	int aud_probes_start(struct audit_run *r);
 *	void aud_probes_finish(struct audit_run *r);
 *	int aud_chain(struct audit_run *r, unsigned layer, const char *idp,
 *	    const char *host, const char *addr, const char *tls_version,
 *	    unsigned char *const *der, const size_t *len, size_t n,
 *	    int pkix);
 * DESCRIPTION
 *	The sessions are the probe's (probe.c, probe_session_keep()): the
 *	same greeting, EHLO, STARTTLS and handshake a sender has, each
 *	step with its deadline, so a server that stalls costs at most its
 *	deadlines.  Each runs in a thread of its own and touches no
 *	context; the chain each address sent comes back as copies, and is
 *	verified afterwards in the caller's thread by
 *	stsdane_verify_chain(), the function every adapter uses: under a
 *	decision that names only the host (MTA-STS, Web PKI), and under
 *	one that holds only the host's own TLSA records (DANE).  A
 *	thread that cannot be started runs its session inline.
 *
 *	aud_chain() is shared with the policy host: expiry within the
 *	warning days, RSA keys under 2048 bits, SHA-1 signatures, the
 *	TLS version, and, where Web PKI applies, validity and whether the
 *	chain is complete: a chain that ends in a certificate whose issuer
 *	is neither sent nor a trusted CA lacks an intermediate (the
 *	configured CA file, or the system's store, decides what is
 *	trusted).
 * SEE ALSO
 *	audit.c, probe.c, verify.c, RFC 7672 3, RFC 8461 4.2
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "ctx.h"
#include "smtp.h"
#include "tlsa.h"

struct audit_probe {
	pthread_t tid;
	int started;
	struct audit_mx *mx;
	const char *addr;
	unsigned port;
	char ehlo[SD_MAX_NAME];
	struct stsdane_probe_host *h;
	struct probe_chain chain;
	int64_t ms;
};

static void *
probe_thread(void *arg)
{
	struct audit_probe *p = arg;
	int64_t t0 = sd_mono_ms();
	char err[SD_ERRLEN];
	int fd, to;

	fd = probe_connect(p->addr, p->port, t0 + PROBE_STEP_MS, &to, err,
	    sizeof(err));
	if (fd < 0) {
		set_verdict(p->h, to ? "timeout" : "connect-failed",
		    "connect to %s port %u: %s", p->addr, p->port, err);
	} else {
		p->h->connected = 1;
		probe_session_keep(p->mx->name, fd, p->ehlo, PROBE_STEP_MS,
		    p->h, &p->chain);
		close(fd);
	}
	p->ms = sd_mono_ms() - t0;
	return NULL;
}

int
aud_probes_start(struct audit_run *r)
{
	struct audit_probe *p;
	size_t i, k, n = 0;
	char ehlo[SD_MAX_NAME];
	unsigned port = r->env.settings->smtp_port > 0 ?
	    r->env.settings->smtp_port : 25;

	for (i = 0; i < r->nmx; i++)
		n += r->hosts[i].naddrs;
	if (n == 0)
		return STSDANE_OK;
	r->probe_hosts = calloc(1, sizeof(*r->probe_hosts));
	r->probes = calloc(n, sizeof(*r->probes));
	if (r->probe_hosts == NULL || r->probes == NULL ||
	    (r->probe_hosts->hosts = calloc(n, sizeof(struct
	    stsdane_probe_host))) == NULL) {
		free(r->probes);
		r->probes = NULL;
		stsdane_probe_free(r->probe_hosts);
		r->probe_hosts = NULL;
		return STSDANE_ERR_NOMEM;
	}
	probe_ehlo_name(ehlo, sizeof(ehlo));
	for (i = 0; i < r->nmx; i++)
		for (k = 0; k < r->hosts[i].naddrs; k++) {
			p = &r->probes[r->nprobes];
			p->mx = &r->hosts[i];
			p->addr = r->hosts[i].addrs[k];
			p->port = port;
			(void)sd_strlcpy(p->ehlo, ehlo, sizeof(p->ehlo));
			p->h = &r->probe_hosts->hosts[r->nprobes];
			p->h->name = sd_strdup(p->mx->name);
			p->h->address = sd_strdup(p->addr);
			p->h->preference = p->mx->pref;
			r->probe_hosts->nhosts = ++r->nprobes;
		}
	r->out->probe_ms = sd_mono_ms();	/* start; finish makes it a span */
	for (i = 0; i < r->nprobes; i++)
		r->probes[i].started = pthread_create(&r->probes[i].tid, NULL,
		    probe_thread, &r->probes[i]) == 0;
	return STSDANE_OK;
}

/* ------------------------------------------------------------ chains */

static void
fmt_day(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		(void)sd_strlcpy(buf, "?", len);
}

/*
 * Does the chain end short of a trust anchor?  1 when its last
 * certificate is not self-issued and no trusted CA issued it.
 */
static int
chain_incomplete(struct audit_run *r, gnutls_x509_crt_t last,
    char *issuer, size_t issuerlen)
{
	const struct settings *s = ctx_settings(r->ctx);
	gnutls_x509_trust_list_t tl;
	gnutls_x509_crt_t iss = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	int found, n;

	issuer[0] = '\0';
	if (gnutls_x509_crt_get_issuer_dn3(last, &dn, 0) >= 0) {
		(void)sd_snprintf(issuer, issuerlen, "%s", (char *)dn.data);
		gnutls_free(dn.data);
	}
	if (gnutls_x509_crt_check_issuer(last, last))
		return 0;
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return 0;
	if (s->ca_file != NULL && s->ca_file[0] != '\0')
		n = gnutls_x509_trust_list_add_trust_file(tl, s->ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
	else
		n = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	found = n > 0 && gnutls_x509_trust_list_get_issuer(tl, last, &iss,
	    GNUTLS_TL_GET_COPY) >= 0;
	if (iss != NULL)
		gnutls_x509_crt_deinit(iss);
	gnutls_x509_trust_list_deinit(tl, 1);
	return n > 0 && !found;
}

static int
old_tls(const char *v)
{
	return v != NULL && (strcmp(v, "SSL3.0") == 0 ||
	    strcmp(v, "TLS1.0") == 0 || strcmp(v, "TLS1.1") == 0);
}

static int
sha1_sig(gnutls_x509_crt_t crt)
{
	int a = gnutls_x509_crt_get_signature_algorithm(crt);

	return a == GNUTLS_SIGN_RSA_SHA1 || a == GNUTLS_SIGN_DSA_SHA1 ||
	    a == GNUTLS_SIGN_ECDSA_SHA1;
}

/* Web PKI for host alone: 1 verified, 0 not (why filled). */
static int
pkix_ok(struct audit_run *r, const char *host,
    const struct stsdane_cert *certs, size_t n, char *why, size_t whylen)
{
	struct stsdane_decision d;
	char name[SD_MAX_NAME], dom[SD_MAX_NAME];
	char *mx[1];

	(void)sd_strlcpy(name, host, sizeof(name));
	(void)sd_strlcpy(dom, r->domain, sizeof(dom));
	mx[0] = name;
	memset(&d, 0, sizeof(d));
	d.domain = dom;
	d.mechanism = STSDANE_MECH_MTASTS;
	d.mode = STSDANE_MODE_ENFORCE;
	d.require_tls = 1;
	d.nmx = 1;
	d.mx = mx;
	return stsdane_verify_chain(r->ctx, &d, host, certs, n, why,
	    whylen) == STSDANE_OK;
}

int
aud_chain(struct audit_run *r, unsigned layer, const char *idp,
    const char *host, const char *addr, const char *tls_version,
    unsigned char *const *der, const size_t *len, size_t n, int pkix)
{
	struct stsdane_cert certs[PROBE_MAX_KEEP];
	gnutls_x509_crt_t crt[PROBE_MAX_KEEP];
	gnutls_datum_t dat;
	char id[64], why[SD_ERRLEN], day[32], issuer[256];
	size_t i, ncrt = 0;
	unsigned bits = 0;
	int64_t exp;
	int ok = 0, weak_sig = 0;

	if (n > PROBE_MAX_KEEP)
		n = PROBE_MAX_KEEP;
	if (old_tls(tls_version)) {
		(void)sd_snprintf(id, sizeof(id), "%s.tls-old", idp);
		aud_add(r, layer, layer == L_PHOST ? STSDANE_SEV_ERROR :
		    STSDANE_SEV_WARNING, id, host, addr, "offer TLS 1.2 and "
		    "1.3", "'%s' negotiated %s: TLS 1.2 at least is required",
		    host, tls_version);
	}
	for (i = 0; i < n; i++) {
		certs[i].der = der[i];
		certs[i].len = len[i];
		dat.data = der[i];
		dat.size = (unsigned)len[i];
		if (gnutls_x509_crt_init(&crt[ncrt]) < 0)
			break;
		if (gnutls_x509_crt_import(crt[ncrt], &dat,
		    GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crt[ncrt]);
			break;
		}
		ncrt++;
	}
	if (ncrt == 0) {
		(void)sd_snprintf(id, sizeof(id), "%s.cert-invalid", idp);
		aud_add(r, layer, STSDANE_SEV_ERROR, id, host, addr, "install "
		    "a certificate", "'%s' sent no certificate that parses",
		    host);
		return 0;
	}
	exp = (int64_t)gnutls_x509_crt_get_expiration_time(crt[0]);
	fmt_day(exp, day, sizeof(day));
	if (exp >= r->now && exp < r->now + (int64_t)r->warn_days * 86400) {
		(void)sd_snprintf(id, sizeof(id), "%s.cert-expiring", idp);
		aud_add(r, layer, STSDANE_SEV_WARNING, id, host, addr, "renew "
		    "the certificate now (automate renewal)", "the "
		    "certificate of '%s' expires on %s, in %lld days (warning "
		    "at %u)", host, day, (long long)((exp - r->now) / 86400),
		    r->warn_days);
	}
	if (gnutls_x509_crt_get_pk_algorithm(crt[0], &bits) == GNUTLS_PK_RSA &&
	    bits < 2048) {
		(void)sd_snprintf(id, sizeof(id), "%s.weak-key", idp);
		aud_add(r, layer, STSDANE_SEV_WARNING, id, host, addr, "use an "
		    "RSA key of 2048 bits or more, or an ECDSA key", "the "
		    "certificate of '%s' has a %u-bit RSA key", host, bits);
	}
	for (i = 0; i < ncrt; i++)
		if (!gnutls_x509_crt_check_issuer(crt[i], crt[i]) &&
		    sha1_sig(crt[i]))
			weak_sig = 1;
	if (weak_sig) {
		(void)sd_snprintf(id, sizeof(id), "%s.weak-signature", idp);
		aud_add(r, layer, STSDANE_SEV_WARNING, id, host, addr, "have "
		    "the certificate reissued with SHA-256", "a certificate "
		    "in the chain of '%s' is signed with SHA-1", host);
	}
	if (pkix) {
		ok = pkix_ok(r, host, certs, ncrt, why, sizeof(why));
		if (ok) {
			(void)sd_snprintf(id, sizeof(id), "%s.cert-ok", idp);
			aud_add(r, layer, STSDANE_SEV_INFO, id, host, addr, NULL,
			    "the certificate is valid for '%s' under the "
			    "trusted CAs, until %s", host, day);
		} else if (chain_incomplete(r, crt[ncrt - 1], issuer,
		    sizeof(issuer))) {
			(void)sd_snprintf(id, sizeof(id), "%s.chain-incomplete",
			    idp);
			aud_add(r, layer, STSDANE_SEV_ERROR, id, host, addr,
			    "configure the server to send the intermediate "
			    "certificates (the full chain file), or use a "
			    "certificate of a trusted CA", "'%s' sends %zu "
			    "certificate%s; the issuer '%s' of the last is "
			    "neither sent nor a trusted CA, so many senders "
			    "fail: %s", host, ncrt, ncrt == 1 ? "" : "s",
			    issuer, why);
		} else {
			(void)sd_snprintf(id, sizeof(id), "%s.cert-invalid", idp);
			aud_add(r, layer, STSDANE_SEV_ERROR, id, host, addr,
			    "install a certificate of a trusted CA, valid now, "
			    "that names the host", "%s", why);
		}
	}
	for (i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crt[i]);
	return ok;
}

/* ------------------------------------------------------------ DANE */

/* The host's usable TLSA records; their count. */
static size_t
usable_tlsa(const struct audit_mx *h, struct stsdane_tlsa *out)
{
	char why[SD_ERRLEN];
	size_t i, n = 0;

	for (i = 0; i < h->ntlsa; i++) {
		out[n].usage = h->tlsas[i].usage;
		out[n].selector = h->tlsas[i].selector;
		out[n].mtype = h->tlsas[i].mtype;
		out[n].len = h->tlsas[i].len;
		out[n].data = (unsigned char *)h->tlsas[i].data;
		if (tlsa_usable(&out[n], why, sizeof(why)))
			n++;
	}
	return n;
}

/* DANE applies to h: a signed MX RRset and secure TLSA records. */
static int
dane_applies(const struct audit_run *r, const struct audit_mx *h)
{
	return r->mx.secure && h->tlsa.status == DNS_OK && h->tlsa.secure &&
	    h->ntlsa > 0;
}

static void
dane_records(struct audit_run *r, const struct audit_mx *h)
{
	struct stsdane_tlsa u[AUDIT_MAX_TLSA];
	const struct audit_tlsa *t;
	char why[SD_ERRLEN];
	size_t i, n;

	if (h->tlsa.status == DNS_BOGUS) {
		aud_add(r, L_DANE, STSDANE_SEV_ERROR, "dane.bogus", h->name,
		    NULL, "fix the signatures of the TLSA RRset",
		    "the TLSA RRset at '_25._tcp.%s' fails DNSSEC validation: "
		    "%s; DANE senders defer mail to this host", h->tlsa_base,
		    h->tlsa.why);
		return;
	}
	if (h->tlsa.status == DNS_TEMPFAIL) {
		aud_add(r, L_DANE, STSDANE_SEV_ERROR, "dane.lookup-failed",
		    h->name, NULL, "make the name servers answer TLSA "
		    "queries", "the TLSA lookup at '_25._tcp.%s' failed: %s; "
		    "DANE senders defer mail to this host", h->tlsa_base,
		    h->tlsa.why);
		return;
	}
	if (!r->mx.secure) {
		if (h->ntlsa > 0)
			aud_add(r, L_DANE, STSDANE_SEV_INFO, "dane.mx-insecure",
			    h->name, NULL, "sign the domain's zone so that "
			    "its MX RRset validates", "'%s' has TLSA records, "
			    "but the MX RRset of '%s' is not signed: DANE does "
			    "not apply", h->name, r->domain);
		return;
	}
	if (h->ntlsa == 0) {
		if (h->tlsa.secure)
			aud_add(r, L_DANE, STSDANE_SEV_WARNING,
			    "dane.tlsa-missing", h->name, NULL, "publish "
			    "'_25._tcp TLSA 3 1 1' of the server's key (and a "
			    "second record for the next key)", "no TLSA "
			    "records at '_25._tcp.%s' in a signed zone: DANE "
			    "does not protect mail to this host",
			    h->tlsa_base);
		return;
	}
	if (!h->tlsa.secure) {
		aud_add(r, L_DANE, STSDANE_SEV_INFO, "dane.insecure", h->name,
		    NULL, "sign the zone that holds the TLSA records",
		    "TLSA records at '_25._tcp.%s' are not DNSSEC-signed: "
		    "senders ignore them", h->tlsa_base);
		return;
	}
	for (i = 0; i < h->ntlsa; i++) {
		t = &h->tlsas[i];
		if (t->usage == 0 || t->usage == 1)
			aud_add(r, L_DANE, STSDANE_SEV_WARNING,
			    "dane.usage-unusable", h->name, NULL, "use usage 3 "
			    "(DANE-EE) or 2 (DANE-TA)", "TLSA %u %u %u at "
			    "'_25._tcp.%s': usage %u (PKIX-%s) is unusable "
			    "for SMTP (RFC 7672 3.1.3)", t->usage, t->selector,
			    t->mtype, h->tlsa_base, t->usage,
			    t->usage == 0 ? "TA" : "EE");
	}
	n = usable_tlsa(h, u);
	if (n == 0) {
		(void)sd_snprintf(why, sizeof(why), "no TLSA record at "
		    "'_25._tcp.%s' is usable: senders require TLS but cannot "
		    "authenticate", h->tlsa_base);
		aud_add(r, L_DANE, STSDANE_SEV_ERROR, "dane.none-usable",
		    h->name, NULL, "publish a DANE-EE (3 1 1) record", "%s",
		    why);
	}
	if (h->ntlsa == 1)
		aud_add(r, L_DANE, STSDANE_SEV_WARNING, "dane.single-record",
		    h->name, NULL, "publish the next key's TLSA record beside "
		    "the current one before every key change", "one TLSA "
		    "record at '_25._tcp.%s': the next key change breaks "
		    "DANE until the new record is published and cached",
		    h->tlsa_base);
}

/* Does the chain match the host's TLSA records?  1, 0; why filled. */
static int
dane_match(struct audit_run *r, const struct audit_mx *h,
    const struct stsdane_cert *certs, size_t n, char *why, size_t whylen)
{
	struct stsdane_tlsa u[AUDIT_MAX_TLSA];
	struct stsdane_dane_host dh;
	struct stsdane_decision d;
	char name[SD_MAX_NAME], base[SD_MAX_NAME], dom[SD_MAX_NAME];

	(void)sd_strlcpy(name, h->name, sizeof(name));
	(void)sd_strlcpy(base, h->tlsa_base, sizeof(base));
	(void)sd_strlcpy(dom, r->domain, sizeof(dom));
	memset(&dh, 0, sizeof(dh));
	dh.name = name;
	dh.base_domain = base;
	dh.preference = h->pref;
	dh.status = STSDANE_DANE_SECURE;
	dh.ntlsa = usable_tlsa(h, u);
	dh.tlsa = u;
	memset(&d, 0, sizeof(d));
	d.domain = dom;
	d.mechanism = STSDANE_MECH_DANE;
	d.mode = STSDANE_MODE_ENFORCE;
	d.require_tls = 1;
	d.ndane = 1;
	d.dane = &dh;
	return stsdane_verify_chain(r->ctx, &d, h->name, certs, n, why,
	    whylen) == STSDANE_OK;
}

static void
check_session(struct audit_run *r, struct audit_probe *p)
{
	struct stsdane_probe_host *h = p->h;
	struct stsdane_cert certs[PROBE_MAX_KEEP];
	struct stsdane_tlsa u[AUDIT_MAX_TLSA];
	const char *v = h->verdict != NULL ? h->verdict : "";
	const char *host = p->mx->name, *addr = p->addr;
	char why[SD_ERRLEN];
	int sts = r->have_policy && r->mode != STSDANE_MODE_NONE;
	int pk, dm;
	size_t i;

	if (strcmp(v, "handshake") != 0) {
		if (strcmp(v, "no-starttls") == 0)
			aud_add(r, L_SMTP, STSDANE_SEV_ERROR, "smtp.no-starttls",
			    host, addr, "enable STARTTLS on the server",
			    "%s: mail to it travels in clear text", h->reason);
		else if (strcmp(v, "tls-failed") == 0)
			aud_add(r, L_SMTP, STSDANE_SEV_ERROR, "smtp.tls-failed",
			    host, addr, "make TLS 1.2 or 1.3 work after "
			    "STARTTLS", "%s", h->reason);
		else if (strcmp(v, "timeout") == 0)
			aud_add(r, L_SMTP, STSDANE_SEV_ERROR, "smtp.timeout",
			    host, addr, "make port 25 answer promptly", "%s",
			    h->reason);
		else
			aud_add(r, L_SMTP, STSDANE_SEV_ERROR,
			    "smtp.connect-failed", host, addr, "make port 25 "
			    "of every MX address answer with a 220 greeting",
			    "%s", h->reason != NULL ? h->reason : "no session");
		return;
	}
	aud_add(r, L_SMTP, STSDANE_SEV_INFO, "smtp.starttls-ok", host, addr,
	    NULL, "STARTTLS, %s, %s", h->tls_version != NULL ?
	    h->tls_version : "TLS", h->subject != NULL ? h->subject : "");
	pk = aud_chain(r, L_SMTP, "smtp", host, addr, h->tls_version,
	    p->chain.der, p->chain.len, p->chain.n, sts);
	if (!dane_applies(r, p->mx) || usable_tlsa(p->mx, u) == 0)
		return;
	for (i = 0; i < p->chain.n; i++) {
		certs[i].der = p->chain.der[i];
		certs[i].len = p->chain.len[i];
	}
	dm = dane_match(r, p->mx, certs, p->chain.n, why, sizeof(why));
	if (dm)
		aud_add(r, L_DANE, STSDANE_SEV_INFO, "dane.match", host, addr,
		    NULL, "the certificate matches a TLSA record of '%s'",
		    p->mx->tlsa_base);
	else if (strstr(why, "no certificate in the chain matches TLSA 2"))
		aud_add(r, L_DANE, STSDANE_SEV_ERROR, "dane.ta-not-in-chain",
		    host, addr, "send the trust anchor's certificate in the "
		    "chain, or publish a 3 1 1 record of the server's key",
		    "a DANE-TA record names a trust anchor the server does "
		    "not send: %s", why);
	else
		aud_add(r, L_DANE, STSDANE_SEV_ERROR, "dane.no-match", host,
		    addr, "publish a TLSA record for the key the server uses "
		    "(or install the key the records name)", "no TLSA record "
		    "of '_25._tcp.%s' matches what %s presents: %s; DANE "
		    "senders defer mail to it", p->mx->tlsa_base, addr, why);
	if (sts && dm != pk)
		aud_add(r, L_DANE, STSDANE_SEV_ERROR, "dane.mtasts-conflict",
		    host, addr, "use one certificate that both the TLSA "
		    "records and the policy accept", "DANE and MTA-STS are "
		    "both published, and the certificate satisfies %s only",
		    dm ? "DANE" : "MTA-STS");
}

void
aud_probes_finish(struct audit_run *r)
{
	struct audit_probe *p;
	size_t i;
	int64_t t0 = r->out->probe_ms;

	for (i = 0; i < r->nprobes; i++) {
		p = &r->probes[i];
		if (p->started)
			(void)pthread_join(p->tid, NULL);
		else
			(void)probe_thread(p);
	}
	r->out->nprobes = r->nprobes;
	r->out->probe_ms = r->nprobes > 0 ? sd_mono_ms() - t0 : 0;
	for (i = 0; i < r->nmx; i++)
		dane_records(r, &r->hosts[i]);
	for (i = 0; i < r->nprobes; i++) {
		p = &r->probes[i];
		if (p->ms > r->out->slowest_probe_ms)
			r->out->slowest_probe_ms = p->ms;
		check_session(r, p);
		probe_chain_release(&p->chain);
	}
	free(r->probes);
	r->probes = NULL;
	stsdane_probe_free(r->probe_hosts);
	r->probe_hosts = NULL;
}
