/*
 * NAME
 *	exim_tlsrpt.c - the smtp transport's events as TLS-RPT sessions
 * SYNOPSIS
 *	void tlsrpt_event(const char *event, const struct answer *m,
 *	    const char *host, const char *addr, const char *refused)
 *	void tlsrpt_defer(const struct answer *m)
 *	int tlsrpt_event_wanted(const char *event)
 * DESCRIPTION
 *	Turns what Exim tells the transport's event_action about one
 *	connection into one session for stsdane_tlsrpt_record() (RFC
 *	8460): a connection is counted once, at tcp:close, whatever number
 *	of recipients or messages went over it; a TLS session Exim resumed
 *	counts as any other.  A transport process makes one connection at
 *	a time, so what the events of the connection said is kept in this
 *	process between tcp:connect and tcp:close.
 *
 *	  tcp:connect refused by stsdane_host_check(): recorded at once,
 *	            "validation-failure" with failure-reason-code
 *	            "mx-not-in-policy" (or "mx-not-in-dnssec-mx",
 *	            "null-mx"): RFC 8460 has no result type for an MX host
 *	            the policy does not list, and 4.3.3 keeps
 *	            validation-failure for "a reason not matching a category
 *	            above"; the reason code says which
 *	  smtp:ehlo the server's name (receiving-mx-helo), STARTTLS offered
 *	  tls:cert  depth 0: is the certificate expired, does it name the
 *	            host the decision requires
 *	  dane:fail Exim's own RFC 8460 result type for DANE
 *	  tcp:close the outcome: TLS up and, where the decision requires
 *	            it, verified: success; else dane:fail's type, or
 *	            certificate-expired, certificate-host-mismatch,
 *	            certificate-not-trusted (in that order) when a
 *	            certificate was seen, or starttls-not-supported when
 *	            EHLO offered no STARTTLS.  A connection that never got
 *	            to EHLO was no TLS negotiation and is not counted.
 *
 *	The router's defer of a DNSSEC-bogus decision (no connection is
 *	made) is recorded by tlsrpt_defer() as "dnssec-invalid", once per
 *	message and domain in a process; other tempfails (a lookup that
 *	timed out) say nothing about the domain's TLS and are not.  Deliveries of a message that
 *	carries a TLS-Report-Domain header, a report itself, are never
 *	recorded (RFC 8460 5.3: no report about reports).
 * SEE ALSO
 *	src/report/record.c, docs/tlsrpt.md
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exim_module.h"

struct conn {
	int active;
	char domain[NAME_MAX_LEN + 1];
	char host[NAME_MAX_LEN + 1];
	char addr[64];
	int ehlo;
	int starttls;
	char helo[128];
	int cert_seen;
	int expired;
	int name_ok;
	char dane[64];
};

static struct conn C;
static char last_defer[NAME_MAX_LEN + 64];
static int warned;		/* the store failed: said once a process */

static const char *
var(const char *name)
{
	uschar *v = expand_string((uschar *)name);

	return v != NULL ? (const char *)v : "";
}

int
tlsrpt_event_wanted(const char *event)
{
	return strcmp(event, "smtp:ehlo") == 0 ||
	    strcmp(event, "dane:fail") == 0;
}

/* A report message, or nothing to record into. */
static int
skip(void)
{
	stsdane_ctx *ctx = module_context();
	const char *on;

	if (ctx == NULL)
		return 1;
	on = stsdane_get(ctx, "tlsrpt");
	if (on == NULL || strcmp(on, "1") != 0)
		return 1;
	return var("$h_TLS-Report-Domain:")[0] != '\0';
}

static void
record(const struct answer *m, const char *host,
    enum stsdane_tlsrpt_result result, const char *code, const char *info)
{
	struct stsdane_tlsrpt_session s;

	memset(&s, 0, sizeof(s));
	s.result = result;
	s.sending_mta_ip = var("$sending_ip_address");
	s.receiving_mx_hostname = host;
	s.receiving_ip = C.addr[0] ? C.addr : NULL;
	s.receiving_mx_helo = C.helo[0] ? C.helo : NULL;
	s.failure_reason_code = code;
	s.additional_information = info;
	if (stsdane_tlsrpt_record(module_context(), &s, m->d, host) ==
	    STSDANE_OK)
		return;
	if (!warned)
		log_write(0, LOG_MAIN, "stsdane: %s: TLS-RPT session not "
		    "recorded (and no more such lines from this process): %s",
		    m->domain, stsdane_error(module_context()));
	warned = 1;
}

/* The server's name from an EHLO response ("250-NAME Hello ..."). */
static void
take_helo(const char *resp)
{
	size_t n;

	if (strlen(resp) > 4 && (resp[3] == '-' || resp[3] == ' '))
		resp += 4;
	n = strcspn(resp, " \r\n");
	if (n >= sizeof(C.helo))
		n = sizeof(C.helo) - 1;
	memcpy(C.helo, resp, n);
	C.helo[n] = '\0';
	sanitize(C.helo);
}

/* Does one of the certificate's DNS names (':'-separated) name want? */
static int
names_host(const char *sans, const char *want)
{
	char buf[4096], *p, *colon;

	if (want[0] == '\0')
		return 1;
	(void)snprintf(buf, sizeof(buf), "%s", sans);
	for (p = buf; p != NULL && *p; p = colon) {
		colon = strchr(p, ':');
		if (colon != NULL)
			*colon++ = '\0';
		if (stsdane_mx_match(p, want))
			return 1;
	}
	return 0;
}

static void
on_cert(const struct answer *m, const char *host)
{
	struct stsdane_host_rules r;
	const char *na;

	if (strcmp(var("$event_data"), "0") != 0)
		return;
	C.cert_seen = 1;
	na = var("${certextract{notafter,int}{$tls_out_peercert}}");
	C.expired = na[0] != '\0' && strtoll(na, NULL, 10) < (long long)
	    time(NULL);
	if (m->d == NULL || stsdane_host_check(m->d, host, &r) != STSDANE_OK)
		r.pkix_name[0] = '\0';
	C.name_ok = names_host(var("${certextract{subj_altname,dns,>:}"
	    "{$tls_out_peercert}}"), r.verify_pkix ? r.pkix_name : host);
}

static void
on_close(const struct answer *m, const char *host)
{
	struct stsdane_host_rules r;
	const char *cipher = var("$tls_out_cipher");
	int verify = 0, dane = 0, t;

	memset(&r, 0, sizeof(r));
	if (!C.active || strcmp(C.domain, m->domain) != 0 || !C.ehlo)
		return;
	if (m->d != NULL && stsdane_host_check(m->d, host, &r) == STSDANE_OK) {
		verify = r.verify_pkix;
		dane = r.require_dane;
	}
	if (m->d != NULL && r.report_only &&
	    r.refusal == STSDANE_REFUSE_NOT_IN_POLICY) {
		/* MTA-STS testing: delivered, and reported as enforce
		   would have refused it (RFC 8461 5) */
		record(m, host, STSDANE_TLSRPT_VALIDATION_FAILURE,
		    "mx-not-in-policy", "MTA-STS testing: not refused");
	} else if (C.dane[0] != '\0') {
		t = stsdane_tlsrpt_result_parse(C.dane);
		record(m, host, t > 0 ? (enum stsdane_tlsrpt_result)t :
		    STSDANE_TLSRPT_VALIDATION_FAILURE, C.dane, NULL);
	} else if (cipher[0] != '\0' &&
	    (!verify || strcmp(var("$tls_out_certificate_verified"), "1") == 0) &&
	    (!dane || strcmp(var("$tls_out_dane"), "yes") == 0)) {
		record(m, host, STSDANE_TLSRPT_SUCCESS, NULL, NULL);
	} else if (C.cert_seen && C.expired) {
		record(m, host, STSDANE_TLSRPT_CERTIFICATE_EXPIRED, NULL, NULL);
	} else if (C.cert_seen && !C.name_ok) {
		record(m, host, STSDANE_TLSRPT_CERTIFICATE_HOST_MISMATCH, NULL,
		    NULL);
	} else if (C.cert_seen) {
		record(m, host, STSDANE_TLSRPT_CERTIFICATE_NOT_TRUSTED, NULL,
		    NULL);
	} else if (!C.starttls) {
		record(m, host, STSDANE_TLSRPT_STARTTLS_NOT_SUPPORTED, NULL,
		    NULL);
	} else {
		record(m, host, STSDANE_TLSRPT_VALIDATION_FAILURE,
		    "tls-handshake-failed", NULL);
	}
	C.active = 0;
}

void
tlsrpt_event(const char *event, const struct answer *m, const char *host,
    const char *addr, const char *refused)
{
	if (skip())
		return;
	if (strcmp(event, "tcp:connect") == 0) {
		memset(&C, 0, sizeof(C));
		(void)snprintf(C.addr, sizeof(C.addr), "%s", addr);
		if (refused != NULL && refused[0] != '\0') {
			struct stsdane_host_rules r;
			const char *code = "mx-not-in-policy";

			if (m->d == NULL || m->d->tempfail ||
			    stsdane_host_check(m->d, host, &r) != STSDANE_OK)
				return;
			if (r.refusal == STSDANE_REFUSE_NOT_IN_MX)
				code = "mx-not-in-dnssec-mx";
			else if (r.refusal == STSDANE_REFUSE_NO_MAIL)
				code = "null-mx";
			record(m, host, STSDANE_TLSRPT_VALIDATION_FAILURE, code,
			    refused);
			return;
		}
		C.active = 1;
		(void)snprintf(C.domain, sizeof(C.domain), "%s", m->domain);
		(void)snprintf(C.host, sizeof(C.host), "%s", host);
		return;
	}
	if (!C.active)
		return;
	if (strcmp(event, "smtp:ehlo") == 0) {
		const char *resp = var("$event_data");

		/* raised again after STARTTLS: keep the first answer's */
		if (strstr(resp, "STARTTLS") != NULL)
			C.starttls = 1;
		if (!C.ehlo)
			take_helo(resp);
		C.ehlo = 1;
	} else if (strcmp(event, "tls:cert") == 0) {
		on_cert(m, host);
	} else if (strcmp(event, "dane:fail") == 0) {
		(void)snprintf(C.dane, sizeof(C.dane), "%s",
		    var("$event_data"));
		sanitize(C.dane);
	} else if (strcmp(event, "tcp:close") == 0) {
		on_close(m, host);
	}
}

/*
 * The stsdane_mtasts router left out an MX host the MTA-STS policy does
 * not allow: for TLS-RPT the same failure as a refusal at tcp:connect
 * (validation-failure, mx-not-in-policy), once per message and host, so
 * that two recipients of one message count once.
 */
void
tlsrpt_route_refused(const struct answer *m, const char *host)
{
	static char last[NAME_MAX_LEN * 2 + 64];
	char key[sizeof(last)];

	if (m->d == NULL || skip())
		return;
	(void)snprintf(key, sizeof(key), "%s %s %s", var("$message_exim_id"),
	    m->domain, host);
	if (strcmp(key, last) == 0)
		return;
	(void)snprintf(last, sizeof(last), "%s", key);
	memset(&C, 0, sizeof(C));
	record(m, host, STSDANE_TLSRPT_VALIDATION_FAILURE, "mx-not-in-policy",
	    "stsdane: MX host not allowed by the MTA-STS policy");
}

void
tlsrpt_defer(const struct answer *m)
{
	char key[sizeof(last_defer)];

	/* only DNSSEC failing is a TLS-RPT failure; a lookup that timed
	   out says nothing about the domain's TLS */
	if (m->d == NULL || !m->d->tempfail ||
	    m->d->problem != STSDANE_PROBLEM_DNS_BOGUS || skip())
		return;
	(void)snprintf(key, sizeof(key), "%s %s", var("$message_exim_id"),
	    m->domain);
	if (strcmp(key, last_defer) == 0)
		return;
	(void)snprintf(last_defer, sizeof(last_defer), "%s", key);
	memset(&C, 0, sizeof(C));
	record(m, NULL, STSDANE_TLSRPT_DNSSEC_INVALID,
	    stsdane_problem_name(m->d->problem), m->d->reason);
}
