/*
 * test_mx.c - stsdane_mx_match() and stsdane_host_allowed()
 */
#include <criterion/criterion.h>
#include <string.h>

#include "util.h"

struct mx_case {
	const char *pattern;
	const char *host;
	int want;
};

static const struct mx_case mx_cases[] = {
	/* exact names */
	{"mail.example.com", "mail.example.com", 1},
	{"mail.example.com", "MAIL.Example.COM", 1},
	{"MAIL.EXAMPLE.COM", "mail.example.com", 1},
	{"mail.example.com.", "mail.example.com", 1},
	{"mail.example.com", "mail.example.com.", 1},
	{"mail.example.com.", "mail.example.com.", 1},
	{"mail.example.com", "mail.example.co", 0},
	{"mail.example.com", "xmail.example.com", 0},
	{"mail.example.com", "a.mail.example.com", 0},
	{"mail.example.com", "mail.example.com..", 0},
	{"mail.example.com..", "mail.example.com", 0},
	{"mail.example.com", "", 0},
	{"", "mail.example.com", 0},
	{"", "", 0},
	{".", ".", 0},
	{"a..b", "a..b", 0},
	{".a", ".a", 0},

	/* IDN: U-labels on either side compare as A-labels */
	{"x.\xc3\xb1" "aca.com", "x.xn--aca-6ma.com", 1},
	{"x.xn--aca-6ma.com", "x.\xc3\xb1" "aca.com", 1},
	{"*.\xc3\xb1" "aca.com", "x.xn--aca-6ma.com", 1},
	{"*.\xc3\x91" "ACA.com", "X.XN--ACA-6MA.COM", 1},
	{"x.\xc3\xb1" "aca.com", "x.naca.com", 0},
	{"a.\xff.com", "a.\xff.com", 0},

	/* wildcards */
	{"*.example.com", "a.example.com", 1},
	{"*.example.com", "MX1.EXAMPLE.COM", 1},
	{"*.EXAMPLE.com", "mx1.example.COM.", 1},
	{"*.example.com.", "mx1.example.com", 1},
	{"*.example.com", "b.a.example.com", 0},
	{"*.example.com", "example.com", 0},
	{"*.example.com", ".example.com", 0},
	{"*.example.com", "aexample.com", 0},
	{"*.example.com", "a.example.co", 0},
	{"*.example.com", "a.example.com.evil", 0},
	{"*.example.com", "*.example.com", 0},
	{"*.com", "example.com", 1},
	{"*.com", "a.example.com", 0},
	{"*.", "a", 0},
	{"*.", "a.", 0},
	{"*", "a", 0},
	{"*", "*", 0},
	{"*.*.x", "a.b.x", 0},
	{"*.*.x", "a.*.x", 0},
	{"a.*.b", "a.x.b", 0},
	{"a.*.b", "a.*.b", 0},
	{"*a.example.com", "xa.example.com", 0},
	{"**.example.com", "a.example.com", 0},
	{"*..example.com", "a..example.com", 0},
	{"*.example.com", "a..example.com", 0},
};

Test(mx, match_table)
{
	size_t i;

	for (i = 0; i < sizeof(mx_cases) / sizeof(mx_cases[0]); i++) {
		const struct mx_case *c = &mx_cases[i];

		cr_expect_eq(stsdane_mx_match(c->pattern, c->host), c->want,
		    "'%s' vs '%s': want %d", c->pattern, c->host, c->want);
	}
	cr_expect_eq(stsdane_mx_match(NULL, "a"), 0);
	cr_expect_eq(stsdane_mx_match("a", NULL), 0);
}

Test(mx, long_names)
{
	char host[600], pat[600];

	/* over any legal length: never matches, never overruns */
	memset(host, 'a', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	memcpy(pat, host, sizeof(pat));
	cr_expect_eq(stsdane_mx_match(pat, host), 0);
	pat[0] = '*';
	pat[1] = '.';
	host[1] = '.';
	cr_expect_eq(stsdane_mx_match(pat, host), 0);
}

struct allow_case {
	const char *what;
	enum stsdane_mechanism mech;
	enum stsdane_mode mode;
	const char *mx[3];
	size_t nmx;
	const char *host;
	int want;
};

static const struct allow_case allow_cases[] = {
	{"none", STSDANE_MECH_NONE, STSDANE_MODE_NONE, {NULL}, 0, "a.x", 1},
	{"dane", STSDANE_MECH_DANE, STSDANE_MODE_ENFORCE, {NULL}, 0, "a.x", 1},
	{"dane with mx", STSDANE_MECH_DANE, STSDANE_MODE_ENFORCE, {"b.x"}, 1,
	    "a.x", 1},
	{"sts mode none", STSDANE_MECH_MTASTS, STSDANE_MODE_NONE, {NULL}, 0,
	    "a.x", 1},
	{"sts mode none with mx", STSDANE_MECH_MTASTS, STSDANE_MODE_NONE,
	    {"b.x"}, 1, "a.x", 1},
	{"enforce match", STSDANE_MECH_MTASTS, STSDANE_MODE_ENFORCE,
	    {"b.x", "*.y"}, 2, "mx.Y.", 1},
	{"enforce exact", STSDANE_MECH_MTASTS, STSDANE_MODE_ENFORCE,
	    {"b.x", "*.y"}, 2, "b.x", 1},
	{"enforce miss", STSDANE_MECH_MTASTS, STSDANE_MODE_ENFORCE,
	    {"b.x", "*.y"}, 2, "a.b.y", 0},
	{"enforce no mx", STSDANE_MECH_MTASTS, STSDANE_MODE_ENFORCE, {NULL}, 0,
	    "a.x", 0},
	{"enforce null host", STSDANE_MECH_MTASTS, STSDANE_MODE_ENFORCE,
	    {"a.x"}, 1, NULL, 0},
	{"testing match", STSDANE_MECH_MTASTS, STSDANE_MODE_TESTING, {"a.x"},
	    1, "a.x", 1},
	{"testing miss", STSDANE_MECH_MTASTS, STSDANE_MODE_TESTING, {"a.x"},
	    1, "b.x", 0},
};

Test(mx, host_allowed_table)
{
	size_t i;

	for (i = 0; i < sizeof(allow_cases) / sizeof(allow_cases[0]); i++) {
		const struct allow_case *c = &allow_cases[i];
		struct stsdane_decision d;

		memset(&d, 0, sizeof(d));
		d.mechanism = c->mech;
		d.mode = c->mode;
		d.nmx = c->nmx;
		d.mx = (char **)c->mx;
		cr_expect_eq(stsdane_host_allowed(&d, c->host), c->want,
		    "%s: want %d", c->what, c->want);
	}
	cr_expect_eq(stsdane_host_allowed(NULL, "a.x"), 1);
}
