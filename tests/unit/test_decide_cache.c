/*
 * test_decide_cache.c - decide() with what is remembered: RFC 8461 5.1 against a cached policy
 *
 * Worlds from decide_world.h; tests named bug_* show a defect and fail
 * until it is fixed.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "decide_world.h"
#include "rdata.h"

/* ---- RFC 8461 5.1 with the cache ---------------------------------------- */

Test(decide_cache, first_query_fetches_and_stores)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d, *c;
	int64_t learned = 0;

	sts_world(w);
	d = run(w, "a.test", 0);
	cr_expect_eq(d->source, STSDANE_SOURCE_NETWORK);
	cr_expect_eq(w->fetch.nstart, 1);
	c = fake_cache_peek(&w->cache, "sts/a.test", &learned);
	cr_assert_not_null(c, "policy not stored");
	cr_expect_str_eq(c->policy_id, "abc");
	cr_expect_eq(c->mode, STSDANE_MODE_ENFORCE);
	cr_expect_eq(c->expires, (int64_t)T0 + 86400);
	cr_expect_eq(learned, T0);
	stsdane_decision_free(c);
	cr_expect(fake_cache_has(&w->cache, "txt/a.test"), "no TXT marker");
	cr_expect(fake_cache_has(&w->cache, "dane/a.test"), "no DANE marker");
	cr_expect(!fake_cache_has(&w->cache, "neg/a.test"), "neg marker");
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, within_recheck_window_touches_nothing)
{
	int m;

	for (m = 0; m < 2; m++) {
		struct fake_env *w = cached_world(m ? FAKE_DNS_SYNC :
		    FAKE_DNS_ASYNC);
		struct stsdane_decision *d;

		w->clock.now = T0 + 599;
		d = run(w, "a.test", 0);
		expect_cached_abc(d, w->clock.now, "within recheck");
		cr_expect_eq(w->dns.nasked, 0, "DNS asked %zu times",
		    w->dns.nasked);
		cr_expect_eq(w->nget_dns, 0, "resolver set up");
		cr_expect_eq(w->nget_fetch, 0, "fetch module loaded");
		cr_expect_eq(w->fetch.nstart, 0);
		stsdane_decision_free(d);
		world_free(w);
	}
}

Test(decide_cache, after_recheck_same_id_no_fetch)
{
	struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	w->clock.now = T0 + 700;
	d = run(w, "a.test", 0);
	expect_cached_abc(d, w->clock.now, "after recheck");
	cr_expect_eq(fake_dns_asked(&w->dns, "_mta-sts.a.test", DNS_T_TXT),
	    1);
	cr_expect_eq(fake_dns_asked(&w->dns, "mta-sts.a.test", 0), 0,
	    "policy host looked up without a fetch");
	cr_expect_eq(w->fetch.nstart, 0);
	cr_expect_eq(w->nget_fetch, 0);
	stsdane_decision_free(d);

	/* and the TXT check is remembered again */
	reset_counts(w);
	w->clock.now = T0 + 1200;
	d = run(w, "a.test", 0);
	expect_cached_abc(d, w->clock.now, "after recheck, again");
	cr_expect_eq(w->dns.nasked, 0);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, id_changed_fetches)
{
	struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
	struct stsdane_decision *d, *c;

	w->clock.now = T0 + 700;
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 600,
	    "v=STSv1; id=def", NULL));
	fake_fetch_body(&w->fetch, POLICY_NEW);
	d = run(w, "a.test", 0);
	cr_expect_eq(w->fetch.nstart, 1);
	cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS);
	cr_expect_eq(d->source, STSDANE_SOURCE_NETWORK);
	cr_expect_str_eq(d->policy_id, "def");
	cr_expect(d->nmx == 1 && strcmp(d->mx[0], "mx9.a.test") == 0);
	expect_expires(w, d, T0 + 700, 3600, "new policy");
	c = fake_cache_peek(&w->cache, "sts/a.test", NULL);
	cr_assert_not_null(c);
	cr_expect_str_eq(c->policy_id, "def");
	stsdane_decision_free(c);
	stsdane_decision_free(d);
	world_free(w);
}

static void
cf_status(struct fake_env *w)
{
	fake_fetch_fail(&w->fetch, STSDANE_PROBLEM_HTTP_STATUS);
}

static void
cf_tls(struct fake_env *w)
{
	fake_fetch_fail(&w->fetch, STSDANE_PROBLEM_TLS);
}

static void
cf_timeout(struct fake_env *w)
{
	fake_fetch_fail(&w->fetch, STSDANE_PROBLEM_TIMEOUT);
}

static void
cf_syntax(struct fake_env *w)
{
	fake_fetch_body(&w->fetch, POLICY_BAD);
}

static void
cf_host(struct fake_env *w)
{
	fake_dns_remove(&w->dns, "mta-sts.a.test", DNS_T_A);
}

static void
cf_media(struct fake_env *w)
{
	fake_fetch_fail(&w->fetch, STSDANE_PROBLEM_MEDIA_TYPE);
}

static const struct {
	const char *what;
	void (*setup)(struct fake_env *w);
	enum stsdane_problem problem;
	int fetches;
} change_fail_cases[] = {
	{"HTTP 404", cf_status, STSDANE_PROBLEM_HTTP_STATUS, 1},
	{"text/html", cf_media, STSDANE_PROBLEM_MEDIA_TYPE, 1},
	{"TLS", cf_tls, STSDANE_PROBLEM_TLS, 1},
	{"timeout", cf_timeout, STSDANE_PROBLEM_TIMEOUT, 1},
	{"syntax", cf_syntax, STSDANE_PROBLEM_POLICY_SYNTAX, 1},
	{"policy host", cf_host, STSDANE_PROBLEM_POLICY_HOST_DNS, 0},
};

Test(decide_cache, id_changed_fetch_fails_keeps_cached)
{
	size_t i;

	for (i = 0; i < NELEM(change_fail_cases); i++) {
		struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
		struct stsdane_decision *d;
		const char *what = change_fail_cases[i].what;

		w->clock.now = T0 + 700;
		ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0,
		    600, "v=STSv1; id=def", NULL));
		change_fail_cases[i].setup(w);
		d = run(w, "a.test", 0);
		expect_cached_abc(d, w->clock.now, what);
		cr_expect_eq(d->problem, change_fail_cases[i].problem,
		    "%s: problem %s", what, stsdane_problem_name(d->problem));
		cr_expect_eq(w->fetch.nstart, change_fail_cases[i].fetches,
		    "%s: fetches", what);
		stsdane_decision_free(d);

		/* a little later, still P, whatever is remembered */
		w->clock.now = T0 + 800;
		d = run(w, "a.test", 0);
		expect_cached_abc(d, w->clock.now, what);
		stsdane_decision_free(d);
		world_free(w);
	}
}

static void
keep_txt_gone(struct fake_env *w)
{
	fake_dns_remove(&w->dns, "_mta-sts.a.test", DNS_T_TXT);
}

static void
keep_txt_nodata(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "_mta-sts.a.test", DNS_T_TXT, DNS_NODATA,
	    0, 60));
}

static void
keep_txt_servfail(struct fake_env *w)
{
	txt_servfail(w);
}

static void
keep_txt_bogus(struct fake_env *w)
{
	txt_bogus(w);
}

static void
keep_txt_syntax(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 600,
	    "v=STSv1; id=", NULL));
}

static void
keep_txt_hang(struct fake_env *w)
{
	ok(fake_dns_hang(&w->dns, "_mta-sts.a.test", DNS_T_TXT));
}

static const struct {
	const char *what;
	void (*setup)(struct fake_env *w);
	enum stsdane_problem problem;
} keep_cases[] = {
	{"TXT removed", keep_txt_gone, STSDANE_PROBLEM_TXT_MISSING},
	{"TXT NODATA", keep_txt_nodata, STSDANE_PROBLEM_TXT_MISSING},
	{"TXT SERVFAIL", keep_txt_servfail, STSDANE_PROBLEM_DNS_TEMPFAIL},
	{"TXT bogus", keep_txt_bogus, STSDANE_PROBLEM_DNS_BOGUS},
	{"TXT syntax", keep_txt_syntax, STSDANE_PROBLEM_TXT_SYNTAX},
	{"TXT times out", keep_txt_hang, STSDANE_PROBLEM_DNS_TEMPFAIL},
};

Test(decide_cache, txt_trouble_keeps_cached, .timeout = 20)
{
	size_t i;
	int m;

	for (i = 0; i < NELEM(keep_cases); i++) {
		for (m = 0; m < 2; m++) {
			struct fake_env *w = cached_world(m ? FAKE_DNS_SYNC :
			    FAKE_DNS_ASYNC);
			struct stsdane_decision *d;
			const char *what = keep_cases[i].what;

			w->clock.now = T0 + 700;
			keep_cases[i].setup(w);
			d = run(w, "a.test", 0);
			expect_cached_abc(d, w->clock.now, what);
			cr_expect_eq(d->problem, keep_cases[i].problem,
			    "%s: problem %s", what,
			    stsdane_problem_name(d->problem));
			cr_expect_eq(w->fetch.nstart, 0, "%s: fetched", what);
			stsdane_decision_free(d);
			world_free(w);
		}
	}
}

Test(decide_cache, fetched_mode_none_replaces_enforce)
{
	struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
	struct stsdane_decision *d, *c;

	w->clock.now = T0 + 700;
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 600,
	    "v=STSv1; id=off", NULL));
	fake_fetch_body(&w->fetch, POLICY_NONE);
	d = run(w, "a.test", 0);
	cr_expect_eq(w->fetch.nstart, 1);
	cr_expect_eq(d->mode, STSDANE_MODE_NONE, "%s", d->reason);
	cr_expect_eq(d->require_tls, 0);
	cr_expect_eq(d->tempfail, 0);
	cr_expect_str_eq(d->policy_id, "off");
	stsdane_decision_free(d);
	c = fake_cache_peek(&w->cache, "sts/a.test", NULL);
	cr_assert_not_null(c);
	cr_expect_eq(c->mode, STSDANE_MODE_NONE);
	stsdane_decision_free(c);

	/* and the enforce policy does not come back from the cache */
	reset_counts(w);
	w->clock.now = T0 + 800;
	d = run(w, "a.test", 0);
	cr_expect_eq(d->mode, STSDANE_MODE_NONE);
	cr_expect_eq(d->require_tls, 0);
	cr_expect_eq(d->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(w->dns.nasked, 0);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, expired_policy_never_applied)
{
	struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	/* TXT gone after max_age: nothing left to apply */
	w->clock.now = T0 + 86400;
	fake_dns_remove(&w->dns, "_mta-sts.a.test", DNS_T_TXT);
	d = run(w, "a.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_NONE, "%s", d->reason);
	cr_expect_eq(d->require_tls, 0);
	cr_expect_eq(d->tempfail, 0);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_TXT_MISSING);
	cr_expect(!fake_cache_has(&w->cache, "sts/a.test"),
	    "expired policy still stored");
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, expired_policy_txt_servfail_is_tempfail)
{
	struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	w->clock.now = T0 + 86401;
	txt_servfail(w);
	d = run(w, "a.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_NONE, "%s", d->reason);
	cr_expect_eq(d->tempfail, 1);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_DNS_TEMPFAIL);
	stsdane_decision_free(d);
	world_free(w);
}

/*
 * max_age shorter than the TXT recheck: expiry still wins.  The "ans"
 * record is stored until min(TXT recheck, DANE marker), not bounded by
 * the policy's own end, so the expired policy is served from it.
 */
Test(decide_cache, bug_ans_outlives_policy_max_age)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	sts_world(w);
	ok(fake_dns_answer(&w->dns, "a.test", DNS_T_MX, 0, 7200,
	    "10 mx1.a.test", NULL));
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 3600,
	    "v=STSv1; id=abc", NULL));
	fake_fetch_body(&w->fetch, "version: STSv1\nmode: enforce\n"
	    "mx: mx1.a.test\nmax_age: 400\n");
	d = run(w, "a.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_MTASTS);
	expect_expires(w, d, T0, 400, "short max_age");
	stsdane_decision_free(d);

	reset_counts(w);
	w->clock.now = T0 + 500;
	fake_fetch_fail(&w->fetch, STSDANE_PROBLEM_CONNECT);
	d = run(w, "a.test", 0);
	cr_expect_eq(w->fetch.nstart, 1, "expired policy not refetched");
	cr_expect_eq(d->mechanism, STSDANE_MECH_NONE,
	    "expired policy applied: %s", d->reason);
	cr_expect_eq(d->require_tls, 0);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_CONNECT);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, refresh_fetches_with_same_id)
{
	struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	w->clock.now = T0 + 10;
	fake_fetch_body(&w->fetch, POLICY_TESTING);
	d = run(w, "a.test", STSDANE_QUERY_REFRESH);
	cr_expect_eq(w->fetch.nstart, 1);
	cr_expect(w->dns.nasked > 0);
	cr_expect_eq(d->source, STSDANE_SOURCE_NETWORK);
	cr_expect_eq(d->mode, STSDANE_MODE_TESTING, "%s", d->reason);
	expect_expires(w, d, T0 + 10, 604800, "refreshed policy");
	stsdane_decision_free(d);

	/* the refreshed policy is what the cache serves next */
	reset_counts(w);
	w->clock.now = T0 + 20;
	d = run(w, "a.test", 0);
	cr_expect_eq(d->mode, STSDANE_MODE_TESTING);
	cr_expect_eq(d->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(w->dns.nasked, 0);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, refresh_fetch_fails_keeps_cached)
{
	struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	w->clock.now = T0 + 10;
	fake_fetch_fail(&w->fetch, STSDANE_PROBLEM_TLS);
	d = run(w, "a.test", STSDANE_QUERY_REFRESH);
	cr_expect_eq(w->fetch.nstart, 1);
	expect_cached_abc(d, w->clock.now, "refresh failed");
	cr_expect_eq(d->problem, STSDANE_PROBLEM_TLS);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, no_cache_fetches_every_time)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	int k;

	sts_world(w);
	for (k = 0; k < 3; k++) {
		w->clock.now = T0 + k;
		d = run(w, "a.test", 0);
		cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS);
		cr_expect_eq(d->source, STSDANE_SOURCE_NETWORK);
		stsdane_decision_free(d);
	}
	cr_expect_eq(w->fetch.nstart, 3);
	cr_expect_eq(w->cache.nget + w->cache.nput + w->cache.ndel, 0);
	world_free(w);
}

Test(decide_cache, broken_cache_still_decides)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	sts_world(w);
	w->cache.fail = 1;
	d = run(w, "a.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS);
	cr_expect_eq(w->fetch.nstart, 1);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, damaged_record_is_a_miss)
{
	struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	size_t i;

	for (i = 0; i < w->cache.n; i++)
		if (strcmp(w->cache.e[i].key, "sts/a.test") == 0 ||
		    strcmp(w->cache.e[i].key, "ans/a.test") == 0)
			w->cache.e[i].val[w->cache.e[i].len - 1] ^= 0x55;
	w->clock.now = T0 + 10;
	d = run(w, "a.test", 0);
	cr_expect_eq(w->fetch.nstart, 1, "damaged policy was used");
	cr_expect_eq(d->source, STSDANE_SOURCE_NETWORK);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, damaged_answer_falls_back_to_parts)
{
	struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	size_t i;

	for (i = 0; i < w->cache.n; i++)
		if (strcmp(w->cache.e[i].key, "ans/a.test") == 0)
			w->cache.e[i].val[0] ^= 0x55;
	w->clock.now = T0 + 10;
	d = run(w, "a.test", 0);
	expect_cached_abc(d, w->clock.now, "damaged answer");
	cr_expect_eq(w->dns.nasked, 0);
	cr_expect_eq(w->fetch.nstart, 0);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, txt_missing_remembered)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	sts_world(w);
	fake_dns_remove(&w->dns, "_mta-sts.a.test", DNS_T_TXT);
	d = run(w, "a.test", 0);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_TXT_MISSING);
	stsdane_decision_free(d);

	reset_counts(w);
	w->clock.now = T0 + 60;
	d = run(w, "a.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_NONE);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_TXT_MISSING);
	cr_expect_eq(d->tempfail, 0);
	cr_expect_eq(d->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(w->dns.nasked, 0);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, fetch_failure_remembered_briefly)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	sts_world(w);
	fake_fetch_fail(&w->fetch, STSDANE_PROBLEM_TLS);
	d = run(w, "a.test", 0);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_TLS);
	stsdane_decision_free(d);

	reset_counts(w);
	w->clock.now = T0 + 100;
	d = run(w, "a.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_NONE);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_TLS);
	cr_expect_eq(w->fetch.nstart, 0);
	stsdane_decision_free(d);

	/* past the failure window the fetch is tried again */
	reset_counts(w);
	w->clock.now = T0 + 301;
	fake_fetch_body(&w->fetch, POLICY_ENFORCE);
	d = run(w, "a.test", 0);
	cr_expect_eq(w->fetch.nstart, 1);
	cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS);
	stsdane_decision_free(d);
	world_free(w);
}

/*
 * A TXT lookup that failed while a policy was cached is remembered as
 * "neg" with problem DNS_TEMPFAIL.  Once the policy expires inside that
 * window, from_cache() serves the marker as "no policy" (tempfail 0):
 * "try again" turned into "no policy", which the network path, with the
 * same DNS, answers as tempfail.
 */
static void
bug_tempfail_marker(enum dns_status st, enum stsdane_problem problem)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	sts_world(w);
	ok(fake_dns_answer(&w->dns, "a.test", DNS_T_MX, 0, 7200,
	    "10 mx1.a.test", NULL));
	fake_fetch_body(&w->fetch, "version: STSv1\nmode: enforce\n"
	    "mx: mx1.a.test\nmax_age: 1000\n");
	d = run(w, "a.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_MTASTS);
	stsdane_decision_free(d);

	/* T0+800: TXT fails, P kept */
	w->clock.now = T0 + 800;
	ok(fake_dns_status(&w->dns, "_mta-sts.a.test", DNS_T_TXT, st, 0, 0));
	d = run(w, "a.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_MTASTS);
	cr_assert_eq(d->problem, problem);
	stsdane_decision_free(d);

	/* T0+1050: P expired, the TXT lookup still fails */
	w->clock.now = T0 + 1050;
	d = run(w, "a.test", 0);
	cr_expect_neq(d->mechanism, STSDANE_MECH_MTASTS, "policy applied "
	    "%lld s after it expired: %s", (long long)(w->clock.now - T0 -
	    1000), d->reason);
	cr_expect_eq(d->tempfail, 1, "a cached '%s' became 'no policy' "
	    "(tempfail %d, source %s): %s", stsdane_problem_name(problem),
	    d->tempfail, stsdane_source_name(d->source), d->reason);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_cache, bug_txt_servfail_marker_outlives_policy)
{
	bug_tempfail_marker(DNS_TEMPFAIL, STSDANE_PROBLEM_DNS_TEMPFAIL);
}

Test(decide_cache, bug_txt_bogus_marker_outlives_policy)
{
	bug_tempfail_marker(DNS_BOGUS, STSDANE_PROBLEM_DNS_BOGUS);
}

/* ---- every tier, through decide() --------------------------------------- */

/* Swap the world's remember for one with a memo and an answers file. */
static void
with_tiers(struct fake_env *w, unsigned memo, const char *ans_dir)
{
	remember_free(w->env.mem);
	w->env.mem = remember_new_store(&fake_cache_ops, &w->cache, memo,
	    ans_dir);
	cr_assert_not_null(w->env.mem);
}

Test(decide_tiers, memo_then_answers_file_then_store)
{
	char dir[] = "/tmp/stsdane-tiers-XXXXXX", path[64];
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	int gets;

	cr_assert_not_null(mkdtemp(dir));
	sts_world(w);
	with_tiers(w, 8, dir);
	d = run(w, "a.test", 0);
	cr_expect_eq(d->source, STSDANE_SOURCE_NETWORK);
	stsdane_decision_free(d);

	/* the memo: no DNS, no store */
	reset_counts(w);
	gets = w->cache.nget;
	d = run(w, "a.test", 0);
	cr_expect_eq(d->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(w->dns.nasked, 0);
	cr_expect_eq(w->cache.nget, gets, "memo hit read the store");
	stsdane_decision_free(d);

	/* another process: the answers file, still no store */
	with_tiers(w, 8, dir);
	d = run(w, "a.test", 0);
	cr_expect_eq(d->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(w->dns.nasked, 0);
	cr_expect_eq(w->cache.nget, gets, "answers file hit read the store");
	stsdane_decision_free(d);

	/* no answers file: the store's answer, one read */
	with_tiers(w, 8, NULL);
	d = run(w, "a.test", 0);
	cr_expect_eq(d->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(w->dns.nasked, 0);
	cr_expect_eq(w->cache.nget, gets + 1);
	stsdane_decision_free(d);

	world_free(w);
	(void)snprintf(path, sizeof(path), "%s/stsdane.answers", dir);
	unlink(path);
	rmdir(dir);
}

/* a tempfail is asked again after 30 s, not before, and never stored */
Test(decide_tiers, tempfail_held_in_memo_only)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	sts_world(w);
	txt_servfail(w);
	with_tiers(w, 8, NULL);
	d = run(w, "a.test", 0);
	cr_assert(d->tempfail);
	stsdane_decision_free(d);
	cr_expect(!fake_cache_has(&w->cache, "ans/a.test"));

	reset_counts(w);
	w->clock.now += REM_SHORT_HOLD - 1;
	d = run(w, "a.test", 0);
	cr_expect(d->tempfail);
	cr_expect_eq(w->dns.nasked, 0, "tempfail not held");
	stsdane_decision_free(d);

	w->clock.now += 1;
	d = run(w, "a.test", 0);
	cr_expect_gt(w->dns.nasked, 0, "tempfail held past its 30 s");
	stsdane_decision_free(d);
	world_free(w);
}

/*
 * An MX answer whose TTL has run out (0, as a resolver hands back a
 * record about to expire) makes the whole answer stale at once: another
 * process (a new answers-file reader) must not get it, so that an MX
 * change is seen, and the routing that follows the decision's MX hosts
 * never sends mail to where the MX used to point.
 */
Test(decide_tiers, answer_with_a_stale_part_is_not_kept)
{
	char dir[] = "/tmp/stsdane-tiers-XXXXXX", path[64];
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	cr_assert_not_null(mkdtemp(dir));
	sts_world(w);
	ok(fake_dns_answer(&w->dns, "a.test", DNS_T_MX, 0, 0,
	    "10 mx1.a.test", NULL));
	with_tiers(w, 8, dir);
	d = run(w, "a.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_MTASTS);
	cr_expect_leq(d->expires, (int64_t)T0, "expires %lld, policy's "
	    "max_age kept", (long long)d->expires);
	stsdane_decision_free(d);
	cr_expect(!fake_cache_has(&w->cache, "ans/a.test"));

	/* another process, a second later: the MX moved */
	with_tiers(w, 8, dir);
	w->clock.now = T0 + 1;
	reset_counts(w);
	ok(fake_dns_answer(&w->dns, "a.test", DNS_T_MX, 0, 300,
	    "10 mx2.a.test", NULL));
	d = run(w, "a.test", 0);
	cr_expect_gt(w->dns.nasked, 0, "stale answer served from a tier");
	cr_assert_gt(d->ndane, 0);
	cr_expect_str_eq(d->dane[0].name, "mx2.a.test");
	stsdane_decision_free(d);

	world_free(w);
	(void)snprintf(path, sizeof(path), "%s/stsdane.answers", dir);
	unlink(path);
	rmdir(dir);
}

/* Cache-only: what is remembered, or NOTFOUND without any DNS or HTTPS. */
Test(decide_tiers, cache_only_never_goes_to_the_network)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d = NULL;
	char err[128];

	sts_world(w);
	with_tiers(w, 8, NULL);
	cr_expect_eq(decide(&w->env, "a.test", STSDANE_QUERY_CACHE_ONLY, &d,
	    err, sizeof(err)), STSDANE_ERR_NOTFOUND);
	cr_expect_null(d);
	cr_expect_eq(w->dns.nasked, 0);
	cr_expect_eq(w->nget_dns, 0, "resolver set up");
	cr_expect_eq(w->fetch.nstart, 0);

	d = run(w, "a.test", 0);
	stsdane_decision_free(d);
	reset_counts(w);
	d = NULL;
	cr_expect_eq(decide(&w->env, "a.test", STSDANE_QUERY_CACHE_ONLY, &d,
	    err, sizeof(err)), STSDANE_OK);
	cr_assert_not_null(d);
	cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS);
	cr_expect_eq(w->dns.nasked, 0);
	stsdane_decision_free(d);
	world_free(w);
}
