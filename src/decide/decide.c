/*
 * NAME
 *	decide.c - DANE first, then MTA-STS, with what is remembered
 * SYNOPSIS
 *	#include "decide.h"
 *
 *	int decide(struct decide_env *env, const char *domain,
 *	    unsigned flags, struct stsdane_decision **out,
 *	    char *err, size_t errlen)
 * DESCRIPTION
 *	The composition of the three parts of a decision: the scheduler
 *	(scheduler.c), the DANE half (dane.c) and the MTA-STS half (sts.c),
 *	with what is remembered (remember.c), reached through env->mem.
 *
 *	From memory first, touching nothing else: the final answer (memo,
 *	answers file, store), or else an answer composed of the records: a
 *	DANE result is used until the smallest TTL involved; an MTA-STS
 *	answer until its TXT record is due to be looked at again (its TTL,
 *	bounded), and the policy itself never past fetched-at + max_age.
 *
 *	Otherwise from the network, in one event loop.  The MX RRset and the
 *	_mta-sts TXT record are looked up at once, with the DNSSEC chain
 *	data asked for ahead.  Each round, the DANE verdict so far is handed
 *	to the MTA-STS half, which fetches the policy only once DANE is
 *	known not to apply (RFC 8461 2).
 *
 *	Never merged: "no policy", "try again" (tempfail) and "DNSSEC
 *	bogus" (tempfail, with its own problem code).  Any bogus, SERVFAIL
 *	or timed-out lookup on the DANE path is tempfail: never clear text,
 *	never a fall-through to MTA-STS.
 * DIAGNOSTICS
 *	Every network outcome is a decision.  Only resource failures (out of
 *	memory, a resolver that cannot be set up) return an error, with the
 *	detail in err.
 */
#include <stdlib.h>
#include <string.h>

#include "dane.h"
#include "decide.h"
#include "decision.h"
#include "scheduler.h"
#include "sts.h"

#define DANE_TTL_MAX 86400

struct job {
	struct sched sched;
	struct dane dane;
	struct sts sts;
	struct lookup prime[SCHED_PRIME_MAX];
};

static int64_t
earliest(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* A remembered record's source: "shared" when the fleet's tier gave it. */
static enum stsdane_source
from_where(const struct stsdane_decision *rec)
{
	return rec->source == STSDANE_SOURCE_SHARED ? STSDANE_SOURCE_SHARED :
	    STSDANE_SOURCE_CACHE;
}

/*
 * Composed from the remembered records alone, or NULL when the network
 * is needed.
 * *policy is set to the remembered, unexpired MTA-STS policy, if any,
 * for RFC 8461 5.1 on the network path.
 */
static struct stsdane_decision *
from_memory(struct decide_env *env, const char *domain, int64_t now,
    int64_t *dane_until, struct stsdane_decision **policy)
{
	struct remember *mem = env->mem;
	struct stsdane_decision *dane = NULL, *d = NULL;
	struct rem_neg neg;
	struct rem_txt txt;
	int64_t until = 0;
	int have_neg;

	*dane_until = 0;
	*policy = remember_policy_get(mem, domain, now);
	if (!remember_dane_get(mem, domain, now, &dane, dane_until))
		return NULL;
	if (dane != NULL) {
		dane->source = from_where(dane);
		return dane;
	}
	have_neg = remember_neg_get(mem, domain, now, &neg);
	if (have_neg && *policy != NULL) {
		/* a recent failure; P still applies (RFC 8461 5.1) */
		d = sts_keep_cached(*policy, neg.problem, neg.reason[0] ?
		    neg.reason : "recent failure");
		until = earliest(neg.expires, (*policy)->expires);
	} else if (have_neg && neg.problem != STSDANE_PROBLEM_DNS_TEMPFAIL &&
	    neg.problem != STSDANE_PROBLEM_DNS_BOGUS) {
		/* "no policy"; a remembered lookup failure is never that */
		d = decision_none(domain, neg.problem, neg.reason[0] ?
		    neg.reason : "none published");
		if (d != NULL)
			d->source = STSDANE_SOURCE_CACHE;
		until = neg.expires;
	} else if (!have_neg && *policy != NULL &&
	    (*policy)->policy_id != NULL &&
	    remember_txt_get(mem, domain, now, &txt) &&
	    strcmp(txt.id, (*policy)->policy_id) == 0) {
		d = decision_copy(*policy);
		if (d != NULL)
			d->source = from_where(*policy);
		until = earliest(txt.expires, (*policy)->expires);
	}
	/* valid until the first of the records it was made from expires */
	if (d != NULL) {
		d->expires = earliest(until, *dane_until);
		remember_answer_put(mem, d, now, 0);
	}
	return d;
}

/* The scheduler's progress hook: hand the DANE verdict to MTA-STS. */
static int
progress(void *arg)
{
	struct job *j = arg;
	enum dane_outcome o = dane_outcome(&j->dane);
	enum dane_mx mx = dane_mx(&j->dane);

	sts_progress(&j->sts, o == DANE_NO && mx != DANE_MX_PENDING &&
	    mx != DANE_MX_NULL);
	return mx == DANE_MX_NULL || o == DANE_YES || o == DANE_TEMPFAIL;
}

static struct stsdane_decision *
null_mx_decision(const struct job *j, const char *domain, int64_t now)
{
	struct stsdane_decision *d = decision_new(domain);
	uint32_t ttl = dane_mx_ttl(&j->dane);

	if (d == NULL)
		return NULL;
	d->no_mail = 1;
	d->expires = now + (ttl < DANE_TTL_MAX ? ttl : DANE_TTL_MAX);
	d->problem = STSDANE_PROBLEM_NULL_MX;
	(void)decision_set_reason(d, "%s publishes a null MX: it accepts no "
	    "mail", domain);
	return d;
}

/* The decision from what the network said; *horizon: look again then. */
static struct stsdane_decision *
network_decision(struct job *j, struct decide_env *env, const char *domain,
    const struct stsdane_decision *policy, int64_t now, int64_t dane_until,
    int64_t *horizon)
{
	enum dane_outcome o = dane_outcome(&j->dane);
	enum dane_mx mx = dane_mx(&j->dane);
	struct stsdane_decision *d;

	if (mx == DANE_MX_NULL) {
		d = null_mx_decision(j, domain, now);
		if (d != NULL)
			*horizon = d->expires;
		return d;
	}
	if (o == DANE_YES || o == DANE_TEMPFAIL) {
		d = dane_decision(&j->dane, o, now);
		if (d != NULL && o == DANE_YES) {
			remember_dane_put(env->mem, d, now);
			*horizon = d->expires;
		}
		return d;
	}
	if (mx == DANE_MX_NXDOMAIN && !sts_txt_valid(&j->sts) &&
	    policy == NULL)
		return decision_none(domain, STSDANE_PROBLEM_NONE,
		    "the domain does not exist (NXDOMAIN)");
	if (dane_until == 0 && mx != DANE_MX_PENDING &&
	    mx != DANE_MX_FAILED) {
		/* "DANE does not apply", valid for the TTLs seen */
		dane_until = now + dane_ttl(&j->dane);
		remember_dane_none_put(env->mem, domain, now, dane_until);
	}
	d = sts_decision(&j->sts, now, horizon);
	if (dane_until < *horizon)
		*horizon = dane_until;
	if (d != NULL && d->ndane == 0 && dane_fill_hosts(&j->dane, d) < 0) {
		stsdane_decision_free(d);
		d = NULL;
	}
	return d;
}

int
decide(struct decide_env *env, const char *domain, unsigned flags,
    struct stsdane_decision **out, char *err, size_t errlen)
{
	struct job *j = NULL;
	struct stsdane_decision *d = NULL, *policy = NULL;
	const struct dns_ops *dns;
	const char *why;
	void *dns_impl;
	int64_t now = env->now(env->clock_arg);
	int64_t dane_until = 0, horizon = INT64_MAX;
	int rc = STSDANE_OK;

	*out = NULL;
	if (!(flags & STSDANE_QUERY_REFRESH)) {
		/* the whole answer, in one read: the path nearly every call
		   takes */
		d = remember_answer_get(env->mem, domain, now);
		if (d == NULL)
			d = from_memory(env, domain, now, &dane_until, &policy);
		if (d != NULL) {
			stsdane_decision_free(policy);
			*out = d;
			return STSDANE_OK;
		}
		if (flags & STSDANE_QUERY_CACHE_ONLY) {
			stsdane_decision_free(policy);
			(void)sd_snprintf(err, errlen, "no remembered decision "
			    "for '%s'", domain);
			return STSDANE_ERR_NOTFOUND;
		}
	} else {
		policy = remember_policy_get(env->mem, domain, now);
	}

	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		rc = STSDANE_ERR_NOMEM;
		(void)sd_snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (env->get_dns(env->get_arg, &dns, &dns_impl, err, errlen) < 0) {
		rc = STSDANE_ERR_RESOLVER;
		goto out;
	}
	sched_init(&j->sched, env, dns, dns_impl);
	/* the chain data first, so its answers are in before they are used */
	sched_prime(&j->sched, j->prime, domain);
	/*
	 * The MX RRset is needed even when the DANE answer is remembered:
	 * the probe and people want the host list, and it costs nothing
	 * extra since it runs alongside the TXT lookup.
	 */
	dane_start(&j->dane, &j->sched, domain, dane_until == 0);
	sts_start(&j->sts, &j->sched, env, domain, policy,
	    (flags & STSDANE_QUERY_REFRESH) != 0);
	(void)sched_run(&j->sched, progress, j);
	if (dane_failed(&j->dane, &why)) {
		rc = STSDANE_ERR_NOMEM;
		(void)sd_snprintf(err, errlen, "%s", why);
		goto out;
	}
	d = network_decision(j, env, domain, policy, now, dane_until,
	    &horizon);
	if (d == NULL) {
		rc = STSDANE_ERR_NOMEM;
		(void)sd_snprintf(err, errlen, "out of memory");
		goto out;
	}
	/*
	 * The answer itself, for the fast path, valid until the first of
	 * the records it was made from expires.  Never a tempfail: those
	 * are looked at again on the next call.
	 */
	if (d->mechanism == STSDANE_MECH_MTASTS && d->expires < horizon)
		horizon = d->expires;	/* never past fetched-at + max_age */
	if (!d->tempfail && horizon > now && horizon != INT64_MAX)
		d->expires = horizon;
	else if (!d->tempfail && horizon <= now)
		/* A part of it was already stale (a TTL of 0): no tier may
		   keep this answer past the call (the memo's short hold for
		   one delivery aside). */
		d->expires = now;
	remember_answer_put(env->mem, d, now, d->tempfail ||
	    (horizon > now && horizon != INT64_MAX));
	*out = d;
out:
	if (j != NULL) {
		sched_release(&j->sched);
		dane_release(&j->dane);
		sts_release(&j->sts);
		free(j);
	}
	stsdane_decision_free(policy);
	return rc;
}
