/*
 * test_dane.c - decide(): the DANE half (src/decide/dane.c)
 *
 * Worlds from decide_world.h; tests named bug_* show a defect and fail
 * until it is fixed.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "decide_world.h"
#include "rdata.h"

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
