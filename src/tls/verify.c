/*
 * NAME
 *	verify.c - does a peer's certificate chain satisfy a decision
 * SUMMARY
 *	DANE-EE and DANE-TA matching (RFC 7672 3.1, RFC 7671), and Web PKI
 *	verification for MTA-STS (RFC 8461 4.2), with GnuTLS
 * SYNOPSIS
 *	#include <stsdane.h>
 *
 *	int stsdane_verify_chain(stsdane_ctx *ctx,
 *	    const struct stsdane_decision *d, const char *host,
 *	    const struct stsdane_cert *chain, size_t nchain,
 *	    char *err, size_t errlen);
 * DESCRIPTION
 *	The chain is the peer's, in DER, leaf first, as a TLS library hands
 *	it over after the handshake.  What must hold depends on the
 *	decision's mechanism:
 *
 *	DANE: the MX host is found in d->dane by stsdane_host_check() (by
 *	name, else by TLSA base domain; case-insensitive, a trailing dot
 *	ignored).  A DANE-EE(3) record matches the leaf's
 *	certificate (selector 0) or SubjectPublicKeyInfo (selector 1),
 *	exactly or by SHA2-256/SHA2-512; neither names nor dates are checked
 *	(RFC 7672 3.1.1).  A DANE-TA(2) record must match a certificate the
 *	peer sent after its leaf; that certificate becomes the only trust
 *	anchor, the chain must verify up to it (signatures, CA flags, the
 *	validity dates of the leaf and of intermediates), and the leaf must
 *	carry the TLSA base domain or the MX host name (RFC 7672 3.2.2).  The
 *	anchor's own dates are not checked: DNSSEC, not its dates, makes it
 *	trusted.  A DANE-TA published only as a bare public key that the
 *	server does not send (RFC 7671 5.2.2) is not supported; it fails.
 *	Any one record that matches is enough.
 *
 *	A host whose status is STSDANE_DANE_UNUSABLE (secure TLSA records,
 *	none usable) or STSDANE_DANE_INSECURE gets STSDANE_OK without any
 *	authentication: RFC 7672 2.2 and 3.1 make TLS mandatory (UNUSABLE)
 *	or opportunistic (INSECURE) there, but there is nothing to match.
 *	A note saying so is left in err.  BOGUS and TEMPFAIL hosts fail:
 *	mail must not go to them now.
 *
 *	MTA-STS: the host must be allowed by the policy
 *	(stsdane_host_check()), the chain must verify under the
 *	context's CA file (settings "ca_file"), or the system's trust store
 *	when none is set, with dates checked, and the host name must be in
 *	the leaf; a wildcard in the leftmost label is accepted as RFC 8461
 *	4.2 and RFC 6125 allow, as GnuTLS implements it.  A policy in
 *	"testing" mode is verified the same way; the caller decides what a
 *	failure means for it.
 *
 *	NONE: nothing to verify, STSDANE_OK.
 *
 *	A decision with tempfail set fails whatever the mechanism: the
 *	sender must defer, not deliver.
 * DIAGNOSTICS
 *	STSDANE_OK; STSDANE_ERR_VERIFY with the reason in err (also copied
 *	to the context's error); STSDANE_ERR_INVAL for missing arguments;
 *	STSDANE_ERR_TLS when GnuTLS itself fails (cannot allocate, CA
 *	file unreadable); STSDANE_ERR_NOMEM.  On STSDANE_OK err is empty,
 *	or holds a note when the peer was not authenticated.
 * SEE ALSO
 *	tlsa.c, probe.c, RFC 7672, RFC 7671, RFC 8461
 */
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctx.h"
#include "util.h"
#include "tlsa.h"
#include "x509.h"

/* Longer chains than this are not sent by real servers. */
#define VERIFY_MAX_CHAIN 16

struct chain {
	size_t n;
	gnutls_x509_crt_t crt[VERIFY_MAX_CHAIN];
	gnutls_datum_t der[VERIFY_MAX_CHAIN];	/* points into the caller's */
};

static void
chain_release(struct chain *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		gnutls_x509_crt_deinit(c->crt[i]);
	c->n = 0;
}

static int
chain_load(struct chain *c, const struct stsdane_cert *certs, size_t n,
    char *err, size_t errlen)
{
	size_t i;
	int r;

	c->n = 0;
	if (n == 0) {
		sd_snprintf(err, errlen, "peer sent no certificate");
		return STSDANE_ERR_VERIFY;
	}
	if (n > VERIFY_MAX_CHAIN) {
		sd_snprintf(err, errlen,
		    "peer sent %zu certificates, more than %d", n,
		    VERIFY_MAX_CHAIN);
		return STSDANE_ERR_VERIFY;
	}
	for (i = 0; i < n; i++) {
		if (certs[i].der == NULL || certs[i].len == 0 ||
		    certs[i].len > 0x7fffffffu) {
			sd_snprintf(err, errlen, "certificate %zu is empty or "
			    "too large", i);
			chain_release(c);
			return STSDANE_ERR_VERIFY;
		}
		if (gnutls_x509_crt_init(&c->crt[i]) < 0) {
			sd_snprintf(err, errlen, "cannot allocate certificate");
			chain_release(c);
			return STSDANE_ERR_NOMEM;
		}
		c->n = i + 1;
		c->der[i].data = (unsigned char *)certs[i].der;
		c->der[i].size = (unsigned)certs[i].len;
		r = gnutls_x509_crt_import(c->crt[i], &c->der[i],
		    GNUTLS_X509_FMT_DER);
		if (r < 0) {
			sd_snprintf(err, errlen,
			    "certificate %zu does not parse: %s", i,
			    gnutls_strerror(r));
			chain_release(c);
			return STSDANE_ERR_VERIFY;
		}
	}
	return STSDANE_OK;
}

/* The name without a trailing dot, in buf. */
static const char *
strip_dot(const char *name, char *buf, size_t len)
{
	size_t n;

	(void)sd_strlcpy(buf, name, len);
	n = strlen(buf);
	if (n > 1 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return buf;
}

/* "2020-01-01" for an epoch time. */
static void
fmt_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		(void)sd_strlcpy(buf, "?", len);
}

int
cert_next_dns_name(gnutls_x509_crt_t crt, unsigned *idx, char *name,
    size_t len)
{
	size_t nlen;
	int type;

	for (; *idx < 64; (*idx)++) {
		nlen = len;
		type = gnutls_x509_crt_get_subject_alt_name(crt, *idx, name,
		    &nlen, NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return 0;
		if (type == GNUTLS_SAN_DNSNAME) {
			(*idx)++;
			return 1;
		}
	}
	return 0;
}

/* The leaf's subjectAltName dNSNames, "a, b", or "none". */
static void
san_list(gnutls_x509_crt_t crt, char *buf, size_t len)
{
	char name[SD_MAX_NAME + 2];
	size_t used = 0;
	unsigned i = 0;

	buf[0] = '\0';
	while (cert_next_dns_name(crt, &i, name, sizeof(name))) {
		if (sd_snprintf(buf + used, len - used, "%s%s",
		    used > 0 ? ", " : "", name) < 0)
			break;		/* truncated: enough for a message */
		used = strlen(buf);
	}
	if (buf[0] == '\0')
		(void)sd_strlcpy(buf, "none", len);
}

/*
 * Bytes a TLSA record's selector picks from a certificate: the whole
 * DER certificate, or its SubjectPublicKeyInfo.  *alloc is set when the
 * result must be freed with gnutls_free().  0 or -1.
 */
static int
select_data(gnutls_x509_crt_t crt, const gnutls_datum_t *der,
    unsigned selector, gnutls_datum_t *out, int *alloc)
{
	gnutls_pubkey_t pub;
	int r;

	*alloc = 0;
	if (selector == 0) {
		*out = *der;
		return 0;
	}
	if (gnutls_pubkey_init(&pub) < 0)
		return -1;
	r = gnutls_pubkey_import_x509(pub, crt, 0);
	if (r >= 0)
		r = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, out);
	gnutls_pubkey_deinit(pub);
	if (r < 0)
		return -1;
	*alloc = 1;
	return 0;
}

/* Does one TLSA record match one certificate?  1, 0, or -1 on error. */
static int
tlsa_match(const struct stsdane_tlsa *t, gnutls_x509_crt_t crt,
    const gnutls_datum_t *der)
{
	unsigned char md[64];
	gnutls_datum_t sel;
	int alloc, match = 0;

	if (select_data(crt, der, t->selector, &sel, &alloc) < 0)
		return -1;
	switch (t->mtype) {
	case 0:
		match = t->len == sel.size &&
		    memcmp(t->data, sel.data, sel.size) == 0;
		break;
	case 1:
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, sel.data, sel.size,
		    md) < 0) {
			match = -1;
			break;
		}
		match = t->len == 32 && memcmp(t->data, md, 32) == 0;
		break;
	case 2:
		if (gnutls_hash_fast(GNUTLS_DIG_SHA512, sel.data, sel.size,
		    md) < 0) {
			match = -1;
			break;
		}
		match = t->len == 64 && memcmp(t->data, md, 64) == 0;
		break;
	default:
		match = 0;
		break;
	}
	if (alloc)
		gnutls_free(sel.data);
	return match;
}

/*
 * Why a PKIX verification failed, in words, naming the certificate when
 * a date is the problem.
 */
static void
pkix_reason(unsigned status, const struct chain *c, char *err,
    size_t errlen)
{
	char date[32], dn[256];
	size_t dnlen = sizeof(dn);
	time_t now = time(NULL), t;
	size_t i, j, cur, steps;

	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED)) {
		for (i = 0; i < c->n; i++) {
			t = gnutls_x509_crt_get_expiration_time(c->crt[i]);
			if (t != (time_t)-1 && t < now) {
				fmt_date(t, date, sizeof(date));
				sd_snprintf(err, errlen,
				    "certificate %sexpired on %s",
				    i == 0 ? "" : "in chain ", date);
				return;
			}
			t = gnutls_x509_crt_get_activation_time(c->crt[i]);
			if (t != (time_t)-1 && t > now) {
				fmt_date(t, date, sizeof(date));
				sd_snprintf(err, errlen,
				    "certificate %snot valid before %s",
				    i == 0 ? "" : "in chain ", date);
				return;
			}
		}
	}
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
		/*
		 * Name the issuer where the path from the leaf through what
		 * the peer sent ends, not whatever it sent last.
		 */
		cur = 0;
		for (steps = 0; steps < c->n; steps++) {
			for (j = 0; j < c->n; j++)
				if (j != cur && gnutls_x509_crt_check_issuer(
				    c->crt[cur], c->crt[j]))
					break;
			if (j == c->n)
				break;
			cur = j;
		}
		if (gnutls_x509_crt_get_issuer_dn(c->crt[cur], dn,
		    &dnlen) < 0)
			(void)sd_strlcpy(dn, "?", sizeof(dn));
		sd_snprintf(err, errlen, "issuer unknown: '%s'", dn);
		return;
	}
	if (status & GNUTLS_CERT_SIGNATURE_FAILURE) {
		sd_snprintf(err, errlen, "a signature in the chain does not "
		    "verify");
		return;
	}
	if (status & GNUTLS_CERT_SIGNER_NOT_CA) {
		sd_snprintf(err, errlen, "issuer is not a CA");
		return;
	}
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM) {
		sd_snprintf(err, errlen, "chain uses an insecure algorithm");
		return;
	}
	if (status & GNUTLS_CERT_REVOKED) {
		sd_snprintf(err, errlen, "certificate revoked");
		return;
	}
	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED)) {
		sd_snprintf(err, errlen, "a certificate in the chain is "
		    "out of its validity period");
		return;
	}
	sd_snprintf(err, errlen, "certificate chain does not verify "
	    "(status 0x%x)", status);
}

/*
 * Verify the chain under trust list tl, no name check.  STSDANE_OK,
 * STSDANE_ERR_VERIFY with the reason, or STSDANE_ERR_TLS.
 */
static int
pkix_verify(gnutls_x509_trust_list_t tl, const struct chain *c,
    unsigned flags, char *err, size_t errlen)
{
	gnutls_x509_crt_t crts[VERIFY_MAX_CHAIN];
	unsigned status = 0;
	size_t i;
	int r;

	/* GnuTLS wants a mutable array; the chain is const here. */
	for (i = 0; i < c->n; i++)
		crts[i] = c->crt[i];
	r = gnutls_x509_trust_list_verify_crt(tl, crts, (unsigned)c->n,
	    flags | GNUTLS_VERIFY_ALLOW_UNSORTED_CHAIN, &status, NULL);
	if (r < 0) {
		sd_snprintf(err, errlen, "certificate verification: %s",
		    gnutls_strerror(r));
		return STSDANE_ERR_TLS;
	}
	if (status != 0) {
		pkix_reason(status, c, err, errlen);
		return STSDANE_ERR_VERIFY;
	}
	return STSDANE_OK;
}

/*
 * Does the leaf carry one of the names?  Wildcards as GnuTLS allows
 * them (the whole leftmost label).  STSDANE_OK or STSDANE_ERR_VERIFY.
 */
static int
name_check(gnutls_x509_crt_t leaf, const char *const *names, size_t n,
    char *err, size_t errlen)
{
	char buf[SD_MAX_NAME + 1], sans[400];
	size_t i;

	for (i = 0; i < n; i++) {
		if (names[i] == NULL || names[i][0] == '\0')
			continue;
		strip_dot(names[i], buf, sizeof(buf));
		if (gnutls_x509_crt_check_hostname2(leaf, buf,
		    GNUTLS_VERIFY_DO_NOT_ALLOW_IP_MATCHES))
			return STSDANE_OK;
	}
	san_list(leaf, sans, sizeof(sans));
	if (n > 1 && names[1] != NULL && names[1][0] != '\0' &&
	    !sd_host_eq(names[0], names[1]))
		sd_snprintf(err, errlen, "names '%s' and '%s' not in "
		    "certificate (dNSNames: %s)", names[0], names[1], sans);
	else
		sd_snprintf(err, errlen, "name '%s' not in certificate "
		    "(dNSNames: %s)", names[0], sans);
	return STSDANE_ERR_VERIFY;
}

/*
 * DANE-TA: the chain must lead from the leaf to c->crt[ta], that
 * certificate the only anchor.
 */
static int
dane_ta_verify(const struct chain *c, size_t ta, char *err, size_t errlen)
{
	gnutls_x509_trust_list_t tl;
	gnutls_x509_crt_t anchor;
	int r;

	if (gnutls_x509_crt_init(&anchor) < 0)
		return STSDANE_ERR_NOMEM;
	/* The trust list owns what it is given: give it its own copy. */
	if (gnutls_x509_crt_import(anchor, &c->der[ta],
	    GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(anchor);
		return STSDANE_ERR_TLS;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		gnutls_x509_crt_deinit(anchor);
		return STSDANE_ERR_NOMEM;
	}
	if (gnutls_x509_trust_list_add_cas(tl, &anchor, 1, 0) != 1) {
		gnutls_x509_trust_list_deinit(tl, 1);
		gnutls_x509_crt_deinit(anchor);
		sd_snprintf(err, errlen, "cannot use the trust anchor");
		return STSDANE_ERR_TLS;
	}
	r = pkix_verify(tl, c, GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
	    err, errlen);
	gnutls_x509_trust_list_deinit(tl, 1);
	return r;
}

static const char *
selector_word(unsigned selector)
{
	return selector == 0 ? "certificate" : "key";
}

/* Append "; text" to a bounded message. */
static void
append(char *buf, size_t len, const char *text)
{
	size_t used = strlen(buf);

	if (used >= len - 1)
		return;
	(void)sd_snprintf(buf + used, len - used, "%s%s",
	    used > 0 ? "; " : "", text);
}

static int
verify_dane(const struct stsdane_decision *d, const char *host,
    const struct stsdane_host_rules *rules, const struct chain *c,
    char *err, size_t errlen)
{
	const struct stsdane_dane_host *h = rules->dane;
	const struct stsdane_tlsa *t;
	const char *names[2];
	char why[SD_ERRLEN], msg[SD_ERRLEN];
	size_t i, k;
	int r, m, any_ta_match;

	if (h == NULL) {
		sd_snprintf(err, errlen, "MX host '%s' is not in the DANE "
		    "decision for '%s'", host, d->domain ? d->domain : "");
		return STSDANE_ERR_VERIFY;
	}
	switch (h->status) {
	case STSDANE_DANE_INSECURE:
		sd_snprintf(err, errlen, "no secure TLSA records for '%s': "
		    "not authenticated", host);
		return STSDANE_OK;
	case STSDANE_DANE_UNUSABLE:
		sd_snprintf(err, errlen, "no usable TLSA records for '%s': "
		    "TLS required, not authenticated", host);
		return STSDANE_OK;
	case STSDANE_DANE_BOGUS:
		sd_snprintf(err, errlen, "TLSA records for '%s' failed "
		    "DNSSEC validation: do not deliver to this host", host);
		return STSDANE_ERR_VERIFY;
	case STSDANE_DANE_TEMPFAIL:
		sd_snprintf(err, errlen, "TLSA lookup for '%s' failed: "
		    "do not deliver to this host now", host);
		return STSDANE_ERR_VERIFY;
	case STSDANE_DANE_SECURE:
		break;
	default:
		sd_snprintf(err, errlen, "unknown DANE status for '%s'",
		    host);
		return STSDANE_ERR_VERIFY;
	}
	if (h->ntlsa == 0 || h->tlsa == NULL) {
		sd_snprintf(err, errlen, "no usable TLSA records for '%s': "
		    "TLS required, not authenticated", host);
		return STSDANE_OK;
	}

	names[0] = h->base_domain != NULL ? h->base_domain : host;
	names[1] = host;
	msg[0] = '\0';
	for (k = 0; k < h->ntlsa; k++) {
		t = &h->tlsa[k];
		if (!tlsa_usable(t, why, sizeof(why)))
			continue;	/* decide() keeps only usable ones */
		if (t->usage == 3) {
			m = tlsa_match(t, c->crt[0], &c->der[0]);
			if (m < 0) {
				sd_snprintf(err, errlen, "cannot compute "
				    "TLSA data from the leaf");
				return STSDANE_ERR_TLS;
			}
			if (m == 1) {
				err[0] = '\0';
				return STSDANE_OK;
			}
			sd_snprintf(why, sizeof(why), "leaf %s does not "
			    "match any TLSA 3 %u %u record",
			    selector_word(t->selector), t->selector,
			    t->mtype);
			if (strstr(msg, why) == NULL)
				append(msg, sizeof(msg), why);
			continue;
		}
		/* usage 2: a certificate the peer sent above its leaf */
		any_ta_match = 0;
		for (i = 1; i < c->n; i++) {
			m = tlsa_match(t, c->crt[i], &c->der[i]);
			if (m < 0) {
				sd_snprintf(err, errlen, "cannot compute "
				    "TLSA data from the chain");
				return STSDANE_ERR_TLS;
			}
			if (m == 0)
				continue;
			any_ta_match = 1;
			r = dane_ta_verify(c, i, why, sizeof(why));
			if (r == STSDANE_OK)
				r = name_check(c->crt[0], names, 2, why,
				    sizeof(why));
			if (r == STSDANE_OK) {
				err[0] = '\0';
				return STSDANE_OK;
			}
			if (r != STSDANE_ERR_VERIFY) {
				sd_snprintf(err, errlen, "%s", why);
				return r;
			}
			append(msg, sizeof(msg), why);
		}
		if (!any_ta_match) {
			sd_snprintf(why, sizeof(why), "no certificate in the "
			    "chain matches TLSA 2 %u %u", t->selector,
			    t->mtype);
			if (strstr(msg, why) == NULL)
				append(msg, sizeof(msg), why);
		}
	}
	if (msg[0] == '\0')
		(void)sd_strlcpy(msg, "no TLSA record matches", sizeof(msg));
	sd_snprintf(err, errlen, "%s", msg);
	return STSDANE_ERR_VERIFY;
}

static int
verify_mtasts(stsdane_ctx *ctx, const struct stsdane_decision *d,
    const char *host, const struct stsdane_host_rules *rules,
    const struct chain *c, char *err, size_t errlen)
{
	gnutls_x509_trust_list_t tl;
	const char *ca_file = NULL;
	const char *names[1];
	char mx[200];
	size_t i;
	int r;

	if (rules->refusal == STSDANE_REFUSE_NOT_IN_POLICY) {
		mx[0] = '\0';
		for (i = 0; i < d->nmx && d->mx != NULL; i++)
			append(mx, sizeof(mx), d->mx[i]);
		sd_snprintf(err, errlen, "MX host '%s' is not allowed by "
		    "the MTA-STS policy (mx: %s)", host,
		    mx[0] != '\0' ? mx : "none");
		return STSDANE_ERR_VERIFY;
	}
	if (ctx != NULL && ctx_settings(ctx)->ca_file != NULL &&
	    ctx_settings(ctx)->ca_file[0] != '\0')
		ca_file = ctx_settings(ctx)->ca_file;
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		sd_snprintf(err, errlen, "cannot allocate a trust list");
		return STSDANE_ERR_NOMEM;
	}
	if (ca_file != NULL)
		r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
	else
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r <= 0) {
		if (ca_file != NULL)
			sd_snprintf(err, errlen, "CA file '%s': %s", ca_file,
			    r < 0 ? gnutls_strerror(r) :
			    "no certificates in it");
		else
			sd_snprintf(err, errlen, "system trust store: %s",
			    r < 0 ? gnutls_strerror(r) :
			    "no certificates in it");
		gnutls_x509_trust_list_deinit(tl, 1);
		return STSDANE_ERR_TLS;
	}
	r = pkix_verify(tl, c, 0, err, errlen);
	gnutls_x509_trust_list_deinit(tl, 1);
	if (r != STSDANE_OK)
		return r;
	names[0] = rules->pkix_name[0] != '\0' ? rules->pkix_name : host;
	return name_check(c->crt[0], names, 1, err, errlen);
}

SD_EXPORT int
stsdane_verify_chain(stsdane_ctx *ctx, const struct stsdane_decision *d,
    const char *host, const struct stsdane_cert *chain, size_t nchain,
    char *err, size_t errlen)
{
	struct stsdane_host_rules rules;
	char local[SD_ERRLEN];
	struct chain c;
	int rc;

	/* Work in a buffer of known size; copy out at the end. */
	local[0] = '\0';
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (d == NULL || host == NULL || host[0] == '\0' ||
	    (chain == NULL && nchain > 0))
		return STSDANE_ERR_INVAL;
	c.n = 0;

	if (d->tempfail) {
		sd_snprintf(local, sizeof(local), "decision for '%s' is to "
		    "defer: %s", d->domain ? d->domain : "",
		    d->reason ? d->reason : "temporary failure");
		rc = STSDANE_ERR_VERIFY;
		goto out;
	}
	switch (d->mechanism) {
	case STSDANE_MECH_NONE:
		rc = STSDANE_OK;
		goto out;
	case STSDANE_MECH_DANE:
	case STSDANE_MECH_MTASTS:
		break;
	default:
		sd_snprintf(local, sizeof(local), "unknown mechanism %d",
		    (int)d->mechanism);
		rc = STSDANE_ERR_INVAL;
		goto out;
	}
	rc = chain_load(&c, chain, nchain, local, sizeof(local));
	if (rc != STSDANE_OK)
		goto out;
	(void)stsdane_host_check(d, host, &rules);
	if (d->mechanism == STSDANE_MECH_DANE)
		rc = verify_dane(d, host, &rules, &c, local, sizeof(local));
	else
		rc = verify_mtasts(ctx, d, host, &rules, &c, local,
		    sizeof(local));

out:
	chain_release(&c);
	if (err != NULL && errlen > 0)
		(void)sd_strlcpy(err, local, errlen);
	if (rc != STSDANE_OK && ctx != NULL)
		(void)ctx_fail(ctx, rc, "%s", local);
	return rc;
}
