/*
 * NAME
 *	host_rules.c - what a caller may do with one MX host
 * SYNOPSIS
 *	#include <stsdane.h>
 *
 *	int stsdane_host_check(const struct stsdane_decision *d,
 *	    const char *host, struct stsdane_host_rules *out)
 *	const char *stsdane_refusal_name(enum stsdane_refusal r)
 * DESCRIPTION
 *	The one answer to "may I connect to this host, must I use TLS,
 *	DANE, PKIX, and against which name?" for every adapter: the Exim
 *	module, the probe and stsdane_verify_chain() call it, so they
 *	cannot drift apart.  The rules are listed in stsdane.h.
 *
 *	Finding the DANE host: by MX name first, then by TLSA base domain
 *	(an MTA may know a host by the target of its CNAME), case- and
 *	trailing-dot-insensitive (sd_host_eq()).
 * DIAGNOSTICS
 *	STSDANE_ERR_INVAL for NULL arguments; STSDANE_ERR_NAME for a host
 *	that is not a DNS host name, with *out filled as for a host that no
 *	list names, so that a caller that ignores the code fails closed.
 */
#include <string.h>

#include "util.h"

/* The DANE view of host in d, by name first, then by base domain. */
static const struct stsdane_dane_host *
find_dane_host(const struct stsdane_decision *d, const char *host)
{
	size_t i;

	if (host[0] == '\0')
		return NULL;
	for (i = 0; i < d->ndane; i++)
		if (sd_host_eq(d->dane[i].name, host))
			return &d->dane[i];
	for (i = 0; i < d->ndane; i++)
		if (sd_host_eq(d->dane[i].base_domain, host))
			return &d->dane[i];
	return NULL;
}

static void
refuse(struct stsdane_host_rules *r, enum stsdane_refusal why)
{
	r->connect = 0;
	r->refusal = why;
}

SD_EXPORT int
stsdane_host_check(const struct stsdane_decision *d, const char *host,
    struct stsdane_host_rules *out)
{
	char name[SD_MAX_NAME];
	int rc = STSDANE_OK;

	if (out == NULL)
		return STSDANE_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	if (d == NULL || host == NULL) {
		refuse(out, STSDANE_REFUSE_TEMPFAIL);
		out->require_tls = out->enforce = 1;
		return STSDANE_ERR_INVAL;
	}
	if (sd_hostname_normalize(host, name, sizeof(name), 1) < 0) {
		name[0] = '\0';
		rc = STSDANE_ERR_NAME;
	}
	out->connect = 1;
	out->require_tls = d->require_tls != 0;
	if (d->tempfail) {
		/* never in clear, never at all: defer */
		refuse(out, STSDANE_REFUSE_TEMPFAIL);
		out->require_tls = out->enforce = out->verify_pkix = 1;
		(void)sd_strlcpy(out->pkix_name, name, sizeof(out->pkix_name));
		return rc;
	}
	if (d->no_mail) {
		refuse(out, STSDANE_REFUSE_NO_MAIL);
		out->enforce = 1;
		return rc;
	}
	switch (d->mechanism) {
	case STSDANE_MECH_DANE:
		out->enforce = 1;
		out->require_tls = 1;
		out->dane = find_dane_host(d, name);
		if (out->dane == NULL)
			refuse(out, STSDANE_REFUSE_NOT_IN_MX);
		else if (out->dane->status == STSDANE_DANE_BOGUS ||
		    out->dane->status == STSDANE_DANE_TEMPFAIL)
			refuse(out, STSDANE_REFUSE_TEMPFAIL);	/* not now */
		else
			out->require_dane =
			    out->dane->status == STSDANE_DANE_SECURE;
		break;
	case STSDANE_MECH_MTASTS:
		if (d->mode == STSDANE_MODE_NONE)
			break;
		out->enforce = d->mode == STSDANE_MODE_ENFORCE;
		out->verify_pkix = 1;
		(void)sd_strlcpy(out->pkix_name, name, sizeof(out->pkix_name));
		if (name[0] != '\0' && stsdane_host_allowed(d, name))
			break;
		if (out->enforce) {
			refuse(out, STSDANE_REFUSE_NOT_IN_POLICY);
		} else {
			out->refusal = STSDANE_REFUSE_NOT_IN_POLICY;
			out->report_only = 1;
		}
		break;
	case STSDANE_MECH_NONE:
		break;
	}
	return rc;
}

SD_EXPORT const char *
stsdane_refusal_name(enum stsdane_refusal r)
{
	switch (r) {
	case STSDANE_REFUSE_NONE: return "none";
	case STSDANE_REFUSE_TEMPFAIL: return "tempfail";
	case STSDANE_REFUSE_NO_MAIL: return "no-mail";
	case STSDANE_REFUSE_NOT_IN_POLICY: return "not-in-policy";
	case STSDANE_REFUSE_NOT_IN_MX: return "not-in-mx";
	}
	return "unknown";
}
