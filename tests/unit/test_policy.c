/*
 * test_policy.c - stsdane_policy_parse(): the MTA-STS policy file
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define B(lit) lit, sizeof(lit) - 1
#define HDR "version: STSv1\n"

struct policy_case {
	const char *what;
	const char *body;
	size_t len;
	int rc;
	enum stsdane_mode mode;		/* on STSDANE_OK */
	uint32_t max_age;
	const char *mx;			/* space-separated, on STSDANE_OK */
	const char *err;		/* substring, otherwise */
};

static const struct policy_case policy_cases[] = {
	/* valid */
	{"rfc example", B("version: STSv1\nmode: enforce\n"
	    "mx: mail.example.com\nmx: *.example.net\nmx: backupmx.example.com\n"
	    "max_age: 604800\n"), STSDANE_OK, STSDANE_MODE_ENFORCE, 604800,
	    "mail.example.com *.example.net backupmx.example.com", NULL},
	{"crlf", B("version: STSv1\r\nmode: testing\r\nmx: a.example\r\n"
	    "max_age: 86400\r\n"), STSDANE_OK, STSDANE_MODE_TESTING, 86400,
	    "a.example", NULL},
	{"mixed line ends, no final", B("version: STSv1\r\nmode: enforce\n"
	    "mx: a.example\r\nmax_age: 1"), STSDANE_OK, STSDANE_MODE_ENFORCE,
	    1, "a.example", NULL},
	{"no space after colon", B("version:STSv1\nmode:none\nmax_age:0\n"),
	    STSDANE_OK, STSDANE_MODE_NONE, 0, "", NULL},
	{"tabs and trailing wsp", B("version:\tSTSv1 \t\nmode:  enforce  \n"
	    "mx:\tMX.Example.COM. \nmax_age: 31557600\t\n"), STSDANE_OK,
	    STSDANE_MODE_ENFORCE, 31557600, "mx.example.com", NULL},
	{"mode none with mx", B(HDR "mode: none\nmx: a.example\nmax_age: 5\n"),
	    STSDANE_OK, STSDANE_MODE_NONE, 5, "a.example", NULL},
	{"fields in any order", B("max_age: 10\nmx: a.example\nmode: enforce\n"
	    "version: STSv1\n"), STSDANE_OK, STSDANE_MODE_ENFORCE, 10,
	    "a.example", NULL},
	{"leading zeros", B(HDR "mode: none\nmax_age: 0000000007\n"),
	    STSDANE_OK, STSDANE_MODE_NONE, 7, "", NULL},
	{"first mode wins", B(HDR "mode: testing\nmode: enforce\nmx: a.example\n"
	    "max_age: 5\n"), STSDANE_OK, STSDANE_MODE_TESTING, 5, "a.example",
	    NULL},
	{"first max_age wins", B(HDR "mode: none\nmax_age: 5\nmax_age: 9\n"),
	    STSDANE_OK, STSDANE_MODE_NONE, 5, "", NULL},
	{"duplicate version", B(HDR HDR "mode: none\nmax_age: 5\n"),
	    STSDANE_OK, STSDANE_MODE_NONE, 5, "", NULL},
	{"extension ignored", B(HDR "mode: none\nmax_age: 5\n"
	    "foo.bar-baz_1: some value  with spaces\n"), STSDANE_OK,
	    STSDANE_MODE_NONE, 5, "", NULL},
	{"extension utf-8", B(HDR "mode: none\nmax_age: 5\n"
	    "note: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\n"), STSDANE_OK,
	    STSDANE_MODE_NONE, 5, "", NULL},
	{"Mode is an extension", B(HDR "Mode: none\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\n"), STSDANE_OK, STSDANE_MODE_ENFORCE, 5,
	    "a.example", NULL},
	{"blank lines tolerated", B("\n" HDR "\n  \nmode: none\nmax_age: 5\n\n"),
	    STSDANE_OK, STSDANE_MODE_NONE, 5, "", NULL},
	{"underscore-free wildcard", B(HDR "mode: enforce\nmx: *.Mail.Example\n"
	    "max_age: 5\n"), STSDANE_OK, STSDANE_MODE_ENFORCE, 5,
	    "*.mail.example", NULL},

	/* missing things */
	{"empty", B(""), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "missing 'version: STSv1'"},
	{"no version", B("mode: none\nmax_age: 5\n"), STSDANE_ERR_SYNTAX, 0, 0,
	    NULL, "missing 'version: STSv1'"},
	{"Version is an extension", B("Version: STSv1\nmode: none\n"
	    "max_age: 5\n"), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "missing 'version: STSv1'"},
	{"no mode", B(HDR "max_age: 5\n"), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "missing 'mode'"},
	{"no max_age", B(HDR "mode: none\n"), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "missing 'max_age'"},
	{"enforce without mx", B(HDR "mode: enforce\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "mode 'enforce' requires at least one mx"},
	{"testing without mx", B(HDR "mode: testing\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "mode 'testing' requires at least one mx"},

	/* bad values */
	{"version STSv2", B("version: STSv2\nmode: none\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 1: version 'STSv2'"},
	{"version case", B("version: stsv1\nmode: none\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 1: version 'stsv1'"},
	{"mode case", B(HDR "mode: Enforce\nmx: a.example\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 2: mode 'Enforce'"},
	{"mode empty", B(HDR "mode:\nmax_age: 5\n"), STSDANE_ERR_SYNTAX, 0, 0,
	    NULL, "line 2: mode ''"},
	{"second mode bad", B(HDR "mode: none\nmode: strict\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 3: mode 'strict'"},
	{"max_age with unit", B(HDR "mode: none\nmax_age: 604800s\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "line 3: max_age '604800s' is not a number of seconds"},
	{"max_age negative", B(HDR "mode: none\nmax_age: -1\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "max_age '-1' is not a number"},
	{"max_age plus", B(HDR "mode: none\nmax_age: +5\n"), STSDANE_ERR_SYNTAX,
	    0, 0, NULL, "max_age '+5' is not a number"},
	{"max_age empty", B(HDR "mode: none\nmax_age:\n"), STSDANE_ERR_SYNTAX,
	    0, 0, NULL, "max_age '' is not a number"},
	{"max_age junk", B(HDR "mode: none\nmax_age:  5x\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "max_age '5x' is not a number"},
	{"max_age hex", B(HDR "mode: none\nmax_age: 0x10\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "is not a number"},
	{"max_age inner space", B(HDR "mode: none\nmax_age: 1 2\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "is not a number"},
	{"max_age decimal", B(HDR "mode: none\nmax_age: 1.5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "is not a number"},
	{"max_age over", B(HDR "mode: none\nmax_age: 31557601\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "over the maximum"},
	{"max_age 10 digits over", B(HDR "mode: none\nmax_age: 9999999999\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "over the maximum"},
	{"max_age 11 digits", B(HDR "mode: none\nmax_age: 99999999999\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 3: max_age '99999999999'"},
	{"max_age 11 digits small", B(HDR "mode: none\nmax_age: 00000000001\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "over the maximum"},
	{"max_age 2^64+", B(HDR "mode: none\n"
	    "max_age: 18446744073709551617\n"), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "over the maximum"},
	{"mx empty", B(HDR "mode: enforce\nmx:\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 3: mx is empty"},
	{"mx ipv4", B(HDR "mode: enforce\nmx: 192.0.2.1\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 3: mx '192.0.2.1' is an IP"},
	{"mx ipv4 dot", B(HDR "mode: enforce\nmx: 192.0.2.1.\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "is an IP address"},
	{"mx ipv6", B(HDR "mode: enforce\nmx: 2001:db8::1\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "is an IP address"},
	{"mx bracketed", B(HDR "mode: enforce\nmx: [192.0.2.1]\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "is an IP address"},
	{"mx wildcard ip", B(HDR "mode: enforce\nmx: *.192.0.2.1\n"
	    "max_age: 5\n"), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "not a valid host name"},
	/* IDN: U-labels are stored as A-labels; a bad label is named */
	{"mx U-label", B(HDR "mode: enforce\nmx: \xc3\xb1" "aca.com\n"
	    "max_age: 5\n"), STSDANE_OK, STSDANE_MODE_ENFORCE, 5,
	    "xn--aca-6ma.com", NULL},
	{"mx U-label upper case", B(HDR "mode: enforce\nmx: *.\xc3\x91"
	    "ACA.com\nmax_age: 5\n"), STSDANE_OK, STSDANE_MODE_ENFORCE, 5,
	    "*.xn--aca-6ma.com", NULL},
	{"mx bad IDN bytes", B(HDR "mode: enforce\nmx: a.\xff\xfe.com\n"
	    "max_age: 5\n"), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "label '?" "?' is not a valid IDN label"},
	{"mx bad IDN label", B(HDR "mode: enforce\nmx: a\xe2\x80\x8d" "b.com"
	    "\nmax_age: 5\n"), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "is not a valid IDN label"},
	{"mx star", B(HDR "mode: enforce\nmx: *\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "mx '*' is not a valid host name"},
	{"mx star dot", B(HDR "mode: enforce\nmx: *.\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "not a valid host name"},
	{"mx inner star", B(HDR "mode: enforce\nmx: a.*.b\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "not a valid host name"},
	{"mx double star", B(HDR "mode: enforce\nmx: *.*.x\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "not a valid host name"},
	{"mx partial star", B(HDR "mode: enforce\nmx: a*.x\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "not a valid host name"},
	{"mx underscore", B(HDR "mode: enforce\nmx: a_b.x\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "not a valid host name"},
	{"mx empty label", B(HDR "mode: enforce\nmx: a..x\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "not a valid host name"},
	{"mx two names", B(HDR "mode: enforce\nmx: a.x b.x\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "not a valid host name"},
	{"mx label too long", B(HDR "mode: enforce\nmx: "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x\n"
	    "max_age: 5\n"), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "not a valid host name"},
	{"mx two final dots", B(HDR "mode: enforce\nmx: a.x..\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "not a valid host name"},
	{"mx hyphen end", B(HDR "mode: enforce\nmx: a-.x\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "not a valid host name"},
	{"bad mx in mode none", B(HDR "mode: none\nmx: -x\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 3: mx '-x'"},

	/* bad lines */
	{"bare CR line ends", B("version: STSv1\rmode: none\rmax_age: 5\r"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 1: bare CR"},
	{"bare CR inside", B(HDR "mode: no\rne\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 2: bare CR"},
	{"CR CR LF", B(HDR "mode: none\r\r\nmax_age: 5\n"), STSDANE_ERR_SYNTAX,
	    0, 0, NULL, "line 2: bare CR"},
	{"NUL byte", B(HDR "mode: none\nmax_age: 5\0\n"), STSDANE_ERR_SYNTAX,
	    0, 0, NULL, "line 3: NUL byte"},
	{"NUL in extension", B(HDR "mode: none\nmax_age: 5\nx: a\0b\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 4: NUL byte"},
	{"no colon", B(HDR "mode none\nmax_age: 5\n"), STSDANE_ERR_SYNTAX, 0, 0,
	    NULL, "line 2: 'mode none' is not a 'name: value' field"},
	{"space before colon", B(HDR "mode : none\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 2: bad field name 'mode '"},
	{"leading space", B(HDR " mode: none\nmax_age: 5\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 2: bad field name"},
	{"empty name", B(HDR ": none\nmax_age: 5\n"), STSDANE_ERR_SYNTAX, 0, 0,
	    NULL, "line 2: bad field name"},
	{"name too long", B(HDR "mode: none\nmax_age: 5\n"
	    "abcdefghijabcdefghijabcdefghijabc: x\n"), STSDANE_ERR_SYNTAX, 0, 0,
	    NULL, "line 4: bad field name"},
	{"extension empty", B(HDR "mode: none\nmax_age: 5\nfoo:\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 4: field 'foo' has an empty"},
	{"extension tab inside", B(HDR "mode: none\nmax_age: 5\nfoo: a\tb\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "line 4: field 'foo' has a bad"},
	{"extension latin-1", B(HDR "mode: none\nmax_age: 5\nfoo: caf\xe9\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "invalid UTF-8"},
	{"extension overlong", B(HDR "mode: none\nmax_age: 5\nfoo: \xc0\xaf\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "invalid UTF-8"},
	{"extension surrogate", B(HDR "mode: none\nmax_age: 5\n"
	    "foo: \xed\xa0\x80\n"), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "invalid UTF-8"},
	{"extension truncated utf-8", B(HDR "mode: none\nmax_age: 5\n"
	    "foo: \xe2\x82\n"), STSDANE_ERR_SYNTAX, 0, 0, NULL,
	    "invalid UTF-8"},
	{"extension DEL", B(HDR "mode: none\nmax_age: 5\nfoo: \x7f\n"),
	    STSDANE_ERR_SYNTAX, 0, 0, NULL, "bad value"},
	{"binary garbage", B("\xff\xfe\x00\x01\x02"), STSDANE_ERR_SYNTAX, 0, 0,
	    NULL, "line 1: NUL byte"},
	{"html", B("<html><body>hello</body></html>\n"), STSDANE_ERR_SYNTAX, 0,
	    0, NULL, "line 1: '<html><body>hello</body></html>' is not a"},
};

static void
join_mx(const struct stsdane_policy *p, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < p->nmx; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? " " : "",
		    p->mx[i]);

		cr_assert(n >= 0 && (size_t)n < len - o);
		o += (size_t)n;
	}
}

Test(policy, table)
{
	size_t i;

	for (i = 0; i < sizeof(policy_cases) / sizeof(policy_cases[0]); i++) {
		const struct policy_case *c = &policy_cases[i];
		struct stsdane_policy *p = (void *)1;
		char err[SD_ERRLEN], mx[1024];
		int rc;

		rc = stsdane_policy_parse(c->body, c->len, &p, err, sizeof(err));
		cr_expect_eq(rc, c->rc, "%s: rc %d, want %d (%s)", c->what, rc,
		    c->rc, err);
		if (rc != STSDANE_OK) {
			cr_expect_null(p, "%s: out not cleared", c->what);
			if (c->err != NULL)
				cr_expect(strstr(err, c->err) != NULL,
				    "%s: err '%s' lacks '%s'", c->what, err,
				    c->err);
			continue;
		}
		cr_expect_eq(p->mode, c->mode, "%s: mode", c->what);
		cr_expect_eq(p->max_age, c->max_age, "%s: max_age", c->what);
		join_mx(p, mx, sizeof(mx));
		cr_expect_str_eq(mx, c->mx, "%s: mx", c->what);
		stsdane_policy_free(p);
	}
}

/* Build a policy with n mx lines. */
static char *
policy_with_mx(size_t n, size_t *len)
{
	size_t cap = 64 + n * 32, o = 0, i;
	char *b = malloc(cap);

	cr_assert_not_null(b);
	o += (size_t)snprintf(b, cap, "version: STSv1\nmode: enforce\n"
	    "max_age: 86400\n");
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(b + o, cap - o, "mx: mx%zu.example\n", i);
	*len = o;
	return b;
}

Test(policy, mx_cap)
{
	struct stsdane_policy *p;
	char err[SD_ERRLEN];
	size_t len;
	char *b;

	b = policy_with_mx(SD_MAX_POLICY_MX, &len);
	cr_assert_eq(stsdane_policy_parse(b, len, &p, err, sizeof(err)),
	    STSDANE_OK, "%s", err);
	cr_expect_eq(p->nmx, SD_MAX_POLICY_MX);
	cr_expect_str_eq(p->mx[SD_MAX_POLICY_MX - 1], "mx63.example");
	stsdane_policy_free(p);
	free(b);

	b = policy_with_mx(SD_MAX_POLICY_MX + 1, &len);
	cr_expect_eq(stsdane_policy_parse(b, len, &p, err, sizeof(err)),
	    STSDANE_ERR_SYNTAX);
	cr_expect(strstr(err, "line 68: more than 64 mx lines") != NULL, "%s",
	    err);
	free(b);
}

Test(policy, size_limit)
{
	struct stsdane_policy *p;
	char err[SD_ERRLEN];
	size_t hdr, len = SD_MAX_POLICY;
	char *b = malloc(SD_MAX_POLICY + 1);

	cr_assert_not_null(b);
	/* a policy of exactly the limit, padded with one long extension */
	hdr = (size_t)snprintf(b, 128, "version: STSv1\nmode: none\n"
	    "max_age: 5\npad: ");
	memset(b + hdr, 'x', len - hdr - 1);
	b[len - 1] = '\n';
	cr_expect_eq(stsdane_policy_parse(b, len, &p, err, sizeof(err)),
	    STSDANE_OK, "%s", err);
	stsdane_policy_free(p);

	b[len - 1] = 'x';
	b[len] = '\n';
	cr_expect_eq(stsdane_policy_parse(b, len + 1, &p, err, sizeof(err)),
	    STSDANE_ERR_SYNTAX);
	cr_expect(strstr(err, "over the limit") != NULL, "%s", err);
	free(b);
}

Test(policy, huge_line_value_quoted_bounded)
{
	struct stsdane_policy *p;
	char err[SD_ERRLEN];
	size_t len = 60000;
	char *b = malloc(len);

	cr_assert_not_null(b);
	memcpy(b, "max_age: ", 9);
	memset(b + 9, '7', len - 9);
	cr_expect_eq(stsdane_policy_parse(b, len, &p, err, sizeof(err)),
	    STSDANE_ERR_SYNTAX);
	cr_expect(strstr(err, "...") != NULL, "%s", err);
	cr_expect_lt(strlen(err), 200);
	free(b);
}

Test(policy, not_terminated_and_small_err)
{
	/* body without a NUL after it: parse must stay within len */
	static const char body[] = {'v', 'e', 'r', 's', 'i', 'o', 'n', ':',
	    ' ', 'S', 'T', 'S', 'v', '1'};
	struct stsdane_policy *p;
	char err[8];

	cr_expect_eq(stsdane_policy_parse(body, sizeof(body), &p, err,
	    sizeof(err)), STSDANE_ERR_SYNTAX);
	cr_expect_eq(strlen(err), sizeof(err) - 1);	/* truncated, ended */
	cr_expect_eq(stsdane_policy_parse(body, sizeof(body), &p, NULL, 0),
	    STSDANE_ERR_SYNTAX);
	cr_expect_eq(stsdane_policy_parse(NULL, 5, &p, NULL, 0),
	    STSDANE_ERR_INVAL);
	cr_expect_eq(stsdane_policy_parse(body, sizeof(body), NULL, NULL, 0),
	    STSDANE_ERR_INVAL);
	stsdane_policy_free(NULL);
}

/*
 * Found by tests/fuzz (corpus/mx/crash-wildcard-too-long): "*." and 253
 * characters was accepted, yet no host name (253 at most) can have a
 * label in front of 253 characters, so the pattern matched nothing.
 * 251 characters after "*." is the longest that can match.
 */
Test(policy, wildcard_rest_fits_a_host)
{
	char body[512], rest[254], host[256], err[SD_ERRLEN];
	struct stsdane_policy *p = NULL;
	size_t n, i;

	for (n = 251; n <= 253; n++) {
		/* labels of 49 letters and a final one, n characters in all */
		for (i = 0; i < n; i++)
			rest[i] = i % 50 == 49 ? '.' : 'a';
		if (rest[n - 1] == '.')
			rest[n - 1] = 'b';
		rest[n] = '\0';
		snprintf(body, sizeof(body), "version: STSv1\nmode: enforce\n"
		    "max_age: 86400\nmx: *.%s\n", rest);
		if (n == 251) {
			cr_assert_eq(stsdane_policy_parse(body, strlen(body),
			    &p, err, sizeof(err)), STSDANE_OK, "%s", err);
			snprintf(host, sizeof(host), "a.%s", rest);
			cr_expect_eq(strlen(host), 253);
			cr_expect(stsdane_mx_match(p->mx[0], host));
			stsdane_policy_free(p);
			continue;
		}
		cr_expect_eq(stsdane_policy_parse(body, strlen(body), &p, err,
		    sizeof(err)), STSDANE_ERR_SYNTAX, "%zu characters", n);
		cr_expect(strstr(err, "can match no host name: more than 251 "
		    "characters after '*.'") != NULL, "%s", err);
	}
}
