/*
 * NAME
 *	send.c - send one day's TLS-RPT reports (RFC 8460 section 5)
 * SUMMARY
 *	look up _smtp._tls.DOMAIN, make the report, mail it or POST it,
 *	remember what was sent, retry what failed for a bounded time
 * SYNOPSIS
 *	#include "stsdane.h"
 *
 *	int stsdane_tlsrpt_send(stsdane_ctx *ctx, const char *day,
 *	    const char *dry_run_dir, stsdane_tlsrpt_note_fn *fn, void *arg,
 *	    size_t *nsent)
 * DESCRIPTION
 *	For every policy domain with sessions in the day file: the TXT
 *	record set at _smtp._tls.DOMAIN, remembered with the other records
 *	("rpt/DOMAIN", remember.h) for its TTL (5 minutes to a day), else
 *	through the library's resolver, checked by stsdane_tlsrpt_check() (no record, or an invalid one: no
 *	report; a lookup that fails: tried again at the next run).  Then
 *	the report of that domain alone (report.c; its JSON made by
 *	report_json.c in stsdane-fetch.so), gzipped, to each rua
 *	destination:
 *
 *	  mailto:  a multipart/report; report-type="tlsrpt" message with
 *	           an application/tlsrpt+gzip part (RFC 8460 5.3), the
 *	           subject "Report Domain: D Submitter: S Report-ID: <ID>",
 *	           TLS-Report-Domain, TLS-Report-Submitter and
 *	           "TLS-Required: No" (RFC 8689: a report must get through
 *	           even when TLS to its destination is what is broken),
 *	           piped to the tlsrpt_sendmail command (default
 *	           "/usr/sbin/sendmail -oi -t") run by /bin/sh
 *	  https:   a POST with Content-Type application/tlsrpt+gzip, by
 *	           stsdane-fetch.so: the host resolved by the library, its
 *	           certificate verified under ca_file, no redirects, the
 *	           fetch_timeout deadline; a 2xx status is success
 *
 *	DIR/DAY.sent keeps one line per outcome: "ok DOMAIN URI", "fail
 *	DOMAIN URI EPOCH", "drop DOMAIN URI".  A destination with an "ok"
 *	or "drop" line is not served again, so the daily timer may run as
 *	often as it likes.  After a failure the next try waits 5 minutes,
 *	doubled after each further failure (at most 4 hours); 24 hours
 *	after the first failure the destination is dropped, with a log
 *	line.  A dry run (dry_run_dir) sends nothing and changes no state.
 * DIAGNOSTICS
 *	Every step is told to fn as one line: "DOMAIN: URI: sent", "DOMAIN:
 *	no TLS-RPT record (_smtp._tls.DOMAIN): no report", "DOMAIN: URI:
 *	failed: WHY; next try after ...", "DOMAIN: URI: dropped after N
 *	failed tries"; the failures also go to the log as warnings.
 *	STSDANE_ERR_IO when the store or the state file cannot be read
 *	or written, STSDANE_ERR_INVAL for a malformed day.
 * SEE ALSO
 *	report.c, store.c, docs/tlsrpt.md, RFC 8460, RFC 8689
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "decide.h"
#include "fetch.h"
#include "rdata.h"
#include "remember.h"
#include "report.h"
#include "scheduler.h"
#include "util.h"

#define RETRY_FIRST 300		/* seconds after the first failure */
#define RETRY_MAX 14400
#define RETRY_WINDOW 86400	/* then the destination is dropped */
#define DEFAULT_SENDMAIL "/usr/sbin/sendmail -oi -t"
#define MAX_STATE 4096		/* lines of a state file read */

struct send_run {
	stsdane_ctx *ctx;
	const struct settings *set;
	stsdane_tlsrpt_note_fn *fn;
	void *arg;
	char dir[4096];
	char day[16];
	int64_t now;
	size_t nstate;
	char **state;			/* the lines of DAY.sent */
};

static void
note(struct send_run *r, int warn, const char *fmt, ...) SD_PRINTF(3, 4);

static void
note(struct send_run *r, int warn, const char *fmt, ...)
{
	char buf[SD_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	(void)sd_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r->fn != NULL)
		r->fn(r->arg, buf);
	if (warn)
		ctx_log(r->ctx, 1, "tlsrpt: %s", buf);
}

/* ---------------------------------------------------------------- DNS */

struct txt_set {
	size_t n;
	char rec[8][SD_MAX_TXT];
	size_t len[8];
	enum dns_status status;
	uint32_t ttl;
	char why[160];
};

static void
on_txt(void *arg, struct lookup *l, const struct dns_answer *a)
{
	struct txt_set *t = arg;
	size_t i;

	t->status = a->status;
	for (i = 0; a->status == DNS_OK && i < a->n && t->n < 8; i++)
		if (rdata_txt(a->rdata[i], a->rdlen[i], t->rec[t->n],
		    sizeof(t->rec[t->n]), &t->len[t->n]) == 0)
			t->n++;
}

struct addrs {
	size_t n;
	char a[8][64];
};

static void
on_addr(struct addrs *x, int type, const struct dns_answer *a)
{
	size_t i;

	for (i = 0; a->status == DNS_OK && i < a->n && x->n < 8; i++)
		if (rdata_addr(type, a->rdata[i], a->rdlen[i], x->a[x->n],
		    sizeof(x->a[x->n])) == 0)
			x->n++;
}

static void
on_a(void *arg, struct lookup *l, const struct dns_answer *a)
{
	on_addr(arg, DNS_T_A, a);
}

static void
on_aaaa(void *arg, struct lookup *l, const struct dns_answer *a)
{
	on_addr(arg, DNS_T_AAAA, a);
}

/* The lookups of name; 0, or -1 with err (no resolver). */
static int
lookup(struct send_run *r, const char *name, struct txt_set *txt,
    struct addrs *addrs, char *err, size_t errlen)
{
	struct decide_env env;
	const struct dns_ops *dns;
	struct lookup l1, l2;
	struct sched s;
	void *impl;

	ctx_decide_env(r->ctx, STSDANE_QUERY_NO_CACHE, &env);
	if (env.get_dns(env.get_arg, &dns, &impl, err, errlen) < 0)
		return -1;
	memset(&l1, 0, sizeof(l1));
	memset(&l2, 0, sizeof(l2));
	sched_init(&s, &env, dns, impl);
	if (txt != NULL) {
		txt->status = DNS_TEMPFAIL;
		sched_lookup(&s, &l1, name, DNS_T_TXT, on_txt, txt);
	} else {
		sched_lookup(&s, &l1, name, DNS_T_A, on_a, addrs);
		sched_lookup(&s, &l2, name, DNS_T_AAAA, on_aaaa, addrs);
	}
	(void)sched_run(&s, NULL, NULL);
	if (txt != NULL && l1.status != DNS_OK)
		txt->status = l1.status;
	if (txt != NULL)
		txt->ttl = l1.ttl;
	if (txt != NULL)
		(void)sd_strlcpy(txt->why, l1.why, sizeof(txt->why));
	sched_release(&s);
	return 0;
}

/*
 * The record set as remembered with the other records (remember.h,
 * "rpt/DOMAIN"): 1 with txt filled, 0 when it must be looked up.
 */
static int
remembered(struct send_run *r, const char *domain, struct txt_set *txt)
{
	struct stsdane_decision *m;
	size_t i;

	m = remember_tlsrpt_get(ctx_remember(r->ctx), domain, r->now);
	if (m == NULL)
		return 0;
	txt->n = 0;
	txt->status = m->nmx > 0 ? DNS_OK : DNS_NODATA;
	for (i = 0; i < m->nmx && txt->n < 8; i++)
		if (sd_strlcpy(txt->rec[txt->n], m->mx[i],
		    sizeof(txt->rec[txt->n])) == 0) {
			txt->len[txt->n] = strlen(m->mx[i]);
			txt->n++;
		}
	stsdane_decision_free(m);
	return 1;
}

/* Remember an answer for its TTL, bounded to 5 minutes .. a day. */
static void
remember_set(struct send_run *r, const char *domain,
    const struct txt_set *txt)
{
	const char *recs[8];
	uint32_t ttl = txt->ttl;
	size_t i;

	if (ttl < 300)
		ttl = 300;
	if (ttl > 86400)
		ttl = 86400;
	for (i = 0; i < txt->n; i++)
		recs[i] = txt->rec[i];
	remember_tlsrpt_put(ctx_remember(r->ctx), domain, recs, txt->len,
	    txt->status == DNS_OK ? txt->n : 0, r->now, r->now + ttl);
}

/* ---------------------------------------------------------------- state */

static void
state_load(struct send_run *r)
{
	char path[4200], line[2048];
	FILE *f;

	if (sd_snprintf(path, sizeof(path), "%s/%s.sent", r->dir,
	    r->day) != 0)
		return;
	f = fopen(path, "re");
	if (f == NULL)
		return;
	r->state = calloc(MAX_STATE, sizeof(*r->state));
	while (r->state != NULL && r->nstate < MAX_STATE &&
	    fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		r->state[r->nstate] = sd_strdup(line);
		if (r->state[r->nstate] != NULL)
			r->nstate++;
	}
	(void)fclose(f);
}

static void
state_release(struct send_run *r)
{
	size_t i;

	for (i = 0; i < r->nstate; i++)
		free(r->state[i]);
	free(r->state);
}

static int
state_add(struct send_run *r, const char *fmt, ...) SD_PRINTF(2, 3);

static int
state_add(struct send_run *r, const char *fmt, ...)
{
	char path[4200], line[2048];
	va_list ap;
	ssize_t n;
	int fd;

	va_start(ap, fmt);
	(void)sd_vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	(void)sd_strlcpy(line + strlen(line), "\n", 2);
	if (sd_snprintf(path, sizeof(path), "%s/%s.sent", r->dir,
	    r->day) != 0)
		return -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0)
		return -1;
	n = write(fd, line, strlen(line));
	(void)close(fd);
	return n == (ssize_t)strlen(line) ? 0 : -1;
}

/* What the state says of domain and uri: 1 done (ok or drop), 0 try
   now, -1 not yet (after *next); *fails, *first filled. */
static int
state_of(const struct send_run *r, const char *domain, const char *uri,
    unsigned *fails, int64_t *first, int64_t *next)
{
	char key[1400];
	int64_t last = 0;
	size_t i;
	unsigned k;

	*fails = 0;
	*first = 0;
	(void)sd_snprintf(key, sizeof(key), " %s %s", domain, uri);
	for (i = 0; i < r->nstate; i++) {
		const char *l = r->state[i];
		const char *sp = strchr(l, ' ');
		size_t kl = strlen(key);

		if (sp == NULL || strncmp(sp, key, kl) != 0 ||
		    (sp[kl] != '\0' && sp[kl] != ' '))
			continue;
		if (strncmp(l, "ok ", 3) == 0 || strncmp(l, "drop ", 5) == 0)
			return 1;
		if (strncmp(l, "fail ", 5) == 0 && sp[kl] == ' ') {
			int64_t t = strtoll(sp + kl + 1, NULL, 10);

			(*fails)++;
			if (*first == 0 || t < *first)
				*first = t;
			if (t > last)
				last = t;
		}
	}
	if (*fails == 0)
		return 0;
	*next = last + RETRY_FIRST;
	for (k = 1; k < *fails && *next - last < RETRY_MAX; k++)
		*next = last + (*next - last) * 2;
	if (*next - last > RETRY_MAX)
		*next = last + RETRY_MAX;
	return r->now >= *next ? 0 : -1;
}

/* ---------------------------------------------------------------- mail */

/* mailto:LOCAL@DOMAIN, percent-decoded; 0, or -1 when unsafe. */
static int
mail_address(const char *uri, char *out, size_t len)
{
	const char *p = uri + 7;
	size_t n = 0;

	for (; *p != '\0'; p++) {
		int c = (unsigned char)*p;

		if (c == '%' && p[1] && p[2]) {
			char h[3] = {p[1], p[2], 0};

			c = (int)strtol(h, NULL, 16);
			p += 2;
		}
		/* nothing that could break a header or a shell word */
		if (c <= 0x20 || c >= 0x7f || strchr("<>\"'\\,;()[]`$|&",
		    c) != NULL || n + 1 >= len)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

struct buf {
	char *p;
	size_t n, cap;
	int fail;
};

static void
put(struct buf *b, const char *fmt, ...) SD_PRINTF(2, 3);

static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		if (b->fail)
			return;
		va_start(ap, fmt);
		k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->fail = 1;
			return;
		}
		if ((size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		{
			size_t ncap = (b->cap + (size_t)k + 1) * 2;
			char *q = realloc(b->p, ncap);

			if (q == NULL) {
				b->fail = 1;
				return;
			}
			b->p = q;
			b->cap = ncap;
		}
	}
}

/* The RFC 8460 5.3 message; malloc'd into b. */
static int
mail_message(struct send_run *r, const char *domain, const char *to,
    const char *id, const unsigned char *gz, size_t gzlen, struct buf *b)
{
	const char *sub = r->set->tlsrpt_submitter != NULL ?
	    r->set->tlsrpt_submitter : "localhost";
	gnutls_datum_t in, out;
	char date[64], bnd[64];
	struct tm tm;
	time_t t = (time_t)r->now;
	size_t i;

	in.data = (unsigned char *)(uintptr_t)gz;
	in.size = (unsigned)gzlen;
	if (gnutls_base64_encode2(&in, &out) != 0)
		return -1;
	(void)gmtime_r(&t, &tm);
	(void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	(void)snprintf(bnd, sizeof(bnd), "tlsrpt-%lld-%d", (long long)r->now,
	    (int)getpid());
	b->cap = out.size + 4096;
	b->p = malloc(b->cap);
	if (b->p == NULL) {
		gnutls_free(out.data);
		return -1;
	}
	put(b, "From: TLS reporting <noreply-smtp-tls-reporting@%s>\n", sub);
	put(b, "To: <%s>\n", to);
	put(b, "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\n",
	    domain, sub, id);
	put(b, "Date: %s\n", date);
	put(b, "Message-ID: <%s>\n", id);
	put(b, "TLS-Report-Domain: %s\n", domain);
	put(b, "TLS-Report-Submitter: %s\n", sub);
	put(b, "TLS-Required: No\n");
	put(b, "MIME-Version: 1.0\n");
	put(b, "Content-Type: multipart/report; report-type=\"tlsrpt\";\n"
	    "\tboundary=\"%s\"\n\n", bnd);
	put(b, "This is a multi-part message in MIME format.\n\n");
	put(b, "--%s\nContent-Type: text/plain; charset=us-ascii\n\n"
	    "This is an aggregate TLS report (RFC 8460) from %s\n"
	    "about mail delivered to %s on %s (UTC).\n\n", bnd, sub, domain,
	    r->day);
	put(b, "--%s\nContent-Type: application/tlsrpt+gzip\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment;\n"
	    "\tfilename=\"%s!%s!%sT00:00:00Z!%sT23:59:59Z.json.gz\"\n\n",
	    bnd, sub, domain, r->day, r->day);
	for (i = 0; i < out.size; i += 76)
		put(b, "%.*s\n", (int)(out.size - i < 76 ? out.size - i : 76),
		    (const char *)out.data + i);
	put(b, "\n--%s--\n", bnd);
	gnutls_free(out.data);
	return b->fail ? -1 : 0;
}

/* Pipe msg to the sendmail command.  0, or -1 with err. */
static int
run_sendmail(struct send_run *r, const struct buf *msg, char *err,
    size_t errlen)
{
	const char *cmd = r->set->tlsrpt_sendmail != NULL ?
	    r->set->tlsrpt_sendmail : DEFAULT_SENDMAIL;
	void (*old)(int);
	int fds[2], status;
	size_t off = 0;
	pid_t pid;

	if (pipe(fds) != 0) {
		(void)sd_snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		(void)sd_snprintf(err, errlen, "fork: %s", strerror(errno));
		(void)close(fds[0]);
		(void)close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		(void)dup2(fds[0], 0);
		(void)close(fds[0]);
		(void)close(fds[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	(void)close(fds[0]);
	old = signal(SIGPIPE, SIG_IGN);
	while (off < msg->n) {
		ssize_t k = write(fds[1], msg->p + off, msg->n - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	(void)close(fds[1]);
	(void)signal(SIGPIPE, old);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (off < msg->n || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		(void)sd_snprintf(err, errlen, "'%s' failed (%s %d)", cmd,
		    WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- https */

static int
https_post(struct send_run *r, const char *uri, const unsigned char *gz,
    size_t gzlen, char *err, size_t errlen)
{
	char host[SD_MAX_NAME], entries[8][SD_MAX_NAME + 80];
	const char *res[8];
	const char *h = uri + 8, *end;
	struct fetch_post p;
	struct addrs addrs;
	fetch_post_fn *post;
	unsigned port = 443;
	size_t i, hl;
	long status;

	end = h + strcspn(h, "/?#");
	hl = (size_t)(end - h);
	if (memchr(h, ':', hl) != NULL && h[0] != '[') {
		const char *c = memchr(h, ':', hl);

		port = (unsigned)strtoul(c + 1, NULL, 10);
		hl = (size_t)(c - h);
	}
	if (hl == 0 || hl >= sizeof(host)) {
		(void)sd_snprintf(err, errlen, "no host in '%s'", uri);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&addrs, 0, sizeof(addrs));
	if (host[0] != '[' && !sd_is_ip_literal(host)) {
		if (lookup(r, host, NULL, &addrs, err, errlen) != 0)
			return -1;
		if (addrs.n == 0) {
			(void)sd_snprintf(err, errlen, "no address for '%s'",
			    host);
			return -1;
		}
	}
	for (i = 0; i < addrs.n; i++) {
		int v6 = strchr(addrs.a[i], ':') != NULL;

		(void)snprintf(entries[i], sizeof(entries[i]), "%s:%u:%s%s%s",
		    host, port, v6 ? "[" : "", addrs.a[i], v6 ? "]" : "");
		res[i] = entries[i];
	}
	*(void **)&post = fetch_sym_load(FETCH_POST_SYMBOL, err, errlen);
	if (post == NULL)
		return -1;
	memset(&p, 0, sizeof(p));
	p.url = uri;
	p.resolve = res;
	p.nresolve = addrs.n;
	p.ca_file = r->set->ca_file;
	p.content_type = "application/tlsrpt+gzip";
	p.body = gz;
	p.len = gzlen;
	p.timeout_ms = (long)r->set->fetch_timeout_ms;
	status = post(&p, err, errlen);
	if (status < 0)
		return -1;
	if (status < 200 || status > 299) {
		(void)sd_snprintf(err, errlen, "HTTP status %ld", status);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- run */

char *
report_json(const struct settings *s, const struct report_day *rd,
    const struct report_domain *dm, char *id, size_t idlen, char *err,
    size_t errlen)
{
	static const char *const ptypes[] = { "no-policy-found", "sts",
	    "tlsa" };
	const char *names[REPORT_NRESULTS];
	struct report_json_in in;
	report_json_fn *fn;
	char *out;
	unsigned i;

	*(void **)&fn = fetch_sym_load(REPORT_JSON_SYMBOL, err, errlen);
	if (fn == NULL)
		return NULL;
	for (i = 0; i < REPORT_NRESULTS; i++)
		names[i] = stsdane_tlsrpt_result_name(
		    (enum stsdane_tlsrpt_result)i);
	in.settings = s;
	in.day = rd;
	in.domain = dm;
	in.result_names = names;
	in.ptype_names = ptypes;
	out = fn(&in, id, idlen);
	if (out == NULL)
		(void)sd_snprintf(err, errlen, "out of memory");
	return out;
}

static int
write_file(const char *dir, const char *name, const char *ext,
    const void *p, size_t n, int newline)
{
	char path[4400];
	FILE *f;
	int rc;

	if (sd_snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext) != 0)
		return -1;
	f = fopen(path, "we");
	if (f == NULL)
		return -1;
	rc = fwrite(p, 1, n, f) == n ? 0 : -1;
	if (newline && putc('\n', f) == EOF)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* One destination. */
static void
serve(struct send_run *r, const char *domain, const char *uri,
    const char *id, const unsigned char *gz, size_t gzlen,
    const char *dry, size_t *nsent)
{
	char err[SD_ERRLEN], to[600];
	struct buf msg = {0};
	int64_t first, next;
	unsigned fails = 0;
	int mailto = strncasecmp(uri, "mailto:", 7) == 0, st, rc;

	err[0] = '\0';
	st = dry != NULL ? 0 : state_of(r, domain, uri, &fails, &first,
	    &next);
	if (st == 1)
		return;
	if (dry == NULL && fails > 0 && r->now - first > RETRY_WINDOW) {
		(void)state_add(r, "drop %s %s", domain, uri);
		note(r, 1, "%s: %s: dropped after %u failed tries in %lld s",
		    domain, uri, fails, (long long)(r->now - first));
		return;
	}
	if (st == -1) {
		note(r, 0, "%s: %s: %u failed tries, next in %lld s", domain,
		    uri, fails, (long long)(next - r->now));
		return;
	}
	if (mailto && mail_address(uri, to, sizeof(to)) != 0) {
		note(r, 1, "%s: %s: not a usable address: skipped", domain,
		    uri);
		return;
	}
	if (mailto)
		rc = mail_message(r, domain, to, id, gz, gzlen, &msg);
	else
		rc = 0;
	if (rc != 0) {
		note(r, 1, "%s: %s: out of memory", domain, uri);
		free(msg.p);
		return;
	}
	if (dry != NULL) {
		if (mailto)
			(void)write_file(dry, domain, ".eml", msg.p, msg.n, 0);
		note(r, 0, "%s: %s: dry run, not sent", domain, uri);
		free(msg.p);
		return;
	}
	if (mailto)
		rc = run_sendmail(r, &msg, err, sizeof(err));
	else
		rc = https_post(r, uri, gz, gzlen, err, sizeof(err));
	free(msg.p);
	if (rc == 0) {
		(void)state_add(r, "ok %s %s", domain, uri);
		(*nsent)++;
		note(r, 0, "%s: %s: sent report %s", domain, uri, id);
		return;
	}
	(void)state_add(r, "fail %s %s %lld", domain, uri, (long long)r->now);
	note(r, 1, "%s: %s: failed: %s; will try again", domain, uri, err);
}

static void
one_domain(struct send_run *r, const struct report_day *rd,
    const struct report_domain *dm, const char *dry, size_t *nsent)
{
	struct stsdane_tlsrpt *rec = NULL;
	const char *recs[8];
	char name[SD_MAX_NAME + 16], err[SD_ERRLEN], id[600];
	struct txt_set *txt;
	unsigned char *gz = NULL;
	size_t i, gzlen = 0;
	char *json = NULL;
	int rc;

	txt = calloc(1, sizeof(*txt));
	if (txt == NULL)
		return;
	(void)sd_snprintf(name, sizeof(name), "_smtp._tls.%s", dm->name);
	if (remembered(r, dm->name, txt) == 0) {
		if (lookup(r, name, txt, NULL, err, sizeof(err)) != 0) {
			note(r, 1, "%s: %s", dm->name, err);
			goto out;
		}
		if (txt->status == DNS_TEMPFAIL || txt->status == DNS_BOGUS) {
			note(r, 1, "%s: lookup of %s failed (%s): no report "
			    "now", dm->name, name, txt->why);
			goto out;
		}
		remember_set(r, dm->name, txt);
	}
	for (i = 0; i < txt->n; i++)
		recs[i] = txt->rec[i];
	rc = stsdane_tlsrpt_check(recs, txt->len, txt->n, &rec, err,
	    sizeof(err));
	if (rc == STSDANE_ERR_NOTFOUND || txt->status != DNS_OK) {
		note(r, 0, "%s: no TLS-RPT record (%s): no report", dm->name,
		    name);
		goto out;
	}
	if (rc != STSDANE_OK) {
		note(r, 1, "%s: TLS-RPT record %s not valid: %s: no report",
		    dm->name, name, err);
		goto out;
	}
	if (rec->nrua == 0) {
		note(r, 0, "%s: %s names no mailto: or https: destination: "
		    "no report", dm->name, name);
		goto out;
	}
	json = report_json(r->set, rd, dm, id, sizeof(id), err, sizeof(err));
	if (json == NULL) {
		note(r, 1, "%s: cannot make the report: %s", dm->name, err);
		goto out;
	}
	gz = report_gzip(json, strlen(json), &gzlen);
	if (gz == NULL) {
		note(r, 1, "%s: out of memory making the report", dm->name);
		goto out;
	}
	if (gzlen > REPORT_MAX_GZ) {
		note(r, 1, "%s: report of %zu bytes gzipped is over %u: not "
		    "sent", dm->name, gzlen, REPORT_MAX_GZ);
		goto out;
	}
	if (dry != NULL) {
		(void)write_file(dry, dm->name, ".json", json, strlen(json), 1);
		(void)write_file(dry, dm->name, ".json.gz", gz, gzlen, 0);
	}
	for (i = 0; i < rec->nrua; i++)
		serve(r, dm->name, rec->rua[i], id, gz, gzlen, dry, nsent);
out:
	free(json);
	free(gz);
	free(txt);
	stsdane_tlsrpt_free(rec);
}

SD_EXPORT int
stsdane_tlsrpt_send(stsdane_ctx *ctx, const char *day,
    const char *dry_run_dir, stsdane_tlsrpt_note_fn *fn, void *arg,
    size_t *nsent)
{
	struct send_run r;
	struct report_day rd;
	char err[SD_ERRLEN];
	size_t i, dummy;
	int64_t t;

	if (ctx == NULL)
		return STSDANE_ERR_INVAL;
	if (nsent == NULL)
		nsent = &dummy;
	*nsent = 0;
	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.set = ctx_settings(ctx);
	r.fn = fn;
	r.arg = arg;
	r.now = (int64_t)time(NULL);
	if (day == NULL)
		(void)store_day_name(r.now - 86400, r.day, sizeof(r.day));
	else if (sd_strlcpy(r.day, day, sizeof(r.day)) != 0 ||
	    store_day_parse(r.day, &t) != 0)
		return ctx_fail(ctx, STSDANE_ERR_INVAL, "tlsrpt: '%s' is not "
		    "a day (YYYY-MM-DD)", day);
	if (report_store_dir(r.set, r.dir, sizeof(r.dir)) != 0)
		return ctx_fail(ctx, STSDANE_ERR_IO, "tlsrpt: no store (set "
		    "tlsrpt_dir or cache_path)");
	if (report_day_load(r.set, r.day, &rd, err, sizeof(err)) != 0)
		return ctx_fail(ctx, STSDANE_ERR_IO, "tlsrpt: %s", err);
	if (rd.bad > 0)
		note(&r, 1, "%s: %zu torn or corrupt records skipped", r.day,
		    rd.bad);
	if (dry_run_dir == NULL) {
		store_expire(r.dir, r.now);
		state_load(&r);
	}
	for (i = 0; i < rd.ndomains; i++)
		one_domain(&r, &rd, &rd.domains[i], dry_run_dir, nsent);
	if (rd.ndomains == 0)
		note(&r, 0, "%s: no sessions recorded", r.day);
	state_release(&r);
	report_day_release(&rd);
	return STSDANE_OK;
}
