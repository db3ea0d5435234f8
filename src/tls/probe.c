/*
 * NAME
 *	probe.c - connect to a domain's MX hosts the way a sending MTA would
 * SUMMARY
 *	decide, then for each MX host: resolve, connect, EHLO, STARTTLS
 *	with SNI, and check the peer's chain against the decision
 * SYNOPSIS
 *	#include <stsdane.h>
 *
 *	int stsdane_probe(stsdane_ctx *ctx, const char *domain,
 *	    unsigned flags, struct stsdane_probe **out);
 *	void stsdane_probe_free(struct stsdane_probe *p);
 *
 *	(for tests, declared below)
 *	int smtp_reply_parse(const char *buf, size_t len,
 *	    struct smtp_reply *r, size_t *used, char *err, size_t errlen);
 *	void probe_session(stsdane_ctx *ctx,
 *	    const struct stsdane_decision *d, const char *host, int fd,
 *	    const char *ehlo, unsigned step_ms, unsigned budget_ms,
 *	    struct stsdane_probe_host *h);
 * DESCRIPTION
 *	stsdane_probe() asks for a fresh decision (the cache is neither
 *	read nor written), takes the MX hosts from it (decide() lists every
 *	MX host it saw in d->dane) or, when it has none, looks the MX RRset
 *	up itself, and probes the hosts one after another, in preference
 *	order.  A host that an MTA-STS policy does not allow is reported
 *	"not-allowed" and not connected to.  Each host gets A and AAAA
 *	lookups through the context's DNS layer, then connections to its
 *	addresses (IPv4 first) on the smtp_port setting until one succeeds.
 *
 *	probe_session() speaks SMTP on a connected socket: greeting, EHLO,
 *	STARTTLS, a GnuTLS handshake with the MX host name as SNI and no
 *	verification inside the handshake, then stsdane_verify_chain() on
 *	the chain the server sent, then QUIT.  Every read, write and the
 *	handshake has a deadline of step_ms, or of what is left of
 *	budget_ms (the whole session's) when that is less, so a server that
 *	answers each step just in time still cannot hold the session longer
 *	than budget_ms; stsdane_probe() gives each host PROBE_HOST_MS for
 *	connecting and the session together.  Replies are bounded in line
 *	length, line count and total size, so a server that stalls, floods
 *	or sends garbage is reported, never waited on or trusted.  Bytes
 *	the server sends after its reply to STARTTLS and before the
 *	handshake are refused (they would be injected into the TLS
 *	session's command stream).
 *
 *	smtp_reply_parse() is the pure part: it finds one complete,
 *	possibly multi-line SMTP reply at the start of a buffer.
 *
 *	The result belongs to the caller and is released with
 *	stsdane_probe_free(), which also frees the decision inside it.
 * DIAGNOSTICS
 *	stsdane_probe() returns STSDANE_OK whenever a decision was made,
 *	whatever happened on the network (that is in each host's verdict
 *	and reason); otherwise the error of stsdane_query(), or
 *	STSDANE_ERR_NOMEM, STSDANE_ERR_INVAL, STSDANE_ERR_RESOLVER.
 *	smtp_reply_parse() returns 1 for a complete reply (*used bytes), 0
 *	when more bytes are needed, -1 with the reason in err for a reply
 *	that is malformed or over a bound.
 * SEE ALSO
 *	verify.c, RFC 5321, RFC 3207, RFC 7672, RFC 8461
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "ctx.h"
#include "dns.h"
#include "internal.h"
#include "x509.h"

#define PROBE_STEP_MS 10000u	/* one read, write, connect or handshake */
#define PROBE_HOST_MS 60000u	/* everything for one host */
#define PROBE_MAX_ADDRS 8	/* addresses tried per host */
#define PROBE_MAX_CHAIN 16	/* certificates passed to verification */
#define SMTP_MAX_LINE 2048	/* RFC 5321 says 512; be lenient */
#define SMTP_MAX_LINES 128
#define SMTP_MAX_REPLY 16384


/* Printable excerpt of untrusted bytes, for messages. */
static void
excerpt(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (outlen == 0)
		return;
	for (i = 0; i < n && o + 1 < outlen && o < 60; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n')
			break;
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}

int
smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r,
    size_t *used, char *err, size_t errlen)
{
	size_t pos = 0, start, end, linelen, i;
	char show[64];
	const char *line, *kw;
	int code;

	memset(r, 0, sizeof(*r));
	*used = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	for (;;) {
		start = pos;
		line = memchr(buf + start, '\n', len - start);
		if (line == NULL) {
			if (len - start > SMTP_MAX_LINE) {
				sd_snprintf(err, errlen, "reply line longer "
				    "than %d bytes", SMTP_MAX_LINE);
				return -1;
			}
			return 0;
		}
		end = (size_t)(line - buf);	/* index of '\n' */
		pos = end + 1;
		linelen = end - start;
		if (linelen > 0 && buf[end - 1] == '\r')
			linelen--;
		if (linelen > SMTP_MAX_LINE) {
			sd_snprintf(err, errlen, "reply line longer than %d "
			    "bytes", SMTP_MAX_LINE);
			return -1;
		}
		line = buf + start;
		excerpt(line, linelen, show, sizeof(show));
		for (i = 0; i < linelen; i++) {
			if (line[i] == '\0' || line[i] == '\r') {
				sd_snprintf(err, errlen, "reply line '%s' "
				    "holds control characters", show);
				return -1;
			}
		}
		if (linelen < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (linelen > 3 && line[3] != ' ' &&
		    line[3] != '-')) {
			sd_snprintf(err, errlen, "malformed reply line '%s'",
			    show);
			return -1;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (r->nlines == 0) {
			r->code = code;
			if (linelen > 4)
				excerpt(line + 4, linelen - 4, r->text,
				    sizeof(r->text));
		} else if (code != r->code) {
			sd_snprintf(err, errlen, "reply lines with codes %d "
			    "and %d", r->code, code);
			return -1;
		} else if (linelen >= 12) {
			/* EHLO keyword lines; the first line is a name */
			kw = line + 4;
			if (strncasecmp(kw, "STARTTLS", 8) == 0 &&
			    (linelen == 12 || kw[8] == ' '))
				r->starttls = 1;
		}
		r->nlines++;
		if (linelen <= 3 || line[3] == ' ') {
			*used = pos;
			return 1;
		}
		if (r->nlines >= SMTP_MAX_LINES) {
			sd_snprintf(err, errlen, "reply of more than %d lines",
			    SMTP_MAX_LINES);
			return -1;
		}
	}
}

static int
ms_left(int64_t deadline)
{
	int64_t left = deadline - sd_mono_ms();

	if (left <= 0)
		return 0;
	return left > 1000000 ? 1000000 : (int)left;
}

/* How an I/O step ended. */
enum io_result {
	IO_OK = 0,
	IO_TIMEOUT,	/* deadline passed */
	IO_CLOSED,	/* peer closed or reset */
	IO_PROTO,	/* peer sent something we refuse */
	IO_TLS		/* TLS layer error */
};

struct conn {
	int fd;
	gnutls_session_t tls;	/* NULL before STARTTLS */
	unsigned step_ms;
	unsigned budget_ms;	/* for the whole session */
	int64_t end;		/* when budget_ms runs out */
	size_t len;		/* bytes in buf not yet parsed */
	char buf[SMTP_MAX_REPLY];
	char err[SD_ERRLEN];	/* why the last step failed */
};

/*
 * The deadline of the step that starts now: step_ms, or what is left of
 * the session's budget when that is less.  *allowed gets its length, for
 * messages, and *cut whether the budget (not the step) set it.
 */
static int64_t
step_deadline(const struct conn *c, unsigned *allowed, int *cut)
{
	int64_t now = sd_mono_ms(), d = now + c->step_ms;

	*cut = d >= c->end;
	if (*cut)
		d = c->end;
	*allowed = d > now ? (unsigned)(d - now) : 0;
	return d;
}

/* "; the N ms budget for this host is spent" when the budget set the
   deadline, else "". */
static const char *
budget_note(const struct conn *c, int cut, char *buf, size_t len)
{
	if (!cut)
		return "";
	(void)sd_snprintf(buf, len, "; the %u ms budget for this host is "
	    "spent", c->budget_ms);
	return buf;
}

/* Wait for fd to be ready for events, until deadline.  1, 0 timeout. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int n, left;

	for (;;) {
		left = ms_left(deadline);
		if (left == 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return 1;	/* let the read or write see it */
	}
}

static enum io_result
conn_read_reply(struct conn *c, struct smtp_reply *r, const char *what)
{
	unsigned allowed;
	int cut;
	int64_t deadline = step_deadline(c, &allowed, &cut);
	char why[SD_ERRLEN], note[96];
	size_t used;
	ssize_t n;
	int rc;

	for (;;) {
		rc = smtp_reply_parse(c->buf, c->len, r, &used, why,
		    sizeof(why));
		if (rc == 1) {
			memmove(c->buf, c->buf + used, c->len - used);
			c->len -= used;
			return IO_OK;
		}
		if (rc < 0) {
			sd_snprintf(c->err, sizeof(c->err), "%s: %s", what,
			    why);
			return IO_PROTO;
		}
		if (c->len >= sizeof(c->buf)) {
			sd_snprintf(c->err, sizeof(c->err), "%s: reply longer "
			    "than %zu bytes", what, sizeof(c->buf));
			return IO_PROTO;
		}
		if (c->tls != NULL) {
			if (gnutls_record_check_pending(c->tls) == 0 &&
			    !wait_fd(c->fd, POLLIN, deadline))
				goto timeout;
			n = gnutls_record_recv(c->tls, c->buf + c->len,
			    sizeof(c->buf) - c->len);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				if (ms_left(deadline) == 0)
					goto timeout;
				continue;
			}
			if (n < 0) {
				sd_snprintf(c->err, sizeof(c->err), "%s: %s",
				    what, gnutls_strerror((int)n));
				return IO_TLS;
			}
		} else {
			if (!wait_fd(c->fd, POLLIN, deadline))
				goto timeout;
			n = recv(c->fd, c->buf + c->len,
			    sizeof(c->buf) - c->len, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR ||
			    errno == EWOULDBLOCK))
				continue;
			if (n < 0) {
				sd_snprintf(c->err, sizeof(c->err), "%s: "
				    "connection lost: %s", what,
				    strerror(errno));
				return IO_CLOSED;
			}
		}
		if (n == 0) {
			sd_snprintf(c->err, sizeof(c->err), "%s: connection "
			    "closed by server", what);
			return IO_CLOSED;
		}
		c->len += (size_t)n;
	}
timeout:
	sd_snprintf(c->err, sizeof(c->err), "%s: no complete reply within "
	    "%u ms%s", what, allowed, budget_note(c, cut, note, sizeof(note)));
	return IO_TIMEOUT;
}

static enum io_result
conn_write(struct conn *c, const char *data, const char *what)
{
	unsigned allowed;
	int cut;
	int64_t deadline = step_deadline(c, &allowed, &cut);
	char note[96];
	size_t len = strlen(data), off = 0;
	ssize_t n;

	while (off < len) {
		if (c->tls != NULL) {
			n = gnutls_record_send(c->tls, data + off, len - off);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				if (!wait_fd(c->fd, POLLOUT, deadline))
					goto timeout;
				continue;
			}
			if (n < 0) {
				sd_snprintf(c->err, sizeof(c->err), "%s: %s",
				    what, gnutls_strerror((int)n));
				return IO_TLS;
			}
		} else {
			n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EINTR ||
			    errno == EWOULDBLOCK)) {
				if (!wait_fd(c->fd, POLLOUT, deadline))
					goto timeout;
				continue;
			}
			if (n < 0) {
				sd_snprintf(c->err, sizeof(c->err), "%s: "
				    "connection lost: %s", what,
				    strerror(errno));
				return IO_CLOSED;
			}
		}
		off += (size_t)n;
	}
	return IO_OK;
timeout:
	sd_snprintf(c->err, sizeof(c->err), "%s: could not send within %u "
	    "ms%s", what, allowed, budget_note(c, cut, note, sizeof(note)));
	return IO_TIMEOUT;
}

/* GnuTLS transport over the non-blocking socket, never raising SIGPIPE. */
static ssize_t
tls_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	return send((int)(intptr_t)p, data, len, MSG_NOSIGNAL);
}

static ssize_t
tls_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	return recv((int)(intptr_t)p, data, len, 0);
}

static int
set_str(char **dst, const char *src)
{
	char *p = sd_strdup(src != NULL ? src : "");

	if (p == NULL)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}

static void SD_PRINTF(3, 4)
set_verdict(struct stsdane_probe_host *h, const char *verdict,
    const char *fmt, ...)
{
	char buf[SD_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	(void)sd_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)set_str(&h->verdict, verdict);
	(void)set_str(&h->reason, buf);
}

static const char *
io_verdict(enum io_result r, const char *otherwise)
{
	return r == IO_TIMEOUT ? "timeout" : otherwise;
}

/* Subject, dNSNames and expiry of the leaf, for the report. */
static void
record_leaf(struct stsdane_probe_host *h, const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = { NULL, 0 };
	char name[SD_MAX_NAME + 2];
	char **names;
	unsigned i = 0;

	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return;
	}
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
		(void)set_str(&h->subject, (const char *)dn.data);
		gnutls_free(dn.data);
	}
	h->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	while (cert_next_dns_name(crt, &i, name, sizeof(name))) {
		names = realloc(h->dns_names,
		    (h->ndns_names + 1) * sizeof(*names));
		if (names == NULL)
			break;
		h->dns_names = names;
		names[h->ndns_names] = sd_strdup(name);
		if (names[h->ndns_names] == NULL)
			break;
		h->ndns_names++;
	}
	gnutls_x509_crt_deinit(crt);
}

/*
 * Handshake until done, failed, or past the deadline.  The deadline is
 * checked on every path: a server sending warning alerts without end
 * makes gnutls_handshake() return a non-fatal error each time, with data
 * always ready, so waiting alone would never notice the time.
 */
static enum io_result
tls_handshake(struct conn *c)
{
	unsigned allowed;
	int cut, r, in_time;
	int64_t deadline = step_deadline(c, &allowed, &cut);
	char note[96], last[128] = "";

	for (;;) {
		r = gnutls_handshake(c->tls);
		if (r == GNUTLS_E_SUCCESS)
			return IO_OK;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			in_time = wait_fd(c->fd,
			    gnutls_record_get_direction(c->tls) ? POLLOUT :
			    POLLIN, deadline);
		} else if (!gnutls_error_is_fatal(r)) {
			/* a warning alert, say: data is there, time may not be */
			(void)sd_snprintf(last, sizeof(last), " (last: %s)",
			    gnutls_strerror(r));
			in_time = ms_left(deadline) > 0;
		} else {
			break;
		}
		if (!in_time) {
			sd_snprintf(c->err, sizeof(c->err), "TLS handshake not "
			    "done within %u ms%s%s", allowed, last,
			    budget_note(c, cut, note, sizeof(note)));
			return IO_TIMEOUT;
		}
	}
	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
		sd_snprintf(c->err, sizeof(c->err), "TLS handshake: server sent "
		    "alert '%s'", gnutls_alert_get_name(gnutls_alert_get(
		    c->tls)));
	else
		sd_snprintf(c->err, sizeof(c->err), "TLS handshake: %s",
		    gnutls_strerror(r));
	return IO_TLS;
}

/* After the handshake: record what was negotiated and verify. */
static void
tls_report(stsdane_ctx *ctx, const struct stsdane_decision *d,
    const char *host, struct conn *c, struct stsdane_probe_host *h)
{
	struct stsdane_cert chain[PROBE_MAX_CHAIN];
	const gnutls_datum_t *peers;
	unsigned npeers = 0, i;
	const char *suite;
	char why[SD_ERRLEN];
	char *desc;
	int rc;

	h->handshake = 1;
	(void)set_str(&h->tls_version, gnutls_protocol_get_name(
	    gnutls_protocol_get_version(c->tls)));
	suite = gnutls_ciphersuite_get(c->tls);
	if (suite != NULL) {
		(void)set_str(&h->cipher, suite);
	} else {
		desc = gnutls_session_get_desc(c->tls);
		if (desc != NULL) {
			(void)set_str(&h->cipher, desc);
			gnutls_free(desc);
		}
	}
	peers = gnutls_certificate_get_peers(c->tls, &npeers);
	if (peers != NULL && npeers > 0)
		record_leaf(h, &peers[0]);
	if (npeers > PROBE_MAX_CHAIN)
		npeers = PROBE_MAX_CHAIN;
	for (i = 0; i < npeers; i++) {
		chain[i].der = peers[i].data;
		chain[i].len = peers[i].size;
	}
	why[0] = '\0';
	rc = stsdane_verify_chain(ctx, d, host, chain, npeers, why,
	    sizeof(why));
	if (rc == STSDANE_OK) {
		h->verified = 1;
		if (why[0] != '\0')
			set_verdict(h, "pass", "%s", why);
		else if (d->mechanism == STSDANE_MECH_DANE)
			set_verdict(h, "pass", "chain matches the TLSA records "
			    "of '%s'", host);
		else if (d->mechanism == STSDANE_MECH_MTASTS)
			set_verdict(h, "pass", "chain verifies for '%s' and "
			    "the MTA-STS policy allows it", host);
		else
			set_verdict(h, "pass", "no DANE or MTA-STS policy: "
			    "TLS not authenticated");
	} else {
		set_verdict(h, "fail", "%s", why[0] != '\0' ? why :
		    stsdane_strerror(rc));
	}
}

void
probe_session(stsdane_ctx *ctx, const struct stsdane_decision *d,
    const char *host, int fd, const char *ehlo, unsigned step_ms,
    unsigned budget_ms, struct stsdane_probe_host *h)
{
	gnutls_certificate_credentials_t cred = NULL;
	struct smtp_reply r;
	struct conn *c;
	char line[SD_MAX_NAME + 16];
	enum io_result io;
	int flags, g;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		set_verdict(h, "connect-failed", "out of memory");
		return;
	}
	c->fd = fd;
	c->step_ms = step_ms > 0 ? step_ms : PROBE_STEP_MS;
	c->budget_ms = budget_ms;
	c->end = sd_mono_ms() + budget_ms;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		set_verdict(h, "connect-failed", "socket: %s",
		    strerror(errno));
		goto out;
	}

	io = conn_read_reply(c, &r, "greeting");
	if (io != IO_OK) {
		set_verdict(h, io_verdict(io, "connect-failed"), "%s", c->err);
		goto out;
	}
	if (r.code != 220) {
		set_verdict(h, "connect-failed", "greeting: %d %s", r.code,
		    r.text);
		goto quit;
	}
	(void)sd_snprintf(line, sizeof(line), "EHLO %s\r\n", ehlo);
	io = conn_write(c, line, "EHLO");
	if (io == IO_OK)
		io = conn_read_reply(c, &r, "EHLO");
	if (io != IO_OK) {
		set_verdict(h, io_verdict(io, "connect-failed"), "%s", c->err);
		goto out;
	}
	if (r.code != 250) {
		set_verdict(h, "no-starttls", "EHLO refused: %d %s", r.code,
		    r.text);
		goto quit;
	}
	h->starttls = r.starttls;
	if (!r.starttls) {
		set_verdict(h, "no-starttls", "STARTTLS not offered in the "
		    "EHLO reply");
		goto quit;
	}
	io = conn_write(c, "STARTTLS\r\n", "STARTTLS");
	if (io == IO_OK)
		io = conn_read_reply(c, &r, "STARTTLS");
	if (io != IO_OK) {
		set_verdict(h, io_verdict(io, "tls-failed"), "%s", c->err);
		goto out;
	}
	if (r.code != 220) {
		set_verdict(h, "tls-failed", "STARTTLS refused: %d %s",
		    r.code, r.text);
		goto quit;
	}
	if (c->len > 0) {
		set_verdict(h, "tls-failed", "server sent %zu bytes after its "
		    "STARTTLS reply, before the handshake", c->len);
		goto out;
	}

	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0) {
		c->tls = NULL;
		set_verdict(h, "tls-failed", "cannot set up a TLS session");
		goto out;
	}
	g = gnutls_set_default_priority(c->tls);
	if (g >= 0)
		g = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, cred);
	if (g >= 0 && !sd_is_ip_literal(host))
		g = gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, host,
		    strlen(host));
	if (g < 0) {
		set_verdict(h, "tls-failed", "TLS session: %s",
		    gnutls_strerror(g));
		goto out;
	}
	gnutls_transport_set_ptr(c->tls, (gnutls_transport_ptr_t)(intptr_t)fd);
	gnutls_transport_set_push_function(c->tls, tls_push);
	gnutls_transport_set_pull_function(c->tls, tls_pull);
	io = tls_handshake(c);
	if (io != IO_OK) {
		set_verdict(h, io_verdict(io, "tls-failed"), "%s", c->err);
		goto out;
	}
	tls_report(ctx, d, host, c, h);

quit:
	/* Politeness only: the verdict is already known. */
	if (conn_write(c, "QUIT\r\n", "QUIT") == IO_OK) {
		c->step_ms = c->step_ms < 2000 ? c->step_ms : 2000;
		(void)conn_read_reply(c, &r, "QUIT");
	}
	if (c->tls != NULL)
		(void)gnutls_bye(c->tls, GNUTLS_SHUT_WR);
out:
	if (c->tls != NULL)
		gnutls_deinit(c->tls);
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	free(c);
}

/*
 * DNS through the context's layer: submit, then run its event loop
 * until our lookups are answered or the deadline passes.
 */
struct addr_list {
	size_t n;
	struct sockaddr_storage sa[PROBE_MAX_ADDRS];
	socklen_t salen[PROBE_MAX_ADDRS];
	char text[PROBE_MAX_ADDRS][64];
};

struct lookup {
	int rrtype;
	int done;
	enum dns_status status;
	char why[128];
	struct addr_list *addrs;	/* for A and AAAA */
	/* for MX */
	size_t nmx;
	unsigned mxpref[SD_MAX_MX_HOSTS];
	char mxname[SD_MAX_MX_HOSTS][SD_MAX_NAME];
	int null_mx;
};

static void
add_addr(struct addr_list *l, int rrtype, const unsigned char *rd,
    size_t len, unsigned port)
{
	struct sockaddr_in *s4;
	struct sockaddr_in6 *s6;

	if (l->n >= PROBE_MAX_ADDRS)
		return;
	memset(&l->sa[l->n], 0, sizeof(l->sa[l->n]));
	if (rrtype == DNS_T_A && len == 4) {
		s4 = (struct sockaddr_in *)&l->sa[l->n];
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, rd, 4);
		l->salen[l->n] = sizeof(*s4);
	} else if (rrtype == DNS_T_AAAA && len == 16) {
		s6 = (struct sockaddr_in6 *)&l->sa[l->n];
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, rd, 16);
		l->salen[l->n] = sizeof(*s6);
	} else {
		return;
	}
	if (inet_ntop(rrtype == DNS_T_A ? AF_INET : AF_INET6, rd,
	    l->text[l->n], sizeof(l->text[l->n])) == NULL)
		return;
	l->n++;
}

struct lookup_ctx {
	struct lookup *lk;
	unsigned port;
};

static void
lookup_cb(void *arg, const struct dns_answer *a)
{
	struct lookup_ctx *lc = arg;
	struct lookup *lk = lc->lk;
	char name[SD_MAX_NAME];
	unsigned pref;
	size_t i;

	lk->done = 1;
	lk->status = a->status;
	(void)sd_strlcpy(lk->why, a->why != NULL ? a->why : "",
	    sizeof(lk->why));
	if (a->status != DNS_OK)
		return;
	for (i = 0; i < a->n; i++) {
		if (lk->rrtype == DNS_T_MX) {
			if (rdata_mx(a->rdata[i], a->rdlen[i], &pref, name,
			    sizeof(name)) < 0)
				continue;
			if (name[0] == '\0') {
				lk->null_mx = 1;
				continue;
			}
			if (lk->nmx >= SD_MAX_MX_HOSTS)
				continue;
			lk->mxpref[lk->nmx] = pref;
			(void)sd_strlcpy(lk->mxname[lk->nmx], name,
			    sizeof(lk->mxname[lk->nmx]));
			lk->nmx++;
		} else {
			add_addr(lk->addrs, lk->rrtype, a->rdata[i],
			    a->rdlen[i], lc->port);
		}
	}
}

/*
 * Look up n (name, type) pairs at once.  Returns 0 when all were
 * answered, 1 when the deadline passed (the rest are TEMPFAIL), -1 when
 * a lookup could not be submitted (its why is set).
 */
static int
dns_run(stsdane_ctx *ctx, const char *name, struct lookup *lks,
    struct lookup_ctx *lcs, size_t n, unsigned timeout_ms)
{
	int64_t deadline = sd_mono_ms() + timeout_ms;
	const char *why = NULL;
	struct pollfd pfd;
	size_t i, left;
	int fd, timed_out = 0, failed = 0;

	for (i = 0; i < n; i++) {
		lcs[i].lk = &lks[i];
		if (ctx->dns->query(ctx->dns_impl, name, lks[i].rrtype,
		    lookup_cb, &lcs[i], &why) < 0) {
			lks[i].done = 1;
			lks[i].status = DNS_TEMPFAIL;
			(void)sd_strlcpy(lks[i].why, why != NULL ? why :
			    "lookup not submitted", sizeof(lks[i].why));
			failed = 1;
		}
	}
	for (;;) {
		left = 0;
		for (i = 0; i < n; i++)
			left += !lks[i].done;
		if (left == 0)
			break;
		if (ms_left(deadline) == 0) {
			ctx->dns->cancel_all(ctx->dns_impl, "timed out");
			timed_out = 1;
			break;
		}
		fd = ctx->dns->fd(ctx->dns_impl);
		if (fd >= 0) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			(void)poll(&pfd, 1, ms_left(deadline));
		} else {
			struct timespec ts = { 0, 5000000 };

			(void)nanosleep(&ts, NULL);
		}
		(void)ctx->dns->process(ctx->dns_impl);
	}
	for (i = 0; i < n; i++) {
		if (!lks[i].done) {	/* cancel_all did not reach it */
			lks[i].done = 1;
			lks[i].status = DNS_TEMPFAIL;
			(void)sd_strlcpy(lks[i].why, "timed out",
			    sizeof(lks[i].why));
		}
	}
	if (timed_out)
		return 1;
	return failed ? -1 : 0;
}

static unsigned
dns_timeout(const stsdane_ctx *ctx)
{
	unsigned t = ctx->settings.dns_timeout_ms;

	return t > 0 ? t : PROBE_STEP_MS;
}

static const char *
dns_status_word(enum dns_status s)
{
	switch (s) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "no such name";
	case DNS_NODATA: return "no records";
	case DNS_TEMPFAIL: return "temporary failure";
	case DNS_BOGUS: return "DNSSEC bogus";
	}
	return "unknown";
}

/* Connect to one address within the deadline: fd, or -1 with err. */
static int
connect_one(const struct sockaddr_storage *sa, socklen_t salen,
    int64_t deadline, int *timed_out, char *err, size_t errlen)
{
	socklen_t optlen = sizeof(int);
	int fd, soerr = 0;

	*timed_out = 0;
	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		sd_snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sa, salen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		sd_snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!wait_fd(fd, POLLOUT, deadline)) {
		*timed_out = 1;
		sd_snprintf(err, errlen, "timed out");
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &optlen) < 0)
		soerr = errno;
	if (soerr != 0) {
		sd_snprintf(err, errlen, "%s", strerror(soerr));
		close(fd);
		return -1;
	}
	return fd;
}

static void
probe_host(stsdane_ctx *ctx, const struct stsdane_decision *d,
    const char *ehlo, struct stsdane_probe_host *h)
{
	struct lookup lks[2];
	struct lookup_ctx lcs[2];
	struct addr_list *addrs;
	char why[SD_ERRLEN], msg[SD_ERRLEN];
	int64_t host_deadline = sd_mono_ms() + PROBE_HOST_MS, step;
	static const int family[2] = { AF_INET, AF_INET6 };
	size_t i, f;
	int fd = -1, all_timeouts = 1, to, rc;
	unsigned port = ctx->settings.smtp_port > 0 ?
	    ctx->settings.smtp_port : 25;

	h->allowed = stsdane_host_allowed(d, h->name);
	if (d->mechanism == STSDANE_MECH_MTASTS && !h->allowed) {
		set_verdict(h, "not-allowed", "MX host '%s' is not allowed by "
		    "the MTA-STS policy: not connected", h->name);
		return;
	}
	if (sd_is_ip_literal(h->name)) {
		set_verdict(h, "no-address", "MX host '%s' is an address "
		    "literal, not a host name", h->name);
		return;
	}
	addrs = calloc(1, sizeof(*addrs));
	if (addrs == NULL) {
		set_verdict(h, "no-address", "out of memory");
		return;
	}
	memset(lks, 0, sizeof(lks));
	lks[0].rrtype = DNS_T_A;
	lks[1].rrtype = DNS_T_AAAA;
	lks[0].addrs = lks[1].addrs = addrs;
	lcs[0].port = lcs[1].port = port;
	rc = dns_run(ctx, h->name, lks, lcs, 2, dns_timeout(ctx));
	if (addrs->n == 0) {
		if (rc == 1)
			set_verdict(h, "timeout", "address lookup for '%s' "
			    "timed out", h->name);
		else if (lks[0].status == DNS_TEMPFAIL ||
		    lks[0].status == DNS_BOGUS)
			set_verdict(h, "no-address", "A lookup for '%s': %s%s%s",
			    h->name, dns_status_word(lks[0].status),
			    lks[0].why[0] ? ": " : "", lks[0].why);
		else
			set_verdict(h, "no-address", "no A or AAAA records for "
			    "'%s' (%s, %s)", h->name,
			    dns_status_word(lks[0].status),
			    dns_status_word(lks[1].status));
		free(addrs);
		return;
	}
	/* Answers arrive in any order: try IPv4 first, then IPv6. */
	msg[0] = '\0';
	for (f = 0; f < 2 && fd < 0; f++)
		for (i = 0; i < addrs->n && fd < 0; i++) {
			if (addrs->sa[i].ss_family != family[f])
				continue;
			step = sd_mono_ms() + PROBE_STEP_MS;
			if (step > host_deadline)
				step = host_deadline;
			fd = connect_one(&addrs->sa[i], addrs->salen[i], step,
			    &to, why, sizeof(why));
			if (fd >= 0) {
				(void)set_str(&h->address, addrs->text[i]);
				break;
			}
			all_timeouts &= to;
			(void)sd_snprintf(msg, sizeof(msg), "connect to %s "
			    "port %u: %s", addrs->text[i], port, why);
		}
	free(addrs);
	if (fd < 0) {
		set_verdict(h, all_timeouts ? "timeout" : "connect-failed",
		    "%s", msg);
		return;
	}
	h->connected = 1;
	/* the session gets what the connect attempts left of the budget */
	probe_session(ctx, d, h->name, fd, ehlo, PROBE_STEP_MS,
	    (unsigned)ms_left(host_deadline), h);
	close(fd);
}

/* The name this side gives in EHLO. */
static void
ehlo_name(char *buf, size_t len)
{
	char host[256];

	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (sd_hostname_normalize(host, buf, len, 0) == 0)
			return;
	}
	(void)sd_strlcpy(buf, "localhost", len);
}

static int
add_host(struct stsdane_probe *p, const char *name, unsigned pref)
{
	struct stsdane_probe_host *h;
	size_t i;

	for (i = 0; i < p->nhosts; i++)
		if (strcasecmp(p->hosts[i].name, name) == 0)
			return 0;
	if (p->nhosts >= SD_MAX_MX_HOSTS)
		return 0;
	h = &p->hosts[p->nhosts];
	memset(h, 0, sizeof(*h));
	h->name = sd_strdup(name);
	if (h->name == NULL)
		return -1;
	h->preference = pref;
	p->nhosts++;
	return 0;
}

/* The MX hosts, looked up here when the decision did not list them. */
static int
mx_hosts(stsdane_ctx *ctx, struct stsdane_probe *p)
{
	const struct stsdane_decision *d = p->decision;
	struct lookup *lk;
	struct lookup_ctx lc;
	size_t i, j, best;
	int rc;

	if (d->no_mail)
		return STSDANE_OK;
	if (d->ndane > 0) {
		for (i = 0; i < d->ndane; i++)
			if (d->dane[i].name != NULL &&
			    add_host(p, d->dane[i].name,
			    d->dane[i].preference) < 0)
				return STSDANE_ERR_NOMEM;
		return STSDANE_OK;
	}
	rc = ctx_get_dns(ctx);
	if (rc != STSDANE_OK)
		return rc;
	lk = calloc(1, sizeof(*lk));
	if (lk == NULL)
		return STSDANE_ERR_NOMEM;
	lk->rrtype = DNS_T_MX;
	(void)dns_run(ctx, d->domain, lk, &lc, 1, dns_timeout(ctx));
	if (lk->status == DNS_NODATA) {
		/* RFC 5321 5.1: the domain itself is the implicit MX */
		rc = add_host(p, d->domain, 0);
	} else if (lk->status == DNS_OK) {
		/* selection by preference; the order among equals kept */
		rc = 0;
		while (lk->nmx > 0 && rc == 0) {
			best = 0;
			for (j = 1; j < lk->nmx; j++)
				if (lk->mxpref[j] < lk->mxpref[best])
					best = j;
			rc = add_host(p, lk->mxname[best], lk->mxpref[best]);
			for (j = best; j + 1 < lk->nmx; j++) {
				lk->mxpref[j] = lk->mxpref[j + 1];
				memcpy(lk->mxname[j], lk->mxname[j + 1],
				    sizeof(lk->mxname[j]));
			}
			lk->nmx--;
		}
	} else {
		ctx_log(ctx, 1, "MX lookup for '%s': %s%s%s", d->domain,
		    dns_status_word(lk->status), lk->why[0] ? ": " : "",
		    lk->why);
		rc = 0;
	}
	free(lk);
	return rc < 0 ? STSDANE_ERR_NOMEM : STSDANE_OK;
}

SD_EXPORT int
stsdane_probe(stsdane_ctx *ctx, const char *domain, unsigned flags,
    struct stsdane_probe **out)
{
	struct stsdane_probe *p;
	char ehlo[SD_MAX_NAME];
	size_t i;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || domain == NULL || out == NULL)
		return STSDANE_ERR_INVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return STSDANE_ERR_NOMEM;
	p->hosts = calloc(SD_MAX_MX_HOSTS, sizeof(*p->hosts));
	if (p->hosts == NULL) {
		free(p);
		return STSDANE_ERR_NOMEM;
	}
	rc = stsdane_query(ctx, domain, flags | STSDANE_QUERY_NO_CACHE,
	    &p->decision);
	if (rc != STSDANE_OK) {
		stsdane_probe_free(p);
		return rc;
	}
	rc = mx_hosts(ctx, p);
	if (rc != STSDANE_OK) {
		stsdane_probe_free(p);
		return rc;
	}
	if (p->nhosts > 0) {
		rc = ctx_get_dns(ctx);
		if (rc != STSDANE_OK) {
			stsdane_probe_free(p);
			return rc;
		}
	}
	ehlo_name(ehlo, sizeof(ehlo));
	for (i = 0; i < p->nhosts; i++)
		probe_host(ctx, p->decision, ehlo, &p->hosts[i]);
	*out = p;
	return STSDANE_OK;
}

SD_EXPORT void
stsdane_probe_free(struct stsdane_probe *p)
{
	struct stsdane_probe_host *h;
	size_t i, k;

	if (p == NULL)
		return;
	for (i = 0; p->hosts != NULL && i < p->nhosts; i++) {
		h = &p->hosts[i];
		free(h->name);
		free(h->address);
		free(h->tls_version);
		free(h->cipher);
		free(h->subject);
		for (k = 0; k < h->ndns_names; k++)
			free(h->dns_names[k]);
		free(h->dns_names);
		free(h->verdict);
		free(h->reason);
	}
	free(p->hosts);
	stsdane_decision_free(p->decision);
	free(p);
}
