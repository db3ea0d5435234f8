/*
 * NAME
 *	exim_events.c - the smtp transport's event_action
 * SYNOPSIS
 *	${dlfunc{MODULE}{stsdane_exim_event}{config=PATH}{EVENT}{DOMAIN}\
 *	    {HOST}{ADDRESS}}
 * DESCRIPTION
 *	At tcp:connect it returns a non-empty string, so that Exim does not
 *	connect, for a host stsdane_host_check() refuses: one an MTA-STS
 *	enforce policy does not list, one outside the validated MX RRset of
 *	a DANE domain, any host of a tempfail decision or of a null MX;
 *	under a testing policy it only logs.  At tls:cert it refuses the
 *	certificate of a host the decision found DANE-secure when Exim
 *	itself is not doing DANE for it.  At tcp:close, under a testing
 *	policy, it logs what an enforce policy would have refused.  At
 *	msg:delivery it raises an alarm line should mail to a domain whose
 *	decision requires TLS ever have been delivered in clear text.
 * DIAGNOSTICS
 *	Fail closed: at tcp:connect and tls:cert, no decision refuses.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exim_module.h"

/* The value of an Exim variable, or "" when it cannot be expanded. */
const char *
exim_var(const char *name)
{
	uschar *v = expand_string((uschar *)name);

	return v != NULL ? (const char *)v : "";
}

/*
 * Exim names a host reached through a CNAME by the end of the chain ($host
 * is the canonical name), while the MTA-STS policy, the stsdane_mtasts
 * router and the certificate check (Exim verifies the name at the head of
 * the chain) all use the MX host name.  So a host that is not itself one
 * of the decision's MX hosts is let through when Exim's DNS shows it as
 * the CNAME target, at most 4 links down, of an MX host the policy
 * allows.  Only then: an MX host the policy forbids stays forbidden.
 */
static int
cname_of_allowed(const struct stsdane_decision *d, const char *host)
{
	char q[NAME_MAX_LEN + 64], cur[NAME_MAX_LEN + 1];
	size_t i, n;
	int hop;

	if (host[0] == '\0')
		return 0;
	for (i = 0; i < d->ndane; i++)
		if (d->dane[i].name != NULL &&
		    strcasecmp(d->dane[i].name, host) == 0)
			return 0;	/* an MX host in its own right */
	for (i = 0; i < d->ndane; i++) {
		if (d->dane[i].name == NULL ||
		    !stsdane_host_allowed(d, d->dane[i].name))
			continue;
		(void)snprintf(cur, sizeof(cur), "%s", d->dane[i].name);
		for (hop = 0; hop < 4; hop++) {
			const char *t;

			if (strpbrk(cur, "{}$\\") != NULL)
				break;
			(void)snprintf(q, sizeof(q),
			    "${lookup dnsdb{defer_never,cname=%s}}", cur);
			t = exim_var(q);
			n = strlen(t);
			if (n > 0 && t[n - 1] == '.')
				n--;
			if (n == 0 || n >= sizeof(cur))
				break;
			memcpy(cur, t, n);
			cur[n] = '\0';
			if (strcasecmp(cur, host) == 0) {
				if (debugging())
					debug_printf("stsdane: %s is the CNAME "
					    "target of MX host %s\n", host,
					    d->dane[i].name);
				return 1;
			}
		}
	}
	return 0;
}

static int
event_tcp_connect(uschar **yield, const struct answer *m, const char *host,
    const char *addr)
{
	const struct stsdane_decision *d = m->d;
	const char *name = host[0] ? host : "(no name)";
	struct stsdane_host_rules r;
	char why[MSG_LEN];

	if (d == NULL)
		return give(yield, "", 0);
	(void)stsdane_host_check(d, host, &r);
	if (!r.connect && r.refusal == STSDANE_REFUSE_NOT_IN_POLICY &&
	    cname_of_allowed(d, host))
		return give(yield, "", 0);
	(void)snprintf(why, sizeof(why), "%s", r.refusal ==
	    STSDANE_REFUSE_TEMPFAIL ? (d->reason != NULL ? d->reason : "") :
	    (d->policy_id != NULL ? d->policy_id : ""));
	sanitize(why);
	switch (r.connect ? STSDANE_REFUSE_NONE : r.refusal) {
	case STSDANE_REFUSE_TEMPFAIL:
		log_write(0, LOG_MAIN, "stsdane: %s: not connecting to %s "
		    "[%s]: decision is tempfail: %s", m->domain, host, addr,
		    why);
		return give(yield, "stsdane: tempfail", 0);
	case STSDANE_REFUSE_NOT_IN_MX:
		/* Exim's DNS and the validated MX RRset disagree. */
		log_write(0, LOG_MAIN, "stsdane: %s: not connecting to %s "
		    "[%s]: not in the DNSSEC-validated MX RRset of a DANE "
		    "domain", m->domain, name, addr);
		return give(yield, "stsdane: MX host not in the validated "
		    "MX RRset", 0);
	case STSDANE_REFUSE_NOT_IN_POLICY:
		log_write(0, LOG_MAIN, "stsdane: %s: not connecting to %s "
		    "[%s]: MX host not allowed by the MTA-STS policy (id %s, "
		    "mode enforce)", m->domain, name, addr, why);
		return give(yield, "stsdane: MX host not allowed by the "
		    "MTA-STS policy", 0);
	case STSDANE_REFUSE_NO_MAIL:
		log_write(0, LOG_MAIN, "stsdane: %s: not connecting to %s "
		    "[%s]: the domain publishes a null MX", m->domain, name,
		    addr);
		return give(yield, "stsdane: the domain takes no mail", 0);
	case STSDANE_REFUSE_NONE:
		break;
	}
	if (r.report_only)
		log_write(0, LOG_MAIN, "stsdane: %s: MTA-STS testing: MX host "
		    "%s [%s] not allowed by the policy (id %s); enforce would "
		    "not connect", m->domain, name, addr, why);
	return give(yield, "", 0);
}

/*
 * tls:cert, before Exim verifies the server's chain: a host the decision
 * found DANE-secure must be verified by Exim's DANE.  $tls_out_tlsa_usage
 * is 0 when Exim found no usable TLSA records itself (its resolver does
 * not validate, or the records changed since the decision): refusing the
 * certificate then fails the TLS session, and with hosts_require_tls the
 * host is deferred, never delivered to unauthenticated.  (Exim's own
 * hosts_require_dane would instead fail the message permanently when the
 * TLSA records are gone.)
 */
static int
event_tls_cert(uschar **yield, const struct answer *m, const char *host,
    const char *addr)
{
	struct stsdane_host_rules r;
	const char *usage;

	if (m->d == NULL || stsdane_host_check(m->d, host, &r) != STSDANE_OK ||
	    !r.connect || !r.require_dane)
		return give(yield, "", 0);
	usage = exim_var("$tls_out_tlsa_usage");
	if (debugging())
		debug_printf("stsdane: %s: certificate of %s [%s], "
		    "tlsa_usage '%s'\n", m->domain, host, addr, usage);
	if (usage[0] != '\0' && strcmp(usage, "0") != 0)
		return give(yield, "", 0);
	log_write(0, LOG_MAIN, "stsdane: %s: %s [%s] has DNSSEC-secure TLSA "
	    "records, but Exim is not verifying it with DANE (is its "
	    "resolver validating, with \"options trust-ad\"?): refusing "
	    "the certificate", m->domain, host, addr);
	return give(yield, "stsdane: DANE verification required", 0);
}

/*
 * tcp:close, in the transport process, where Exim still has the state of
 * the connection: under a testing policy, say what enforce would have
 * refused.  (At msg:delivery, raised in the parent process, Exim has put
 * back the cipher but not $tls_out_certificate_verified.)
 */
static int
event_close(uschar **yield, const struct answer *m, const char *host,
    const char *addr)
{
	const struct stsdane_decision *d = m->d;
	const char *cipher, *verified;

	if (d == NULL || d->tempfail || d->mechanism != STSDANE_MECH_MTASTS ||
	    d->mode != STSDANE_MODE_TESTING)
		return give(yield, "", 0);
	cipher = exim_var("$tls_out_cipher");
	verified = exim_var("$tls_out_certificate_verified");
	if (debugging())
		debug_printf("stsdane: %s: closing %s [%s]: cipher '%s' "
		    "verified '%s'\n", m->domain, host, addr, cipher,
		    verified);
	if (cipher[0] == '\0')
		log_write(0, LOG_MAIN, "stsdane: %s: MTA-STS testing: "
		    "connection to %s [%s] without TLS; enforce would not "
		    "have sent mail on it", m->domain, host, addr);
	else if (strcmp(verified, "1") != 0)
		log_write(0, LOG_MAIN, "stsdane: %s: MTA-STS testing: "
		    "certificate of %s [%s] not verified; enforce would not "
		    "have sent mail on it", m->domain, host, addr);
	return give(yield, "", 0);
}

/*
 * msg:delivery: enforcement is Exim's (the transport options); this only
 * watches that it happened, and raises an alarm if mail to a domain that
 * requires TLS ever went out in clear text.
 */
static int
event_delivery(uschar **yield, const struct answer *m, const char *host,
    const char *addr)
{
	const struct stsdane_decision *d = m->d;

	if (d == NULL || d->tempfail || !d->require_tls ||
	    exim_var("$tls_out_cipher")[0] != '\0')
		return give(yield, "", 0);
	log_write(0, LOG_MAIN, "stsdane: ALARM: %s: delivered to %s [%s] "
	    "without TLS under %s %s (check the transport options)",
	    m->domain, host, addr, stsdane_mechanism_name(d->mechanism),
	    stsdane_mode_name(d->mode));
	return give(yield, "", 0);
}

/*
 * Exim connects anyway when event_action fails to expand, so at
 * tcp:connect and tls:cert every error refuses (fail closed); at other
 * events errors are ignored.
 */
EXIM_EXPORT int
stsdane_exim_event(uschar **yield, int argc, uschar *argv[])
{
	const char *config, *event, *host, *addr;
	struct answer m;
	int rc, connect, cert, opt;

	take_config(&argc, &argv, &config, &opt);
	event = argc > 0 && argv[0] != NULL ? (const char *)argv[0] : "";
	connect = strcmp(event, "tcp:connect") == 0;
	cert = strcmp(event, "tls:cert") == 0;
	if (!connect && !cert && strcmp(event, "tcp:close") != 0 &&
	    strcmp(event, "msg:delivery") != 0 && !tlsrpt_event_wanted(event))
		return give(yield, "", 0);
	if (argc != 4)
		rc = fail(yield, FAIL, "stsdane: usage: stsdane_exim_event "
		    "{[config=PATH]}{[tls_required=VALUE]}{EVENT}{DOMAIN}"
		    "{HOST}{ADDRESS}");
	else
		rc = module_open(config, yield);
	host = argc == 4 && argv[2] != NULL ? (const char *)argv[2] : "";
	addr = argc == 4 && argv[3] != NULL ? (const char *)argv[3] : "";
	if (rc == OK)
		rc = decision_for(argv[1], &m, yield);
	if (rc != OK) {
		if (!connect && !cert)
			return give(yield, "", 0);
		/* No decision: no connection, no certificate accepted. */
		log_write(0, LOG_MAIN, "%s: refusing %s [%s]",
		    (const char *)*yield, connect ? "to connect to" :
		    "the certificate of", addr);
		return OK;
	}
	/* RFC 8689: the router logged that the policy is set aside. */
	if (opt && (connect || cert || strcmp(event, "msg:delivery") == 0))
		rc = give(yield, "", 0);
	else if (connect)
		rc = event_tcp_connect(yield, &m, host, addr);
	else if (cert)
		rc = event_tls_cert(yield, &m, host, addr);
	else if (strcmp(event, "tcp:close") == 0)
		rc = event_close(yield, &m, host, addr);
	else if (strcmp(event, "msg:delivery") == 0)
		rc = event_delivery(yield, &m, host, addr);
	else
		rc = give(yield, "", 0);
	tlsrpt_event(event, &m, host, addr, rc == OK ? (const char *)*yield :
	    "");
	answer_release(&m);
	return rc;
}
