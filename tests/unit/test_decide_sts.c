/*
 * test_decide_sts.c - decide(): the MTA-STS half (src/decide/sts.c) and the fakes it runs on
 *
 * Worlds from decide_world.h; tests named bug_* show a defect and fail
 * until it is fixed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide_world.h"
#include "rdata.h"

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
	/* every record of the set is examined: a malformed one is an error,
	   never skipped as if it were not there */
	{"TXT malformed rdata", txt_malformed_rdata, STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, 0, 0, STSDANE_PROBLEM_TXT_SYNTAX, 0, 0, 0},
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

/* 70 TXT records, the one v=STSv1 record last: none is dropped. */
static void
txt_many(struct fake_env *w)
{
	const char *recs[72];
	char junk[70][16];
	size_t i;

	sts_world(w);
	for (i = 0; i < 69; i++) {
		(void)snprintf(junk[i], sizeof(junk[i]), "junk%zu", i);
		recs[i] = junk[i];
	}
	recs[69] = "v=STSv1; id=abc";
	recs[70] = NULL;
	ok(fake_dns_answer_v(&w->dns, "_mta-sts.a.test", DNS_T_TXT, 0, 3600,
	    recs));
}

Test(decide_sts, txt_set_has_no_cap)
{
	struct fake_env *w = world_new(0, FAKE_DNS_ASYNC);
	struct stsdane_decision *d;

	txt_many(w);
	d = run(w, "a.test", 0);
	cr_expect_eq(d->mechanism, STSDANE_MECH_MTASTS, "%s", d->reason);
	cr_expect_str_eq(d->policy_id != NULL ? d->policy_id : "", "abc");
	stsdane_decision_free(d);
	world_free(w);
}
