/*
 * test_host_rules.c - stsdane_host_check(): the one answer to "may I use
 * this host, and how?"
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "util.h"

enum kind { K_NONE, K_TEMPFAIL, K_NULL_MX, K_DANE, K_STS_ENFORCE,
	K_STS_TESTING, K_STS_NONE };

/* A decision of each kind; DANE: mx1 secure (TLSA base mx1-cname.x.test),
   mx2 unusable, mx3 bogus; MTA-STS: mx "*.x.test". */
static struct stsdane_decision *
make(enum kind k)
{
	struct stsdane_decision *d = decision_new("x.test");

	cr_assert_not_null(d);
	switch (k) {
	case K_NONE:
		break;
	case K_TEMPFAIL:
		d->tempfail = d->require_tls = 1;
		break;
	case K_NULL_MX:
		d->no_mail = 1;
		break;
	case K_DANE:
		d->mechanism = STSDANE_MECH_DANE;
		d->mode = STSDANE_MODE_ENFORCE;
		d->require_tls = 1;
		d->dane = calloc(3, sizeof(*d->dane));
		cr_assert_not_null(d->dane);
		d->ndane = 3;
		d->dane[0].name = sd_strdup("mx1.x.test");
		d->dane[0].base_domain = sd_strdup("mx1-cname.x.test");
		d->dane[0].status = STSDANE_DANE_SECURE;
		d->dane[1].name = sd_strdup("mx2.x.test");
		d->dane[1].base_domain = sd_strdup("mx2.x.test");
		d->dane[1].status = STSDANE_DANE_UNUSABLE;
		d->dane[2].name = sd_strdup("mx3.x.test");
		d->dane[2].base_domain = sd_strdup("mx3.x.test");
		d->dane[2].status = STSDANE_DANE_BOGUS;
		break;
	case K_STS_ENFORCE:
	case K_STS_TESTING:
	case K_STS_NONE:
		d->mechanism = STSDANE_MECH_MTASTS;
		d->mode = k == K_STS_ENFORCE ? STSDANE_MODE_ENFORCE :
		    k == K_STS_TESTING ? STSDANE_MODE_TESTING :
		    STSDANE_MODE_NONE;
		d->require_tls = k == K_STS_ENFORCE;
		cr_assert_eq(decision_add_mx(d, "*.x.test"), 0);
		break;
	}
	return d;
}

struct row {
	const char *what;
	enum kind kind;
	const char *host;
	int rc;
	int connect;
	enum stsdane_refusal refusal;
	int report_only, enforce, require_tls, require_dane, verify_pkix;
	const char *pkix_name;
	const char *dane_name;		/* NULL: no DANE host found */
};

static const struct row rows[] = {
	{ "no policy", K_NONE, "mx.x.test", STSDANE_OK, 1,
	  STSDANE_REFUSE_NONE, 0, 0, 0, 0, 0, "", NULL },
	{ "tempfail: defer, and never in clear", K_TEMPFAIL, "mx.x.test",
	  STSDANE_OK, 0, STSDANE_REFUSE_TEMPFAIL, 0, 1, 1, 0, 1, "mx.x.test",
	  NULL },
	{ "null MX", K_NULL_MX, "mx.x.test", STSDANE_OK, 0,
	  STSDANE_REFUSE_NO_MAIL, 0, 1, 0, 0, 0, "", NULL },
	{ "DANE, by name, secure", K_DANE, "MX1.x.test.", STSDANE_OK, 1,
	  STSDANE_REFUSE_NONE, 0, 1, 1, 1, 0, "", "mx1.x.test" },
	{ "DANE, by TLSA base domain", K_DANE, "mx1-cname.x.test",
	  STSDANE_OK, 1, STSDANE_REFUSE_NONE, 0, 1, 1, 1, 0, "",
	  "mx1.x.test" },
	{ "DANE, unusable TLSA: TLS, no DANE", K_DANE, "mx2.x.test",
	  STSDANE_OK, 1, STSDANE_REFUSE_NONE, 0, 1, 1, 0, 0, "",
	  "mx2.x.test" },
	{ "DANE, a bogus host: not now", K_DANE, "mx3.x.test", STSDANE_OK, 0,
	  STSDANE_REFUSE_TEMPFAIL, 0, 1, 1, 0, 0, "", "mx3.x.test" },
	{ "DANE, outside the MX RRset", K_DANE, "evil.test", STSDANE_OK, 0,
	  STSDANE_REFUSE_NOT_IN_MX, 0, 1, 1, 0, 0, "", NULL },
	{ "MTA-STS enforce, listed", K_STS_ENFORCE, "mx.x.test",
	  STSDANE_OK, 1, STSDANE_REFUSE_NONE, 0, 1, 1, 0, 1, "mx.x.test",
	  NULL },
	{ "MTA-STS enforce, not listed", K_STS_ENFORCE, "mx.other.test",
	  STSDANE_OK, 0, STSDANE_REFUSE_NOT_IN_POLICY, 0, 1, 1, 0, 1,
	  "mx.other.test", NULL },
	{ "MTA-STS testing, not listed: connect, report", K_STS_TESTING,
	  "mx.other.test", STSDANE_OK, 1, STSDANE_REFUSE_NOT_IN_POLICY, 1, 0,
	  0, 0, 1, "mx.other.test", NULL },
	{ "MTA-STS testing, listed", K_STS_TESTING, "MX.x.test",
	  STSDANE_OK, 1, STSDANE_REFUSE_NONE, 0, 0, 0, 0, 1, "mx.x.test",
	  NULL },
	{ "MTA-STS mode none", K_STS_NONE, "mx.other.test", STSDANE_OK, 1,
	  STSDANE_REFUSE_NONE, 0, 0, 0, 0, 0, "", NULL },
	{ "not a host name: fail closed", K_STS_ENFORCE, "bad host",
	  STSDANE_ERR_NAME, 0, STSDANE_REFUSE_NOT_IN_POLICY, 0, 1, 1, 0, 1,
	  "", NULL },
	{ "empty host, DANE: fail closed", K_DANE, "", STSDANE_ERR_NAME, 0,
	  STSDANE_REFUSE_NOT_IN_MX, 0, 1, 1, 0, 0, "", NULL },
};

Test(host_rules, table)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct stsdane_decision *d = make(w->kind);
		struct stsdane_host_rules r;
		int rc = stsdane_host_check(d, w->host, &r);

		cr_expect_eq(rc, w->rc, "%s: rc %d", w->what, rc);
		cr_expect_eq(r.connect, w->connect, "%s: connect", w->what);
		cr_expect_eq(r.refusal, w->refusal, "%s: refusal %s", w->what,
		    stsdane_refusal_name(r.refusal));
		cr_expect_eq(r.report_only, w->report_only, "%s: report_only",
		    w->what);
		cr_expect_eq(r.enforce, w->enforce, "%s: enforce", w->what);
		cr_expect_eq(r.require_tls, w->require_tls, "%s: require_tls",
		    w->what);
		cr_expect_eq(r.require_dane, w->require_dane,
		    "%s: require_dane", w->what);
		cr_expect_eq(r.verify_pkix, w->verify_pkix, "%s: verify_pkix",
		    w->what);
		cr_expect_str_eq(r.pkix_name, w->pkix_name, "%s: pkix_name",
		    w->what);
		if (w->dane_name == NULL)
			cr_expect_null(r.dane, "%s: a DANE host", w->what);
		else
			cr_expect(r.dane != NULL &&
			    strcmp(r.dane->name, w->dane_name) == 0,
			    "%s: DANE host", w->what);
		stsdane_decision_free(d);
	}
}

Test(host_rules, bad_arguments)
{
	struct stsdane_host_rules r;
	struct stsdane_decision *d = make(K_NONE);

	cr_expect_eq(stsdane_host_check(NULL, "mx.x.test", &r),
	    STSDANE_ERR_INVAL);
	cr_expect_eq(r.connect, 0, "no decision must not allow a connection");
	cr_expect_eq(r.require_tls, 1);
	cr_expect_eq(stsdane_host_check(d, NULL, &r), STSDANE_ERR_INVAL);
	cr_expect_eq(stsdane_host_check(d, "mx.x.test", NULL),
	    STSDANE_ERR_INVAL);
	stsdane_decision_free(d);
}

Test(host_rules, one_name_comparison)
{
	cr_expect(sd_host_eq("MX.Example.TEST.", "mx.example.test"));
	cr_expect(!sd_host_eq("mx.example.test", "mx.example.tes"));
	cr_expect(!sd_host_eq(NULL, "a"));
	cr_expect_str_eq(stsdane_refusal_name(STSDANE_REFUSE_NOT_IN_MX),
	    "not-in-mx");
}
