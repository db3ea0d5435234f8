/*
 * test_report.c - the TLS-RPT store, the policy a decision stands for,
 * the report's JSON and gzip (src/report/)
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "report.h"
#include "store.h"
#include "util.h"

/* report_json.c, linked into the unit tests as into stsdane-fetch.so */
char *stsdane_report_json(const struct report_json_in *in, char *id,
    size_t idlen);

static char dir[64];

static void
mkdir_tmp(void)
{
	(void)snprintf(dir, sizeof(dir), "/tmp/stsdane-rpt-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
rm_tmp(void)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)system(cmd);
}

TestSuite(report, .init = mkdir_tmp, .fini = rm_tmp);

Test(report, day_name_matches_gmtime)
{
	static const int64_t t[] = { 0, 86399, 86400, 951782400, 951868800,
	    1709164800, 4102444799, 253402300799 };
	char a[16], b[16];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		time_t tt = (time_t)t[i];
		struct tm tm;

		cr_assert_eq(store_day_name(t[i], a, sizeof(a)), 0);
		(void)gmtime_r(&tt, &tm);
		(void)strftime(b, sizeof(b), "%Y-%m-%d", &tm);
		cr_expect_str_eq(a, b, "%lld", (long long)t[i]);
	}
}

Test(report, day_parse)
{
	int64_t t;

	cr_expect_eq(store_day_parse("2026-12-01", &t), 0);
	cr_expect_eq(t, 1796083200);
	cr_expect_eq(store_day_parse("2026-02-30", &t), -1);
	cr_expect_eq(store_day_parse("2026-1-01", &t), -1);
	cr_expect_eq(store_day_parse("2026-12-01x", &t), -1);
	cr_expect_eq(store_day_parse("", &t), -1);
}

struct seen {
	size_t n;
	char last[256];
};

static int
count(void *arg, const struct store_rec *r)
{
	struct seen *s = arg;

	s->n++;
	(void)sd_strlcpy(s->last, r->domain, sizeof(s->last));
	return 0;
}

static void
rec(struct store_rec *r, const char *domain, int64_t when)
{
	memset(r, 0, sizeof(*r));
	r->when = when;
	r->result = STSDANE_TLSRPT_STARTTLS_NOT_SUPPORTED;
	(void)sd_strlcpy(r->domain, domain, sizeof(r->domain));
	(void)sd_strlcpy(r->policy, "version: STSv1\nmode: enforce",
	    sizeof(r->policy));
}

Test(report, append_read_and_a_torn_record)
{
	struct store_rec r;
	struct seen s = {0};
	char err[256], path[256], day[16];
	size_t bad;
	FILE *f;
	int64_t now = 1796083200 + 3600;
	int i;

	(void)store_day_name(now, day, sizeof(day));
	for (i = 0; i < 3; i++) {
		rec(&r, "a.example", now);
		cr_assert_eq(store_append(dir, &r, err, sizeof(err)), 0, "%s",
		    err);
	}
	/* half of a record, as a writer killed in write() leaves it */
	(void)store_day_path(dir, now, path, sizeof(path));
	{
		unsigned char b[STORE_REC_SIZE];

		f = fopen(path, "rb+");
		cr_assert_not_null(f);
		cr_assert_eq(fread(b, 1, sizeof(b), f), sizeof(b));
		(void)fseek(f, 0, SEEK_END);
		cr_assert_eq(fwrite(b, 1, 700, f), 700);
		(void)fclose(f);
	}
	rec(&r, "b.example", now);
	cr_assert_eq(store_append(dir, &r, err, sizeof(err)), 0);
	cr_assert_eq(store_read_day(dir, day, count, &s, &bad, err,
	    sizeof(err)), 0);
	cr_expect_eq(s.n, 4);
	cr_expect_eq(bad, 1);
	cr_expect_str_eq(s.last, "b.example");
}

Test(report, a_flipped_bit_is_skipped)
{
	struct store_rec r;
	struct seen s = {0};
	char err[256], path[256], day[16];
	size_t bad;
	FILE *f;
	int64_t now = 1796083200;

	(void)store_day_name(now, day, sizeof(day));
	rec(&r, "a.example", now);
	cr_assert_eq(store_append(dir, &r, err, sizeof(err)), 0);
	cr_assert_eq(store_append(dir, &r, err, sizeof(err)), 0);
	(void)store_day_path(dir, now, path, sizeof(path));
	f = fopen(path, "rb+");
	cr_assert_not_null(f);
	(void)fseek(f, 30, SEEK_SET);
	(void)fputc('Z', f);
	(void)fclose(f);
	cr_assert_eq(store_read_day(dir, day, count, &s, &bad, err,
	    sizeof(err)), 0);
	cr_expect_eq(s.n, 1);
	cr_expect_eq(bad, 1);
}

Test(report, no_file_is_no_sessions)
{
	struct seen s = {0};
	char err[256];
	size_t bad;

	cr_expect_eq(store_read_day(dir, "2020-01-01", count, &s, &bad, err,
	    sizeof(err)), 0);
	cr_expect_eq(s.n, 0);
}

/* The policy a decision stands for: one table, every adapter alike. */
struct pol_case {
	const char *what;
	enum stsdane_mechanism mech;
	int tempfail;
	enum stsdane_problem problem;
	unsigned ptype;
	unsigned result;	/* for a session recorded as a success */
	const char *policy;
};

static const struct pol_case pol_cases[] = {
	{"mta-sts", STSDANE_MECH_MTASTS, 0, STSDANE_PROBLEM_NONE,
	    STORE_PTYPE_STS, STSDANE_TLSRPT_SUCCESS,
	    "version: STSv1\nmode: enforce\nmx: mx.a.example\nmx: *.b.example"
	    "\nmax_age: 86400"},
	{"no policy", STSDANE_MECH_NONE, 0, STSDANE_PROBLEM_TXT_MISSING,
	    STORE_PTYPE_NONE, STSDANE_TLSRPT_SUCCESS, ""},
	{"fetch failed", STSDANE_MECH_NONE, 0, STSDANE_PROBLEM_CONNECT,
	    STORE_PTYPE_STS, STSDANE_TLSRPT_STS_POLICY_FETCH_ERROR, ""},
	{"timeout", STSDANE_MECH_NONE, 0, STSDANE_PROBLEM_TIMEOUT,
	    STORE_PTYPE_STS, STSDANE_TLSRPT_STS_POLICY_FETCH_ERROR, ""},
	{"policy host certificate", STSDANE_MECH_NONE, 0,
	    STSDANE_PROBLEM_TLS, STORE_PTYPE_STS,
	    STSDANE_TLSRPT_STS_WEBPKI_INVALID, ""},
	{"policy syntax", STSDANE_MECH_NONE, 0, STSDANE_PROBLEM_POLICY_SYNTAX,
	    STORE_PTYPE_STS, STSDANE_TLSRPT_STS_POLICY_INVALID, ""},
	{"dnssec bogus", STSDANE_MECH_NONE, 1, STSDANE_PROBLEM_DNS_BOGUS,
	    STORE_PTYPE_TLSA, STSDANE_TLSRPT_DNSSEC_INVALID, ""},
};

static void
policy_case(const struct pol_case *c)
{
	char *mx[] = { "mx.a.example", "*.b.example" };
	struct stsdane_decision d;
	struct store_rec r;

	memset(&d, 0, sizeof(d));
	d.domain = "a.example";
	d.mechanism = c->mech;
	d.mode = STSDANE_MODE_ENFORCE;
	d.tempfail = c->tempfail;
	d.problem = c->problem;
	d.max_age = 86400;
	if (c->mech == STSDANE_MECH_MTASTS) {
		d.nmx = 2;
		d.mx = mx;
	}
	memset(&r, 0, sizeof(r));
	report_policy_of(&d, "mx.a.example", &r);
	cr_expect_str_eq(r.domain, "a.example", "%s", c->what);
	cr_expect_eq(r.ptype, c->ptype, "%s", c->what);
	cr_expect_eq(r.result, c->result, "%s", c->what);
	cr_expect_str_eq(r.policy, c->policy, "%s", c->what);
}

Test(report, policy_of)
{
	size_t i;

	for (i = 0; i < sizeof(pol_cases) / sizeof(pol_cases[0]); i++)
		policy_case(&pol_cases[i]);
}

Test(report, result_names)
{
	cr_expect_str_eq(stsdane_tlsrpt_result_name(STSDANE_TLSRPT_SUCCESS),
	    "success");
	cr_expect_str_eq(stsdane_tlsrpt_result_name(
	    STSDANE_TLSRPT_DANE_REQUIRED), "dane-required");
	cr_expect_null(stsdane_tlsrpt_result_name(
	    (enum stsdane_tlsrpt_result)99));
	cr_expect_eq(stsdane_tlsrpt_result_parse("certificate-expired"),
	    STSDANE_TLSRPT_CERTIFICATE_EXPIRED);
	cr_expect_eq(stsdane_tlsrpt_result_parse("success"), -1);
	cr_expect_eq(stsdane_tlsrpt_result_parse("nonsense"), -1);
}

/* A day of two domains: each report holds its own domain only. */
Test(report, json_one_domain_and_gzip)
{
	struct settings set;
	struct store_rec r;
	struct report_day rd;
	char err[256], id[300], day[16];
	int64_t now = 1796083200 + 60;
	unsigned char *gz, out[65536];
	size_t gzlen, i;
	z_stream z;
	json_t *j, *p;
	char *txt;

	settings_init(&set);
	set.tlsrpt_dir = dir;
	set.tlsrpt_submitter = "mta.example";
	(void)store_day_name(now, day, sizeof(day));
	for (i = 0; i < 5; i++) {
		rec(&r, i < 3 ? "a.example" : "b.example", now);
		r.ptype = STORE_PTYPE_STS;
		if (i == 0)
			r.result = STSDANE_TLSRPT_SUCCESS;
		(void)sd_strlcpy(r.receiving_ip, "192.0.2.1",
		    sizeof(r.receiving_ip));
		cr_assert_eq(store_append(dir, &r, err, sizeof(err)), 0);
	}
	cr_assert_eq(report_day_load(&set, day, &rd, err, sizeof(err)), 0);
	cr_assert_eq(rd.ndomains, 2);
	{
		static const char *const ptypes[] = { "no-policy-found",
		    "sts", "tlsa" };
		const char *names[REPORT_NRESULTS];
		struct report_json_in in = { &set, &rd, &rd.domains[0], names,
		    ptypes };

		for (i = 0; i < REPORT_NRESULTS; i++)
			names[i] = stsdane_tlsrpt_result_name(
			    (enum stsdane_tlsrpt_result)i);
		txt = stsdane_report_json(&in, id, sizeof(id));
	}
	cr_assert_not_null(txt);
	cr_expect_str_eq(id, "2026-12-01.a.example@mta.example");
	j = json_loads(txt, 0, NULL);
	cr_assert_not_null(j);
	cr_expect_eq(json_array_size(json_object_get(j, "policies")), 1);
	p = json_array_get(json_object_get(j, "policies"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(p,
	    "policy"), "policy-domain")), "a.example");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(p,
	    "summary"), "total-successful-session-count")), 1);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(p,
	    "summary"), "total-failure-session-count")), 2);
	cr_expect_eq(json_integer_value(json_object_get(json_array_get(
	    json_object_get(p, "failure-details"), 0),
	    "failed-session-count")), 2);
	json_decref(j);
	gz = report_gzip(txt, strlen(txt), &gzlen);
	cr_assert_not_null(gz);
	cr_expect_eq(gz[0], 0x1f);
	cr_expect_eq(gz[1], 0x8b);
	memset(&z, 0, sizeof(z));
	cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = gz;
	z.avail_in = (uInt)gzlen;
	z.next_out = out;
	z.avail_out = sizeof(out);
	cr_expect_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	cr_expect_eq(z.total_out, strlen(txt));
	cr_expect_eq(memcmp(out, txt, strlen(txt)), 0);
	(void)inflateEnd(&z);
	free(gz);
	free(txt);
	report_day_release(&rd);
	set.tlsrpt_dir = NULL;
	set.tlsrpt_submitter = NULL;
	settings_release(&set);
}
