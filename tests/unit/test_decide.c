/*
 * test_decide.c - decide(): DANE first, then MTA-STS, with the cache
 *
 * Every test builds a world out of the fakes in fakes.h: scripted DNS
 * answers, a scripted policy fetch, an in-memory cache and a clock the
 * test moves.  Table rows run four times: with answers queued until
 * process() and with answers delivered inside query(), each with and
 * without a cache.  Tests named bug_* show a defect in src/decide.c
 * and fail until it is fixed.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"
#include "rdata.h"

#define T0 1700000000
#define HEX32 "00112233445566778899aabbccddeeff" \
	"00112233445566778899aabbccddeeff"
#define HEX31 "00112233445566778899aabbccddeeff" \
	"00112233445566778899aabbccddee"

#define POLICY_ENFORCE "version: STSv1\nmode: enforce\nmx: mx1.a.test\n" \
	"mx: *.a.test\nmax_age: 86400\n"
#define POLICY_TESTING "version: STSv1\r\nmode: testing\r\n" \
	"mx: mx1.a.test\r\nmax_age: 604800\r\n"
#define POLICY_NONE "version: STSv1\nmode: none\nmax_age: 86400\n"
#define POLICY_BAD "version: STSv1\nmode: enforce\nmx: mx1.a.test\n" \
	"max_age: soon\n"
#define POLICY_NEW "version: STSv1\nmode: enforce\nmx: mx9.a.test\n" \
	"max_age: 3600\n"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------ */

static struct fake_env *
world_new(int with_cache, enum fake_dns_mode mode)
{
	struct fake_env *w = calloc(1, sizeof(*w));

	cr_assert_not_null(w);
	fake_env_init(w, with_cache);
	w->dns.mode = mode;
	return w;
}

static void
world_free(struct fake_env *w)
{
	fake_env_release(w);
	free(w);
}

static struct stsdane_decision *
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

static void
reset_counts(struct fake_env *w)
{
	fake_dns_reset_counts(&w->dns);
	fake_fetch_reset_counts(&w->fetch);
	w->nget_dns = 0;
	w->nget_fetch = 0;
}

static void
ok(int rc)
{
	cr_assert_eq(rc, 0, "a fake could not be scripted");
}

static const char *
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
static void
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
static void
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
static void
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

/* ---- the fakes themselves ----------------------------------------------- */

Test(decide_fakes, rdata_encoding)
{
	unsigned char b[600];
	char out[SD_MAX_TXT], name[SD_MAX_NAME], big[600];
	unsigned pref;
	uint8_t u, s, m;
	const unsigned char *data;
	size_t dlen, n;
	int len;

	len = fake_rdata(DNS_T_MX, "10 mx1.a.test", b, sizeof(b));
	cr_assert_gt(len, 0);
	cr_assert_eq(rdata_mx(b, (size_t)len, &pref, name, sizeof(name)), 0);
	cr_expect_eq(pref, 10);
	cr_expect_str_eq(name, "mx1.a.test");

	len = fake_rdata(DNS_T_MX, "0 .", b, sizeof(b));
	cr_assert_eq(len, 3);
	cr_assert_eq(rdata_mx(b, (size_t)len, &pref, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "");

	len = fake_rdata(DNS_T_TXT, "v=STSv1; id=abc", b, sizeof(b));
	cr_assert_eq(len, 16);
	cr_assert_eq(rdata_txt(b, (size_t)len, out, sizeof(out), &n), 0);
	cr_expect_str_eq(out, "v=STSv1; id=abc");

	memset(big, 'x', 300);
	big[300] = '\0';
	len = fake_rdata(DNS_T_TXT, big, b, sizeof(b));
	cr_assert_eq(len, 302, "two character-strings");
	cr_assert_eq(rdata_txt(b, (size_t)len, out, sizeof(out), &n), 0);
	cr_expect_eq(n, 300);

	len = fake_rdata(DNS_T_TLSA, "3 1 1 " HEX32, b, sizeof(b));
	cr_assert_eq(len, 35);
	cr_assert_eq(rdata_tlsa(b, (size_t)len, &u, &s, &m, &data, &dlen), 0);
	cr_expect(u == 3 && s == 1 && m == 1 && dlen == 32 &&
	    data[0] == 0x00 && data[31] == 0xff);

	cr_expect_eq(fake_rdata(DNS_T_A, "127.0.0.1", b, sizeof(b)), 4);
	cr_expect(rdata_addr(DNS_T_A, b, 4, out, sizeof(out)) == 0 &&
	    strcmp(out, "127.0.0.1") == 0);
	cr_expect_eq(fake_rdata(DNS_T_AAAA, "::1", b, sizeof(b)), 16);
	cr_expect_eq(fake_rdata(DNS_T_CNAME, "x.test.", b, sizeof(b)), 8);
	cr_expect_eq(fake_rdata(DNS_T_MX, "\\# 00 0a c0 0c", b, sizeof(b)),
	    4);
	cr_expect_eq(fake_rdata(DNS_T_A, "300.1.1.1", b, sizeof(b)), -1);
	cr_expect_eq(fake_rdata(DNS_T_TLSA, "3 1 1 0", b, sizeof(b)), -1);
}

/* ---- MTA-STS, one decision ---------------------------------------------- */

static void
set_testing(struct fake_env *w)
{
	fake_fetch_body(&w->fetch, POLICY_TESTING);
}

static void
set_mode_none(struct fake_env *w)
{
	fake_fetch_body(&w->fetch, POLICY_NONE);
}

static void
txt_nxdomain(struct fake_env *w)
{
	fake_dns_remove(&w->dns, "_mta-sts.a.test", DNS_T_TXT);
}

static void
txt_nodata(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "_mta-sts.a.test", DNS_T_TXT, DNS_NODATA,
	    0, 300));
}

static void
txt_not_sts(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 300,
	    "v=spf1 -all", "v=STSv10; id=x", NULL));
}

static void
txt_two(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 300,
	    "v=STSv1; id=one", "v=STSv1; id=two", NULL));
}

static void
txt_bad_id(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 300,
	    "v=STSv1; id=not-valid", NULL));
}

static void
txt_no_id(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 300,
	    "v=STSv1;", NULL));
}

static void
txt_servfail(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "_mta-sts.a.test", DNS_T_TXT,
	    DNS_TEMPFAIL, 0, 0));
}

static void
txt_bogus(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "_mta-sts.a.test", DNS_T_TXT, DNS_BOGUS,
	    0, 0));
}

static void
txt_malformed_rdata(struct fake_env *w)
{
	/* a length byte past the end: skipped, so no STS record at all */
	ok(fake_dns_answer(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 300,
	    "\\# 20 76 3d", NULL));
}

#define FETCH_FAIL(name, prob) \
static void name(struct fake_env *w) { fake_fetch_fail(&w->fetch, prob); }
FETCH_FAIL(fetch_http_status, STSDANE_PROBLEM_HTTP_STATUS)
FETCH_FAIL(fetch_media_type, STSDANE_PROBLEM_MEDIA_TYPE)
FETCH_FAIL(fetch_tls, STSDANE_PROBLEM_TLS)
FETCH_FAIL(fetch_timeout, STSDANE_PROBLEM_TIMEOUT)
FETCH_FAIL(fetch_too_large, STSDANE_PROBLEM_TOO_LARGE)
FETCH_FAIL(fetch_connect, STSDANE_PROBLEM_CONNECT)
FETCH_FAIL(fetch_redirect, STSDANE_PROBLEM_HTTP_REDIRECT)

static void
policy_host_no_addr(struct fake_env *w)
{
	fake_dns_remove(&w->dns, "mta-sts.a.test", DNS_T_A);
}

static void
policy_host_servfail(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "mta-sts.a.test", DNS_T_A, DNS_TEMPFAIL,
	    0, 0));
}

static void
policy_host_v6_only(struct fake_env *w)
{
	fake_dns_remove(&w->dns, "mta-sts.a.test", DNS_T_A);
	ok(fake_dns_answer(&w->dns, "mta-sts.a.test", DNS_T_AAAA, 0, 300,
	    "::1", NULL));
}

static void
policy_syntax(struct fake_env *w)
{
	fake_fetch_body(&w->fetch, POLICY_BAD);
}

static void
fetch_module_missing(struct fake_env *w)
{
	w->get_fetch_fails = 1;
}

static void
fetch_start_fails(struct fake_env *w)
{
	w->fetch.start_fails = 1;
}

static void
mx_nxdomain_sts(struct fake_env *w)
{
	fake_dns_remove(&w->dns, "a.test", DNS_T_MX);
}

struct sts_case {
	const char *what;
	void (*setup)(struct fake_env *w);
	enum stsdane_mechanism mech;
	enum stsdane_mode mode;
	int require_tls;
	int tempfail;
	enum stsdane_problem problem;
	int fetches;		/* fetches started */
	size_t nmx;
	uint32_t max_age;
};

static const struct sts_case sts_cases[] = {
	{"enforce", NULL, STSDANE_MECH_MTASTS, STSDANE_MODE_ENFORCE, 1, 0,
	    STSDANE_PROBLEM_NONE, 1, 2, 86400},
	{"testing", set_testing, STSDANE_MECH_MTASTS, STSDANE_MODE_TESTING,
	    0, 0, STSDANE_PROBLEM_NONE, 1, 1, 604800},
	{"mode none", set_mode_none, STSDANE_MECH_MTASTS, STSDANE_MODE_NONE,
	    0, 0, STSDANE_PROBLEM_NONE, 1, 0, 86400},
	{"no TXT (NXDOMAIN)", txt_nxdomain, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_TXT_MISSING, 0, 0, 0},
	{"no TXT (NODATA)", txt_nodata, STSDANE_MECH_NONE, STSDANE_MODE_NONE,
	    0, 0, STSDANE_PROBLEM_TXT_MISSING, 0, 0, 0},
	{"TXT, none v=STSv1", txt_not_sts, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_TXT_MISSING, 0, 0, 0},
	{"TXT malformed rdata", txt_malformed_rdata, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_TXT_MISSING, 0, 0, 0},
	{"two v=STSv1", txt_two, STSDANE_MECH_NONE, STSDANE_MODE_NONE, 0, 0,
	    STSDANE_PROBLEM_TXT_MULTIPLE, 0, 0, 0},
	{"bad id", txt_bad_id, STSDANE_MECH_NONE, STSDANE_MODE_NONE, 0, 0,
	    STSDANE_PROBLEM_TXT_SYNTAX, 0, 0, 0},
	{"no id", txt_no_id, STSDANE_MECH_NONE, STSDANE_MODE_NONE, 0, 0,
	    STSDANE_PROBLEM_TXT_SYNTAX, 0, 0, 0},
	{"TXT SERVFAIL", txt_servfail, STSDANE_MECH_NONE, STSDANE_MODE_NONE,
	    1, 1, STSDANE_PROBLEM_DNS_TEMPFAIL, 0, 0, 0},
	{"TXT bogus", txt_bogus, STSDANE_MECH_NONE, STSDANE_MODE_NONE, 1, 1,
	    STSDANE_PROBLEM_DNS_BOGUS, 0, 0, 0},
	{"HTTP 404", fetch_http_status, STSDANE_MECH_NONE, STSDANE_MODE_NONE,
	    0, 0, STSDANE_PROBLEM_HTTP_STATUS, 1, 0, 0},
	{"text/html", fetch_media_type, STSDANE_MECH_NONE, STSDANE_MODE_NONE,
	    0, 0, STSDANE_PROBLEM_MEDIA_TYPE, 1, 0, 0},
	{"TLS failure", fetch_tls, STSDANE_MECH_NONE, STSDANE_MODE_NONE, 0, 0,
	    STSDANE_PROBLEM_TLS, 1, 0, 0},
	{"fetch timeout", fetch_timeout, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_TIMEOUT, 1, 0, 0},
	{"body too large", fetch_too_large, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_TOO_LARGE, 1, 0, 0},
	{"connect failure", fetch_connect, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_CONNECT, 1, 0, 0},
	{"redirect", fetch_redirect, STSDANE_MECH_NONE, STSDANE_MODE_NONE, 0,
	    0, STSDANE_PROBLEM_HTTP_REDIRECT, 1, 0, 0},
	{"policy host without address", policy_host_no_addr,
	    STSDANE_MECH_NONE, STSDANE_MODE_NONE, 0, 0,
	    STSDANE_PROBLEM_POLICY_HOST_DNS, 0, 0, 0},
	{"policy host SERVFAIL", policy_host_servfail, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_POLICY_HOST_DNS, 0, 0, 0},
	{"policy host IPv6 only", policy_host_v6_only, STSDANE_MECH_MTASTS,
	    STSDANE_MODE_ENFORCE, 1, 0, STSDANE_PROBLEM_NONE, 1, 2, 86400},
	{"policy syntax error", policy_syntax, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_POLICY_SYNTAX, 1, 0, 0},
	{"fetch module missing", fetch_module_missing, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_INTERNAL, 0, 0, 0},
	{"fetch start fails", fetch_start_fails, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_INTERNAL, 1, 0, 0},
	{"MX NXDOMAIN, TXT valid", mx_nxdomain_sts, STSDANE_MECH_MTASTS,
	    STSDANE_MODE_ENFORCE, 1, 0, STSDANE_PROBLEM_NONE, 1, 2, 86400},
};

Test(decide_sts, table)
{
	size_t i;
	int m;

	for (i = 0; i < NELEM(sts_cases); i++) {
		const struct sts_case *c = &sts_cases[i];

		for (m = 0; m < 4; m++) {
			struct fake_env *w = world_new(m & 2, m & 1 ?
			    FAKE_DNS_SYNC : FAKE_DNS_ASYNC);
			struct stsdane_decision *d;
			const char *l = mode_label(m);

			sts_world(w);
			if (c->setup != NULL)
				c->setup(w);
			d = run(w, "a.test", 0);
			cr_expect_eq(d->mechanism, c->mech,
			    "%s (%s): mechanism %s (%s)", c->what, l,
			    stsdane_mechanism_name(d->mechanism), d->reason);
			cr_expect_eq(d->mode, c->mode, "%s (%s): mode %s",
			    c->what, l, stsdane_mode_name(d->mode));
			cr_expect_eq(d->require_tls, c->require_tls,
			    "%s (%s): require_tls", c->what, l);
			cr_expect_eq(d->tempfail, c->tempfail,
			    "%s (%s): tempfail (%s)", c->what, l, d->reason);
			cr_expect_eq(d->problem, c->problem,
			    "%s (%s): problem %s, want %s (%s)", c->what, l,
			    stsdane_problem_name(d->problem),
			    stsdane_problem_name(c->problem), d->reason);
			cr_expect_eq(d->no_mail, 0, "%s: no_mail", c->what);
			cr_expect_eq(d->source, STSDANE_SOURCE_NETWORK,
			    "%s (%s): source", c->what, l);
			cr_expect_eq(w->fetch.nstart, c->fetches,
			    "%s (%s): %d fetches, want %d", c->what, l,
			    w->fetch.nstart, c->fetches);
			cr_expect_eq(d->nmx, c->nmx, "%s (%s): nmx %zu",
			    c->what, l, d->nmx);
			cr_expect_eq(fake_dns_asked(&w->dns, "_mta-sts.a.test",
			    DNS_T_TXT), 1, "%s (%s): TXT asked once", c->what,
			    l);
			cr_expect_eq(fake_dns_asked(&w->dns,
			    "_25._tcp.mx1.a.test", 0), 0,
			    "%s (%s): TLSA asked under an insecure MX",
			    c->what, l);
			cr_expect_eq(w->dns.nqueue, 0, "%s (%s): lookups left",
			    c->what, l);
			cr_expect_eq(w->fetch.running, 0,
			    "%s (%s): fetch left running", c->what, l);
			if (c->mech == STSDANE_MECH_MTASTS) {
				cr_expect_str_eq(d->policy_id, "abc",
				    "%s (%s): policy_id", c->what, l);
				cr_expect_eq(d->max_age, c->max_age,
				    "%s (%s): max_age", c->what, l);
				expect_expires(w, d, T0, c->max_age, c->what);
			}
			if (c->fetches > 0) {
				cr_expect_str_eq(w->fetch.host,
				    "mta-sts.a.test", "%s: fetch host",
				    c->what);
				cr_expect_eq(w->fetch.naddrs, 1, "%s: addrs",
				    c->what);
				cr_expect_eq(w->fetch.max_body, SD_MAX_POLICY);
			}
			stsdane_decision_free(d);
			world_free(w);
		}
	}
}

Test(decide_sts, enforce_details)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	sts_world(w);
	d = run(w, "a.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_MTASTS);
	cr_assert_eq(d->nmx, 2);
	cr_expect_str_eq(d->mx[0], "mx1.a.test");
	cr_expect_str_eq(d->mx[1], "*.a.test");
	cr_expect_str_eq(w->fetch.addr0, "127.0.0.1");
	cr_expect_eq(w->fetch.timeout_ms, 5000);
	/* the MX hosts are reported, DANE or not, in preference order */
	cr_assert_eq(d->ndane, 2);
	cr_expect_str_eq(d->dane[0].name, "mx1.a.test");
	cr_expect_eq(d->dane[0].preference, 10);
	cr_expect_eq(d->dane[0].status, STSDANE_DANE_INSECURE);
	cr_expect_str_eq(d->dane[1].name, "mx2.a.test");
	cr_expect(strstr(d->reason, "abc") != NULL, "reason '%s'", d->reason);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_sts, policy_host_v6_address)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	sts_world(w);
	policy_host_v6_only(w);
	d = run(w, "a.test", 0);
	cr_expect_str_eq(w->fetch.addr0, "::1");
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_sts, resolver_unavailable)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d = NULL;
	char err[SD_ERRLEN] = "";

	sts_world(w);
	w->get_dns_fails = 1;
	cr_expect_eq(decide(&w->env, "a.test", 0, &d, err, sizeof(err)),
	    STSDANE_ERR_RESOLVER);
	cr_expect_null(d);
	cr_expect(err[0] != '\0', "err is empty");
	cr_expect_eq(w->fetch.nstart, 0);
	world_free(w);
}

Test(decide_sts, resolver_refuses_queries)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	sts_world(w);
	w->dns.refuse = 1;
	d = run(w, "a.test", 0);
	cr_expect_eq(d->tempfail, 1, "reason '%s'", d->reason);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_DNS_TEMPFAIL);
	cr_expect_eq(w->fetch.nstart, 0);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_sts, null_mx)
{
	int m;

	for (m = 0; m < 4; m++) {
		struct fake_env *w = world_new(m & 2, m & 1 ? FAKE_DNS_SYNC :
		    FAKE_DNS_ASYNC);
		struct stsdane_decision *d;

		sts_world(w);
		ok(fake_dns_answer(&w->dns, "a.test", DNS_T_MX, m & 1, 3600,
		    "0 .", NULL));
		fake_dns_remove(&w->dns, "_mta-sts.a.test", DNS_T_TXT);
		d = run(w, "a.test", 0);
		cr_expect_eq(d->no_mail, 1, "%s", mode_label(m));
		cr_expect_eq(d->problem, STSDANE_PROBLEM_NULL_MX);
		cr_expect_eq(d->tempfail, 0);
		cr_expect_eq(d->mechanism, STSDANE_MECH_NONE);
		cr_expect_eq(d->ndane, 0);
		cr_expect_eq(w->fetch.nstart, 0);
		stsdane_decision_free(d);
		world_free(w);
	}
}

/* ---- RFC 8461 5.1 with the cache ---------------------------------------- */

/* First decision at T0: fetched, enforce, id abc. */
static struct fake_env *
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

static void
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

/* ---- DANE --------------------------------------------------------------- */

static void
d_unusable(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA, 1, 600,
	    "0 0 1 " HEX32, "1 1 1 " HEX32, NULL));
}

static void
d_bad_length(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA, 1, 600,
	    "3 1 1 " HEX31, NULL));
}

static void
d_mixed(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA, 1, 600,
	    "1 0 1 " HEX32, "2 0 1 " HEX32, "3 1 1 " HEX32, NULL));
}

static void
d_mx_insecure(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "b.test", DNS_T_MX, 0, 3600,
	    "10 mx1.b.test", NULL));
}

static void
d_tlsa_insecure(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA, 0, 600,
	    "3 1 1 " HEX32, NULL));
}

static void
d_tlsa_nxdomain(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA,
	    DNS_NXDOMAIN, 1, 600));
}

static void
d_addr_insecure(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "mx1.b.test", DNS_T_A, 0, 1800,
	    "192.0.2.1", NULL));
	ok(fake_dns_status(&w->dns, "mx1.b.test", DNS_T_AAAA, DNS_NODATA, 0,
	    1800));
}

static void
d_aaaa_only(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "mx1.b.test", DNS_T_A, DNS_NODATA, 1,
	    1800));
	ok(fake_dns_answer(&w->dns, "mx1.b.test", DNS_T_AAAA, 1, 1800,
	    "2001:db8::1", NULL));
}

static void
d_tlsa_bogus(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA,
	    DNS_BOGUS, 0, 0));
}

static void
d_tlsa_servfail(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA,
	    DNS_TEMPFAIL, 0, 0));
}

static void
d_a_bogus(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "mx1.b.test", DNS_T_A, DNS_BOGUS, 0, 0));
}

static void
d_mx_bogus(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "b.test", DNS_T_MX, DNS_BOGUS, 0, 0));
}

static void
d_mx_servfail(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "b.test", DNS_T_MX, DNS_TEMPFAIL, 0, 0));
}

static void
d_implicit_mx(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "b.test", DNS_T_MX, DNS_NODATA, 1, 3600));
	ok(fake_dns_answer(&w->dns, "b.test", DNS_T_A, 1, 1800, "192.0.2.9",
	    NULL));
	ok(fake_dns_answer(&w->dns, "_25._tcp.b.test", DNS_T_TLSA, 1, 600,
	    "3 1 1 " HEX32, NULL));
}

static void
d_implicit_mx_insecure(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "b.test", DNS_T_MX, DNS_NODATA, 0, 3600));
	ok(fake_dns_answer(&w->dns, "b.test", DNS_T_A, 1, 1800, "192.0.2.9",
	    NULL));
	ok(fake_dns_answer(&w->dns, "_25._tcp.b.test", DNS_T_TLSA, 1, 600,
	    "3 1 1 " HEX32, NULL));
}

static void
d_null_mx(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "b.test", DNS_T_MX, 1, 3600, "0 .",
	    NULL));
}

static void
d_cname(struct fake_env *w)
{
	ok(fake_dns_canon(&w->dns, "mx1.b.test", DNS_T_A, "mx.c.test"));
	ok(fake_dns_canon(&w->dns, "mx1.b.test", DNS_T_AAAA, "mx.c.test"));
	fake_dns_remove(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA);
	ok(fake_dns_answer(&w->dns, "_25._tcp.mx.c.test", DNS_T_TLSA, 1, 600,
	    "2 0 1 " HEX32, NULL));
}

static void
d_cname_no_tlsa_there(struct fake_env *w)
{
	/* nothing at the expanded name: the original name's TLSA counts */
	ok(fake_dns_canon(&w->dns, "mx1.b.test", DNS_T_A, "mx.c.test"));
	ok(fake_dns_status(&w->dns, "_25._tcp.mx.c.test", DNS_T_TLSA,
	    DNS_NXDOMAIN, 1, 600));
}

static void
d_cname_tlsa_bogus(struct fake_env *w)
{
	ok(fake_dns_canon(&w->dns, "mx1.b.test", DNS_T_A, "mx.c.test"));
	ok(fake_dns_status(&w->dns, "_25._tcp.mx.c.test", DNS_T_TLSA,
	    DNS_BOGUS, 0, 0));
}

static void
d_two_hosts(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "b.test", DNS_T_MX, 1, 3600,
	    "20 mx2.b.test", "10 mx1.b.test", NULL));
	ok(fake_dns_answer(&w->dns, "mx2.b.test", DNS_T_A, 1, 1800,
	    "192.0.2.2", NULL));
}

static void
d_second_host_bogus(struct fake_env *w)
{
	d_two_hosts(w);
	ok(fake_dns_status(&w->dns, "_25._tcp.mx2.b.test", DNS_T_TLSA,
	    DNS_BOGUS, 0, 0));
}

static void
d_txt_servfail(struct fake_env *w)
{
	ok(fake_dns_status(&w->dns, "_mta-sts.b.test", DNS_T_TXT,
	    DNS_TEMPFAIL, 0, 0));
}

static void
d_malformed_tlsa(struct fake_env *w)
{
	ok(fake_dns_answer(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA, 1, 600,
	    "\\# 03 01", "3 1 1 " HEX32, NULL));
}

struct dane_case {
	const char *what;
	void (*setup)(struct fake_env *w);
	enum stsdane_mechanism mech;
	int require_tls;
	int tempfail;
	int no_mail;
	enum stsdane_problem problem;
	int fetches;
	/* first DANE host, when dstatus >= 0 */
	int dstatus;
	const char *dname;
	const char *base;
	size_t ntlsa;
	int tlsa_asked;		/* TLSA lookups at _25._tcp.mx1.b.test */
};

static const struct dane_case dane_cases[] = {
	{"secure 3 1 1", NULL, STSDANE_MECH_DANE, 1, 0, 0,
	    STSDANE_PROBLEM_NONE, 0, STSDANE_DANE_SECURE, "mx1.b.test",
	    "mx1.b.test", 1, 1},
	{"only usages 0/1", d_unusable, STSDANE_MECH_DANE, 1, 0, 0,
	    STSDANE_PROBLEM_DANE_UNUSABLE, 0, STSDANE_DANE_UNUSABLE,
	    "mx1.b.test", "mx1.b.test", 0, 1},
	{"3 1 1 of 31 bytes", d_bad_length, STSDANE_MECH_DANE, 1, 0, 0,
	    STSDANE_PROBLEM_DANE_UNUSABLE, 0, STSDANE_DANE_UNUSABLE,
	    "mx1.b.test", "mx1.b.test", 0, 1},
	{"usable among unusable", d_mixed, STSDANE_MECH_DANE, 1, 0, 0,
	    STSDANE_PROBLEM_NONE, 0, STSDANE_DANE_SECURE, "mx1.b.test",
	    "mx1.b.test", 2, 1},
	{"malformed TLSA skipped", d_malformed_tlsa, STSDANE_MECH_DANE, 1, 0,
	    0, STSDANE_PROBLEM_NONE, 0, STSDANE_DANE_SECURE, "mx1.b.test",
	    "mx1.b.test", 1, 1},
	{"AAAA only", d_aaaa_only, STSDANE_MECH_DANE, 1, 0, 0,
	    STSDANE_PROBLEM_NONE, 0, STSDANE_DANE_SECURE, "mx1.b.test",
	    "mx1.b.test", 1, 1},
	{"insecure MX", d_mx_insecure, STSDANE_MECH_MTASTS, 1, 0, 0,
	    STSDANE_PROBLEM_NONE, 1, STSDANE_DANE_INSECURE, "mx1.b.test",
	    "mx1.b.test", 0, 0},
	{"insecure TLSA", d_tlsa_insecure, STSDANE_MECH_MTASTS, 1, 0, 0,
	    STSDANE_PROBLEM_NONE, 1, STSDANE_DANE_INSECURE, "mx1.b.test",
	    "mx1.b.test", 0, 1},
	{"no TLSA", d_tlsa_nxdomain, STSDANE_MECH_MTASTS, 1, 0, 0,
	    STSDANE_PROBLEM_NONE, 1, STSDANE_DANE_INSECURE, "mx1.b.test",
	    "mx1.b.test", 0, 1},
	{"insecure address", d_addr_insecure, STSDANE_MECH_MTASTS, 1, 0, 0,
	    STSDANE_PROBLEM_NONE, 1, STSDANE_DANE_INSECURE, "mx1.b.test",
	    "mx1.b.test", 0, -1},
	{"TLSA bogus", d_tlsa_bogus, STSDANE_MECH_NONE, 1, 1, 0,
	    STSDANE_PROBLEM_DNS_BOGUS, 0, STSDANE_DANE_BOGUS, "mx1.b.test",
	    NULL, 0, 1},
	{"TLSA SERVFAIL", d_tlsa_servfail, STSDANE_MECH_NONE, 1, 1, 0,
	    STSDANE_PROBLEM_DNS_TEMPFAIL, 0, STSDANE_DANE_TEMPFAIL,
	    "mx1.b.test", NULL, 0, 1},
	{"A bogus", d_a_bogus, STSDANE_MECH_NONE, 1, 1, 0,
	    STSDANE_PROBLEM_DNS_BOGUS, 0, STSDANE_DANE_BOGUS, "mx1.b.test",
	    NULL, 0, -1},
	{"MX bogus", d_mx_bogus, STSDANE_MECH_NONE, 1, 1, 0,
	    STSDANE_PROBLEM_DNS_BOGUS, 0, -1, NULL, NULL, 0, 0},
	{"MX SERVFAIL", d_mx_servfail, STSDANE_MECH_NONE, 1, 1, 0,
	    STSDANE_PROBLEM_DNS_TEMPFAIL, 0, -1, NULL, NULL, 0, 0},
	{"implicit MX", d_implicit_mx, STSDANE_MECH_DANE, 1, 0, 0,
	    STSDANE_PROBLEM_NONE, 0, STSDANE_DANE_SECURE, "b.test", "b.test",
	    1, 0},
	{"implicit MX, insecure", d_implicit_mx_insecure, STSDANE_MECH_MTASTS,
	    1, 0, 0, STSDANE_PROBLEM_NONE, 1, STSDANE_DANE_INSECURE, "b.test",
	    "b.test", 0, 0},
	{"null MX", d_null_mx, STSDANE_MECH_NONE, 0, 0, 1,
	    STSDANE_PROBLEM_NULL_MX, -1, -1, NULL, NULL, 0, 0},
	{"CNAME to TLSA", d_cname, STSDANE_MECH_DANE, 1, 0, 0,
	    STSDANE_PROBLEM_NONE, 0, STSDANE_DANE_SECURE, "mx1.b.test",
	    "mx.c.test", 1, -1},
	{"CNAME, TLSA at alias", d_cname_no_tlsa_there, STSDANE_MECH_DANE, 1,
	    0, 0, STSDANE_PROBLEM_NONE, 0, STSDANE_DANE_SECURE, "mx1.b.test",
	    "mx1.b.test", 1, 1},
	{"CNAME, bogus TLSA there", d_cname_tlsa_bogus, STSDANE_MECH_NONE, 1,
	    1, 0, STSDANE_PROBLEM_DNS_BOGUS, 0, STSDANE_DANE_BOGUS,
	    "mx1.b.test", NULL, 0, -1},
	{"two hosts, one DANE", d_two_hosts, STSDANE_MECH_DANE, 1, 0, 0,
	    STSDANE_PROBLEM_NONE, 0, STSDANE_DANE_SECURE, "mx1.b.test",
	    "mx1.b.test", 1, 1},
	{"second host bogus", d_second_host_bogus, STSDANE_MECH_NONE, 1, 1,
	    0, STSDANE_PROBLEM_DNS_BOGUS, 0, STSDANE_DANE_SECURE, "mx1.b.test",
	    NULL, 1, 1},
	{"TXT SERVFAIL, DANE applies", d_txt_servfail, STSDANE_MECH_DANE, 1,
	    0, 0, STSDANE_PROBLEM_NONE, 0, STSDANE_DANE_SECURE, "mx1.b.test",
	    "mx1.b.test", 1, 1},
};

Test(decide_dane, table)
{
	size_t i;
	int m;

	for (i = 0; i < NELEM(dane_cases); i++) {
		const struct dane_case *c = &dane_cases[i];

		for (m = 0; m < 4; m++) {
			struct fake_env *w = world_new(m & 2, m & 1 ?
			    FAKE_DNS_SYNC : FAKE_DNS_ASYNC);
			struct stsdane_decision *d;
			const char *l = mode_label(m);

			dane_world(w);
			if (c->setup != NULL)
				c->setup(w);
			d = run(w, "b.test", 0);
			cr_expect_eq(d->mechanism, c->mech,
			    "%s (%s): mechanism %s (%s)", c->what, l,
			    stsdane_mechanism_name(d->mechanism), d->reason);
			cr_expect_eq(d->require_tls, c->require_tls,
			    "%s (%s): require_tls", c->what, l);
			cr_expect_eq(d->tempfail, c->tempfail,
			    "%s (%s): tempfail (%s)", c->what, l, d->reason);
			cr_expect_eq(d->no_mail, c->no_mail,
			    "%s (%s): no_mail", c->what, l);
			cr_expect_eq(d->problem, c->problem,
			    "%s (%s): problem %s, want %s (%s)", c->what, l,
			    stsdane_problem_name(d->problem),
			    stsdane_problem_name(c->problem), d->reason);
			if (c->fetches >= 0)
				cr_expect_eq(w->fetch.nstart, c->fetches,
				    "%s (%s): %d fetches", c->what, l,
				    w->fetch.nstart);
			if (c->tlsa_asked >= 0)
				cr_expect_eq(fake_dns_asked(&w->dns,
				    "_25._tcp.mx1.b.test", DNS_T_TLSA),
				    c->tlsa_asked, "%s (%s): TLSA asked",
				    c->what, l);
			cr_expect_eq(w->dns.nqueue, 0, "%s (%s): lookups left",
			    c->what, l);
			if (c->mech == STSDANE_MECH_DANE) {
				cr_expect_eq(d->mode, STSDANE_MODE_ENFORCE,
				    "%s: mode", c->what);
				cr_expect_null(d->policy_id, "%s: policy_id",
				    c->what);
			}
			if (c->dstatus >= 0) {
				const struct stsdane_dane_host *h = d->dane;

				cr_assert(d->ndane >= 1, "%s (%s): no hosts",
				    c->what, l);
				cr_expect_str_eq(h->name, c->dname,
				    "%s: host name", c->what);
				cr_expect_eq(h->status,
				    (enum stsdane_dane_status)c->dstatus,
				    "%s (%s): host status %s", c->what, l,
				    stsdane_dane_status_name(h->status));
				if (c->base != NULL)
					cr_expect_str_eq(h->base_domain,
					    c->base, "%s: base domain",
					    c->what);
				cr_expect_eq(h->ntlsa, c->ntlsa,
				    "%s (%s): ntlsa %zu", c->what, l,
				    h->ntlsa);
			}
			stsdane_decision_free(d);
			world_free(w);
		}
	}
}

Test(decide_dane, secure_details)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;
	const struct stsdane_tlsa *t;

	dane_world(w);
	d = run(w, "b.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_DANE, "%s", d->reason);
	cr_assert_eq(d->ndane, 1);
	cr_assert_eq(d->dane[0].ntlsa, 1);
	t = &d->dane[0].tlsa[0];
	cr_expect(t->usage == 3 && t->selector == 1 && t->mtype == 1);
	cr_assert_eq(t->len, 32);
	cr_expect(t->data[0] == 0x00 && t->data[1] == 0x11 &&
	    t->data[31] == 0xff);
	cr_expect_eq(d->dane[0].preference, 10);
	/* MX 3600, A 1800, AAAA 1800, TLSA 600 */
	cr_expect_eq(d->expires, (int64_t)T0 + 600);
	cr_expect_eq(d->nmx, 0);
	cr_expect_eq(w->nget_fetch, 0, "fetch module loaded under DANE");
	cr_expect_eq(fake_dns_asked(&w->dns, "mx1.b.test", DNS_T_A), 1);
	cr_expect_eq(fake_dns_asked(&w->dns, "mx1.b.test", DNS_T_AAAA), 1);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_dane, expires_at_smallest_ttl_negative_included)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	dane_world(w);
	ok(fake_dns_status(&w->dns, "mx1.b.test", DNS_T_AAAA, DNS_NODATA, 1,
	    120));
	ok(fake_dns_answer(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA, 1,
	    1200, "3 1 1 " HEX32, NULL));
	d = run(w, "b.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_DANE);
	cr_expect_eq(d->expires, (int64_t)T0 + 120);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_dane, two_hosts_in_preference_order)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	dane_world(w);
	d_two_hosts(w);
	d = run(w, "b.test", 0);
	cr_assert_eq(d->ndane, 2);
	cr_expect_str_eq(d->dane[0].name, "mx1.b.test");
	cr_expect_eq(d->dane[0].status, STSDANE_DANE_SECURE);
	cr_expect_str_eq(d->dane[1].name, "mx2.b.test");
	cr_expect_eq(d->dane[1].preference, 20);
	cr_expect_eq(d->dane[1].status, STSDANE_DANE_INSECURE);
	cr_expect_eq(d->dane[1].ntlsa, 0);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_dane, cname_target_is_base_domain)
{
	struct fake_env *w = world_new(0, FAKE_DNS_SYNC);
	struct stsdane_decision *d;

	dane_world(w);
	d_cname(w);
	d = run(w, "b.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_DANE, "%s", d->reason);
	cr_expect_str_eq(d->dane[0].name, "mx1.b.test");
	cr_expect_str_eq(d->dane[0].base_domain, "mx.c.test");
	cr_assert_eq(d->dane[0].ntlsa, 1);
	cr_expect_eq(d->dane[0].tlsa[0].usage, 2);
	cr_expect_eq(fake_dns_asked(&w->dns, "_25._tcp.mx.c.test",
	    DNS_T_TLSA), 1, "expanded name's TLSA asked more than once");
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_dane, cached_until_ttl_then_resolved)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	dane_world(w);
	d = run(w, "b.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_DANE);
	cr_expect_eq(d->source, STSDANE_SOURCE_NETWORK);
	stsdane_decision_free(d);
	cr_expect(fake_cache_has(&w->cache, "dane/b.test"));

	reset_counts(w);
	w->clock.now = T0 + 599;
	d = run(w, "b.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_DANE);
	cr_expect_eq(d->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(d->expires, (int64_t)T0 + 600);
	cr_assert_eq(d->ndane, 1);
	cr_expect_eq(d->dane[0].ntlsa, 1);
	cr_expect_eq(w->dns.nasked, 0);
	cr_expect_eq(w->nget_dns, 0);
	stsdane_decision_free(d);

	/* at the TTL: looked up again, and now TLSA is gone */
	reset_counts(w);
	w->clock.now = T0 + 600;
	fake_dns_remove(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA);
	d = run(w, "b.test", 0);
	cr_expect_eq(fake_dns_asked(&w->dns, "_25._tcp.mx1.b.test",
	    DNS_T_TLSA), 1);
	cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS, "%s", d->reason);
	cr_expect_eq(d->source, STSDANE_SOURCE_NETWORK);
	cr_expect_eq(w->fetch.nstart, 1);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_dane, tempfail_not_cached)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	dane_world(w);
	d_tlsa_servfail(w);
	d = run(w, "b.test", 0);
	cr_expect_eq(d->tempfail, 1);
	stsdane_decision_free(d);
	cr_expect(!fake_cache_has(&w->cache, "dane/b.test"),
	    "a tempfail was cached as a DANE result");

	reset_counts(w);
	w->clock.now = T0 + 1;
	dane_world(w);
	d = run(w, "b.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_DANE);
	cr_expect_eq(d->tempfail, 0);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_dane, refresh_ignores_cached_dane)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	dane_world(w);
	d = run(w, "b.test", 0);
	stsdane_decision_free(d);
	reset_counts(w);
	w->clock.now = T0 + 10;
	d_tlsa_bogus(w);
	d = run(w, "b.test", STSDANE_QUERY_REFRESH);
	cr_expect_eq(d->tempfail, 1);
	cr_expect_eq(d->problem, STSDANE_PROBLEM_DNS_BOGUS);
	cr_expect_eq(w->fetch.nstart, 0);
	stsdane_decision_free(d);
	world_free(w);
}

Test(decide_dane, no_dane_marker_skips_tlsa)
{
	struct fake_env *w = world_new(1, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	dane_world(w);
	ok(fake_dns_status(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA,
	    DNS_NXDOMAIN, 1, 3600));
	d = run(w, "b.test", 0);
	cr_assert_eq(d->mechanism, STSDANE_MECH_MTASTS, "%s", d->reason);
	stsdane_decision_free(d);
	/* "no DANE" is good for the smallest TTL: A and AAAA, 1800 */
	reset_counts(w);
	w->clock.now = T0 + 700;
	d = run(w, "b.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS);
	cr_expect_eq(d->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(fake_dns_asked(&w->dns, "_mta-sts.b.test", DNS_T_TXT),
	    1, "TXT not looked at after its recheck time");
	cr_expect_eq(fake_dns_asked(&w->dns, "_25._tcp.mx1.b.test", 0), 0,
	    "TLSA asked while the 'no DANE' marker is fresh");
	cr_expect_eq(w->fetch.nstart, 0);
	stsdane_decision_free(d);

	/* past 1800: DANE is looked at again, and now applies */
	reset_counts(w);
	w->clock.now = T0 + 1801;
	ok(fake_dns_answer(&w->dns, "_25._tcp.mx1.b.test", DNS_T_TLSA, 1,
	    600, "3 1 1 " HEX32, NULL));
	d = run(w, "b.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_DANE, "%s", d->reason);
	stsdane_decision_free(d);
	world_free(w);
}

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
