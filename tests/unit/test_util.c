/*
 * test_util.c - bounded string helpers and host name syntax (util.c)
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct host_case {
	const char *in;
	int underscore;
	int rc;
	const char *out;
};

#define L63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct host_case host_cases[] = {
	{"example.com", 0, 0, "example.com"},
	{"MX1.Example.COM", 0, 0, "mx1.example.com"},
	{"example.com.", 0, 0, "example.com"},
	{"a", 0, 0, "a"},
	{"1.2.3.4", 0, 0, "1.2.3.4"},
	{"a-b.c", 0, 0, "a-b.c"},
	{"xn--bcher-kva.example", 0, 0, "xn--bcher-kva.example"},
	{L63 ".x", 0, 0, L63 ".x"},
	{"_25._tcp.mx.example", 1, 0, "_25._tcp.mx.example"},
	{"_25._tcp.mx.example", 0, -1, NULL},
	{"", 0, -1, NULL},
	{".", 0, -1, NULL},
	{"example.com..", 0, -1, NULL},		/* empty final label */
	{"a..", 0, -1, NULL},
	{".example.com", 0, -1, NULL},
	{"a..b", 0, -1, NULL},
	{"-a.b", 0, -1, NULL},
	{"a-.b", 0, -1, NULL},
	{"a.b-", 0, -1, NULL},
	{"a b", 0, -1, NULL},
	{"*.example.com", 0, -1, NULL},
	{"a/b", 0, -1, NULL},
	{"caf\xc3\xa9.example", 0, -1, NULL},
	{L63 "a.x", 0, -1, NULL},
	{"a\tb", 0, -1, NULL},
};

Test(util, hostname_normalize_table)
{
	size_t i;

	for (i = 0; i < sizeof(host_cases) / sizeof(host_cases[0]); i++) {
		const struct host_case *c = &host_cases[i];
		char out[SD_MAX_NAME];
		int rc;

		rc = sd_hostname_normalize(c->in, out, sizeof(out),
		    c->underscore);
		cr_expect_eq(rc, c->rc, "'%s': rc %d", c->in, rc);
		if (rc == 0)
			cr_expect_str_eq(out, c->out, "'%s'", c->in);
	}
}

Test(util, hostname_lengths)
{
	char in[300], out[SD_MAX_NAME], small[4];
	size_t i;

	/* 253 characters: labels of 63, 63, 63, 61 */
	memset(in, 'a', sizeof(in));
	for (i = 63; i < 253; i += 64)
		in[i] = '.';
	in[253] = '\0';
	cr_expect_eq(sd_hostname_normalize(in, out, sizeof(out), 0), 0);
	cr_expect_eq(strlen(out), 253);
	/* the same with a final dot */
	in[253] = '.';
	in[254] = '\0';
	cr_expect_eq(sd_hostname_normalize(in, out, sizeof(out), 0), 0);
	/* 254 characters without the dot: too long */
	in[253] = 'a';
	cr_expect_eq(sd_hostname_normalize(in, out, sizeof(out), 0), -1);
	/* output buffer too small */
	cr_expect_eq(sd_hostname_normalize("abcd", small, sizeof(small), 0),
	    -1);
	cr_expect_eq(sd_hostname_normalize("abc", small, sizeof(small), 0), 0);
	cr_expect_eq(sd_hostname_normalize(NULL, out, sizeof(out), 0), -1);
}

struct ip_case {
	const char *in;
	int want;
};

static const struct ip_case ip_cases[] = {
	{"192.0.2.1", 1},
	{"[192.0.2.1]", 1},
	{"::1", 1},
	{"[::1]", 1},
	{"2001:db8::25", 1},
	{"::ffff:192.0.2.1", 1},
	{"mail.example.com", 0},
	{"192.0.2", 0},
	{"192.0.2.1.", 0},
	{"256.0.0.1", 0},
	{"[192.0.2.1", 0},
	{"192.0.2.1]", 0},
	{"[]", 0},
	{"", 0},
	{"[IPv6:::1]", 0},
	{"[" L63 L63 "]", 0},
};

Test(util, ip_literal_table)
{
	size_t i;

	for (i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++)
		cr_expect_eq(sd_is_ip_literal(ip_cases[i].in), ip_cases[i].want,
		    "'%s'", ip_cases[i].in);
}

Test(util, snprintf_truncation)
{
	char buf[8];

	cr_expect_eq(sd_snprintf(buf, sizeof(buf), "%s", "1234567"), 0);
	cr_expect_str_eq(buf, "1234567");
	cr_expect_eq(sd_snprintf(buf, sizeof(buf), "%s", "12345678"), -1);
	cr_expect_str_eq(buf, "1234567");
	cr_expect_eq(sd_snprintf(buf, sizeof(buf), "%d-%s", 42, "abcdefgh"),
	    -1);
	cr_expect_str_eq(buf, "42-abcd");
	cr_expect_eq(sd_snprintf(buf, sizeof(buf), "%s", ""), 0);
	cr_expect_str_eq(buf, "");
	cr_expect_eq(sd_snprintf(NULL, 0, "%s", "x"), -1);
	cr_expect_eq(sd_snprintf(buf, 0, "%s", "x"), -1);
	cr_expect_eq(sd_snprintf(buf, 1, "%s", "x"), -1);
	cr_expect_str_eq(buf, "");
}

Test(util, strlcpy_and_dup)
{
	char buf[4];
	char *p;

	cr_expect_eq(sd_strlcpy(buf, "abc", sizeof(buf)), 0);
	cr_expect_str_eq(buf, "abc");
	cr_expect_eq(sd_strlcpy(buf, "abcd", sizeof(buf)), -1);
	cr_expect_str_eq(buf, "abc");
	cr_expect_eq(sd_strlcpy(buf, "", sizeof(buf)), 0);
	cr_expect_str_eq(buf, "");
	cr_expect_eq(sd_strlcpy(buf, "x", 0), -1);
	cr_expect_null(sd_strdup(NULL));
	cr_expect_null(sd_strndup(NULL, 3));
	p = sd_strndup("a\0bc", 4);
	cr_assert_not_null(p);
	cr_expect_eq(memcmp(p, "a\0bc", 5), 0);
	free(p);
	p = sd_strdup("xyz");
	cr_expect_str_eq(p, "xyz");
	free(p);
}
