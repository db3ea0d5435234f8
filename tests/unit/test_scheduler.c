/*
 * test_scheduler.c - decide(): the scheduler's deadlines, when DNS or the fetch never answer,
 * and the per-address limits of --refresh's fetches
 *
 * Worlds from decide_world.h; tests named bug_* show a defect and fail
 * until it is fixed.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "decide_world.h"
#include "hostlimit.h"
#include "rdata.h"

/* ---- DNS and fetch that never answer ------------------------------------ */

static int64_t
elapsed_ms(const struct fake_env *w, int64_t start)
{
	return w->clock.mono - start;
}

Test(decide_timeout, nothing_answers, .timeout = 10)
{
	int m;

	for (m = 0; m < 2; m++) {
		struct fake_env *w = world_new(1, m ? FAKE_DNS_SYNC :
		    FAKE_DNS_ASYNC);
		struct stsdane_decision *d;
		int64_t start = w->clock.mono;

		ok(fake_dns_hang(&w->dns, "a.test", DNS_T_MX));
		ok(fake_dns_hang(&w->dns, "_mta-sts.a.test", DNS_T_TXT));
		d = run(w, "a.test", 0);
		cr_expect_eq(d->tempfail, 1, "%s", d->reason);
		cr_expect_eq(d->problem, STSDANE_PROBLEM_DNS_TEMPFAIL);
		cr_expect_geq(elapsed_ms(w, start), 5000);
		cr_expect_leq(elapsed_ms(w, start), 5000 + 1000,
		    "took %lld ms", (long long)elapsed_ms(w, start));
		cr_expect_geq(w->dns.ncancel, 1);
		cr_expect_eq(w->dns.nqueue, 0);
		cr_expect_eq(w->fetch.nstart, 0);
		stsdane_decision_free(d);
		world_free(w);
	}
}

Test(decide_timeout, txt_never_answers, .timeout = 10)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	int64_t start = w->clock.mono;

	sts_world(w);
	ok(fake_dns_hang(&w->dns, "_mta-sts.a.test", DNS_T_TXT));
	d = run(w, "a.test", 0);
	cr_expect_eq(d->tempfail, 1, "%s", d->reason);
	cr_expect_eq(d->mechanism, STSDANE_MECH_NONE);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_DNS_TEMPFAIL);
	cr_expect_leq(elapsed_ms(w, start), 6000);
	cr_expect(!fake_cache_has(&w->cache, "neg/a.test"),
	    "a timeout remembered as 'no policy'");
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_timeout, tlsa_never_answers, .timeout = 10)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	int64_t start = w->clock.mono;

	dane_world(w);
	ok(fake_dns_hang(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA));
	d = run(w, "b.test", 0);
	cr_expect_eq(d->tempfail, 1, "%s", d->reason);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_DNS_TEMPFAIL);
	cr_expect_neq(d->mechanism, STSDANE_MECH_MTASTS);
	cr_expect_eq(w->fetch.nstart, 0, "fell through to MTA-STS");
	cr_expect_leq(elapsed_ms(w, start), 6000);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_timeout, policy_host_never_answers, .timeout = 10)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	int64_t start = w->clock.mono;

	sts_world(w);
	ok(fake_dns_hang(&w->dns, "mta-sts.a.test", DNS_T_A));
	d = run(w, "a.test", 0);
	cr_expect_eq(d->tempfail, 0, "%s", d->reason);
	cr_expect_eq(d->mechanism, STSDANE_MECH_NONE);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_POLICY_HOST_DNS);
	cr_expect_eq(w->fetch.nstart, 0);
	cr_expect_leq(elapsed_ms(w, start), 6000);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_timeout, fetch_never_finishes, .timeout = 10)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	int64_t start = w->clock.mono;

	sts_world(w);
	w->fetch.hang = 1;
	d = run(w, "a.test", 0);
	cr_expect_eq(d->tempfail, 0, "%s", d->reason);
	cr_expect_eq(d->mechanism, STSDANE_MECH_NONE);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_TIMEOUT);
	cr_expect_eq(w->fetch.nstart, 1);
	cr_expect_eq(w->fetch.nabort, 1);
	cr_expect_eq(w->fetch.nfinish, 0);
	cr_expect_eq(w->fetch.running, 0);
	/* fetch_timeout 5 s, plus the one second of grace */
	cr_expect_leq(elapsed_ms(w, start), 5000 + 1000 + 1500,
	    "took %lld ms", (long long)elapsed_ms(w, start));
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_timeout, fetch_hangs_cached_policy_kept, .timeout = 10)
{
	struct fake_env *w = cached_world(FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	w->clock.now = T0 + 700;
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 600,
	    "v=STSv1; id=def", NULL));
	w->fetch.hang = 1;
	d = run(w, "a.test", 0);
	expect_cached_abc(d, w->clock.now, "fetch hangs");
	cr_expect_eq(d->problem, STSDANE_PROBLEM_TIMEOUT);
	cr_expect_eq(w->fetch.nabort, 1);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_timeout, short_dns_timeout, .timeout = 10)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	int64_t start = w->clock.mono;

	w->settings.dns_timeout_ms = 300;
	dane_world(w);
	ok(fake_dns_hang(&w->dns, "mx1.b.test", DNS_T_AAAA));
	d = run(w, "b.test", 0);
	cr_expect_eq(d->tempfail, 1, "%s", d->reason);
	cr_expect_leq(elapsed_ms(w, start), 300 + 200);
	stsdane_decision_free(d);
	world_free(w);
}

/* ---- per-address limits (--refresh) ------------------------------------ */

/*
 * The policy host's address had a start 400 ms from now, and 10 starts
 * a second are allowed: the fetch waits until 500 ms, while the loop
 * goes on, and then has its whole fetch_timeout.
 */
Test(decide_hostlimit, fetch_waits_then_has_its_deadline, .timeout = 10)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	int64_t start = w->clock.mono, at;

	hostlimit_reset();
	sts_world(w);
	w->env.host_limits = 1;
	w->settings.refresh_host_concurrency = 1;
	w->settings.refresh_host_rate = 10;
	w->dns.process_advance_ms = 100;
	w->fetch.hang = 1;
	cr_assert_eq(hostlimit_acquire("127.0.0.1", 0, 10, start + 400, &at),
	    HOSTLIMIT_HELD);
	hostlimit_release("127.0.0.1");
	d = run(w, "a.test", 0);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_TIMEOUT, "%s", d->reason);
	cr_expect_eq(w->fetch.nstart, 1);
	cr_expect_eq(w->fetch.nabort, 1);
	cr_expect_geq(elapsed_ms(w, start), 500 + 5000 + 1000,
	    "took %lld ms", (long long)elapsed_ms(w, start));
	cr_expect_geq(hostlimit_waited_ms(), 100);
	/* the slot was given back */
	cr_expect_eq(hostlimit_acquire("127.0.0.1", 1, 0, w->clock.mono, &at),
	    HOSTLIMIT_HELD);
	stsdane_decision_free(d);
	world_free(w);
}

/* Without host_limits (a delivery) nothing waits, whatever is held. */
Test(decide_hostlimit, delivery_not_limited, .timeout = 10)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	int64_t at;

	hostlimit_reset();
	sts_world(w);
	w->settings.refresh_host_concurrency = 1;
	cr_assert_eq(hostlimit_acquire("127.0.0.1", 1, 0, w->clock.mono, &at),
	    HOSTLIMIT_HELD);
	d = run(w, "a.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS, "%s", d->reason);
	cr_expect_eq(w->fetch.nstart, 1);
	stsdane_decision_free(d);
	world_free(w);
}

/* A finished fetch gives its slot back. */
Test(decide_hostlimit, finished_fetch_releases, .timeout = 10)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	int64_t at;

	hostlimit_reset();
	sts_world(w);
	w->env.host_limits = 1;
	w->settings.refresh_host_concurrency = 1;
	w->settings.refresh_host_rate = 0;
	d = run(w, "a.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS, "%s", d->reason);
	cr_expect_eq(hostlimit_acquire("127.0.0.1", 1, 0, w->clock.mono, &at),
	    HOSTLIMIT_HELD);
	stsdane_decision_free(d);
	world_free(w);
}
