/*
 * test_tlsa.c - which TLSA records are usable for SMTP (src/tlsa.c)
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "tlsa.h"
#include "test_certs.h"

static unsigned char zeros[128];

struct usable_case {
	uint8_t usage, selector, mtype;
	size_t len;
	int want;
	const char *reason;	/* substring of err when not usable */
};

static const struct usable_case usable_cases[] = {
	{ 3, 1, 1, 32, 1, NULL },
	{ 3, 0, 1, 32, 1, NULL },
	{ 3, 1, 2, 64, 1, NULL },
	{ 3, 0, 0, 100, 0, "the data is not a DER certificate" },
	{ 2, 0, 1, 32, 1, NULL },
	{ 2, 1, 2, 64, 1, NULL },
	{ 2, 1, 0, 1, 0, "the data is not a DER SubjectPublicKeyInfo" },
	{ 0, 1, 1, 32, 0, "usage 0 (PKIX-TA) is not usable for SMTP" },
	{ 1, 1, 1, 32, 0, "usage 1 (PKIX-EE) is not usable for SMTP" },
	{ 4, 1, 1, 32, 0, "usage 4 is unknown" },
	{ 255, 1, 1, 32, 0, "usage 255 is unknown" },
	{ 3, 2, 1, 32, 0, "selector 2 is unknown" },
	{ 3, 1, 3, 32, 0, "matching type 3 is unknown" },
	{ 3, 1, 1, 31, 0, "needs 32 bytes of data, not 31" },
	{ 3, 1, 1, 33, 0, "needs 32 bytes of data, not 33" },
	{ 3, 1, 1, 64, 0, "needs 32 bytes of data, not 64" },
	{ 3, 1, 2, 32, 0, "needs 64 bytes of data, not 32" },
	{ 3, 1, 0, 0, 0, "with no data" },
};

Test(tlsa, usable_table)
{
	char err[SD_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(usable_cases) / sizeof(usable_cases[0]); i++) {
		const struct usable_case *c = &usable_cases[i];
		struct stsdane_tlsa t = { c->usage, c->selector, c->mtype,
		    c->len, zeros };
		int got = tlsa_usable(&t, err, sizeof(err));

		cr_expect_eq(got, c->want, "case %zu (%u %u %u len %zu): "
		    "got %d, err '%s'", i, c->usage, c->selector, c->mtype,
		    c->len, got, err);
		if (c->reason != NULL)
			cr_expect(strstr(err, c->reason) != NULL,
			    "case %zu: err '%s' lacks '%s'", i, err,
			    c->reason);
		else
			cr_expect_str_empty(err, "case %zu: err '%s'", i, err);
	}
}

Test(tlsa, exact_too_large)
{
	char err[SD_ERRLEN];
	unsigned char *big = calloc(1, 100000);
	struct stsdane_tlsa t = { 3, 0, 0, 100000, big };

	cr_assert_not_null(big);
	cr_expect_eq(tlsa_usable(&t, err, sizeof(err)), 0);
	cr_expect(strstr(err, "100000 bytes") != NULL, "err '%s'", err);
	free(big);
}

/*
 * Exact data is usable only when it parses as what the selector says:
 * 2 0 0 with a certificate, 3 1 0 with a SubjectPublicKeyInfo; the
 * other way round, or truncated, it is not (as Postfix's parse_tlsa_rr).
 */
Test(tlsa, exact_data_must_parse)
{
	struct tcert c;
	char err[SD_ERRLEN];
	unsigned char *cert, *spki;
	size_t clen, slen;

	cr_assert_eq(tc_make(&c, NULL, "mx.example.test", NULL,
	    time(NULL) - 60, time(NULL) + 3600, 0), 0);
	cert = tc_tlsa_data(&c, 0, 0, &clen);
	spki = tc_tlsa_data(&c, 1, 0, &slen);
	cr_assert(cert != NULL && spki != NULL);
	{
		struct stsdane_tlsa ta = { 2, 0, 0, clen, cert };
		struct stsdane_tlsa ee = { 3, 1, 0, slen, spki };
		struct stsdane_tlsa ta_spki = { 2, 0, 0, slen, spki };
		struct stsdane_tlsa ee_cert = { 3, 1, 0, clen, cert };
		struct stsdane_tlsa cut = { 2, 0, 0, clen - 1, cert };

		cr_expect_eq(tlsa_usable(&ta, err, sizeof(err)), 1, "%s", err);
		cr_expect_eq(tlsa_usable(&ee, err, sizeof(err)), 1, "%s", err);
		cr_expect_eq(tlsa_usable(&ta_spki, err, sizeof(err)), 0);
		cr_expect_str_eq(err, "matching type 0 (Full): the data is "
		    "not a DER certificate");
		cr_expect_eq(tlsa_usable(&ee_cert, err, sizeof(err)), 0);
		cr_expect_str_eq(err, "matching type 0 (Full): the data is "
		    "not a DER SubjectPublicKeyInfo");
		cr_expect_eq(tlsa_usable(&cut, err, sizeof(err)), 0);
	}
	free(cert);
	free(spki);
	tc_free(&c);
}

Test(tlsa, null_record)
{
	char err[SD_ERRLEN];

	cr_expect_eq(tlsa_usable(NULL, err, sizeof(err)), 0);
}

#define H32 "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"

struct check_case {
	const char *text;
	int want;
	const char *reason;
};

static const struct check_case check_cases[] = {
	{ "3 1 1 " H32, STSDANE_OK, NULL },
	{ "  3 1 1 " H32 "  ", STSDANE_OK, NULL },
	{ "3\t1\t1\t" H32, STSDANE_OK, NULL },
	{ "3 1 1 0123456789abcdef0123456789ABCDEF "
	  "0123456789abcdef0123456789abcdef", STSDANE_OK, NULL },
	{ "3 1 1 01 23 45 67 89ab cdef0123456789ABCDEF0123456789abcdef"
	  "0123456789abcdef", STSDANE_OK, NULL },
	{ "2 0 2 " H32 H32, STSDANE_OK, NULL },
	{ "3 0 0 3082", STSDANE_ERR_VERIFY, "not a DER certificate" },
	{ "3 1 0 3082", STSDANE_ERR_VERIFY, "not a DER SubjectPublicKeyInfo" },
	{ "003 001 001 " H32, STSDANE_OK, NULL },
	/* well-formed but unusable */
	{ "0 1 1 " H32, STSDANE_ERR_VERIFY,
	  "usage 0 (PKIX-TA) is not usable for SMTP" },
	{ "1 0 1 " H32, STSDANE_ERR_VERIFY,
	  "usage 1 (PKIX-EE) is not usable for SMTP" },
	{ "4 1 1 " H32, STSDANE_ERR_VERIFY, "usage 4 is unknown" },
	{ "3 2 1 " H32, STSDANE_ERR_VERIFY, "selector 2 is unknown" },
	{ "3 1 9 " H32, STSDANE_ERR_VERIFY, "matching type 9 is unknown" },
	{ "3 1 1 00", STSDANE_ERR_VERIFY, "not 1" },
	{ "3 1 2 " H32, STSDANE_ERR_VERIFY, "needs 64 bytes of data, not 32" },
	{ "3 1 1 " H32 "00", STSDANE_ERR_VERIFY, "not 33" },
	/* malformed */
	{ "", STSDANE_ERR_SYNTAX, "usage is missing" },
	{ "   ", STSDANE_ERR_SYNTAX, "usage is missing" },
	{ "3", STSDANE_ERR_SYNTAX, "selector is missing" },
	{ "3 1", STSDANE_ERR_SYNTAX, "matching type is missing" },
	{ "3 1 1", STSDANE_ERR_SYNTAX, "data is missing" },
	{ "3 1 1   ", STSDANE_ERR_SYNTAX, "data is missing" },
	{ "256 1 1 " H32, STSDANE_ERR_SYNTAX, "usage 256 is more than 255" },
	{ "3 1 999 " H32, STSDANE_ERR_SYNTAX, "more than 255" },
	{ "3 0001 1 " H32, STSDANE_ERR_SYNTAX, "too many digits" },
	{ "-3 1 1 " H32, STSDANE_ERR_SYNTAX, "not a decimal number" },
	{ "+3 1 1 " H32, STSDANE_ERR_SYNTAX, "not a decimal number" },
	{ "3x 1 1 " H32, STSDANE_ERR_SYNTAX, "not a decimal number" },
	{ "DANE-EE 1 1 " H32, STSDANE_ERR_SYNTAX, "not a decimal number" },
	{ "3 1 1 0g", STSDANE_ERR_SYNTAX, "'g' at offset 7 is not a hex" },
	{ "3 1 1 0x00", STSDANE_ERR_SYNTAX, "not a hex digit" },
	{ "3 1 1 abc", STSDANE_ERR_SYNTAX, "odd number of hex digits (3)" },
	{ "3 1 1 ab c", STSDANE_ERR_SYNTAX, "odd number" },
};

Test(tlsa, check_table)
{
	char err[SD_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];
		int got;

		memset(err, 'x', sizeof(err));
		got = stsdane_tlsa_check(c->text, err, sizeof(err));
		cr_expect_eq(got, c->want, "case %zu '%s': got %d, err '%s'",
		    i, c->text, got, err);
		if (c->reason != NULL)
			cr_expect(strstr(err, c->reason) != NULL,
			    "case %zu '%s': err '%s' lacks '%s'", i, c->text,
			    err, c->reason);
		else
			cr_expect_str_empty(err, "case %zu: err '%s'", i, err);
	}
}

Test(tlsa, check_null_and_small_err)
{
	char err[8];

	cr_expect_eq(stsdane_tlsa_check(NULL, err, sizeof(err)),
	    STSDANE_ERR_INVAL);
	/* a short buffer truncates, never overflows */
	cr_expect_eq(stsdane_tlsa_check("0 1 1 " H32, err, sizeof(err)),
	    STSDANE_ERR_VERIFY);
	cr_expect_eq(strlen(err), sizeof(err) - 1);
	cr_expect_eq(stsdane_tlsa_check("0 1 1 " H32, NULL, 0),
	    STSDANE_ERR_VERIFY);
}
