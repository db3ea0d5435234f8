/*
 * test_txt.c - stsdane_txt_check(): the _mta-sts TXT record set
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "sts_txt.h"

#define S(lit) {lit, sizeof(lit) - 1}

struct rec {
	const char *s;
	size_t len;
};

struct txt_case {
	const char *what;
	struct rec r[3];
	size_t n;
	int rc;
	const char *id;		/* expected id on STSDANE_OK */
	const char *err;	/* substring of err otherwise */
};

static const struct txt_case txt_cases[] = {
	/* valid */
	{"rfc example", {S("v=STSv1; id=20160831085700Z;")}, 1, STSDANE_OK,
	    "20160831085700Z", NULL},
	{"no trailing ;", {S("v=STSv1; id=abc")}, 1, STSDANE_OK, "abc", NULL},
	{"no spaces", {S("v=STSv1;id=abc;")}, 1, STSDANE_OK, "abc", NULL},
	{"wsp before ;", {S("v=STSv1 \t; \tid=abc \t;\t ")}, 1, STSDANE_OK,
	    "abc", NULL},
	{"trailing wsp", {S("v=STSv1; id=abc  ")}, 1, STSDANE_OK, "abc", NULL},
	{"32 char id", {S("v=STSv1; id=0123456789abcdefABCDEF0123456789")}, 1,
	    STSDANE_OK, "0123456789abcdefABCDEF0123456789", NULL},
	{"extension before id", {S("v=STSv1; foo=bar; id=x1")}, 1, STSDANE_OK,
	    "x1", NULL},
	{"extension after id", {S("v=STSv1; id=x1; a.b_c-d=!\"#:<>~")}, 1,
	    STSDANE_OK, "x1", NULL},
	{"ID is an extension", {S("v=STSv1; ID=bad!; id=ok")}, 1, STSDANE_OK,
	    "ok", NULL},
	{"others discarded", {S("v=spf1 -all"), S("v=STSv1; id=one"),
	    S("hello")}, 3, STSDANE_OK, "one", NULL},
	{"v=STSv10 is not v1", {S("v=STSv10; id=a"), S("v=STSv1; id=b")}, 2,
	    STSDANE_OK, "b", NULL},
	{"NUL in other record", {S("x\0y"), S("v=STSv1; id=b")}, 2,
	    STSDANE_OK, "b", NULL},

	/* not found */
	{"empty set", {{NULL, 0}}, 0, STSDANE_ERR_NOTFOUND, NULL, NULL},
	{"no sts record", {S("v=spf1 -all"), S("")}, 2, STSDANE_ERR_NOTFOUND,
	    NULL, "no record"},
	{"case of v", {S("V=STSv1; id=a")}, 1, STSDANE_ERR_NOTFOUND, NULL,
	    NULL},
	{"case of STSv1", {S("v=stsv1; id=a")}, 1, STSDANE_ERR_NOTFOUND, NULL,
	    NULL},
	{"leading space", {S(" v=STSv1; id=a")}, 1, STSDANE_ERR_NOTFOUND,
	    NULL, NULL},
	{"v=STSv2", {S("v=STSv2; id=a")}, 1, STSDANE_ERR_NOTFOUND, NULL, NULL},

	/* syntax */
	{"two records", {S("v=STSv1; id=a"), S("v=STSv1; id=b")}, 2,
	    STSDANE_ERR_SYNTAX, NULL, "2 records start with 'v=STSv1'"},
	{"two identical", {S("v=STSv1; id=a"), S("v=STSv1; id=a")}, 2,
	    STSDANE_ERR_SYNTAX, NULL, "2 records"},
	{"three records", {S("v=STSv1; id=a"), S("v=STSv1; id=b"),
	    S("v=STSv1")}, 3, STSDANE_ERR_SYNTAX, NULL, "3 records"},
	{"version only", {S("v=STSv1")}, 1, STSDANE_ERR_SYNTAX, NULL,
	    "no 'id'"},
	{"version and ;", {S("v=STSv1;")}, 1, STSDANE_ERR_SYNTAX, NULL,
	    "no 'id'"},
	{"id missing", {S("v=STSv1; foo=bar")}, 1, STSDANE_ERR_SYNTAX, NULL,
	    "no 'id'"},
	{"id too long", {S("v=STSv1; id=0123456789abcdefABCDEF0123456789x")},
	    1, STSDANE_ERR_SYNTAX, NULL, "33 characters"},
	{"id bad char", {S("v=STSv1; id=2016-08-31")}, 1, STSDANE_ERR_SYNTAX,
	    NULL, "letters and digits"},
	{"id underscore", {S("v=STSv1; id=a_b")}, 1, STSDANE_ERR_SYNTAX, NULL,
	    "letters and digits"},
	{"id empty", {S("v=STSv1; id=")}, 1, STSDANE_ERR_SYNTAX, NULL,
	    "'id' is empty"},
	{"id with =", {S("v=STSv1; id=a=b")}, 1, STSDANE_ERR_SYNTAX, NULL,
	    "letters and digits"},
	{"two ids", {S("v=STSv1; id=a; id=b")}, 1, STSDANE_ERR_SYNTAX, NULL,
	    "more than one"},
	{"no ; after version", {S("v=STSv1 id=a")}, 1, STSDANE_ERR_SYNTAX,
	    NULL, "expected ';'"},
	{"no ; between fields", {S("v=STSv1; id=a foo=b")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, "expected ';'"},
	{"empty field", {S("v=STSv1;; id=a")}, 1, STSDANE_ERR_SYNTAX, NULL,
	    "empty field"},
	{"spaces around =", {S("v=STSv1; id = a")}, 1, STSDANE_ERR_SYNTAX,
	    NULL, "no '='"},
	{"field without =", {S("v=STSv1; id=a; flag")}, 1, STSDANE_ERR_SYNTAX,
	    NULL, "no '='"},
	{"ext name bad start", {S("v=STSv1; id=a; _x=1")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, "extension field name"},
	{"ext name too long",
	    {S("v=STSv1; id=a; abcdefghijabcdefghijabcdefghijabc=1")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, "extension field name"},
	{"ext value empty", {S("v=STSv1; id=a; x=")}, 1, STSDANE_ERR_SYNTAX,
	    NULL, "empty value"},
	{"ext value with =", {S("v=STSv1; id=a; x=1=2")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, "bad byte 0x3d"},
	{"ext value 8-bit", {S("v=STSv1; id=a; x=\xc3\xa9")}, 1,
	    STSDANE_ERR_SYNTAX, NULL, "bad byte 0xc3"},
	{"NUL in id", {S("v=STSv1; id=a\0b")}, 1, STSDANE_ERR_SYNTAX, NULL,
	    "0x00"},
	{"NUL after version", {S("v=STSv1\0; id=a")}, 1, STSDANE_ERR_NOTFOUND,
	    NULL, NULL},
	{"CR at end", {S("v=STSv1; id=a\r")}, 1, STSDANE_ERR_SYNTAX, NULL,
	    "0x0d"},
};

Test(txt, table)
{
	size_t i, j;

	for (i = 0; i < sizeof(txt_cases) / sizeof(txt_cases[0]); i++) {
		const struct txt_case *c = &txt_cases[i];
		const char *recs[3];
		size_t lens[3];
		char id[33], err[SD_ERRLEN];
		int rc;

		for (j = 0; j < c->n; j++) {
			recs[j] = c->r[j].s;
			lens[j] = c->r[j].len;
		}
		memset(id, 'X', sizeof(id));
		rc = stsdane_txt_check(recs, lens, c->n, id, err, sizeof(err));
		cr_expect_eq(rc, c->rc, "%s: rc %d, want %d (%s)", c->what, rc,
		    c->rc, err);
		if (rc == STSDANE_OK) {
			cr_expect_str_eq(id, c->id, "%s: id", c->what);
		} else {
			cr_expect_str_eq(id, "", "%s: id not cleared",
			    c->what);
			if (c->err != NULL)
				cr_expect(strstr(err, c->err) != NULL,
				    "%s: err '%s' lacks '%s'", c->what, err,
				    c->err);
		}
	}
}

Test(txt, huge_record)
{
	static char big[SD_MAX_TXT * 2];
	const char *recs[1] = {big};
	size_t lens[1];
	char id[33], err[SD_ERRLEN];

	memset(big, 'a', sizeof(big));
	memcpy(big, "v=STSv1; id=abc; x=", 19);
	lens[0] = sizeof(big);
	cr_expect_eq(stsdane_txt_check(recs, lens, 1, id, err, sizeof(err)),
	    STSDANE_ERR_SYNTAX);
	cr_expect(strstr(err, "bytes long") != NULL, "%s", err);
}

Test(txt, bad_arguments)
{
	const char *recs[1] = {"v=STSv1; id=a"};
	size_t lens[1] = {13};
	char id[33];

	cr_expect_eq(stsdane_txt_check(recs, lens, 1, NULL, NULL, 0),
	    STSDANE_ERR_INVAL);
	cr_expect_eq(stsdane_txt_check(NULL, NULL, 1, id, NULL, 0),
	    STSDANE_ERR_INVAL);
	/* no error buffer is fine */
	cr_expect_eq(stsdane_txt_check(recs, lens, 1, id, NULL, 0),
	    STSDANE_OK);
	cr_expect_str_eq(id, "a");
}

/* One TXT RDATA item holding text, split into character-strings. */
static size_t
txt_rdata(unsigned char *out, const char *text)
{
	size_t n = strlen(text), i, o = 0;

	for (i = 0; i < n || i == 0; i += 255) {
		size_t k = n - i > 255 ? 255 : n - i;

		out[o++] = (unsigned char)k;
		memcpy(out + o, text + i, k);
		o += k;
		if (n == 0)
			break;
	}
	return o;
}

/*
 * Regression: a second v=STSv1 record after many others, or after one
 * too long to keep, is never dropped (the CLI stopped at 64 records, the
 * library's TXT path at 16).
 */
Test(txt, rdata_no_cap)
{
	static unsigned char wire[200][6000];
	const unsigned char *rd[200];
	size_t rdlen[200], i;
	char id[33], err[SD_ERRLEN], text[64];
	static char big[5000];

	for (i = 0; i < 199; i++) {
		snprintf(text, sizeof(text), "junk%zu", i);
		rdlen[i] = txt_rdata(wire[i], text);
		rd[i] = wire[i];
	}
	rdlen[0] = txt_rdata(wire[0], "v=STSv1; id=one");
	rdlen[199] = txt_rdata(wire[199], "v=STSv1; id=two");
	rd[199] = wire[199];
	cr_expect_eq(txt_check_rdata(rd, rdlen, 200, id, err, sizeof(err)),
	    STSDANE_ERR_SYNTAX);
	cr_expect(strstr(err, "2 records start with 'v=STSv1'") != NULL, "%s",
	    err);

	/* the only v=STSv1 record is the 200th */
	rdlen[0] = txt_rdata(wire[0], "junk");
	cr_expect_eq(txt_check_rdata(rd, rdlen, 200, id, err, sizeof(err)),
	    STSDANE_OK, "%s", err);
	cr_expect_str_eq(id, "two");

	/* a long record that is not v=STSv1 is no reason to skip one */
	memset(big, 'x', sizeof(big) - 1);
	rdlen[1] = txt_rdata(wire[1], big);
	rdlen[0] = txt_rdata(wire[0], "v=STSv1; id=one");
	cr_expect_eq(txt_check_rdata(rd, rdlen, 200, id, err, sizeof(err)),
	    STSDANE_ERR_SYNTAX);

	/* malformed RDATA is an error, not a record to skip */
	wire[5][0] = 200;
	cr_expect_eq(txt_check_rdata(rd, rdlen, 200, id, err, sizeof(err)),
	    STSDANE_ERR_SYNTAX);
	cr_expect_str_eq(err, "TXT record 6 of 200 is malformed");
}
