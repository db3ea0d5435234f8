/*
 * NAME
 *	sts.c - the MTA-STS half of a decision (RFC 8461)
 * SYNOPSIS
 *	#include "sts.h"
 *
 *	sts_start(&st, &sched, env, domain, cached, refresh);
 *	... sched_run(), calling sts_progress(&st, may_fetch) ...
 *	d = sts_decision(&st, now, &horizon);
 *	sts_release(&st);
 * DESCRIPTION
 *	RFC 8461 5.1 with a cached policy P that has not expired: TXT id
 *	unchanged -> P, no fetch; id changed -> fetch, and on any failure
 *	keep P; TXT gone or its lookup failing -> keep P; a fetched
 *	"mode: none" replaces P.  Without P: no TXT -> no policy; a fetch
 *	failure -> no policy (delivery continues, as the RFC requires);
 *	a TXT lookup that fails -> tempfail.
 *
 *	What is learned is remembered through remember.h: the policy, the
 *	TXT id seen (until it is due to be looked at again: its TTL,
 *	bounded to 5 minutes .. a day), and negative answers ("no TXT"
 *	for negative_ttl or the TTL, a failed fetch for 5 minutes).
 * DIAGNOSTICS
 *	sts_decision() returns NULL only when out of memory.
 */
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "decision.h"
#include "rdata.h"
#include "sts.h"
#include "sts_txt.h"

#define TXT_RECHECK_MIN 300	/* seconds: bounds on how long a TXT */
#define TXT_RECHECK_MAX 86400	/* answer is trusted without looking */
#define FETCH_FAIL_TTL 300	/* "fetch failed" remembered this long */

static void
on_txt(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct sts *st = arg;
	char err[SD_ERRLEN];
	enum sts_txt_result v;

	switch (a->status) {
	case DNS_TEMPFAIL:
		st->txt_problem = STSDANE_PROBLEM_DNS_TEMPFAIL;
		(void)sd_snprintf(st->txt_why, sizeof(st->txt_why),
		    "TXT lookup for _mta-sts.%s failed: %s", st->domain,
		    l->why);
		return;
	case DNS_BOGUS:
		st->txt_problem = STSDANE_PROBLEM_DNS_BOGUS;
		(void)sd_snprintf(st->txt_why, sizeof(st->txt_why),
		    "TXT record _mta-sts.%s is DNSSEC-bogus: %s", st->domain,
		    l->why);
		return;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		st->txt_problem = STSDANE_PROBLEM_TXT_MISSING;
		(void)sd_snprintf(st->txt_why, sizeof(st->txt_why),
		    "no TXT record at _mta-sts.%s", st->domain);
		return;
	case DNS_OK:
		break;
	}
	/* every record of the set, none skipped: a limit is never a
	   truncation */
	v = sts_txt_eval_rdata(a->rdata, a->rdlen, a->n, st->txt_id, err,
	    sizeof(err));
	if (v == STS_TXT_VALID) {
		st->txt_valid = 1;
		return;
	}
	if (v == STS_TXT_NONE) {
		st->txt_problem = STSDANE_PROBLEM_TXT_MISSING;
		(void)sd_snprintf(st->txt_why, sizeof(st->txt_why),
		    "no TXT record at _mta-sts.%s starts with 'v=STSv1'",
		    st->domain);
		return;
	}
	if (v == STS_TXT_NOMEM || v == STS_TXT_INVAL) {
		/* not an answer about the record: try again, never "none" */
		st->txt_problem = STSDANE_PROBLEM_DNS_TEMPFAIL;
		(void)sd_snprintf(st->txt_why, sizeof(st->txt_why),
		    "TXT record _mta-sts.%s could not be examined: %s",
		    st->domain, err);
		return;
	}
	st->txt_problem = v == STS_TXT_MULTIPLE ?
	    STSDANE_PROBLEM_TXT_MULTIPLE : STSDANE_PROBLEM_TXT_SYNTAX;
	(void)sd_snprintf(st->txt_why, sizeof(st->txt_why),
	    "TXT record _mta-sts.%s: %s", st->domain, err);
}

static void
on_policy_addr(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct sts *st = arg;
	int type = l == &st->pa ? DNS_T_A : DNS_T_AAAA;
	size_t i;

	if (a->status != DNS_OK)
		return;
	for (i = 0; i < a->n && st->naddrs < 16; i++)
		if (rdata_addr(type, a->rdata[i], a->rdlen[i],
		    st->addrs[st->naddrs], sizeof(st->addrs[0])) == 0)
			st->naddrs++;
}

void
sts_start(struct sts *st, struct sched *s, const struct decide_env *env,
    const char *domain, const struct stsdane_decision *cached, int refresh)
{
	char name[SD_MAX_NAME + 16];

	memset(st, 0, sizeof(*st));
	st->sched = s;
	st->env = env;
	st->domain = domain;
	st->cached = cached;
	st->fetch_wanted = refresh;
	if (sd_snprintf(name, sizeof(name), "_mta-sts.%s", domain) == 0)
		sched_lookup(s, &st->txt, name, DNS_T_TXT, on_txt, st);
}

int
sts_fetching(const struct sts *st)
{
	return st->fetch == LK_WAIT;
}

int
sts_txt_valid(const struct sts *st)
{
	return st->txt_valid;
}

static void
lookup_policy_host(struct sts *st)
{
	char host[SD_MAX_NAME + 8];

	if (!st->txt_valid || st->pa.state != LK_IDLE)
		return;
	if (st->cached != NULL && st->cached->policy_id != NULL &&
	    strcmp(st->cached->policy_id, st->txt_id) == 0 &&
	    !st->fetch_wanted)
		return;		/* RFC 8461 5.1: id unchanged, no fetch */
	st->fetch_wanted = 1;
	if (sd_snprintf(host, sizeof(host), "mta-sts.%s", st->domain) < 0)
		return;
	sched_lookup(st->sched, &st->pa, host, DNS_T_A, on_policy_addr, st);
	sched_lookup(st->sched, &st->paaaa, host, DNS_T_AAAA, on_policy_addr,
	    st);
}

static void
fetch_done(void *arg)
{
	struct sts *st = arg;

	st->fetch = LK_DONE;
}

static void
fetch_problem(struct sts *st, enum stsdane_problem problem, const char *err)
{
	st->fres.problem = problem;
	(void)sd_snprintf(st->fres.error, sizeof(st->fres.error), "%s", err);
}

static void
start_fetch(struct sts *st)
{
	const struct decide_env *env = st->env;
	const struct fetch_ops *fops;
	void *fimpl;
	struct fetch_request req;
	const char *addrs[16];
	char host[SD_MAX_NAME + 8], err[SD_ERRLEN];
	size_t i;

	st->fetch = LK_DONE;	/* unless started below */
	memset(&st->fres, 0, sizeof(st->fres));
	(void)sd_snprintf(host, sizeof(host), "mta-sts.%s", st->domain);
	if (st->naddrs == 0) {
		int failed = lookup_failed(&st->pa) ||
		    lookup_failed(&st->paaaa);

		st->fres.problem = STSDANE_PROBLEM_POLICY_HOST_DNS;
		(void)sd_snprintf(st->fres.error, sizeof(st->fres.error),
		    "policy host '%s' %s", host, failed ?
		    "could not be resolved (lookup failed)" :
		    "has no address record");
		return;
	}
	if (env->get_fetch(env->get_arg, &fops, &fimpl, err,
	    sizeof(err)) < 0) {
		fetch_problem(st, STSDANE_PROBLEM_INTERNAL, err);
		return;
	}
	for (i = 0; i < st->naddrs; i++)
		addrs[i] = st->addrs[i];
	memset(&req, 0, sizeof(req));
	req.host = host;
	req.port = 443;
	req.addrs = addrs;
	req.naddrs = st->naddrs;
	req.ca_file = env->settings->ca_file;
	req.timeout_ms = env->settings->fetch_timeout_ms;
	req.max_body = SD_MAX_POLICY;
	if (sched_fetch(st->sched, fops, fimpl, &req, &st->fres, fetch_done,
	    st, err, sizeof(err)) < 0) {
		fetch_problem(st, STSDANE_PROBLEM_INTERNAL, err);
		return;
	}
	st->fetch = LK_WAIT;
}

void
sts_progress(struct sts *st, int may_fetch)
{
	lookup_policy_host(st);
	if (!st->fetch_wanted || st->fetch != LK_IDLE ||
	    st->pa.state != LK_DONE || st->paaaa.state != LK_DONE ||
	    !may_fetch)
		return;
	start_fetch(st);
}

void
sts_release(struct sts *st)
{
	free(st->fres.body);
	st->fres.body = NULL;
}

/* ---- the decision ------------------------------------------------------------ */

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

struct stsdane_decision *
sts_keep_cached(const struct stsdane_decision *p,
    enum stsdane_problem problem, const char *why)
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
txt_recheck(const struct sts *st)
{
	uint32_t t = st->txt.ttl;

	if (t < TXT_RECHECK_MIN)
		t = TXT_RECHECK_MIN;
	return t > TXT_RECHECK_MAX ? TXT_RECHECK_MAX : t;
}

static void
remember_negative(struct sts *st, const char *id, int64_t now,
    int64_t expires, enum stsdane_problem problem, const char *why)
{
	struct rem_neg n;

	memset(&n, 0, sizeof(n));
	n.problem = problem;
	n.expires = expires;
	(void)sd_strlcpy(n.reason, why, sizeof(n.reason));
	if (id != NULL)
		(void)sd_strlcpy(n.id, id, sizeof(n.id));
	remember_neg_put(st->env->mem, st->domain, &n, now);
}

/* Without a valid TXT record. */
static struct stsdane_decision *
no_txt_decision(struct sts *st, int64_t now, int64_t *horizon)
{
	const struct stsdane_decision *cached = st->cached;

	if (cached != NULL) {	/* TXT gone or failing: keep P */
		*horizon = now + TXT_RECHECK_MIN;
		remember_negative(st, NULL, now, *horizon, st->txt_problem,
		    st->txt_why);
		return sts_keep_cached(cached, st->txt_problem, st->txt_why);
	}
	if (st->txt_problem == STSDANE_PROBLEM_DNS_TEMPFAIL ||
	    st->txt_problem == STSDANE_PROBLEM_DNS_BOGUS)
		return decision_tempfail(st->domain, st->txt_problem,
		    st->txt_why);
	if (st->txt_problem == STSDANE_PROBLEM_TXT_MISSING) {
		uint32_t ttl = st->txt.ttl;
		unsigned neg = st->env->settings->negative_ttl;

		*horizon = now + (ttl > 0 && ttl < neg ? ttl : neg);
		remember_negative(st, NULL, now, *horizon, st->txt_problem,
		    st->txt_why);
	}
	return decision_none(st->domain, st->txt_problem, st->txt_why);
}

struct stsdane_decision *
sts_decision(struct sts *st, int64_t now, int64_t *horizon)
{
	struct remember *mem = st->env->mem;
	const struct stsdane_decision *cached = st->cached;
	struct stsdane_policy *p = NULL;
	struct stsdane_decision *d;
	char err[SD_ERRLEN], why[SD_ERRLEN];
	int64_t recheck = now + txt_recheck(st);
	unsigned neg = st->env->settings->negative_ttl;

	if (!st->txt_valid)
		return no_txt_decision(st, now, horizon);
	if (st->fetch != LK_DONE && cached != NULL) {
		/* id unchanged: P applies without a fetch */
		*horizon = recheck;
		remember_txt_put(mem, st->domain, st->txt_id, now, recheck);
		d = decision_copy(cached);
		if (d != NULL)
			d->source = STSDANE_SOURCE_CACHE;
		return d;
	}
	if (st->fetch != LK_DONE) {
		fetch_problem(st, STSDANE_PROBLEM_TIMEOUT,
		    "policy not fetched within dns_timeout");
	} else if (st->fres.problem == STSDANE_PROBLEM_NONE &&
	    stsdane_policy_parse(st->fres.body, st->fres.len, &p, err,
	    sizeof(err)) != STSDANE_OK) {
		st->fres.problem = STSDANE_PROBLEM_POLICY_SYNTAX;
		(void)sd_snprintf(st->fres.error, sizeof(st->fres.error),
		    "policy syntax: %s", err);
	}
	if (st->fres.problem != STSDANE_PROBLEM_NONE) {
		(void)sd_snprintf(why, sizeof(why),
		    "policy fetch from https://mta-sts.%s/.well-known/"
		    "mta-sts.txt failed: %s", st->domain, st->fres.error);
		*horizon = now + (FETCH_FAIL_TTL < neg ? FETCH_FAIL_TTL : neg);
		remember_negative(st, st->txt_id, now, *horizon,
		    st->fres.problem, why);
		if (cached != NULL)
			return sts_keep_cached(cached, st->fres.problem, why);
		return decision_none(st->domain, st->fres.problem, why);
	}
	d = policy_decision(st->domain, p, st->txt_id, now);
	stsdane_policy_free(p);
	if (d == NULL)
		return NULL;
	/* a fetched policy, "mode: none" included, replaces P */
	*horizon = recheck;
	remember_policy_put(mem, d, now);
	remember_txt_put(mem, st->domain, st->txt_id, now, recheck);
	remember_neg_forget(mem, st->domain);
	return d;
}
