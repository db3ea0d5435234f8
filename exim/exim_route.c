/*
 * NAME
 *	exim_route.c - MTA-STS enforce routing, and RFC 8689, for Exim
 * SUMMARY
 *	the allowed MX hosts for the manualroute router, the deferral when
 *	there are none, and the log line of a "TLS-Required: No" message
 * SYNOPSIS
 *	${dlfunc{MODULE}{stsdane_exim_route}{config=PATH}\
 *	    {tls_required=$h_TLS-Required:}{DOMAIN}}
 *
 *	void log_set_aside(const struct answer *m)
 *	int defer_no_allowed_mx(const struct answer *m, char *msg,
 *	    size_t len)
 * DESCRIPTION
 *	Exim's dnslookup router keeps one host per IP address, the first.
 *	When that one is an MX host that an MTA-STS enforce policy forbids,
 *	the allowed hosts behind it at the same address are never tried,
 *	and the mail stays queued.  stsdane_exim_route gives the
 *	manualroute router (stsdane_mtasts) the MX hosts the policy allows,
 *	best preference first, hosts of equal preference in random order
 *	(RFC 5321 5.1), followed by " bydns"; the hosts it leaves out are
 *	logged.  For every other decision, and for a message that says
 *	"TLS-Required: No", it returns "": the router declines and the
 *	dnslookup router routes as usual.  Errors return "" too: the defer
 *	router before it has deferred such a domain already, and the
 *	transport refuses every host without a decision.
 *
 *	defer_no_allowed_mx() gives the defer router its reason when an
 *	enforce policy allows none of the domain's MX hosts: the policy,
 *	the MX hosts and where the decision came from, in the defer line
 *	itself.
 *
 *	log_set_aside() writes, for a "TLS-Required: No" message (RFC 8689),
 *	which policy the message sets aside; Exim puts the message id first.
 *	The decision, and what is cached of it, are not changed.
 * SEE ALSO
 *	docs/exim.md, exim/exim.conf.example, exim/conf.d/router/190_stsdane
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exim_module.h"

static int
mtasts_enforce(const struct stsdane_decision *d)
{
	return d != NULL && !d->tempfail && !d->no_mail &&
	    d->mechanism == STSDANE_MECH_MTASTS &&
	    d->mode == STSDANE_MODE_ENFORCE;
}

static int
allowed(const struct stsdane_decision *d, size_t i)
{
	return d->dane[i].name != NULL &&
	    stsdane_host_allowed(d, d->dane[i].name);
}

/* The decision's MX hosts ("10 a, 20 b") that are, or are not, allowed. */
static void
mx_list(const struct stsdane_decision *d, int want_allowed, struct line *l)
{
	char num[16];
	size_t i;

	for (i = 0; i < d->ndane; i++) {
		if (d->dane[i].name == NULL || !allowed(d, i) != !want_allowed)
			continue;
		if (l->len > 0)
			line_puts(l, ", ");
		(void)snprintf(num, sizeof(num), "%u ", d->dane[i].preference);
		line_puts(l, num);
		line_puts(l, d->dane[i].name);
	}
}

/* "id X, mode M, mx: P1 P2, decision from S": a policy in a log line. */
static void
policy_words(const struct stsdane_decision *d, char *out, size_t outlen)
{
	char mx[512];
	struct line l = { mx, 0, sizeof(mx), 0 };
	size_t i;

	mx[0] = '\0';
	for (i = 0; i < d->nmx; i++) {
		if (i > 0)
			line_puts(&l, " ");
		line_puts(&l, d->mx[i]);
	}
	(void)snprintf(out, outlen, "id %s, mode %s, mx: %s, decision from "
	    "%s", d->policy_id != NULL ? d->policy_id : "",
	    stsdane_mode_name(d->mode), mx, stsdane_source_name(d->source));
	sanitize(out);
}

void
log_set_aside(const struct answer *m)
{
	const struct stsdane_decision *d = m->d;
	char id[128];

	if (d == NULL || (d->mechanism == STSDANE_MECH_NONE && !d->tempfail))
		return;
	(void)snprintf(id, sizeof(id), "%s", d->policy_id != NULL ?
	    d->policy_id : "");
	sanitize(id);
	if (d->mechanism == STSDANE_MECH_MTASTS)
		log_write(0, LOG_MAIN, "stsdane: %s: TLS-Required: No: MTA-STS "
		    "policy id %s (mode %s) set aside for this message; "
		    "STARTTLS is still tried", m->domain, id,
		    stsdane_mode_name(d->mode));
	else
		log_write(0, LOG_MAIN, "stsdane: %s: TLS-Required: No: %s "
		    "decision%s set aside for this message; STARTTLS is still "
		    "tried", m->domain, stsdane_mechanism_name(d->mechanism),
		    d->tempfail ? " (tempfail)" : "");
}

int
defer_no_allowed_mx(const struct answer *m, char *msg, size_t len)
{
	const struct stsdane_decision *d = m->d;
	char words[MSG_LEN / 2], hosts[MSG_LEN / 2];
	struct line l = { hosts, 0, sizeof(hosts), 0 };
	size_t i;

	if (!mtasts_enforce(d) || d->ndane == 0)
		return 0;
	for (i = 0; i < d->ndane; i++)
		if (allowed(d, i))
			return 0;
	hosts[0] = '\0';
	mx_list(d, 0, &l);
	policy_words(d, words, sizeof(words));
	(void)snprintf(msg, len, "stsdane: %s: no MX host is allowed by the "
	    "MTA-STS policy (%s); MX hosts: %s", m->domain, words, hosts);
	sanitize(msg);
	return 1;
}

/* A small generator for shuffling; quality is not the point. */
static unsigned
next_random(void)
{
	static unsigned x;

	if (x == 0)
		x = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^ 1u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

EXIM_EXPORT int
stsdane_exim_route(uschar **yield, int argc, uschar *argv[])
{
	char words[MSG_LEN / 2], left[MSG_LEN / 2];
	struct line out, lo = { left, 0, sizeof(left), 0 };
	const struct stsdane_decision *d;
	struct answer m;
	size_t i, j, *order = NULL;
	int rc, opt;

	rc = begin(yield, &argc, &argv, 1, "stsdane_exim_route "
	    "{[config=PATH]}{[tls_required=VALUE]}{DOMAIN}", &opt);
	if (rc != OK)
		return give(yield, "", 0);
	if (decision_for(argv[0], &m, yield) != OK)
		return give(yield, "", 0);
	d = m.d;
	memset(&out, 0, sizeof(out));
	if (opt || !mtasts_enforce(d) || d->ndane == 0)
		goto none;
	order = calloc(d->ndane, sizeof(*order));
	out.buf = malloc(LINE_CAP);
	out.cap = LINE_CAP;
	if (order == NULL || out.buf == NULL)
		goto none;
	out.buf[0] = '\0';
	/* Shuffle each run of equal preference (the list is sorted). */
	for (i = 0; i < d->ndane; i++) {
		order[i] = i;
		for (j = i; j > 0 && d->dane[order[j - 1]].preference ==
		    d->dane[i].preference; j--)
			;
		j += next_random() % (i - j + 1);
		order[i] = order[j];
		order[j] = i;
	}
	for (i = 0; i < d->ndane; i++) {
		if (!allowed(d, order[i]))
			continue;
		if (out.len > 0)
			line_puts(&out, ":");
		line_puts(&out, d->dane[order[i]].name);
	}
	if (out.over || out.len == 0)
		goto none;
	line_puts(&out, " bydns");
	for (i = 0; i < d->ndane; i++)
		if (d->dane[i].name != NULL && !allowed(d, i))
			tlsrpt_route_refused(&m, d->dane[i].name);
	left[0] = '\0';
	mx_list(d, 0, &lo);
	if (lo.len > 0) {
		policy_words(d, words, sizeof(words));
		log_write(0, LOG_MAIN, "stsdane: %s: MX %s not allowed by the "
		    "MTA-STS policy (%s): routing to the allowed MX hosts "
		    "only", m.domain, left, words);
	}
	sanitize(out.buf);
	rc = give(yield, out.buf, 1);
	free(order);
	free(out.buf);
	answer_release(&m);
	return rc;
none:
	free(order);
	free(out.buf);
	answer_release(&m);
	return give(yield, "", 0);
}
