/*
 * NAME
 *	decide_world.c - worlds built from the fakes, for the decide() tests
 * DESCRIPTION
 *	A world is a fake_env: scripted DNS, a scripted fetch, optionally
 *	the in-memory store behind struct remember, and a clock the test
 *	moves.  Table rows run four times: with answers queued until
 *	process() and with answers delivered inside query(), each with and
 *	without a store.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "decide_world.h"

struct fake_env *
world_new(int with_cache, enum fake_dns_mode mode)
{
	struct fake_env *w = calloc(1, sizeof(*w));

	cr_assert_not_null(w);
	fake_env_init(w, with_cache);
	w->dns.mode = mode;
	return w;
}

void
world_free(struct fake_env *w)
{
	fake_env_release(w);
	free(w);
}

struct stsdane_decision *
run(struct fake_env *w, const char *domain, unsigned flags)
{
	struct stsdane_decision *d = NULL;
	char err[SD_ERRLEN] = "";
	int rc;

	rc = decide(&w->env, domain, flags, &d, err, sizeof(err));
	cr_assert_eq(rc, STSDANE_OK, "decide('%s'): %d (%s)", domain, rc, err);
	cr_assert_not_null(d, "decide('%s'): no decision", domain);
	cr_assert_str_eq(d->domain, domain);
	cr_assert_not_null(d->reason, "decide('%s'): no reason", domain);
	return d;
}

void
reset_counts(struct fake_env *w)
{
	fake_dns_reset_counts(&w->dns);
	fake_fetch_reset_counts(&w->fetch);
	w->nget_dns = 0;
	w->nget_fetch = 0;
}

void
ok(int rc)
{
	cr_assert_eq(rc, 0, "a fake could not be scripted");
}

const char *
mode_label(int m)
{
	static const char *const l[] = { "async, no cache", "sync, no cache",
	    "async, cache", "sync, cache" };

	return l[m & 3];
}

/*
 * a.test: MTA-STS only.  Insecure MX (TTL 3600), TXT id=abc (TTL 600),
 * policy host with an address, enforce policy (max_age 86400).
 */
void
sts_world(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "a.test", DNS_T_MX, 0, 3600,
	    "10 mx1.a.test", "20 mx2.a.test", NULL));
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 600,
	    "v=spf1 -all", "v=STSv1; id=abc", NULL));
	ok(fake_dns_answer(&w->dns, "mta-sts.a.test", DNS_T_A, 0, 300,
	    "127.0.0.1", NULL));
	ok(fake_dns_status(&w->dns, "mta-sts.a.test", DNS_T_AAAA, DNS_NODATA,
	    0, 300));
	fake_fetch_body(&w->fetch, POLICY_ENFORCE);
}

/*
 * b.test: DANE, and MTA-STS published too.  Secure MX (3600), secure A
 * (1800), secure AAAA NODATA (1800), secure TLSA 3 1 1 (600).
 */
void
dane_world(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "b.test", DNS_T_MX, 1, 3600,
	    "10 mx1.b.test", NULL));
	ok(fake_dns_answer(&w->dns, "mx1.b.test", DNS_T_A, 1, 1800,
	    "192.0.2.1", NULL));
	ok(fake_dns_status(&w->dns, "mx1.b.test", DNS_T_AAAA, DNS_NODATA, 1,
	    1800));
	ok(fake_dns_answer(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA, 1,
	    600, "3 1 1 " HEX32, NULL));
	ok(fake_dns_answer(&w->dns, "_mta-sts.b.test", DNS_T_TXT, 1, 600,
	    "v=STSv1; id=bbb", NULL));
	ok(fake_dns_answer(&w->dns, "mta-sts.b.test", DNS_T_A, 1, 300,
	    "127.0.0.2", NULL));
	fake_fetch_body(&w->fetch, POLICY_ENFORCE);
}

/*
 * An MTA-STS decision is valid for a while after `now', and never past
 * the policy's own end, fetched + max_age; the stored policy carries
 * exactly that end.
 */
void
expect_expires(const struct fake_env *w, const struct stsdane_decision *d,
    int64_t fetched, uint32_t max_age, const char *what)
{
	struct stsdane_decision *c;

	cr_expect(d->expires > w->clock.now &&
	    d->expires <= fetched + (int64_t)max_age,
	    "%s: expires %lld, now %lld, policy ends %lld", what,
	    (long long)d->expires, (long long)w->clock.now,
	    (long long)(fetched + max_age));
	if (w->env.mem == NULL)
		return;
	c = fake_cache_peek(&w->cache, "sts/a.test", NULL);
	cr_assert_not_null(c, "%s: policy not stored", what);
	cr_expect_eq(c->expires, fetched + (int64_t)max_age,
	    "%s: stored policy ends %lld", what, (long long)c->expires);
	stsdane_decision_free(c);
}

void
txt_servfail(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "_mta-sts.a.test", DNS_T_TXT,
	    DNS_TEMPFAIL, 0, 0));
}


void
txt_bogus(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "_mta-sts.a.test", DNS_T_TXT, DNS_BOGUS,
	    0, 0));
}


/* First decision at T0: fetched, enforce, id abc. */
struct fake_env *
cached_world(enum fake_dns_mode mode)
{
	struct fake_env *w = world_new(1, mode);
	struct stsdane_decision *d;

	sts_world(w);
	d = run(w, "a.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_MTASTS, "%s", d->reason);
	cr_assert_eq(w->fetch.nstart, 1);
	stsdane_decision_free(d);
	reset_counts(w);
	return w;
}


void
expect_cached_abc(const struct stsdane_decision *d, int64_t now,
    const char *what)
{
	cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS, "%s: mechanism (%s)",
	    what, d->reason);
	cr_expect_eq(d->mode, STSDANE_MODE_ENFORCE, "%s: mode", what);
	cr_expect_eq(d->require_tls, 1, "%s: require_tls", what);
	cr_expect_eq(d->tempfail, 0, "%s: tempfail", what);
	cr_expect_eq(d->source, STSDANE_SOURCE_CACHE, "%s: source", what);
	cr_expect(d->policy_id != NULL && strcmp(d->policy_id, "abc") == 0,
	    "%s: policy_id '%s'", what, d->policy_id ? d->policy_id : "");
	cr_expect_eq(d->max_age, 86400, "%s: max_age", what);
	cr_expect(d->expires > now && d->expires <= (int64_t)T0 + 86400,
	    "%s: expires %lld, the policy ends at %lld", what,
	    (long long)d->expires, (long long)T0 + 86400);
	cr_expect(d->nmx == 2 && strcmp(d->mx[0], "mx1.a.test") == 0,
	    "%s: mx list", what);
}

