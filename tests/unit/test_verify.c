/*
 * test_verify.c - certificate chains against decisions (src/verify.c)
 *
 * A CA, a second CA, and leaves for various names are generated with
 * GnuTLS when the test starts; decisions are built by hand.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "decision.h"
#include "test_certs.h"

enum cid {
	CA, CA2, LEAF_MX, LEAF_BASE, LEAF_OTHER, LEAF_WILD, LEAF_EXPIRED,
	LEAF_SELF, LEAF_CA2, LEAF_NOTYET, NCERTS,
	GARBAGE = 100, END = -1
};

static struct tcert certs[NCERTS];
static char tmpdir[64];
static char ca_pem[128], ca2_pem[128], empty_pem[128];

#define DAY 86400
#define EXPIRED_AT 1577836800	/* 2020-01-01 00:00:00 UTC */

static void
setup(void)
{
	static const char *const mx[] = { "mx.example.test", NULL };
	static const char *const base[] = { "example.test", NULL };
	static const char *const other[] = { "mx.other.test", "a.other.test",
	    NULL };
	static const char *const wild[] = { "*.example.test", NULL };
	const struct tcert *one[1];
	time_t now = time(NULL);
	FILE *fp;

	cr_assert_eq(tc_make(&certs[CA], NULL, "Test CA", NULL, now - DAY,
	    now + 365 * DAY, 1), 0);
	cr_assert_eq(tc_make(&certs[CA2], NULL, "Other CA", NULL, now - DAY,
	    now + 365 * DAY, 1), 0);
	cr_assert_eq(tc_make(&certs[LEAF_MX], &certs[CA], "mx.example.test",
	    mx, now - DAY, now + 90 * DAY, 0), 0);
	cr_assert_eq(tc_make(&certs[LEAF_BASE], &certs[CA], "example.test",
	    base, now - DAY, now + 90 * DAY, 0), 0);
	cr_assert_eq(tc_make(&certs[LEAF_OTHER], &certs[CA], "mx.other.test",
	    other, now - DAY, now + 90 * DAY, 0), 0);
	cr_assert_eq(tc_make(&certs[LEAF_WILD], &certs[CA], "wildcard",
	    wild, now - DAY, now + 90 * DAY, 0), 0);
	cr_assert_eq(tc_make(&certs[LEAF_EXPIRED], &certs[CA],
	    "mx.example.test", mx, EXPIRED_AT - 365 * DAY, EXPIRED_AT, 0), 0);
	cr_assert_eq(tc_make(&certs[LEAF_SELF], NULL, "mx.example.test", mx,
	    now - DAY, now + 90 * DAY, 0), 0);
	cr_assert_eq(tc_make(&certs[LEAF_CA2], &certs[CA2], "mx.example.test",
	    mx, now - DAY, now + 90 * DAY, 0), 0);
	cr_assert_eq(tc_make(&certs[LEAF_NOTYET], &certs[CA],
	    "mx.example.test", mx, now + 30 * DAY, now + 90 * DAY, 0), 0);

	(void)sd_strlcpy(tmpdir, "/tmp/stsdane-verify-XXXXXX", sizeof(tmpdir));
	cr_assert_not_null(mkdtemp(tmpdir));
	(void)sd_snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", tmpdir);
	(void)sd_snprintf(ca2_pem, sizeof(ca2_pem), "%s/ca2.pem", tmpdir);
	(void)sd_snprintf(empty_pem, sizeof(empty_pem), "%s/empty.pem",
	    tmpdir);
	one[0] = &certs[CA];
	cr_assert_eq(tc_write_pem(one, 1, ca_pem), 0);
	one[0] = &certs[CA2];
	cr_assert_eq(tc_write_pem(one, 1, ca2_pem), 0);
	fp = fopen(empty_pem, "w");
	cr_assert_not_null(fp);
	fputs("not a certificate\n", fp);
	fclose(fp);
}

static void
teardown(void)
{
	size_t i;

	for (i = 0; i < NCERTS; i++)
		tc_free(&certs[i]);
	(void)unlink(ca_pem);
	(void)unlink(ca2_pem);
	(void)unlink(empty_pem);
	(void)rmdir(tmpdir);
}

struct rec {
	int usage, selector, mtype;
	int cert;		/* data computed from this certificate */
	int corrupt;		/* flip a bit in the data */
};

enum cafile { CA_NONE, CA_GOOD, CA_OTHER, CA_EMPTY };

struct vcase {
	const char *name;
	enum stsdane_mechanism mech;
	enum stsdane_dane_status status;
	struct rec recs[3];	/* usage 0 ends the list */
	int chain[4];		/* END ends the list */
	const char *host;
	const char *dane_host;	/* name in the decision, if not host */
	const char *base;
	const char *mx[3];	/* MTA-STS patterns */
	enum cafile ca;
	int tempfail;
	int want;
	const char *reason;	/* substring of err; "" means empty */
};

#define H "mx.example.test"

static const struct vcase cases[] = {
	/* DANE-EE */
	{ "ee 3 1 1 match", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 1, LEAF_MX, 0 } }, { LEAF_MX, CA, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "ee 3 1 1 mismatch", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 1, LEAF_OTHER, 0 } }, { LEAF_MX, CA, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "leaf key does not match any TLSA 3 1 1 record" },
	{ "ee 3 0 1 ignores name and dates", STSDANE_MECH_DANE,
	  STSDANE_DANE_SECURE, { { 3, 0, 1, LEAF_EXPIRED, 0 } },
	  { LEAF_EXPIRED, END }, "mx.nowhere.test", NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "ee 3 0 1 mismatch", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 0, 1, LEAF_MX, 1 } }, { LEAF_MX, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "leaf certificate does not match any TLSA 3 0 1 record" },
	{ "ee 3 1 2 match", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 2, LEAF_MX, 0 } }, { LEAF_MX, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "ee 3 1 2 mismatch", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 2, LEAF_MX, 1 } }, { LEAF_MX, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "leaf key does not match any TLSA 3 1 2 record" },
	{ "ee 3 0 0 match", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 0, 0, LEAF_MX, 0 } }, { LEAF_MX, CA, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "ee 3 1 0 match", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 0, LEAF_MX, 0 } }, { LEAF_MX, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "ee 3 0 0 mismatch", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 0, 0, LEAF_MX, 1 } }, { LEAF_MX, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "leaf certificate does not match any TLSA 3 0 0 record" },
	{ "ee self-signed", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 1, LEAF_SELF, 0 } }, { LEAF_SELF, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "ee second record matches", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 1, LEAF_OTHER, 0 }, { 3, 1, 1, LEAF_MX, 0 } },
	  { LEAF_MX, END }, H, NULL, NULL, { NULL }, CA_NONE, 0,
	  STSDANE_OK, "" },
	{ "ee ca key in 3 1 1 does not match leaf", STSDANE_MECH_DANE,
	  STSDANE_DANE_SECURE, { { 3, 1, 1, CA, 0 } }, { LEAF_MX, CA, END },
	  H, NULL, NULL, { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "leaf key does not match" },
	{ "host name case and dot", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 1, LEAF_MX, 0 } }, { LEAF_MX, END }, "MX.Example.TEST.",
	  H, NULL, { NULL }, CA_NONE, 0, STSDANE_OK, "" },

	/* DANE-TA */
	{ "ta 2 1 1 name match", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 2, 1, 1, CA, 0 } }, { LEAF_MX, CA, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "ta 2 0 1 unsorted chain", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 2, 0, 1, CA, 0 } }, { LEAF_MX, CA2, CA, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "ta 2 1 1 base domain", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 2, 1, 1, CA, 0 } }, { LEAF_BASE, CA, END }, H, NULL,
	  "example.test", { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "ta 2 1 1 wildcard", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 2, 1, 1, CA, 0 } }, { LEAF_WILD, CA, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "ta 2 1 1 name mismatch", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 2, 1, 1, CA, 0 } }, { LEAF_OTHER, CA, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "name 'mx.example.test' not in certificate "
	  "(dNSNames: mx.other.test, a.other.test)" },
	{ "ta 2 1 1 name mismatch, base differs", STSDANE_MECH_DANE,
	  STSDANE_DANE_SECURE, { { 2, 1, 1, CA, 0 } },
	  { LEAF_OTHER, CA, END }, H, NULL, "example.test", { NULL },
	  CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "names 'example.test' and 'mx.example.test' not in certificate" },
	{ "ta leaf not signed by ta", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 2, 1, 1, CA, 0 } }, { LEAF_CA2, CA, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY, "issuer unknown" },
	{ "ta not sent", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 2, 1, 1, CA, 0 } }, { LEAF_MX, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "no certificate in the chain matches TLSA 2 1 1" },
	{ "ta leaf expired", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 2, 0, 1, CA, 0 } }, { LEAF_EXPIRED, CA, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "certificate expired on 2020-01-01" },
	{ "ta leaf not yet valid", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 2, 1, 2, CA, 0 } }, { LEAF_NOTYET, CA, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "certificate not valid before" },
	{ "ta record on leaf is not a ta", STSDANE_MECH_DANE,
	  STSDANE_DANE_SECURE, { { 2, 1, 1, LEAF_MX, 0 } },
	  { LEAF_MX, CA, END }, H, NULL, NULL, { NULL }, CA_NONE, 0,
	  STSDANE_ERR_VERIFY, "no certificate in the chain matches" },
	{ "ee mismatch, ta match", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 1, LEAF_OTHER, 0 }, { 2, 1, 1, CA, 0 } },
	  { LEAF_MX, CA, END }, H, NULL, NULL, { NULL }, CA_NONE, 0,
	  STSDANE_OK, "" },
	{ "ee and ta both fail", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 1, LEAF_OTHER, 0 }, { 2, 1, 1, CA2, 0 } },
	  { LEAF_MX, CA, END }, H, NULL, NULL, { NULL }, CA_NONE, 0,
	  STSDANE_ERR_VERIFY, "leaf key does not match any TLSA 3 1 1 record; "
	  "no certificate in the chain matches TLSA 2 1 1" },

	/* DANE host states */
	{ "unusable: tls, no authentication", STSDANE_MECH_DANE,
	  STSDANE_DANE_UNUSABLE, { { 0 } }, { LEAF_SELF, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_OK, "no usable TLSA records" },
	{ "insecure host", STSDANE_MECH_DANE, STSDANE_DANE_INSECURE,
	  { { 0 } }, { LEAF_SELF, END }, H, NULL, NULL, { NULL }, CA_NONE, 0,
	  STSDANE_OK, "not authenticated" },
	{ "bogus host", STSDANE_MECH_DANE, STSDANE_DANE_BOGUS,
	  { { 3, 1, 1, LEAF_MX, 0 } }, { LEAF_MX, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY, "DNSSEC validation" },
	{ "tempfail host", STSDANE_MECH_DANE, STSDANE_DANE_TEMPFAIL,
	  { { 3, 1, 1, LEAF_MX, 0 } }, { LEAF_MX, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY, "TLSA lookup" },
	{ "host not in decision", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 1, LEAF_MX, 0 } }, { LEAF_MX, END }, "mx2.example.test",
	  H, NULL, { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "MX host 'mx2.example.test' is not in the DANE decision" },
	{ "no chain", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 1, LEAF_MX, 0 } }, { END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY, "peer sent no certificate" },
	{ "garbage certificate", STSDANE_MECH_DANE, STSDANE_DANE_SECURE,
	  { { 3, 1, 1, LEAF_MX, 0 } }, { GARBAGE, END }, H, NULL, NULL,
	  { NULL }, CA_NONE, 0, STSDANE_ERR_VERIFY,
	  "certificate 0 does not parse" },

	/* MTA-STS */
	{ "sts good", STSDANE_MECH_MTASTS, 0, { { 0 } }, { LEAF_MX, CA, END },
	  H, NULL, NULL, { H, NULL }, CA_GOOD, 0, STSDANE_OK, "" },
	{ "sts good, no intermediate", STSDANE_MECH_MTASTS, 0, { { 0 } },
	  { LEAF_MX, END }, H, NULL, NULL, { "*.example.test", NULL },
	  CA_GOOD, 0, STSDANE_OK, "" },
	{ "sts wildcard certificate", STSDANE_MECH_MTASTS, 0, { { 0 } },
	  { LEAF_WILD, CA, END }, H, NULL, NULL, { "*.example.test", NULL },
	  CA_GOOD, 0, STSDANE_OK, "" },
	{ "sts wrong name", STSDANE_MECH_MTASTS, 0, { { 0 } },
	  { LEAF_OTHER, CA, END }, H, NULL, NULL, { H, NULL }, CA_GOOD, 0,
	  STSDANE_ERR_VERIFY, "name 'mx.example.test' not in certificate "
	  "(dNSNames: mx.other.test, a.other.test)" },
	{ "sts unknown ca", STSDANE_MECH_MTASTS, 0, { { 0 } },
	  { LEAF_MX, CA, END }, H, NULL, NULL, { H, NULL }, CA_OTHER, 0,
	  STSDANE_ERR_VERIFY, "issuer unknown" },
	{ "sts self-signed", STSDANE_MECH_MTASTS, 0, { { 0 } },
	  { LEAF_SELF, END }, H, NULL, NULL, { H, NULL }, CA_GOOD, 0,
	  STSDANE_ERR_VERIFY, "issuer unknown" },
	{ "sts expired", STSDANE_MECH_MTASTS, 0, { { 0 } },
	  { LEAF_EXPIRED, CA, END }, H, NULL, NULL, { H, NULL }, CA_GOOD, 0,
	  STSDANE_ERR_VERIFY, "certificate expired on 2020-01-01" },
	{ "sts host not allowed", STSDANE_MECH_MTASTS, 0, { { 0 } },
	  { LEAF_MX, CA, END }, H, NULL, NULL,
	  { "mx1.example.test", "*.other.test", NULL }, CA_GOOD, 0,
	  STSDANE_ERR_VERIFY, "MX host 'mx.example.test' is not allowed by "
	  "the MTA-STS policy (mx: mx1.example.test; *.other.test)" },
	{ "sts bad ca file", STSDANE_MECH_MTASTS, 0, { { 0 } },
	  { LEAF_MX, CA, END }, H, NULL, NULL, { H, NULL }, CA_EMPTY, 0,
	  STSDANE_ERR_TLS, "CA file" },

	/* no mechanism, tempfail */
	{ "none", STSDANE_MECH_NONE, 0, { { 0 } }, { LEAF_SELF, END }, H,
	  NULL, NULL, { NULL }, CA_NONE, 0, STSDANE_OK, "" },
	{ "tempfail decision", STSDANE_MECH_NONE, 0, { { 0 } },
	  { LEAF_SELF, END }, H, NULL, NULL, { NULL }, CA_NONE, 1,
	  STSDANE_ERR_VERIFY, "is to defer" },
};

static struct stsdane_decision *
make_decision(const struct vcase *c)
{
	struct stsdane_decision *d = decision_new("example.test");
	struct stsdane_dane_host *h;
	size_t i, n = 0;

	cr_assert_not_null(d);
	d->mechanism = c->mech;
	d->tempfail = c->tempfail;
	d->require_tls = c->mech != STSDANE_MECH_NONE;
	for (i = 0; c->mx[i] != NULL; i++)
		cr_assert_eq(decision_add_mx(d, c->mx[i]), 0);
	if (c->mech == STSDANE_MECH_MTASTS)
		d->mode = STSDANE_MODE_ENFORCE;
	if (c->mech != STSDANE_MECH_DANE)
		return d;
	d->mode = STSDANE_MODE_ENFORCE;
	d->dane = calloc(1, sizeof(*d->dane));
	cr_assert_not_null(d->dane);
	d->ndane = 1;
	h = &d->dane[0];
	h->name = sd_strdup(c->dane_host != NULL ? c->dane_host : c->host);
	h->base_domain = sd_strdup(c->base != NULL ? c->base : h->name);
	h->preference = 10;
	h->status = c->status;
	while (n < 3 && c->recs[n].usage != 0)
		n++;
	if (n == 0)
		return d;
	h->tlsa = calloc(n, sizeof(*h->tlsa));
	cr_assert_not_null(h->tlsa);
	for (i = 0; i < n; i++) {
		const struct rec *r = &c->recs[i];

		h->tlsa[i].usage = (uint8_t)r->usage;
		h->tlsa[i].selector = (uint8_t)r->selector;
		h->tlsa[i].mtype = (uint8_t)r->mtype;
		h->tlsa[i].data = tc_tlsa_data(&certs[r->cert], r->selector,
		    r->mtype, &h->tlsa[i].len);
		cr_assert_not_null(h->tlsa[i].data);
		if (r->corrupt)
			h->tlsa[i].data[h->tlsa[i].len - 1] ^= 0x01;
		h->ntlsa = i + 1;
	}
	return d;
}

static const unsigned char garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x00,
    0xff };

Test(verify, table, .init = setup, .fini = teardown, .timeout = 60)
{
	size_t i, k, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		struct stsdane_cert chain[4];
		struct stsdane_decision *d = make_decision(c);
		stsdane_ctx *ctx = stsdane_new();
		char err[SD_ERRLEN];
		int got;

		cr_assert_not_null(ctx);
		if (c->ca != CA_NONE)
			cr_assert_eq(stsdane_set(ctx, "ca_file",
			    c->ca == CA_GOOD ? ca_pem : c->ca == CA_OTHER ?
			    ca2_pem : empty_pem), STSDANE_OK, "%s",
			    stsdane_error(ctx));
		n = 0;
		for (k = 0; k < 4 && c->chain[k] != END; k++) {
			if (c->chain[k] == GARBAGE) {
				chain[n].der = garbage;
				chain[n].len = sizeof(garbage);
			} else {
				chain[n].der = certs[c->chain[k]].der.data;
				chain[n].len = certs[c->chain[k]].der.size;
			}
			n++;
		}
		memset(err, 'x', sizeof(err));
		got = stsdane_verify_chain(ctx, d, c->host, n > 0 ? chain : NULL,
		    n, err, sizeof(err));
		cr_expect_eq(got, c->want, "case '%s': got %d, want %d, "
		    "err '%s'", c->name, got, c->want, err);
		if (c->reason[0] == '\0')
			cr_expect_str_empty(err, "case '%s': err '%s'",
			    c->name, err);
		else
			cr_expect(strstr(err, c->reason) != NULL,
			    "case '%s': err '%s' lacks '%s'", c->name, err,
			    c->reason);
		if (got != STSDANE_OK)
			cr_expect_str_eq(stsdane_error(ctx), err);
		stsdane_decision_free(d);
		stsdane_free(ctx);
	}
}

Test(verify, bad_arguments, .init = setup, .fini = teardown)
{
	struct stsdane_decision *d = decision_new("example.test");
	struct stsdane_cert one = { certs[LEAF_MX].der.data,
	    certs[LEAF_MX].der.size };
	char err[64];

	cr_assert_not_null(d);
	cr_expect_eq(stsdane_verify_chain(NULL, NULL, H, &one, 1, err,
	    sizeof(err)), STSDANE_ERR_INVAL);
	cr_expect_eq(stsdane_verify_chain(NULL, d, NULL, &one, 1, err,
	    sizeof(err)), STSDANE_ERR_INVAL);
	cr_expect_eq(stsdane_verify_chain(NULL, d, H, NULL, 1, err,
	    sizeof(err)), STSDANE_ERR_INVAL);
	/* no ctx, no err buffer: still fine */
	cr_expect_eq(stsdane_verify_chain(NULL, d, H, &one, 1, NULL, 0),
	    STSDANE_OK);
	stsdane_decision_free(d);
}

Test(verify, long_chain_refused, .init = setup, .fini = teardown)
{
	struct stsdane_decision *d = decision_new("example.test");
	struct stsdane_cert many[20];
	char err[SD_ERRLEN];
	size_t i;

	cr_assert_not_null(d);
	d->mechanism = STSDANE_MECH_MTASTS;
	for (i = 0; i < 20; i++) {
		many[i].der = certs[CA].der.data;
		many[i].len = certs[CA].der.size;
	}
	cr_expect_eq(stsdane_verify_chain(NULL, d, H, many, 20, err,
	    sizeof(err)), STSDANE_ERR_VERIFY);
	cr_expect(strstr(err, "more than") != NULL, "err '%s'", err);
	stsdane_decision_free(d);
}
