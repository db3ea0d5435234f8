/*
 * test_probe.c - SMTP reply parsing and the SMTP/STARTTLS session of the
 * probe (src/probe.c), against a scripted server on a socket pair
 */
#include <criterion/criterion.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "decision.h"
#include "smtp.h"
#include "test_certs.h"


struct parse_case {
	const char *in;
	int want;		/* 1 complete, 0 more, -1 malformed */
	int code;
	int starttls;
	size_t nlines;
	size_t used;		/* 0: the whole input */
	const char *text;	/* first line's text, or error substring */
};

static const struct parse_case parse_cases[] = {
	{ "220 mx.example.test ESMTP\r\n", 1, 220, 0, 1, 0,
	  "mx.example.test ESMTP" },
	{ "220 ok\n", 1, 220, 0, 1, 0, "ok" },
	{ "250\r\n", 1, 250, 0, 1, 0, "" },
	{ "220-first\r\n220-second\r\n220 last\r\n", 1, 220, 0, 3, 0,
	  "first" },
	{ "250-mx.example.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
	  "250 8BITMIME\r\n", 1, 250, 1, 4, 0, "mx.example.test" },
	{ "250-mx\r\n250 starttls\r\n", 1, 250, 1, 2, 0, "mx" },
	{ "250-STARTTLS\r\n250 SIZE\r\n", 1, 250, 0, 2, 0, "STARTTLS" },
	{ "250-mx\r\n250-STARTTLSX\r\n250 SIZE\r\n", 1, 250, 0, 3, 0, "mx" },
	{ "250-mx\r\n250-X-STARTTLS\r\n250 SIZE\r\n", 1, 250, 0, 3, 0, "mx" },
	{ "220 a\r\n250 b\r\n", 1, 220, 0, 1, 7, "a" },
	{ "554 go away\r\n", 1, 554, 0, 1, 0, "go away" },
	/* incomplete */
	{ "", 0, 0, 0, 0, 0, NULL },
	{ "220 mx", 0, 0, 0, 0, 0, NULL },
	{ "220-mx\r\n", 0, 0, 0, 0, 0, NULL },
	{ "220-mx\r\n220 ", 0, 0, 0, 0, 0, NULL },
	/* malformed */
	{ "HTTP/1.1 400 Bad Request\r\n", -1, 0, 0, 0, 0, "malformed" },
	{ "22\r\n", -1, 0, 0, 0, 0, "malformed" },
	{ "2200 x\r\n", -1, 0, 0, 0, 0, "malformed" },
	{ "120 x\r\n", -1, 0, 0, 0, 0, "malformed" },
	{ "620 x\r\n", -1, 0, 0, 0, 0, "malformed" },
	{ "22a x\r\n", -1, 0, 0, 0, 0, "malformed" },
	{ "220_x\r\n", -1, 0, 0, 0, 0, "malformed" },
	{ "220-a\r\n250 b\r\n", -1, 0, 0, 0, 0, "codes 220 and 250" },
	{ "220 a\rb\r\n", -1, 0, 0, 0, 0, "control characters" },
};

Test(probe, reply_parse_table)
{
	char err[SD_ERRLEN];
	struct smtp_reply r;
	size_t i, used;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = strlen(c->in);
		int got = smtp_reply_parse(c->in, len, &r, &used, err,
		    sizeof(err));

		cr_expect_eq(got, c->want, "case %zu: got %d want %d (%s)",
		    i, got, c->want, err);
		if (got != c->want)
			continue;
		if (got == 1) {
			cr_expect_eq(r.code, c->code, "case %zu code %d", i,
			    r.code);
			cr_expect_eq(r.starttls, c->starttls, "case %zu", i);
			cr_expect_eq(r.nlines, c->nlines, "case %zu lines %zu",
			    i, r.nlines);
			cr_expect_eq(used, c->used ? c->used : len,
			    "case %zu used %zu", i, used);
			cr_expect_str_eq(r.text, c->text, "case %zu", i);
		} else if (got < 0) {
			cr_expect(strstr(err, c->text) != NULL,
			    "case %zu: err '%s' lacks '%s'", i, err, c->text);
		}
	}
}

Test(probe, reply_parse_bounds)
{
	char err[SD_ERRLEN];
	struct smtp_reply r;
	size_t used, n, i;
	char *buf = malloc(100000);

	cr_assert_not_null(buf);
	/* one endless line */
	memset(buf, 'a', 5000);
	memcpy(buf, "220 ", 4);
	cr_expect_eq(smtp_reply_parse(buf, 5000, &r, &used, err,
	    sizeof(err)), -1);
	cr_expect(strstr(err, "longer than") != NULL, "err '%s'", err);
	/* a complete but overlong line */
	buf[4999] = '\n';
	cr_expect_eq(smtp_reply_parse(buf, 5000, &r, &used, err,
	    sizeof(err)), -1);
	/* too many continuation lines */
	n = 0;
	for (i = 0; i < 200; i++) {
		memcpy(buf + n, "250-x\r\n", 7);
		n += 7;
	}
	cr_expect_eq(smtp_reply_parse(buf, n, &r, &used, err, sizeof(err)),
	    -1);
	cr_expect(strstr(err, "more than") != NULL, "err '%s'", err);
	/* every prefix of a good reply asks for more, never crashes */
	{
		const char *good = "250-a\r\n250-STARTTLS\r\n250 b\r\n";

		for (i = 0; i < strlen(good) - 1; i++)
			cr_expect_eq(smtp_reply_parse(good, i, &r, &used, err,
			    sizeof(err)), 0, "prefix %zu", i);
	}
	free(buf);
}

/* The scripted server. */
struct fake {
	int fd;
	const char *greeting;		/* NULL: say nothing, wait for EOF */
	const char *ehlo_reply;		/* NULL: close after greeting */
	const char *starttls_reply;
	int tls;
	const struct tcert *leaf, *ca;
	char ehlo_seen[128];
	int handshake_ok;
};

static int
read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char ch;

	while (n + 1 < len) {
		if (read(fd, &ch, 1) != 1)
			return -1;
		if (ch == '\n')
			break;
		if (ch != '\r')
			buf[n++] = ch;
	}
	buf[n] = '\0';
	return 0;
}

static void
send_all(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, s + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static void
serve_tls(struct fake *f)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	gnutls_x509_crt_t list[2];
	char buf[256];
	int r, n = 0;

	list[n++] = f->leaf->crt;
	if (f->ca != NULL)
		list[n++] = f->ca->crt;
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return;
	if (gnutls_certificate_set_x509_key(cred, list, (unsigned)n,
	    f->leaf->key) < 0 || gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) < 0) {
		gnutls_certificate_free_credentials(cred);
		return;
	}
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(s, f->fd);
	gnutls_handshake_set_timeout(s, 10000);
	do {
		r = gnutls_handshake(s);
	} while (r < 0 && !gnutls_error_is_fatal(r));
	if (r == 0) {
		f->handshake_ok = 1;
		r = (int)gnutls_record_recv(s, buf, sizeof(buf));
		if (r > 0 && strncmp(buf, "QUIT", 4) == 0)
			gnutls_record_send(s, "221 bye\r\n", 9);
		gnutls_bye(s, GNUTLS_SHUT_WR);
	}
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
}

static void *
serve(void *arg)
{
	struct fake *f = arg;
	char line[1024];

	if (f->greeting == NULL) {
		while (read(f->fd, line, sizeof(line)) > 0)
			;
		goto done;
	}
	send_all(f->fd, f->greeting);
	if (f->ehlo_reply == NULL)
		goto done;
	if (read_line(f->fd, line, sizeof(line)) < 0)
		goto done;
	(void)sd_strlcpy(f->ehlo_seen, line, sizeof(f->ehlo_seen));
	send_all(f->fd, f->ehlo_reply);
	if (read_line(f->fd, line, sizeof(line)) < 0)
		goto done;
	if (strcmp(line, "QUIT") == 0) {
		send_all(f->fd, "221 bye\r\n");
		goto done;
	}
	if (strcmp(line, "STARTTLS") != 0 || f->starttls_reply == NULL)
		goto done;
	send_all(f->fd, f->starttls_reply);
	if (f->tls)
		serve_tls(f);
	else if (strncmp(f->starttls_reply, "220", 3) == 0)
		while (read(f->fd, line, sizeof(line)) > 0)
			;	/* a client hello no one answers */
	else if (read_line(f->fd, line, sizeof(line)) == 0 &&
	    strcmp(line, "QUIT") == 0)
		send_all(f->fd, "221 bye\r\n");
done:
	close(f->fd);
	return NULL;
}

static struct tcert ca, leaf;

static void
setup(void)
{
	static const char *const names[] = { "mx.example.test",
	    "mx2.example.test", NULL };
	time_t now = time(NULL);

	cr_assert_eq(tc_make(&ca, NULL, "Probe CA", NULL, now - 86400,
	    now + 86400 * 30, 1), 0);
	cr_assert_eq(tc_make(&leaf, &ca, "mx.example.test", names,
	    now - 86400, now + 86400 * 30, 0), 0);
}

static void
teardown(void)
{
	tc_free(&leaf);
	tc_free(&ca);
}

static void
host_release(struct stsdane_probe_host *h)
{
	size_t i;

	free(h->name);
	free(h->address);
	free(h->tls_version);
	free(h->cipher);
	free(h->subject);
	for (i = 0; i < h->ndns_names; i++)
		free(h->dns_names[i]);
	free(h->dns_names);
	free(h->verdict);
	free(h->reason);
	memset(h, 0, sizeof(*h));
}

/* A DANE decision with one 3 1 1 record for the leaf (or not). */
static struct stsdane_decision *
dane_decision(int matching)
{
	struct stsdane_decision *d = decision_new("example.test");
	struct stsdane_dane_host *h;

	cr_assert_not_null(d);
	d->mechanism = STSDANE_MECH_DANE;
	d->mode = STSDANE_MODE_ENFORCE;
	d->require_tls = 1;
	d->dane = calloc(1, sizeof(*d->dane));
	cr_assert_not_null(d->dane);
	d->ndane = 1;
	h = &d->dane[0];
	h->name = sd_strdup("mx.example.test");
	h->base_domain = sd_strdup("mx.example.test");
	h->status = STSDANE_DANE_SECURE;
	h->tlsa = calloc(1, sizeof(*h->tlsa));
	cr_assert_not_null(h->tlsa);
	h->ntlsa = 1;
	h->tlsa[0].usage = 3;
	h->tlsa[0].selector = 1;
	h->tlsa[0].mtype = 1;
	h->tlsa[0].data = tc_tlsa_data(matching ? &leaf : &ca, 1, 1,
	    &h->tlsa[0].len);
	cr_assert_not_null(h->tlsa[0].data);
	return d;
}

struct session_case {
	const char *name;
	const char *greeting, *ehlo_reply, *starttls_reply;
	int tls;
	int matching;
	unsigned step_ms;
	const char *verdict;
	const char *reason;
	int starttls, handshake, verified;
};

#define EHLO_TLS "250-mx.example.test\r\n250-PIPELINING\r\n" \
	"250-STARTTLS\r\n250 8BITMIME\r\n"

static const struct session_case session_cases[] = {
	{ "dane pass", "220-mx.example.test ESMTP\r\n220 welcome\r\n",
	  EHLO_TLS, "220 go ahead\r\n", 1, 1, 5000, "pass",
	  "matches the TLSA records", 1, 1, 1 },
	{ "dane fail", "220 mx.example.test ESMTP\r\n", EHLO_TLS,
	  "220 go ahead\r\n", 1, 0, 5000, "fail",
	  "leaf key does not match any TLSA 3 1 1 record", 1, 1, 0 },
	{ "no starttls", "220 mx ESMTP\r\n", "250-mx\r\n250 SIZE 100\r\n",
	  NULL, 0, 1, 5000, "no-starttls", "not offered", 0, 0, 0 },
	{ "ehlo refused", "220 mx ESMTP\r\n", "502 no\r\n", NULL, 0, 1, 5000,
	  "no-starttls", "EHLO refused: 502", 0, 0, 0 },
	{ "starttls refused", "220 mx ESMTP\r\n", EHLO_TLS,
	  "454 TLS not available\r\n", 0, 1, 5000, "tls-failed",
	  "STARTTLS refused: 454", 1, 0, 0 },
	{ "injection after starttls", "220 mx ESMTP\r\n", EHLO_TLS,
	  "220 go ahead\r\n250 injected\r\n", 0, 1, 5000, "tls-failed",
	  "after its STARTTLS reply", 1, 0, 0 },
	{ "no tls after 220", "220 mx ESMTP\r\n", EHLO_TLS,
	  "220 go ahead\r\n", 0, 1, 500, "timeout", "TLS handshake", 1, 0,
	  0 },
	{ "greeting 554", "554 no service\r\n", "250 x\r\n", NULL, 0, 1, 5000,
	  "connect-failed", "greeting: 554 no service", 0, 0, 0 },
	{ "garbage greeting", "SSH-2.0-OpenSSH_9.2\r\n", NULL, NULL, 0, 1,
	  5000, "connect-failed", "malformed reply line 'SSH-2.0", 0, 0, 0 },
	{ "closed after greeting", "220 mx\r\n", NULL, NULL, 0, 1, 5000,
	  "connect-failed", "EHLO: connection", 0, 0, 0 },
	{ "silent server", NULL, NULL, NULL, 0, 1, 300, "timeout",
	  "greeting: no complete reply within 300 ms", 0, 0, 0 },
	{ "partial greeting", "220-mx\r\n", "250 x\r\n", NULL, 0, 1, 300,
	  "timeout", "greeting", 0, 0, 0 },
};

static void
run_session(const struct session_case *c)
{
	struct stsdane_probe_host h;
	struct stsdane_decision *d = dane_decision(c->matching);
	struct fake f;
	pthread_t th;
	int sv[2];

	memset(&f, 0, sizeof(f));
	memset(&h, 0, sizeof(h));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f.fd = sv[1];
	f.greeting = c->greeting;
	f.ehlo_reply = c->ehlo_reply;
	f.starttls_reply = c->starttls_reply;
	f.tls = c->tls;
	f.leaf = &leaf;
	f.ca = &ca;
	cr_assert_eq(pthread_create(&th, NULL, serve, &f), 0);
	h.name = sd_strdup("mx.example.test");
	probe_session(NULL, d, "mx.example.test", sv[0], "client.test",
	    c->step_ms, 60000, &h);
	close(sv[0]);
	pthread_join(th, NULL);

	cr_expect_str_eq(h.verdict, c->verdict, "case '%s': verdict '%s', "
	    "reason '%s'", c->name, h.verdict, h.reason);
	cr_expect(h.reason != NULL && strstr(h.reason, c->reason) != NULL,
	    "case '%s': reason '%s' lacks '%s'", c->name, h.reason, c->reason);
	cr_expect_eq(h.starttls, c->starttls, "case '%s'", c->name);
	cr_expect_eq(h.handshake, c->handshake, "case '%s'", c->name);
	cr_expect_eq(h.verified, c->verified, "case '%s'", c->name);
	if (h.starttls || strcmp(c->verdict, "no-starttls") == 0)
		cr_expect_str_eq(f.ehlo_seen, "EHLO client.test", "case '%s'",
		    c->name);
	if (c->handshake) {
		cr_expect(f.handshake_ok);
		cr_expect_not_null(h.tls_version);
		cr_expect(h.tls_version != NULL &&
		    strncmp(h.tls_version, "TLS1.", 5) == 0, "version '%s'",
		    h.tls_version);
		cr_expect_not_null(h.cipher);
		cr_expect(h.subject != NULL &&
		    strstr(h.subject, "CN=mx.example.test") != NULL,
		    "subject '%s'", h.subject);
		cr_expect_eq(h.ndns_names, 2);
		if (h.ndns_names == 2) {
			cr_expect_str_eq(h.dns_names[0], "mx.example.test");
			cr_expect_str_eq(h.dns_names[1], "mx2.example.test");
		}
		cr_expect_gt(h.not_after, (int64_t)time(NULL));
	}
	host_release(&h);
	stsdane_decision_free(d);
}

Test(probe, session_table, .init = setup, .fini = teardown, .timeout = 60)
{
	size_t i;

	for (i = 0; i < sizeof(session_cases) / sizeof(session_cases[0]); i++)
		run_session(&session_cases[i]);
}

/* A server that floods never gets more than the bound buffered. */
static void *
flood(void *arg)
{
	int fd = *(int *)arg;
	char line[64];
	int i;

	send_all(fd, "220 mx\r\n");
	if (read_line(fd, line, sizeof(line)) == 0)
		for (i = 0; i < 100000; i++)
			if (send(fd, "250-aaaaaaaaaaaaaaaaaaaa\r\n", 26,
			    MSG_NOSIGNAL) <= 0)
				break;
	close(fd);
	return NULL;
}

Test(probe, session_flood, .init = setup, .fini = teardown, .timeout = 30)
{
	struct stsdane_probe_host h;
	struct stsdane_decision *d = dane_decision(1);
	pthread_t th;
	int sv[2];

	memset(&h, 0, sizeof(h));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(pthread_create(&th, NULL, flood, &sv[1]), 0);
	probe_session(NULL, d, "mx.example.test", sv[0], "client.test", 5000,
	    60000, &h);
	close(sv[0]);
	pthread_join(th, NULL);
	cr_expect_str_eq(h.verdict, "connect-failed", "reason '%s'",
	    h.reason);
	cr_expect(strstr(h.reason, "EHLO: reply of more than") != NULL ||
	    strstr(h.reason, "longer than") != NULL, "reason '%s'", h.reason);
	host_release(&h);
	stsdane_decision_free(d);
}

Test(probe, free_null)
{
	stsdane_probe_free(NULL);
	cr_expect_eq(stsdane_probe(NULL, "example.test", 0, NULL),
	    STSDANE_ERR_INVAL);
}

/*
 * Regression: each reply arrives just inside the step deadline.  With a
 * fresh step_ms per reply such a server held one host for greeting +
 * EHLO + STARTTLS + handshake steps; the session's budget now ends it.
 */
static void *
just_in_time(void *arg)
{
	int fd = *(int *)arg;
	char line[256];

	usleep(700 * 1000);
	send_all(fd, "220 mx\r\n");
	while (read_line(fd, line, sizeof(line)) == 0) {
		usleep(700 * 1000);
		send_all(fd, "250-mx\r\n250 STARTTLS\r\n");
	}
	close(fd);
	return NULL;
}

/* One session against server fn; h filled, the wall time returned. */
static int64_t
timed_session(void *(*fn)(void *), unsigned step_ms, unsigned budget_ms,
    struct stsdane_probe_host *h)
{
	struct stsdane_decision *d = dane_decision(1);
	pthread_t th;
	int64_t t0, ms;
	int sv[2];

	memset(h, 0, sizeof(*h));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(pthread_create(&th, NULL, fn, &sv[1]), 0);
	t0 = sd_mono_ms();
	probe_session(NULL, d, "mx.example.test", sv[0], "client.test",
	    step_ms, budget_ms, h);
	ms = sd_mono_ms() - t0;
	shutdown(sv[0], SHUT_RDWR);
	close(sv[0]);
	pthread_join(th, NULL);
	stsdane_decision_free(d);
	return ms;
}

Test(probe, session_budget, .init = setup, .fini = teardown, .timeout = 30)
{
	struct stsdane_probe_host h;
	int64_t ms = timed_session(just_in_time, 1000, 1500, &h);

	cr_expect_str_eq(h.verdict, "timeout", "reason '%s'", h.reason);
	cr_expect(strstr(h.reason, "the 1500 ms budget for this host is "
	    "spent") != NULL, "reason '%s'", h.reason);
	/* generous slack: this checks the bound, not the speed */
	cr_expect(ms >= 1400 && ms < 4000, "took %lld ms", (long long)ms);
	host_release(&h);
}

/*
 * Regression: TLS warning alerts without end in place of a ServerHello.
 * gnutls_handshake() returns a non-fatal error for each; the loop went
 * round again without looking at the deadline.
 */
static void *
alert_flood(void *arg)
{
	static const char alert[] = "\x15\x03\x03\x00\x02\x01\x64";
	int fd = *(int *)arg;
	char line[256], hello[4096];
	int i;

	send_all(fd, "220 mx\r\n");
	if (read_line(fd, line, sizeof(line)) != 0) {
		close(fd);
		return NULL;
	}
	send_all(fd, "250-mx\r\n250 STARTTLS\r\n");
	if (read_line(fd, line, sizeof(line)) != 0) {
		close(fd);
		return NULL;
	}
	send_all(fd, "220 go ahead\r\n");
	if (recv(fd, hello, sizeof(hello), 0) <= 0) {
		close(fd);
		return NULL;
	}
	for (i = 0; i < 10000000; i++)
		if (send(fd, alert, sizeof(alert) - 1, MSG_NOSIGNAL) <= 0)
			break;
	close(fd);
	return NULL;
}

Test(probe, handshake_alert_flood, .init = setup, .fini = teardown,
    .timeout = 30)
{
	struct stsdane_probe_host h;
	int64_t ms = timed_session(alert_flood, 1000, 60000, &h);

	cr_expect(strcmp(h.verdict, "timeout") == 0 ||
	    strcmp(h.verdict, "tls-failed") == 0, "verdict '%s' reason '%s'",
	    h.verdict, h.reason);
	cr_expect(ms < 5000, "took %lld ms", (long long)ms);
	host_release(&h);
}
