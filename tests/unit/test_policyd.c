/*
 * test_policyd.c - stsdane-policyd's pure parts: netstrings, the answer
 * for each kind of decision, its settings
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "netstring.h"
#include "pconf.h"

struct ns_case {
	const char *in;
	size_t max;
	enum netstring_status want;
	const char *payload;
};

static const struct ns_case ns_cases[] = {
	{ "5:hello,", 1024, NETSTRING_DONE, "hello" },
	{ "0:,", 1024, NETSTRING_DONE, "" },
	{ "11:postfix a.b,", 1024, NETSTRING_DONE, "postfix a.b" },
	{ "5:hello,6:", 1024, NETSTRING_DONE, "hello" },	/* pipelined */
	{ "", 1024, NETSTRING_MORE, NULL },
	{ "5", 1024, NETSTRING_MORE, NULL },
	{ "5:", 1024, NETSTRING_MORE, NULL },
	{ "5:hell", 1024, NETSTRING_MORE, NULL },
	{ "5:hello", 1024, NETSTRING_MORE, NULL },
	{ "05:hello,", 1024, NETSTRING_BAD, NULL },	/* leading zero */
	{ "00:,", 1024, NETSTRING_BAD, NULL },
	{ ":hello,", 1024, NETSTRING_BAD, NULL },
	{ "x:", 1024, NETSTRING_BAD, NULL },
	{ "-1:", 1024, NETSTRING_BAD, NULL },
	{ " 5:hello,", 1024, NETSTRING_BAD, NULL },
	{ "5 :hello,", 1024, NETSTRING_BAD, NULL },
	{ "5:hello;", 1024, NETSTRING_BAD, NULL },
	{ "5:hello!!", 1024, NETSTRING_BAD, NULL },
	{ "GET / HTTP/1.0\r\n", 1024, NETSTRING_BAD, NULL },
	{ "1025:", 1024, NETSTRING_TOOBIG, NULL },
	{ "99999999999999999999999:", 1024, NETSTRING_TOOBIG, NULL },
	{ "1025", 1024, NETSTRING_TOOBIG, NULL },	/* before the colon */
	{ "1024:", 1024, NETSTRING_MORE, NULL },
};

Test(netstring, table)
{
	size_t i;

	for (i = 0; i < sizeof(ns_cases) / sizeof(ns_cases[0]); i++) {
		const struct ns_case *c = &ns_cases[i];
		const char *data = NULL;
		size_t dlen = 0, used = 0;
		enum netstring_status st = netstring_parse(c->in,
		    strlen(c->in), c->max, &data, &dlen, &used);

		cr_expect_eq(st, c->want, "'%s': got %d, want %d", c->in, st,
		    c->want);
		if (st == NETSTRING_DONE && c->payload != NULL) {
			cr_expect_eq(dlen, strlen(c->payload), "'%s'", c->in);
			cr_expect(memcmp(data, c->payload, dlen) == 0, "'%s'",
			    c->in);
			cr_expect_eq(used, strlen(c->payload) + 2 +
			    (strlen(c->payload) >= 10 ? 2 : 1), "'%s'", c->in);
		}
	}
}

Test(netstring, every_prefix_of_a_request_asks_for_more)
{
	const char *req = "20:postfix example.test,";
	size_t i, dlen, used;
	const char *data;

	for (i = 0; i < strlen(req); i++)
		cr_expect_eq(netstring_parse(req, i, 1024, &data, &dlen, &used),
		    NETSTRING_MORE, "prefix of %zu bytes", i);
}

Test(netstring, encode_and_size)
{
	char out[16];

	cr_expect_eq(netstring_encode("OK x", 4, out, sizeof(out)), 7);
	cr_expect(memcmp(out, "4:OK x,", 7) == 0);
	cr_expect_eq(netstring_encode("0123456789abcd", 14, out, sizeof(out)),
	    -1);
	cr_expect_eq(netstring_encode("0123456789ab", 12, out, sizeof(out)),
	    16);
	cr_expect_eq(netstring_size(1024), 4 + 1 + 1024 + 1);
	cr_expect_eq(netstring_size(9), 1 + 1 + 9 + 1);
}

struct key_case {
	const char *key;
	int want;
};

static const struct key_case key_cases[] = {
	{ "example.com", 1 }, { "EXAMPLE.com", 1 }, { "a-b_c.test", 1 },
	{ "localhost", 1 }, { "xn--bcher-kva.example", 1 },
	{ "[192.0.2.1]:25", 0 }, { "[mx.example.com]", 0 },
	{ "example.com:587", 0 }, { ".example.com", 0 }, { "", 0 },
	{ "a..b", 0 }, { "a b", 0 }, { "a/b", 0 }, { "user@example.com", 0 },
	{ "inet:host", 0 },
};

Test(answer, key_is_domain)
{
	char long_label[80];
	size_t i;

	for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++)
		cr_expect_eq(answer_key_is_domain(key_cases[i].key,
		    strlen(key_cases[i].key)), key_cases[i].want, "'%s'",
		    key_cases[i].key);
	memset(long_label, 'a', 64);
	memcpy(long_label + 64, ".test", 6);
	cr_expect_eq(answer_key_is_domain(long_label, strlen(long_label)), 0);
}

/* A decision as stsdane_query() would make it, by hand. */
static struct stsdane_decision *
decision(enum stsdane_mechanism mech, enum stsdane_mode mode,
    const char *const *patterns, const char *const *hosts)
{
	static struct stsdane_decision d;
	static struct stsdane_dane_host dh[64];
	static char *mx[64];
	size_t i;

	memset(&d, 0, sizeof(d));
	memset(dh, 0, sizeof(dh));
	d.domain = (char *)"example.test";
	d.mechanism = mech;
	d.mode = mode;
	d.require_tls = mode == STSDANE_MODE_ENFORCE;
	d.max_age = 86400;
	for (i = 0; patterns != NULL && patterns[i] != NULL; i++)
		mx[i] = (char *)patterns[i];
	d.nmx = i;
	d.mx = mx;
	for (i = 0; hosts != NULL && hosts[i] != NULL; i++)
		dh[i].name = (char *)hosts[i];
	d.ndane = i;
	d.dane = dh;
	return &d;
}

static void
expect_answer(int rc, const struct stsdane_decision *d, int tlsrpt,
    enum answer_kind kind, const char *want)
{
	struct answer_opts o = { tlsrpt };
	char out[ANSWER_MAX + 1];
	enum answer_kind k = answer_make(rc, d, "why", &o, out, sizeof(out));

	cr_expect_eq(k, kind, "kind %s, want %s ('%s')", answer_kind_name(k),
	    answer_kind_name(kind), out);
	cr_expect_str_eq(out, want);
}

Test(answer, dane)
{
	expect_answer(0, decision(STSDANE_MECH_DANE, STSDANE_MODE_ENFORCE,
	    NULL, (const char *[]){ "mx.example.test", NULL }), 0,
	    ANSWER_DANE, "OK dane-only");
}

Test(answer, enforce_lists_the_allowed_mx_hosts_only)
{
	expect_answer(0, decision(STSDANE_MECH_MTASTS, STSDANE_MODE_ENFORCE,
	    (const char *[]){ "*.example.test", "mx.other.test", NULL },
	    (const char *[]){ "mx1.example.test.", "a.b.example.test",
	    "evil.test", "mx.other.test", "MX1.example.test", NULL }), 0,
	    ANSWER_SECURE, "OK secure match=mx1.example.test:mx.other.test "
	    "servername=hostname");
}

Test(answer, enforce_never_says_dot_domain)
{
	struct answer_opts o = { 1 };
	char out[ANSWER_MAX + 1];

	answer_make(0, decision(STSDANE_MECH_MTASTS, STSDANE_MODE_ENFORCE,
	    (const char *[]){ "*.example.test", NULL },
	    (const char *[]){ "mx1.example.test", NULL }), NULL, &o, out,
	    sizeof(out));
	cr_expect(strstr(out, "match=.") == NULL, "'%s'", out);
	cr_expect(strstr(out, ":.") == NULL, "'%s'", out);
}

Test(answer, enforce_without_an_allowed_host_defers)
{
	expect_answer(0, decision(STSDANE_MECH_MTASTS, STSDANE_MODE_ENFORCE,
	    (const char *[]){ "*.example.test", NULL },
	    (const char *[]){ "a.b.example.test", "mx:1.example.test",
	    NULL }), 0, ANSWER_TEMP, "TEMP no MX host of 'example.test' is "
	    "allowed by its MTA-STS policy");
}

Test(answer, tempfail)
{
	struct stsdane_decision *d = decision(STSDANE_MECH_DANE,
	    STSDANE_MODE_ENFORCE, NULL, NULL);

	d->tempfail = 1;
	d->reason = (char *)"TLSA of mx: DNSSEC-bogus\n(x)";
	expect_answer(0, d, 0, ANSWER_TEMP,
	    "TEMP TLSA of mx: DNSSEC-bogus?(x)");
}

Test(answer, testing_none_and_no_policy_are_notfound)
{
	expect_answer(0, decision(STSDANE_MECH_MTASTS, STSDANE_MODE_TESTING,
	    (const char *[]){ "mx.example.test", NULL },
	    (const char *[]){ "mx.example.test", NULL }), 0, ANSWER_NOTFOUND,
	    "NOTFOUND ");
	expect_answer(0, decision(STSDANE_MECH_MTASTS, STSDANE_MODE_NONE,
	    NULL, NULL), 0, ANSWER_NOTFOUND, "NOTFOUND ");
	expect_answer(0, decision(STSDANE_MECH_NONE, STSDANE_MODE_NONE,
	    NULL, NULL), 0, ANSWER_NOTFOUND, "NOTFOUND ");
}

Test(answer, tls_required_without_a_mechanism_defers)
{
	struct stsdane_decision *d = decision(STSDANE_MECH_NONE,
	    STSDANE_MODE_NONE, NULL, NULL);

	d->require_tls = 1;
	expect_answer(0, d, 0, ANSWER_TEMP, "TEMP stsdane-policyd: "
	    "'example.test' requires TLS under a decision Postfix cannot be "
	    "told (none)");
}

Test(answer, library_errors)
{
	expect_answer(STSDANE_ERR_INVAL, NULL, 0, ANSWER_NOTFOUND,
	    "NOTFOUND ");
	/* not a DNS name (a key Postfix may ask that is no domain) */
	expect_answer(STSDANE_ERR_NAME, NULL, 0, ANSWER_NOTFOUND,
	    "NOTFOUND ");
	expect_answer(STSDANE_ERR_RESOLVER, NULL, 0, ANSWER_TEMP,
	    "TEMP stsdane: resolver could not be set up: why");
}

Test(answer, tlsrpt_attributes)
{
	expect_answer(0, decision(STSDANE_MECH_MTASTS, STSDANE_MODE_ENFORCE,
	    (const char *[]){ "*.example.test", NULL },
	    (const char *[]){ "mx1.example.test", NULL }), 1, ANSWER_SECURE,
	    "OK secure match=mx1.example.test servername=hostname "
	    "policy_type=sts policy_domain=example.test policy_ttl=86400 "
	    "{ policy_string = version: STSv1 } "
	    "{ policy_string = mode: enforce } "
	    "{ policy_string = mx: *.example.test } "
	    "{ policy_string = max_age: 86400 } "
	    "mx_host_pattern=*.example.test");
}

Test(answer, too_long_defers)
{
	static char names[40][300];
	const char *hosts[41];
	size_t i;
	char out[512];
	struct answer_opts o = { 0 };

	for (i = 0; i < 40; i++) {
		memset(names[i], 'a', 60);
		(void)snprintf(names[i] + 60, 240, "%02zu.example.test", i);
		hosts[i] = names[i];
	}
	hosts[40] = NULL;
	cr_expect_eq(answer_make(0, decision(STSDANE_MECH_MTASTS,
	    STSDANE_MODE_ENFORCE, (const char *[]){ "*.example.test", NULL },
	    hosts), NULL, &o, out, sizeof(out)), ANSWER_TEMP);
	cr_expect_str_eq(out, "TEMP stsdane-policyd: answer too long");
}

Test(pconf, keys_and_errors)
{
	struct pconf c;
	char err[256];

	pconf_init(&c);
	cr_expect_str_eq(c.map_name, "postfix");
	cr_expect_eq(c.tlsrpt_attributes, 0);
	cr_expect_eq(pconf_set(&c, "workers", "8", err, sizeof(err)), 0);
	cr_expect_eq(c.workers, 8);
	cr_expect_eq(pconf_set(&c, "idle_timeout", "5", err, sizeof(err)), 0);
	cr_expect_eq(c.idle_timeout_ms, 5000);
	cr_expect_eq(pconf_set(&c, "tlsrpt_attributes", "yes", err,
	    sizeof(err)), 0);
	cr_expect_eq(c.tlsrpt_attributes, 1);
	cr_expect_eq(pconf_set(&c, "workers", "0", err, sizeof(err)), -1);
	cr_expect_str_eq(err, "workers '0' is not a number from 1 to 1024");
	cr_expect_eq(pconf_set(&c, "workers", "+8", err, sizeof(err)), -1);
	cr_expect_eq(pconf_set(&c, "wokers", "8", err, sizeof(err)), -1);
	cr_expect_str_eq(err, "unknown key 'wokers'");
	cr_expect_eq(pconf_set(&c, "map_name", "a b", err, sizeof(err)), -1);
	cr_expect_eq(pconf_set(&c, "log_requests", "maybe", err,
	    sizeof(err)), -1);
	cr_expect_str_eq(err, "log_requests 'maybe' is not yes or no");
}
