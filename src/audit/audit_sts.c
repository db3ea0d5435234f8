/*
 * NAME
 *	audit_sts.c - the MTA-STS and TLS-RPT layers of stsdane_audit()
 * SUMMARY
 *	the _mta-sts TXT record, the policy host, the policy file, the MX
 *	hosts against the policy, and the _smtp._tls record
 * SYNOPSIS
 *	#include "audit.h"
 *
 *	void aud_txt(struct audit_run *r);
 *	void aud_policy(struct audit_run *r);
 *	void aud_mx_vs_policy(struct audit_run *r);
 *	void aud_tlsrpt(struct audit_run *r);
 * DESCRIPTION
 *	The records are judged by the parsers every sender uses
 *	(stsdane_txt_check(), stsdane_policy_parse(),
 *	stsdane_tlsrpt_check(), stsdane_mx_match()), so that the audit
 *	never accepts what a sender refuses.  The policy is fetched through
 *	the fetch module as an audit request: the handshake does not
 *	verify, so that a bad certificate, a redirect or a wrong status
 *	are all seen and reported at once, and the chain the server sent
 *	is checked here (aud_chain()).  Nothing fetched this way is used to
 *	decide anything.
 *
 *	The policy file is read twice: once line by line for what the
 *	parser accepts but the owner should know (unknown and repeated
 *	keys, the mode, max_age bands), once by the parser for its
 *	verdict and the line number of the first error.
 * SEE ALSO
 *	audit.c, RFC 8461 3 and 4, RFC 8460 3
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define POLICY_MAX_BODY 65536	/* RFC 8461 3.2 */

/* ------------------------------------------------------------ TXT */

void
aud_txt(struct audit_run *r)
{
	size_t lens[AUDIT_MAX_TXT], i, nsts = 0;
	char id[33], err[SD_ERRLEN];
	int rc;

	if (r->txt.status == DNS_BOGUS) {
		aud_add(r, L_TXT, STSDANE_SEV_ERROR, "mta-sts-txt.bogus", NULL,
		    NULL, "fix the signature of the _mta-sts record",
		    "the TXT record at '_mta-sts.%s' fails DNSSEC "
		    "validation: %s", r->domain, r->txt.why);
		return;
	}
	if (r->txt.status == DNS_TEMPFAIL) {
		aud_add(r, L_TXT, STSDANE_SEV_ERROR, "mta-sts-txt.lookup-failed",
		    NULL, NULL, "make the name servers answer for the "
		    "_mta-sts name", "the TXT lookup at '_mta-sts.%s' failed: "
		    "%s", r->domain, r->txt.why);
		return;
	}
	for (i = 0; i < r->ntxt; i++) {
		lens[i] = strlen(r->txts[i]);
		if (strncmp(r->txts[i], "v=STSv1", 7) == 0)
			nsts++;
	}
	if (r->txt.canon[0] != '\0' && r->ntxt > 0) {
		char want[SD_MAX_NAME + 16];

		(void)sd_snprintf(want, sizeof(want), "_mta-sts.%s",
		    r->domain);
		if (!sd_host_eq(want, r->txt.canon))
			aud_add(r, L_TXT, STSDANE_SEV_INFO, "mta-sts-txt.cname",
			    NULL, NULL, NULL, "'_mta-sts.%s' is a CNAME for "
			    "'%s' (allowed, RFC 8461 3.1)", r->domain,
			    r->txt.canon);
	}
	if (nsts == 0) {
		aud_add(r, L_TXT, STSDANE_SEV_INFO, "mta-sts-txt.missing",
		    NULL, NULL, "publish a policy and 'v=STSv1; id=...' at "
		    "_mta-sts to protect mail from senders without DANE",
		    "no MTA-STS record at '_mta-sts.%s': the domain does not "
		    "publish MTA-STS", r->domain);
		return;
	}
	r->sts_txt = 1;
	if (nsts > 1) {
		aud_add(r, L_TXT, STSDANE_SEV_ERROR, "mta-sts-txt.multiple",
		    NULL, NULL, "keep exactly one v=STSv1 record",
		    "%zu records at '_mta-sts.%s' begin with v=STSv1: senders "
		    "ignore MTA-STS for the domain (RFC 8461 3.1)", nsts,
		    r->domain);
		return;
	}
	rc = stsdane_txt_check((const char *const *)r->txts, lens, r->ntxt,
	    id, err, sizeof(err));
	if (rc != STSDANE_OK)
		aud_add(r, L_TXT, STSDANE_SEV_ERROR, "mta-sts-txt.syntax", NULL,
		    NULL, "write the record as 'v=STSv1; id=ID' with an id of "
		    "1 to 32 letters and digits", "the record at '_mta-sts.%s' "
		    "does not parse: %s; senders ignore it", r->domain, err);
	else
		aud_add(r, L_TXT, STSDANE_SEV_INFO, "mta-sts-txt.ok", NULL,
		    NULL, NULL, "one v=STSv1 record, id %s", id);
}

/* ------------------------------------------------------------ policy */

static int
key_is(const char *k, size_t n, const char *name)
{
	return strlen(name) == n && strncmp(k, name, n) == 0;
}

/*
 * Line by line: what the parser accepts or stops at that the owner
 * should hear about.  Sets *covered when a finding here already says
 * what the parser's error will say.
 */
static void
scan_policy(struct audit_run *r, const char *body, size_t len, int *covered)
{
	const char *line = body, *end = body + len, *nl, *colon, *v;
	size_t klen, vlen;
	unsigned lineno = 0, seen[3] = { 0, 0, 0 };
	int nmx = 0, mode_sts = 0;
	char key[64], val[128];

	for (; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end;
		lineno++;
		colon = memchr(line, ':', (size_t)(nl - line));
		if (colon == NULL)
			continue;	/* the parser says it */
		klen = (size_t)(colon - line);
		for (v = colon + 1; v < nl && (*v == ' ' || *v == '\t'); v++)
			;
		vlen = (size_t)(nl - v);
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
			vlen--;
		(void)sd_snprintf(key, sizeof(key), "%.*s", (int)klen, line);
		(void)sd_snprintf(val, sizeof(val), "%.*s", (int)vlen, v);
		if (key_is(line, klen, "mx")) {
			nmx++;
		} else if (key_is(line, klen, "version") ||
		    key_is(line, klen, "mode") ||
		    key_is(line, klen, "max_age")) {
			unsigned k = key_is(line, klen, "version") ? 0 :
			    key_is(line, klen, "mode") ? 1 : 2;

			if (seen[k]++ > 0) {
				aud_add(r, L_POLICY, STSDANE_SEV_WARNING,
				    "policy.repeated-key", NULL, NULL,
				    "keep one line of each key but mx",
				    "line %u: '%s' repeats; senders use the "
				    "first", lineno, key);
				continue;
			}
			if (k == 1 && strcmp(val, "testing") == 0) {
				mode_sts = 1;
				aud_add(r, L_POLICY, STSDANE_SEV_WARNING,
				    "policy.mode-testing", NULL, NULL,
				    "leave testing on for at least 14 days of "
				    "clean TLS-RPT reports, then change to "
				    "'mode: enforce'", "line %u: mode: testing "
				    "instead of enforce: no protection, "
				    "monitoring only", lineno);
			} else if (k == 1 && strcmp(val, "none") == 0) {
				aud_add(r, L_POLICY, STSDANE_SEV_WARNING,
				    "policy.mode-none", NULL, NULL, "publish "
				    "'mode: testing', and after a clean report "
				    "period 'mode: enforce'", "line %u: mode: "
				    "none: the policy protects nothing (it "
				    "withdraws MTA-STS)", lineno);
			} else if (k == 1 && strcmp(val, "enforce") == 0) {
				mode_sts = 1;
			} else if (k == 2 && vlen > 0 &&
			    strspn(val, "0123456789") == vlen) {
				unsigned long long age = vlen > 10 ?
				    ~0ULL : strtoull(val, NULL, 10);

				if (age > 31557600ULL) {
					*covered = 1;
					aud_add(r, L_POLICY,
					    STSDANE_SEV_ERROR,
					    "policy.max-age-long", NULL, NULL,
					    "set max_age to at most 31557600 "
					    "(one year), e.g. 604800",
					    "line %u: max_age %s is over the "
					    "RFC 8461 maximum of 31557600: "
					    "senders reject the policy",
					    lineno, val);
				} else if (age < 86400) {
					aud_add(r, L_POLICY,
					    STSDANE_SEV_WARNING,
					    "policy.max-age-short", NULL,
					    NULL, "set max_age to at least "
					    "604800 (one week); 31557600 "
					    "once stable", "line %u: max_age "
					    "%s is under one day: an attacker "
					    "who blocks the policy host soon "
					    "strips the policy", lineno, val);
				} else if (age < 604800) {
					aud_add(r, L_POLICY, STSDANE_SEV_INFO,
					    "policy.max-age-low", NULL, NULL,
					    "raise max_age to 604800 or more "
					    "once the policy is stable",
					    "line %u: max_age %s is under one "
					    "week", lineno, val);
				}
			}
		} else if (klen > 0) {
			aud_add(r, L_POLICY, STSDANE_SEV_INFO,
			    "policy.unknown-key", NULL, NULL, "remove the line "
			    "unless a later standard defines the key",
			    "line %u: unknown key '%s', ignored by senders",
			    lineno, key);
		}
	}
	if (mode_sts && nmx == 0) {
		*covered = 1;
		aud_add(r, L_POLICY, STSDANE_SEV_ERROR, "policy.mx-missing",
		    NULL, NULL, "add an 'mx:' line for every MX host (or a "
		    "'*.' pattern)", "the policy has no 'mx:' line: senders "
		    "reject it");
	}
}

static void
policy_checks(struct audit_run *r, const char *body, size_t len)
{
	struct stsdane_policy *p = NULL;
	char err[SD_ERRLEN];
	int covered = 0;
	size_t i;

	scan_policy(r, body, len, &covered);
	if (stsdane_policy_parse(body, len, &p, err, sizeof(err)) !=
	    STSDANE_OK) {
		if (!covered)
			aud_add(r, L_POLICY, STSDANE_SEV_ERROR, "policy.syntax",
			    NULL, NULL, "correct the line the message names "
			    "(RFC 8461 3.2)", "the policy does not parse: %s; "
			    "senders ignore it", err);
		return;
	}
	r->have_policy = 1;
	r->mode = p->mode;
	for (i = 0; i < p->nmx && r->npat < AUDIT_MAX_PATTERNS; i++)
		if (sd_strlcpy(r->patterns[r->npat], p->mx[i],
		    sizeof(r->patterns[0])) == 0)
			r->npat++;
	aud_add(r, L_POLICY, STSDANE_SEV_INFO, "policy.ok", NULL, NULL, NULL,
	    "mode %s, max_age %u, %zu mx patterns",
	    stsdane_mode_name(p->mode), (unsigned)p->max_age, p->nmx);
	stsdane_policy_free(p);
}

/* The problem of a fetch as a finding; NULL id for none. */
static void
fetch_problem(struct audit_run *r, const char *host,
    const struct fetch_result *res)
{
	const char *id, *fix;

	switch (res->problem) {
	case STSDANE_PROBLEM_NONE:
		return;
	case STSDANE_PROBLEM_CONNECT:
		id = "policy-host.connect-failed";
		fix = "serve HTTPS on port 443 of the policy host";
		break;
	case STSDANE_PROBLEM_TIMEOUT:
		id = "policy-host.timeout";
		fix = "make the policy host answer within seconds";
		break;
	case STSDANE_PROBLEM_TLS:
		id = "policy-host.tls-failed";
		fix = "offer TLS 1.2 or 1.3 with a certificate on port 443";
		break;
	case STSDANE_PROBLEM_HTTP_REDIRECT:
		aud_add(r, L_PHOST, STSDANE_SEV_ERROR, "policy-host.redirect",
		    host, NULL, "serve the policy at "
		    "/.well-known/mta-sts.txt itself, with status 200",
		    "HTTP %ld redirect to '%s': senders do not follow "
		    "redirects (RFC 8461 3.3)", res->http_status,
		    res->redirect[0] != '\0' ? res->redirect : "?");
		return;
	case STSDANE_PROBLEM_HTTP_STATUS:
		id = "policy-host.http-status";
		fix = "serve the policy at /.well-known/mta-sts.txt with "
		    "status 200";
		break;
	case STSDANE_PROBLEM_MEDIA_TYPE:
		id = "policy-host.media-type";
		fix = "serve the policy as 'Content-Type: text/plain'";
		break;
	case STSDANE_PROBLEM_TOO_LARGE:
		id = "policy-host.too-large";
		fix = "keep the policy under 64 KiB";
		break;
	default:
		id = "policy-host.fetch-failed";
		fix = "serve the policy over HTTPS on port 443";
		break;
	}
	aud_add(r, L_PHOST, STSDANE_SEV_ERROR, id, host, NULL, fix,
	    "https://%s/.well-known/mta-sts.txt: %s", host, res->error);
}

/* Fetch as an audit request, within fetch_timeout: 0, or -1 (err). */
static int
fetch_policy(struct audit_run *r, const char *host,
    struct fetch_result *res, char *err, size_t errlen)
{
	const struct fetch_ops *fops;
	struct fetch_request req;
	const char *addrs[AUDIT_MAX_ADDRS];
	void *fimpl;
	unsigned timeout = r->env.settings->fetch_timeout_ms > 0 ?
	    r->env.settings->fetch_timeout_ms : 10000;
	int64_t deadline;
	size_t i;

	if (r->env.get_fetch(r->env.get_arg, &fops, &fimpl, err, errlen) < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	for (i = 0; i < r->nph; i++)
		addrs[i] = r->phaddrs[i];
	req.host = host;
	req.port = 443;
	req.addrs = addrs;
	req.naddrs = r->nph;
	req.ca_file = r->env.settings->ca_file != NULL &&
	    r->env.settings->ca_file[0] != '\0' ? r->env.settings->ca_file :
	    NULL;
	req.timeout_ms = (long)timeout;
	req.max_body = POLICY_MAX_BODY;
	req.audit = 1;
	if (fops->start(fimpl, &req, err, errlen) < 0)
		return -1;
	/* curl keeps the deadline; this loop only bounds a stuck module */
	deadline = sd_mono_ms() + timeout + 1000;
	while (fops->step(fimpl, -1, 100) == 0)
		if (sd_mono_ms() > deadline)
			break;
	fops->finish(fimpl, res);
	return 0;
}

void
aud_policy(struct audit_run *r)
{
	struct fetch_result res;
	char host[SD_MAX_NAME + 8], err[SD_ERRLEN];
	unsigned char *der[FETCH_MAX_PEERS];
	size_t len[FETCH_MAX_PEERS], i;

	if (!r->sts_txt)
		return;
	(void)sd_snprintf(host, sizeof(host), "mta-sts.%s", r->domain);
	if (r->nph == 0) {
		aud_add(r, L_PHOST, STSDANE_SEV_ERROR, "policy-host.no-address",
		    host, NULL, "give the policy host an A or AAAA record",
		    "policy host '%s' does not resolve (A: %s, AAAA: %s)", host,
		    r->pha.why[0] != '\0' ? r->pha.why : lookup_failed(&r->pha)
		    ? "failed" : "none", r->phaaaa.why[0] != '\0' ?
		    r->phaaaa.why : lookup_failed(&r->phaaaa) ? "failed" :
		    "none");
		return;
	}
	memset(&res, 0, sizeof(res));
	if (fetch_policy(r, host, &res, err, sizeof(err)) < 0) {
		aud_add(r, L_PHOST, STSDANE_SEV_ERROR, "policy-host.fetch-failed",
		    host, NULL, NULL, "the policy could not be fetched: %s", err);
		return;
	}
	for (i = 0; i < res.npeers; i++) {
		der[i] = res.peers[i].der;
		len[i] = res.peers[i].len;
	}
	if (res.npeers > 0)
		(void)aud_chain(r, L_PHOST, "policy-host", host, NULL,
		    res.tls_version, der, len, res.npeers, 1);
	fetch_problem(r, host, &res);
	if (res.problem == STSDANE_PROBLEM_NONE) {
		aud_add(r, L_PHOST, STSDANE_SEV_INFO, "policy-host.ok", host,
		    NULL, NULL, "HTTP %ld, %s, %zu bytes over %s",
		    res.http_status, res.content_type, res.len,
		    res.tls_version[0] != '\0' ? res.tls_version : "TLS");
		policy_checks(r, res.body, res.len);
	}
	for (i = 0; i < res.npeers; i++)
		free(res.peers[i].der);
	free(res.body);
}

/* ------------------------------------------------------------ mx */

void
aud_mx_vs_policy(struct audit_run *r)
{
	const char *pat, *host, *dot;
	size_t i, k, unmatched = 0;
	int used[AUDIT_MAX_PATTERNS] = { 0 }, ok;
	char fix[SD_MAX_NAME + 64];

	if (!r->have_policy || r->mode == STSDANE_MODE_NONE)
		return;
	for (i = 0; i < r->nmx; i++) {
		host = r->hosts[i].name;
		ok = 0;
		for (k = 0; k < r->npat; k++)
			if (stsdane_mx_match(r->patterns[k], host)) {
				used[k] = 1;
				ok = 1;
			}
		if (ok)
			continue;
		unmatched++;
		(void)sd_snprintf(fix, sizeof(fix), "add 'mx: %s' to the "
		    "policy, or correct the MX record", host);
		aud_add(r, L_MX, STSDANE_SEV_ERROR, "mx.not-in-policy", host,
		    NULL, fix, "MX host '%s' is matched by no mx pattern of "
		    "the policy: senders refuse to deliver to it", host);
		for (k = 0; k < r->npat; k++) {
			pat = r->patterns[k];
			if (strncmp(pat, "*.", 2) != 0)
				continue;
			dot = strchr(host, '.');
			if (dot != NULL && strlen(host) > strlen(pat + 1) &&
			    sd_host_eq(host + strlen(host) - strlen(pat + 1),
			    pat + 1))
				aud_add(r, L_MX, STSDANE_SEV_INFO,
				    "mx.wildcard-depth", host, NULL,
				    "list the host itself, or a pattern one "
				    "label above it", "pattern '%s' covers "
				    "exactly one label: it matches 'x%s' but "
				    "not '%s' (RFC 8461 4.1)", pat, pat + 1,
				    host);
		}
	}
	for (k = 0; k < r->npat; k++)
		if (!used[k])
			aud_add(r, L_MX, STSDANE_SEV_WARNING, "mx.stale-pattern",
			    NULL, NULL, "remove the pattern, or add the host "
			    "to the MX records", "policy pattern '%s' matches "
			    "no MX host: a stale entry", r->patterns[k]);
	if (unmatched == 0)
		aud_add(r, L_MX, STSDANE_SEV_INFO, "mx.ok", NULL, NULL, NULL,
		    "every MX host is matched by a policy pattern");
}

/* ------------------------------------------------------------ TLS-RPT */

void
aud_tlsrpt(struct audit_run *r)
{
	struct stsdane_tlsrpt *t = NULL;
	size_t lens[AUDIT_MAX_TXT], i, n = 0;
	char err[SD_ERRLEN];

	if (r->rpt.status == DNS_BOGUS || r->rpt.status == DNS_TEMPFAIL) {
		aud_add(r, L_TLSRPT, STSDANE_SEV_ERROR, "tlsrpt.lookup-failed",
		    NULL, NULL, "make the _smtp._tls name answer",
		    "the TXT lookup at '_smtp._tls.%s' failed: %s", r->domain,
		    r->rpt.why);
		return;
	}
	for (i = 0; i < r->nrpt; i++) {
		lens[i] = strlen(r->rpts[i]);
		if (strncmp(r->rpts[i], "v=TLSRPTv1", 10) == 0)
			n++;
	}
	if (n == 0 && r->null_mx)
		return;		/* no mail, nothing to report on */
	if (n == 0) {
		aud_add(r, L_TLSRPT, STSDANE_SEV_WARNING, "tlsrpt.missing",
		    NULL, NULL, "publish '_smtp._tls TXT \"v=TLSRPTv1; "
		    "rua=mailto:tlsrpt@...\"'", "no TLS-RPT record at "
		    "'_smtp._tls.%s': without TLS-RPT, an enforce policy is a "
		    "black box (nobody tells you when senders fail)",
		    r->domain);
		return;
	}
	if (n > 1) {
		aud_add(r, L_TLSRPT, STSDANE_SEV_ERROR, "tlsrpt.multiple", NULL,
		    NULL, "keep exactly one v=TLSRPTv1 record", "%zu records "
		    "at '_smtp._tls.%s' begin with v=TLSRPTv1: senders use "
		    "none (RFC 8460 3)", n, r->domain);
		return;
	}
	if (stsdane_tlsrpt_check((const char *const *)r->rpts, lens, r->nrpt,
	    &t, err, sizeof(err)) != STSDANE_OK) {
		aud_add(r, L_TLSRPT, STSDANE_SEV_ERROR, "tlsrpt.syntax", NULL,
		    NULL, "write it as 'v=TLSRPTv1; rua=mailto:ADDRESS' (RFC "
		    "8460 3)", "the TLS-RPT record does not parse: %s", err);
		return;
	}
	if (t->nrua == 0)
		aud_add(r, L_TLSRPT, STSDANE_SEV_ERROR, "tlsrpt.rua-unusable",
		    NULL, NULL, "give a mailto: or https: destination",
		    "no rua destination is mailto: or https:: no report can "
		    "be sent");
	else if (t->nignored > 0)
		aud_add(r, L_TLSRPT, STSDANE_SEV_WARNING, "tlsrpt.rua-ignored",
		    NULL, NULL, "use only mailto: and https: destinations",
		    "%zu rua destinations are neither mailto: nor https: and "
		    "are ignored", t->nignored);
	else
		aud_add(r, L_TLSRPT, STSDANE_SEV_INFO, "tlsrpt.ok", NULL, NULL,
		    NULL, "reports go to %s%s", t->rua[0],
		    t->nrua > 1 ? " and more" : "");
	stsdane_tlsrpt_free(t);
}
