/*
 * test_rdata.c - rdata_*(): wire-format RDATA from the resolver
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dns.h"
#include "util.h"
#include "rdata.h"

#define W(lit) (const unsigned char *)lit, sizeof(lit) - 1

struct txt_case {
	const char *what;
	const unsigned char *rd;
	size_t len;
	size_t outlen;
	int rc;
	const char *want;
	size_t wantn;
};

static const struct txt_case txt_cases[] = {
	{"one string", W("\x0cv=STSv1;id=1"), 64, 0, "v=STSv1;id=1", 12},
	{"two strings", W("\x08v=STSv1;\x05id=12"), 64, 0, "v=STSv1;id=12", 13},
	{"empty string", W("\x00"), 64, 0, "", 0},
	{"empty strings around", W("\x00\x02hi\x00"), 64, 0, "hi", 2},
	{"NUL inside", W("\x03" "a\0b"), 64, 0, "a", 3},
	{"exact fit", W("\x03" "abc"), 4, 0, "abc", 3},
	{"one too small", W("\x03" "abc"), 3, -1, NULL, 0},
	{"length past end", W("\x05" "abc"), 64, -1, NULL, 0},
	{"second past end", W("\x01" "a\x02" "b"), 64, -1, NULL, 0},
	{"length 255 past end", W("\xff" "abc"), 64, -1, NULL, 0},
	{"empty rdata", W(""), 64, -1, NULL, 0},
};

Test(rdata, txt_table)
{
	size_t i;

	for (i = 0; i < sizeof(txt_cases) / sizeof(txt_cases[0]); i++) {
		const struct txt_case *c = &txt_cases[i];
		char out[64];
		size_t n = 999;
		int rc;

		rc = rdata_txt(c->rd, c->len, out, c->outlen, &n);
		cr_expect_eq(rc, c->rc, "%s: rc %d", c->what, rc);
		if (rc == 0) {
			cr_expect_eq(n, c->wantn, "%s: n %zu", c->what, n);
			cr_expect_eq(memcmp(out, c->want, strlen(c->want)), 0,
			    "%s: '%s'", c->what, out);
			cr_expect_eq(out[n], '\0', "%s: not ended", c->what);
		}
	}
}

Test(rdata, txt_long)
{
	unsigned char rd[4 * 256];
	char out[SD_MAX_TXT + 1];
	size_t i, n;

	for (i = 0; i < 4; i++) {
		rd[i * 256] = 255;
		memset(rd + i * 256 + 1, 'a' + (int)i, 255);
	}
	cr_expect_eq(rdata_txt(rd, sizeof(rd), out, sizeof(out), &n), 0);
	cr_expect_eq(n, 4 * 255);
	cr_expect_eq(out[255], 'b');
	cr_expect_eq(rdata_txt(rd, sizeof(rd), out, 4 * 255, &n), -1);
	cr_expect_eq(rdata_txt(NULL, 1, out, sizeof(out), &n), -1);
	cr_expect_eq(rdata_txt(rd, sizeof(rd), NULL, 0, &n), -1);
}

struct mx_case {
	const char *what;
	const unsigned char *rd;
	size_t len;
	int rc;
	unsigned pref;
	const char *name;
};

static const struct mx_case mx_cases[] = {
	{"simple", W("\x00\x0a\x04mail\x07" "example\x03" "com\x00"), 0, 10,
	    "mail.example.com"},
	{"case kept", W("\x01\x00\x02MX\x01" "E\x00"), 0, 256, "MX.E"},
	{"null mx", W("\x00\x00\x00"), 0, 0, ""},
	{"pref 65535", W("\xff\xff\x01" "a\x00"), 0, 65535, "a"},
	{"underscore", W("\x00\x01\x04_srv\x01" "x\x00"), 0, 1, "_srv.x"},
	{"hyphen", W("\x00\x01\x03" "a-b\x00"), 0, 1, "a-b"},
	{"too short", W("\x00\x01"), -1, 0, NULL},
	{"empty", W(""), -1, 0, NULL},
	{"no root label", W("\x00\x01\x01" "a"), -1, 0, NULL},
	{"label past end", W("\x00\x01\x05" "ab\x00"), -1, 0, NULL},
	{"pointer", W("\x00\x01\xc0\x0c"), -1, 0, NULL},
	{"pointer after label", W("\x00\x01\x01" "a\xc0\x0c"), -1, 0, NULL},
	{"label 64", W("\x00\x01\x40"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\x00"), -1, 0, NULL},
	{"trailing bytes", W("\x00\x01\x01" "a\x00\x00"), -1, 0, NULL},
	{"dot in label", W("\x00\x01\x03" "a.b\x00"), -1, 0, NULL},
	{"space in label", W("\x00\x01\x03" "a b\x00"), -1, 0, NULL},
	{"NUL in label", W("\x00\x01\x03" "a\0b\x00"), -1, 0, NULL},
	{"8-bit label", W("\x00\x01\x02\xc3\xa9\x00"), -1, 0, NULL},
	{"backslash", W("\x00\x01\x02\\a\x00"), -1, 0, NULL},
};

Test(rdata, mx_table)
{
	size_t i;

	for (i = 0; i < sizeof(mx_cases) / sizeof(mx_cases[0]); i++) {
		const struct mx_case *c = &mx_cases[i];
		char name[SD_MAX_NAME];
		unsigned pref = 12345;
		int rc;

		rc = rdata_mx(c->rd, c->len, &pref, name, sizeof(name));
		cr_expect_eq(rc, c->rc, "%s: rc %d", c->what, rc);
		if (rc == 0) {
			cr_expect_eq(pref, c->pref, "%s: pref %u", c->what,
			    pref);
			cr_expect_str_eq(name, c->name, "%s", c->what);
		}
	}
}

/* MX with `nlabels' labels of `llen' bytes each. */
static size_t
long_mx(unsigned char *rd, size_t nlabels, size_t llen)
{
	size_t o = 2, i;

	rd[0] = 0;
	rd[1] = 5;
	for (i = 0; i < nlabels; i++) {
		rd[o++] = (unsigned char)llen;
		memset(rd + o, 'a', llen);
		o += llen;
	}
	rd[o++] = 0;
	return o;
}

Test(rdata, mx_lengths)
{
	unsigned char rd[600];
	char name[SD_MAX_NAME], small[10];
	size_t len;

	/* 4 labels of 62 with 3 dots: 251 characters, fits */
	len = long_mx(rd, 4, 62);
	cr_expect_eq(rdata_mx(rd, len, NULL, name, sizeof(name)), 0);
	cr_expect_eq(strlen(name), 251);
	/* 4 labels of 63: 255 characters, over 253 */
	len = long_mx(rd, 4, 63);
	cr_expect_eq(rdata_mx(rd, len, NULL, name, sizeof(name)), -1);
	cr_expect_str_eq(name, "");
	/* 8 labels of 63 in a big buffer: still refused */
	{
		char big[1024];

		len = long_mx(rd, 8, 63);
		cr_expect_eq(rdata_mx(rd, len, NULL, big, sizeof(big)), -1);
	}
	/* caller's buffer too small */
	len = long_mx(rd, 2, 4);
	cr_expect_eq(rdata_mx(rd, len, NULL, small, sizeof(small) - 1), -1);
	cr_expect_eq(rdata_mx(rd, len, NULL, small, sizeof(small)), 0);
	cr_expect_str_eq(small, "aaaa.aaaa");
}

Test(rdata, tlsa)
{
	static const unsigned char rd[] = {3, 1, 1, 0xde, 0xad, 0xbe, 0xef};
	const unsigned char *data = NULL;
	uint8_t u = 9, s = 9, m = 9;
	size_t dlen = 0;

	cr_expect_eq(rdata_tlsa(rd, sizeof(rd), &u, &s, &m, &data, &dlen), 0);
	cr_expect_eq(u, 3);
	cr_expect_eq(s, 1);
	cr_expect_eq(m, 1);
	cr_expect_eq(data, rd + 3);
	cr_expect_eq(dlen, 4);
	cr_expect_eq(rdata_tlsa(rd, 4, &u, &s, &m, &data, &dlen), 0);
	cr_expect_eq(dlen, 1);
	cr_expect_eq(rdata_tlsa(rd, 3, &u, &s, &m, &data, &dlen), -1);
	cr_expect_eq(rdata_tlsa(rd, 0, &u, &s, &m, &data, &dlen), -1);
	cr_expect_eq(rdata_tlsa(NULL, 7, &u, &s, &m, &data, &dlen), -1);
}

struct addr_case {
	int rrtype;
	const unsigned char *rd;
	size_t len;
	size_t outlen;
	int rc;
	const char *want;
};

static const struct addr_case addr_cases[] = {
	{DNS_T_A, W("\x7f\x00\x00\x01"), 64, 0, "127.0.0.1"},
	{DNS_T_A, W("\xc0\x00\x02\xff"), 64, 0, "192.0.2.255"},
	{DNS_T_A, W("\xff\xff\xff\xff"), 16, 0, "255.255.255.255"},
	{DNS_T_A, W("\xff\xff\xff\xff"), 15, -1, NULL},
	{DNS_T_AAAA, W("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"), 64, 0,
	    "2001:db8::1"},
	{DNS_T_AAAA, W("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"), 64, 0, "::1"},
	{DNS_T_A, W("\x7f\x00\x00"), 64, -1, NULL},
	{DNS_T_A, W("\x7f\x00\x00\x01\x01"), 64, -1, NULL},
	{DNS_T_AAAA, W("\x7f\x00\x00\x01"), 64, -1, NULL},
	{DNS_T_MX, W("\x7f\x00\x00\x01"), 64, -1, NULL},
	{DNS_T_A, W(""), 64, -1, NULL},
};

Test(rdata, addr_table)
{
	size_t i;

	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		const struct addr_case *c = &addr_cases[i];
		char out[64];
		int rc;

		rc = rdata_addr(c->rrtype, c->rd, c->len, out, c->outlen);
		cr_expect_eq(rc, c->rc, "row %zu: rc %d", i, rc);
		if (rc == 0)
			cr_expect_str_eq(out, c->want, "row %zu", i);
	}
}
