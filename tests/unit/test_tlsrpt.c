/*
 * test_tlsrpt.c - stsdane_tlsrpt_check(): the _smtp._tls TXT record set
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define S(lit) {lit, sizeof(lit) - 1}

struct rec {
	const char *s;
	size_t len;
};

struct rpt_case {
	const char *what;
	struct rec r[3];
	size_t n;
	int rc;
	const char *rua;	/* expected destinations, space-separated */
	size_t nignored;
	const char *err;	/* substring of err otherwise */
};

static const struct rpt_case cases[] = {
	/* valid (RFC 8460 3.1 examples among them) */
	{"mailto", {S("v=TLSRPTv1;rua=mailto:reports@example.com")}, 1,
	    STSDANE_OK, "mailto:reports@example.com", 0, NULL},
	{"https", {S("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt")},
	    1, STSDANE_OK, "https://reporting.example.com/v1/tlsrpt", 0, NULL},
	{"both, in order", {S("v=TLSRPTv1; rua=https://r.example.com/x, "
	    "mailto:a@example.com;")}, 1, STSDANE_OK,
	    "https://r.example.com/x mailto:a@example.com", 0, NULL},
	{"other scheme ignored", {S("v=TLSRPTv1; rua=ftp://x.example.com/r,"
	    "mailto:a@example.com")}, 1, STSDANE_OK, "mailto:a@example.com", 1,
	    NULL},
	{"only other schemes", {S("v=TLSRPTv1; rua=http://x.example.com/r")},
	    1, STSDANE_OK, "", 1, NULL},
	{"extension", {S("v=TLSRPTv1; rua=mailto:a@example.com; ext.x_y-1=v!")},
	    1, STSDANE_OK, "mailto:a@example.com", 0, NULL},
	{"percent-encoded comma", {S("v=TLSRPTv1; rua=mailto:a%2Cb@example.com")},
	    1, STSDANE_OK, "mailto:a%2Cb@example.com", 0, NULL},
	{"port and query", {S("v=TLSRPTv1; rua=https://r.example.com:8443/p?q=1")},
	    1, STSDANE_OK, "https://r.example.com:8443/p?q=1", 0, NULL},
	{"others discarded", {S("v=spf1 -all"),
	    S("v=TLSRPTv1; rua=mailto:a@example.com"), S("hello")}, 3,
	    STSDANE_OK, "mailto:a@example.com", 0, NULL},
	{"trailing white space", {S("v=TLSRPTv1 ; rua=mailto:a@example.com  ")},
	    1, STSDANE_OK, "mailto:a@example.com", 0, NULL},

	/* not found */
	{"empty set", {{NULL, 0}}, 0, STSDANE_ERR_NOTFOUND, NULL, 0, NULL},
	{"no report record", {S("v=STSv1; id=1")}, 1, STSDANE_ERR_NOTFOUND,
	    NULL, 0, "no record"},
	{"version case", {S("v=tlsrptv1; rua=mailto:a@example.com")}, 1,
	    STSDANE_ERR_NOTFOUND, NULL, 0, NULL},
	{"v=TLSRPTv10", {S("v=TLSRPTv10; rua=mailto:a@example.com")}, 1,
	    STSDANE_ERR_NOTFOUND, NULL, 0, NULL},

	/* invalid */
	{"two records", {S("v=TLSRPTv1; rua=mailto:a@example.com"),
	    S("v=TLSRPTv1; rua=mailto:b@example.com")}, 2, STSDANE_ERR_SYNTAX,
	    NULL, 0, "2 records"},
	{"no rua", {S("v=TLSRPTv1;")}, 1, STSDANE_ERR_SYNTAX, NULL, 0,
	    "no rua"},
	{"empty rua", {S("v=TLSRPTv1; rua=")}, 1, STSDANE_ERR_SYNTAX, NULL, 0,
	    "empty"},
	{"two rua fields", {S("v=TLSRPTv1; rua=mailto:a@example.com; "
	    "rua=mailto:b@example.com")}, 1, STSDANE_ERR_SYNTAX, NULL, 0,
	    "more than one rua"},
	{"not a uri", {S("v=TLSRPTv1; rua=reports@example.com")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, 0, "not a URI"},
	{"mailto without @", {S("v=TLSRPTv1; rua=mailto:reports")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, 0, "mailto:LOCAL@DOMAIN"},
	{"mailto header fields", {S("v=TLSRPTv1; rua=mailto:a@example.com?subject=x")},
	    1, STSDANE_ERR_SYNTAX, NULL, 0, "header fields"},
	{"mailto bad domain", {S("v=TLSRPTv1; rua=mailto:a@-bad-.com")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, 0, "not a host name"},
	{"https without //", {S("v=TLSRPTv1; rua=https:r.example.com")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, 0, "https://"},
	{"https user info", {S("v=TLSRPTv1; rua=https://u:p@r.example.com/")},
	    1, STSDANE_ERR_SYNTAX, NULL, 0, "user information"},
	{"https bad port", {S("v=TLSRPTv1; rua=https://r.example.com:99999/")},
	    1, STSDANE_ERR_SYNTAX, NULL, 0, "https://"},
	{"space in uri list", {S("v=TLSRPTv1; rua=mailto:a@example.com "
	    "mailto:b@example.com")}, 1, STSDANE_ERR_SYNTAX, NULL, 0,
	    "expected ','"},
	{"bad character", {S("v=TLSRPTv1; rua=mailto:a<b>@example.com")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, 0, "not a URI"},
	{"no delimiter", {S("v=TLSRPTv1 rua=mailto:a@example.com")}, 1,
	    STSDANE_ERR_NOTFOUND, NULL, 0, NULL},
	{"field without =", {S("v=TLSRPTv1; rua=mailto:a@example.com; junk")},
	    1, STSDANE_ERR_SYNTAX, NULL, 0, "no '='"},
	{"bad extension name", {S("v=TLSRPTv1; rua=mailto:a@example.com; "
	    "_x=1")}, 1, STSDANE_ERR_SYNTAX, NULL, 0, "bad field name"},
	{"empty extension", {S("v=TLSRPTv1; rua=mailto:a@example.com; x=")},
	    1, STSDANE_ERR_SYNTAX, NULL, 0, "empty value"},
	{"17 uris", {S("v=TLSRPTv1; rua=mailto:a@e.com,mailto:a@e.com,"
	    "mailto:a@e.com,mailto:a@e.com,mailto:a@e.com,mailto:a@e.com,"
	    "mailto:a@e.com,mailto:a@e.com,mailto:a@e.com,mailto:a@e.com,"
	    "mailto:a@e.com,mailto:a@e.com,mailto:a@e.com,mailto:a@e.com,"
	    "mailto:a@e.com,mailto:a@e.com,mailto:a@e.com")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, 0, "more than 16"},
};

Test(tlsrpt, table)
{
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rpt_case *c = &cases[i];
		const char *recs[3];
		size_t lens[3];
		struct stsdane_tlsrpt *r = NULL;
		char err[256], got[1024] = "";
		int rc;

		for (k = 0; k < c->n; k++) {
			recs[k] = c->r[k].s;
			lens[k] = c->r[k].len;
		}
		rc = stsdane_tlsrpt_check(recs, lens, c->n, &r, err,
		    sizeof(err));
		cr_expect_eq(rc, c->rc, "%s: rc %d, want %d (%s)", c->what, rc,
		    c->rc, err);
		if (rc != STSDANE_OK) {
			cr_expect_null(r, "%s: out set on failure", c->what);
			if (c->err != NULL)
				cr_expect(strstr(err, c->err) != NULL,
				    "%s: err '%s' lacks '%s'", c->what, err,
				    c->err);
			continue;
		}
		cr_assert_not_null(r, "%s", c->what);
		for (k = 0; k < r->nrua; k++) {
			if (k > 0)
				strcat(got, " ");
			strcat(got, r->rua[k]);
		}
		cr_expect_str_eq(got, c->rua, "%s: rua '%s'", c->what, got);
		cr_expect_eq(r->nignored, c->nignored, "%s: ignored %zu",
		    c->what, r->nignored);
		stsdane_tlsrpt_free(r);
	}
}

Test(tlsrpt, bad_arguments)
{
	struct stsdane_tlsrpt *r = (struct stsdane_tlsrpt *)1;
	const char *rec = NULL;
	size_t len = 0;

	cr_expect_eq(stsdane_tlsrpt_check(&rec, &len, 1, &r, NULL, 0),
	    STSDANE_ERR_INVAL);
	cr_expect_null(r);
	cr_expect_eq(stsdane_tlsrpt_check(NULL, NULL, 0, NULL, NULL, 0),
	    STSDANE_ERR_INVAL);
	stsdane_tlsrpt_free(NULL);
}

Test(tlsrpt, plugin_table)
{
	const struct stsdane_plugin *p = stsdane_plugin(STSDANE_PLUGIN_ABI);

	cr_assert_not_null(p);
	cr_expect(p->size >= offsetof(struct stsdane_plugin, tlsrpt_free) +
	    sizeof(p->tlsrpt_free));
	cr_expect(p->tlsrpt_check == stsdane_tlsrpt_check);
}

/*
 * A record that ends right after "https://", in a buffer of exactly its
 * length (no NUL after it, as a TXT record's bytes come): refused, and
 * nothing read past its end (fuzz_tlsrpt found the read; ASan shows it).
 */
Test(tlsrpt, https_scheme_at_the_very_end)
{
	static const char *const texts[] = {
		"v=TLSRPTv1; rua=https://",
		"v=TLSRPTv1; rua=mailto:a@example.com,https://",
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t len = strlen(texts[i]);
		char *exact = malloc(len);
		const char *recs[1];
		struct stsdane_tlsrpt *r = NULL;
		char err[256];

		cr_assert_not_null(exact);
		memcpy(exact, texts[i], len);
		recs[0] = exact;
		cr_expect_eq(stsdane_tlsrpt_check(recs, &len, 1, &r, err,
		    sizeof(err)), STSDANE_ERR_SYNTAX, "%s", texts[i]);
		cr_expect_null(r);
		free(exact);
	}
}
