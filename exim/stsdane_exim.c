/*
 * NAME
 *	stsdane_exim.c - stsdane for Exim, through ${dlfunc}
 * SUMMARY
 *	The functions an Exim configuration calls to learn, per recipient
 *	domain, whether DANE or MTA-STS applies and what the smtp transport
 *	must therefore insist on.
 * SYNOPSIS
 *	${dlfunc{MODULE}{stsdane_exim_query}{config=PATH}{DOMAIN}}
 *	${dlfunc{MODULE}{stsdane_exim_field}{config=PATH}{DOMAIN}{FIELD}}
 *	${dlfunc{MODULE}{stsdane_exim_defer}{config=PATH}{DOMAIN}}
 *	${dlfunc{MODULE}{stsdane_exim_hosts}{config=PATH}{DOMAIN}{HOST}{WHAT}}
 *	${dlfunc{MODULE}{stsdane_exim_ca_file}{config=PATH}}
 *	${dlfunc{MODULE}{stsdane_exim_event}{config=PATH}{EVENT}{DOMAIN}\
 *	    {HOST}{ADDRESS}}
 *
 *	The leading config=PATH argument is optional in every function;
 *	without it the first call of a process reads /etc/stsdane.conf.
 * DESCRIPTION
 *	Exim loads this module once per process and never unloads it, so
 *	what lives for the process lives in one static state: the library
 *	context, opened from the configuration file on first call, and a
 *	memo of the last 16 decisions keyed by the exact (lower-cased)
 *	domain, so that the router, each transport option and the events of
 *	one delivery cost one decision.  A memo entry lives 60 seconds at
 *	most, never past the decision's own expiry, 30 seconds for a
 *	tempfail; it is never consulted for another domain.
 *
 *	stsdane_exim_query returns the decision as one line of key=value
 *	pairs, readable with ${extract{KEY}{...}}:
 *	    domain mechanism mode require_tls tempfail no_mail mx
 *	    dane_secure policy_id max_age source problem reason
 *	mx and dane_secure are colon-separated lists; values that are
 *	empty or contain white space are double-quoted.
 *
 *	stsdane_exim_field returns one of those values.
 *
 *	stsdane_exim_defer is the router's condition: "" when delivery may
 *	go on, otherwise the reason to defer ("stsdane: ..."): a tempfail
 *	decision, or a module that cannot decide.  It never fails, because
 *	Exim skips a router whose condition fails to expand.
 *
 *	stsdane_exim_hosts returns a host list for the smtp transport
 *	options: "*" when the current host must get the treatment WHAT,
 *	"" when not.  WHAT is require_tls (the decision forbids clear
 *	text), require_dane (the host has usable DNSSEC-secure TLSA
 *	records), verify (MTA-STS enforce: the certificate must verify
 *	against the CA file and name the MX host) or refuse (MTA-STS
 *	enforce and the policy does not list the host; also a tempfail).
 *
 *	stsdane_exim_ca_file returns the ca_file setting, or "system".
 *
 *	stsdane_exim_event is the smtp transport's event_action.  At
 *	tcp:connect it returns a non-empty string, so that Exim does not
 *	connect, for an MX host that an MTA-STS enforce policy does not
 *	list, for a host outside the validated MX RRset of a DANE domain,
 *	and for a tempfail decision; under a testing policy it only logs.
 *	At tls:cert it refuses the certificate of a host the decision found
 *	DANE-secure when Exim itself is not doing DANE for it.  At
 *	tcp:close, under a testing policy, it logs what an enforce policy
 *	would have refused (a connection without TLS, a certificate that
 *	did not verify).  At msg:delivery it raises an alarm line should
 *	mail to a domain whose decision requires TLS ever have been
 *	delivered in clear text.  Other events return "".
 * TAINT
 *	Results that carry data from DNS or from a policy file (reason, mx,
 *	policy_id, the query line, the event refusal text) are tainted.
 *	Fixed words, host lists and the CA file name are untainted, so that
 *	Exim accepts the CA file name as a file name.
 * DIAGNOSTICS
 *	Failures fail closed.  A configuration file that cannot be used,
 *	or a decision that cannot be made (out of memory, a resolver that
 *	cannot be set up): stsdane_exim_defer returns the message (the
 *	router defers; the first failure of a process also goes to Exim's
 *	panic log), stsdane_exim_hosts returns "*" (TLS required, certificate
 *	verified; require_dane excepted), stsdane_exim_event refuses the
 *	connection and the certificate, each with a main log line;
 *	stsdane_exim_query, _field and _ca_file fail the expansion (ERROR
 *	the first time, for the panic log; FAIL after).  The default
 *	/etc/stsdane.conf may be absent (built-in defaults); an explicit
 *	config=PATH must load.  A cache that cannot be opened is logged once
 *	by the library; decisions are then made uncached.  A domain the
 *	library rejects as a DNS name has no policy.  Library log lines of
 *	level error and warning go to Exim's main log, the others to Exim's
 *	debug output.  Nothing here calls exit().
 * SEE ALSO
 *	docs/exim.md, exim/exim.conf.example, exim/conf.d/, stsdane.h
 */
#define DLFUNC_IMPL

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <local_scan.h>
#pragma GCC diagnostic pop

#include "stsdane.h"

#ifndef STSDANE_SYSCONFDIR
#define STSDANE_SYSCONFDIR "/etc"
#endif

#define EXIM_EXPORT __attribute__((visibility("default")))

#define DEFAULT_CONFIG STSDANE_SYSCONFDIR "/stsdane.conf"
#define CONFIG_ARG "config="
#define TLSREQ_ARG "tls_required="
#define MEMO_SLOTS 16
#define MEMO_TTL 60		/* seconds a decision is reused in-process */
#define MEMO_TEMPFAIL_TTL 30
#define NAME_MAX_LEN 255	/* presentation-form domain, without NUL */
#define LINE_CAP 32768		/* bound of one query line */
#define MSG_LEN 1024

/* Exported for Exim; prototypes keep -Wmissing-prototypes quiet. */
EXIM_EXPORT int stsdane_exim_query(uschar **yield, int argc, uschar *argv[]);
EXIM_EXPORT int stsdane_exim_field(uschar **yield, int argc, uschar *argv[]);
EXIM_EXPORT int stsdane_exim_defer(uschar **yield, int argc, uschar *argv[]);
EXIM_EXPORT int stsdane_exim_hosts(uschar **yield, int argc, uschar *argv[]);
EXIM_EXPORT int stsdane_exim_ca_file(uschar **yield, int argc,
    uschar *argv[]);
EXIM_EXPORT int stsdane_exim_event(uschar **yield, int argc, uschar *argv[]);
EXIM_EXPORT int stsdane_exim_route(uschar **yield, int argc, uschar *argv[]);

struct memo {
	char domain[NAME_MAX_LEN + 1];	/* "" = free slot */
	struct stsdane_decision *d;	/* NULL when invalid is set */
	int invalid;			/* not a DNS name: no policy */
	time_t until;
};

/*
 * The per-process state.  A dlfunc module is loaded once per process and
 * never unloaded; a forked child (Exim runs each transport in one)
 * inherits it, memo included, which is what makes one decision serve
 * routing and transport alike.
 */
static struct {
	int state;			/* 0 not opened, 1 open, -1 failed */
	stsdane_ctx *ctx;
	char asked[4096];		/* config= argument, "" for default */
	char error[MSG_LEN];		/* why opening failed */
	struct memo memo[MEMO_SLOTS];
	unsigned next;
} S;

/* ------------------------------------------------------------ results */

static uschar *
exim_str(const char *s, int tainted)
{
	return string_copy_taint((const uschar *)s,
	    tainted ? GET_TAINTED : GET_UNTAINTED);
}

static int
give(uschar **yield, const char *s, int tainted)
{
	*yield = exim_str(s, tainted);
	return OK;
}

/* An expansion failure with a message; rc is FAIL or ERROR. */
static int
fail(uschar **yield, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(uschar **yield, int rc, const char *fmt, ...)
{
	char msg[MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*yield = exim_str(msg, 1);
	return rc;
}

static int
debugging(void)
{
	return debug_selector != 0;
}

/* Replace control characters: remote text must not break a log line. */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* ------------------------------------------------------------ context */

static void
library_log(void *arg, int level, const char *msg)
{
	char line[MSG_LEN];

	(void)snprintf(line, sizeof(line), "%s", msg);
	sanitize(line);
	if (level <= 1)
		log_write(0, LOG_MAIN, "stsdane: %s", line);
	else if (debugging())
		debug_printf("stsdane: %s\n", line);
}

/*
 * RFC 8689: the value of the message's TLS-Required header, as the
 * configuration passes it ("tls_required=$h_TLS-Required:", empty when
 * the administrator turned the header off), and whether it says "No".
 */
static int
says_no(const char *v)
{
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	if ((v[0] != 'N' && v[0] != 'n') || (v[1] != 'O' && v[1] != 'o'))
		return 0;
	for (n = 2; v[n] == ' ' || v[n] == '\t' || v[n] == '\r' ||
	    v[n] == '\n'; n++)
		;
	return v[n] == '\0';
}

/*
 * Take the optional leading arguments, in any order: config=PATH (NULL
 * path: none was given) and tls_required=VALUE (*tls_optional: the
 * message says "TLS-Required: No").
 */
static void
take_config(int *argc, uschar ***argv, const char **path, int *tls_optional)
{
	*path = NULL;
	*tls_optional = 0;
	while (*argc > 0 && (*argv)[0] != NULL) {
		const char *a = (const char *)(*argv)[0];

		if (strncmp(a, CONFIG_ARG, sizeof(CONFIG_ARG) - 1) == 0)
			*path = a + sizeof(CONFIG_ARG) - 1;
		else if (strncmp(a, TLSREQ_ARG, sizeof(TLSREQ_ARG) - 1) == 0)
			*tls_optional = says_no(a + sizeof(TLSREQ_ARG) - 1);
		else
			break;
		(*argc)--;
		(*argv)++;
	}
}

/*
 * Open the context on first use.  OK, or FAIL/ERROR with *yield set.
 * ERROR only the first time a process fails, so that Exim's panic log
 * gets one line per process, not one per expansion.
 */
static int
module_open(const char *want, uschar **yield)
{
	const char *path = want != NULL && want[0] != '\0' ? want :
	    DEFAULT_CONFIG;
	struct stat st;
	int rc;

	if (S.state != 0) {
		if (want != NULL && strcmp(want, S.asked) != 0)
			return fail(yield, FAIL, "stsdane: configuration '%s' "
			    "requested, but this process already uses '%s'",
			    want, S.asked[0] ? S.asked : DEFAULT_CONFIG);
		if (S.state < 0)
			return fail(yield, FAIL, "%s", S.error);
		return OK;
	}
	(void)snprintf(S.asked, sizeof(S.asked), "%s",
	    want != NULL ? want : "");
	S.ctx = stsdane_new();
	if (S.ctx == NULL) {
		(void)snprintf(S.error, sizeof(S.error),
		    "stsdane: cannot create a context: out of memory");
		S.state = -1;
		return fail(yield, ERROR, "%s", S.error);
	}
	stsdane_set_log(S.ctx, library_log, NULL);
	/* Only the implicit default may be absent: built-in defaults. */
	if (want == NULL && stat(path, &st) < 0 && errno == ENOENT) {
		if (debugging())
			debug_printf("stsdane: '%s' absent, built-in "
			    "defaults\n", path);
		S.state = 1;
		return OK;
	}
	rc = stsdane_load_config(S.ctx, path);
	if (rc != STSDANE_OK) {
		(void)snprintf(S.error, sizeof(S.error),
		    "stsdane: configuration '%s' not usable: %s", path,
		    stsdane_error(S.ctx));
		sanitize(S.error);
		stsdane_free(S.ctx);
		S.ctx = NULL;
		S.state = -1;
		return fail(yield, ERROR, "%s", S.error);
	}
	if (debugging())
		debug_printf("stsdane: configuration '%s' loaded\n", path);
	S.state = 1;
	return OK;
}

/* ------------------------------------------------------------ memo */

/* Lower case, one trailing dot dropped.  0, or -1 when too long. */
static int
normalize(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in), i;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n >= outlen)
		return -1;
	for (i = 0; i < n; i++) {
		char c = in[i];

		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return 0;
}

static void
memo_release(struct memo *m)
{
	if (m->d != NULL)
		stsdane_decision_free(m->d);
	memset(m, 0, sizeof(*m));
}

static struct memo *
memo_find(const char *domain, time_t now)
{
	unsigned i;

	for (i = 0; i < MEMO_SLOTS; i++) {
		struct memo *m = &S.memo[i];

		if (m->domain[0] == '\0' || strcmp(m->domain, domain) != 0)
			continue;
		if (m->until > now)
			return m;
		memo_release(m);
		return NULL;
	}
	return NULL;
}

static struct memo *
memo_slot(void)
{
	struct memo *m = &S.memo[S.next];

	S.next = (S.next + 1) % MEMO_SLOTS;
	memo_release(m);
	return m;
}

/*
 * The decision for a domain, from the memo or the library.  OK with *out
 * set, or FAIL with *yield set.
 */
static int
decision_for(const uschar *arg, struct memo **out, uschar **yield)
{
	char domain[NAME_MAX_LEN + 1];
	struct stsdane_decision *d = NULL;
	struct memo *m;
	time_t now = time(NULL), until;
	int rc;

	*out = NULL;
	if (arg == NULL || arg[0] == '\0')
		return fail(yield, FAIL, "stsdane: no recipient domain (set "
		    "multi_domain = false on the smtp transport)");
	if (normalize((const char *)arg, domain, sizeof(domain)) < 0)
		return fail(yield, FAIL, "stsdane: domain name too long");
	m = memo_find(domain, now);
	if (m != NULL) {
		*out = m;
		return OK;
	}
	rc = stsdane_query(S.ctx, domain, 0, &d);
	if (rc == STSDANE_ERR_INVAL) {
		/* Not a DNS name (a literal, UTF-8): it has no policy. */
		if (debugging())
			debug_printf("stsdane: '%s': %s: no policy\n", domain,
			    stsdane_error(S.ctx));
		m = memo_slot();
		(void)snprintf(m->domain, sizeof(m->domain), "%s", domain);
		m->invalid = 1;
		m->until = now + MEMO_TTL;
		*out = m;
		return OK;
	}
	if (rc != STSDANE_OK)
		return fail(yield, FAIL, "stsdane: no decision for '%s': %s",
		    domain, stsdane_error(S.ctx));
	if (d->tempfail)
		until = now + MEMO_TEMPFAIL_TTL;
	else {
		until = now + MEMO_TTL;
		if (d->expires > 0 && d->expires < (int64_t)until)
			until = (time_t)d->expires;
	}
	if (debugging())
		debug_printf("stsdane: %s: mechanism %s, mode %s, tempfail %d, "
		    "source %s: %s\n", domain,
		    stsdane_mechanism_name(d->mechanism),
		    stsdane_mode_name(d->mode), d->tempfail,
		    stsdane_source_name(d->source),
		    d->reason != NULL ? d->reason : "");
	m = memo_slot();
	(void)snprintf(m->domain, sizeof(m->domain), "%s", domain);
	m->d = d;
	/* Even an already expired decision serves this one expansion. */
	m->until = until > now ? until : now + 1;
	*out = m;
	return OK;
}

/* Open the context and decide: the common start of the functions. */
static int
begin(uschar **yield, int *argc, uschar ***argv, int need,
    const char *usage, int *tls_optional)
{
	const char *config;
	int rc;

	take_config(argc, argv, &config, tls_optional);
	if (*argc != need)
		return fail(yield, FAIL, "stsdane: usage: %s", usage);
	rc = module_open(config, yield);
	return rc;
}

/* ------------------------------------------------------------ fields */

/* A bounded line buffer; over is set when something did not fit. */
struct line {
	char *buf;
	size_t len;
	size_t cap;
	int over;
};

static void
line_put(struct line *l, const char *s, size_t n)
{
	if (l->over || n >= l->cap - l->len) {
		l->over = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static void
line_puts(struct line *l, const char *s)
{
	line_put(l, s, strlen(s));
}

/* key=value, value quoted when empty or holding blanks, quotes, '\'. */
static void
line_kv(struct line *l, const char *key, const char *val)
{
	const char *p;
	int quote = val[0] == '\0' || strpbrk(val, " \t\"\\") != NULL;

	if (l->len > 0)
		line_puts(l, " ");
	line_puts(l, key);
	line_puts(l, "=");
	if (!quote) {
		line_puts(l, val);
		return;
	}
	line_puts(l, "\"");
	for (p = val; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			line_puts(l, "\\");
		line_put(l, p, 1);
	}
	line_puts(l, "\"");
}

static const char *const FIELDS[] = {
	"domain", "mechanism", "mode", "require_tls", "tempfail", "no_mail",
	"mx", "dane_secure", "policy_id", "max_age", "source", "problem",
	"reason", NULL
};

/*
 * The value of one field into l.  *tainted: the value carries remote
 * data.  0, or -1 for an unknown field.
 */
static int
field_value(const struct memo *m, const char *field, struct line *l,
    int *tainted)
{
	const struct stsdane_decision *d = m->d;
	char num[32];
	size_t i, n = 0;

	*tainted = 0;
	if (strcmp(field, "domain") == 0) {
		*tainted = 1;
		line_puts(l, m->domain);
	} else if (strcmp(field, "mechanism") == 0) {
		line_puts(l, d ? stsdane_mechanism_name(d->mechanism) :
		    "none");
	} else if (strcmp(field, "mode") == 0) {
		line_puts(l, d ? stsdane_mode_name(d->mode) : "none");
	} else if (strcmp(field, "require_tls") == 0) {
		line_puts(l, d && d->require_tls ? "yes" : "no");
	} else if (strcmp(field, "tempfail") == 0) {
		line_puts(l, d && d->tempfail ? "yes" : "no");
	} else if (strcmp(field, "no_mail") == 0) {
		line_puts(l, d && d->no_mail ? "yes" : "no");
	} else if (strcmp(field, "mx") == 0) {
		*tainted = 1;
		for (i = 0; d != NULL && i < d->nmx; i++) {
			if (i > 0)
				line_puts(l, ":");
			line_puts(l, d->mx[i]);
		}
	} else if (strcmp(field, "dane_secure") == 0) {
		*tainted = 1;
		for (i = 0; d != NULL && i < d->ndane; i++) {
			if (d->dane[i].status != STSDANE_DANE_SECURE)
				continue;
			if (n++ > 0)
				line_puts(l, ":");
			line_puts(l, d->dane[i].name);
		}
	} else if (strcmp(field, "policy_id") == 0) {
		*tainted = 1;
		if (d != NULL && d->policy_id != NULL)
			line_puts(l, d->policy_id);
	} else if (strcmp(field, "max_age") == 0) {
		(void)snprintf(num, sizeof(num), "%lu",
		    d ? (unsigned long)d->max_age : 0UL);
		line_puts(l, num);
	} else if (strcmp(field, "source") == 0) {
		line_puts(l, d ? stsdane_source_name(d->source) : "network");
	} else if (strcmp(field, "problem") == 0) {
		line_puts(l, d ? stsdane_problem_name(d->problem) : "none");
	} else if (strcmp(field, "reason") == 0) {
		*tainted = 1;
		if (d == NULL)
			line_puts(l, "not a DNS domain name: no policy");
		else if (d->reason != NULL)
			line_puts(l, d->reason);
	} else {
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ hosts */

static int
mtasts_enforce(const struct stsdane_decision *d)
{
	return d != NULL && d->mechanism == STSDANE_MECH_MTASTS &&
	    d->mode == STSDANE_MODE_ENFORCE;
}

static int
same_host(const char *a, const char *host)
{
	char x[NAME_MAX_LEN + 1];

	if (a == NULL || normalize(a, x, sizeof(x)) < 0)
		return 0;
	return strcmp(x, host) == 0;
}

/* DANE status of host under d; INSECURE when the decision lacks it. */
static enum stsdane_dane_status
dane_status(const struct stsdane_decision *d, const char *host)
{
	size_t i;

	for (i = 0; i < d->ndane; i++)
		if (same_host(d->dane[i].name, host) ||
		    same_host(d->dane[i].base_domain, host))
			return d->dane[i].status;
	return STSDANE_DANE_INSECURE;
}

/* Is host one of the decision's MX hosts (by name or TLSA base)? */
static int
dane_listed(const struct stsdane_decision *d, const char *host)
{
	size_t i;

	for (i = 0; i < d->ndane; i++)
		if (same_host(d->dane[i].name, host) ||
		    same_host(d->dane[i].base_domain, host))
			return 1;
	return 0;
}

/*
 * 1: host gets treatment `what', 0: it does not, -1: unknown `what'.
 * tls_optional: the message says "TLS-Required: No" (RFC 8689): nothing
 * is required, DANE is not tried, STARTTLS still is.
 */
static int
host_wants(const struct memo *m, const char *host, const char *what,
    int tls_optional)
{
	const struct stsdane_decision *d = m->d;
	int known = strcmp(what, "require_tls") == 0 ||
	    strcmp(what, "require_dane") == 0 ||
	    strcmp(what, "try_dane") == 0 ||
	    strcmp(what, "verify") == 0 || strcmp(what, "refuse") == 0;

	if (!known)
		return -1;
	if (strcmp(what, "try_dane") == 0)
		return !tls_optional;
	if (d == NULL || tls_optional)
		return 0;
	if (d->tempfail)
		/* Never in clear, never at all: the router should have
		   deferred; this is the transport's second line. */
		return strcmp(what, "require_dane") != 0;
	if (strcmp(what, "require_tls") == 0)
		return d->require_tls != 0;
	if (strcmp(what, "require_dane") == 0)
		return d->mechanism == STSDANE_MECH_DANE && host[0] != '\0' &&
		    dane_status(d, host) == STSDANE_DANE_SECURE;
	if (strcmp(what, "verify") == 0)
		return mtasts_enforce(d);
	/* refuse */
	if (d->no_mail)
		return 1;
	return mtasts_enforce(d) && host[0] != '\0' &&
	    !stsdane_host_allowed(d, host);
}

/* ------------------------------------------------------------ functions */

EXIM_EXPORT int
stsdane_exim_query(uschar **yield, int argc, uschar *argv[])
{
	struct line l, v;
	struct memo *m;
	size_t i;
	int rc, tainted, opt;

	rc = begin(yield, &argc, &argv, 1, "stsdane_exim_query "
	    "{[config=PATH]}{DOMAIN}", &opt);
	if (rc != OK)
		return rc;
	if ((rc = decision_for(argv[0], &m, yield)) != OK)
		return rc;
	memset(&l, 0, sizeof(l));
	memset(&v, 0, sizeof(v));
	l.buf = malloc(LINE_CAP);
	v.buf = malloc(LINE_CAP);
	l.cap = v.cap = LINE_CAP;
	if (l.buf == NULL || v.buf == NULL) {
		free(l.buf);
		free(v.buf);
		return fail(yield, FAIL, "stsdane: out of memory");
	}
	l.buf[0] = '\0';
	for (i = 0; FIELDS[i] != NULL; i++) {
		v.len = 0;
		v.buf[0] = '\0';
		(void)field_value(m, FIELDS[i], &v, &tainted);
		sanitize(v.buf);
		line_kv(&l, FIELDS[i], v.buf);
		l.over |= v.over;
	}
	if (l.over)
		rc = fail(yield, FAIL, "stsdane: decision for '%s' does not "
		    "fit in %d bytes", m->domain, LINE_CAP);
	else
		rc = give(yield, l.buf, 1);
	free(l.buf);
	free(v.buf);
	return rc;
}

/*
 * RFC 8689: the message asks that the recipient's policy be set aside.
 * Say so in the main log (Exim puts the message id first) whenever a
 * policy is actually set aside; the decision itself, and what is cached,
 * stay as they are.
 */
static void
log_set_aside(const struct memo *m)
{
	const struct stsdane_decision *d = m->d;
	char id[128];

	if (d == NULL || (d->mechanism == STSDANE_MECH_NONE && !d->tempfail))
		return;
	(void)snprintf(id, sizeof(id), "%s", d->policy_id != NULL ?
	    d->policy_id : "");
	sanitize(id);
	if (d->mechanism == STSDANE_MECH_MTASTS)
		log_write(0, LOG_MAIN, "stsdane: %s: TLS-Required: No: MTA-STS "
		    "policy id %s (mode %s) set aside for this message; "
		    "STARTTLS is still tried", m->domain, id,
		    stsdane_mode_name(d->mode));
	else
		log_write(0, LOG_MAIN, "stsdane: %s: TLS-Required: No: %s "
		    "decision%s set aside for this message; STARTTLS is still "
		    "tried", m->domain, stsdane_mechanism_name(d->mechanism),
		    d->tempfail ? " (tempfail)" : "");
}

/* How many of the decision's MX hosts the policy allows. */
static size_t
allowed_count(const struct stsdane_decision *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->ndane; i++)
		if (d->dane[i].name != NULL &&
		    stsdane_host_allowed(d, d->dane[i].name))
			n++;
	return n;
}

/* The decision's MX hosts ("10 a, 20 b"), those allowed or not. */
static void
mx_list(const struct stsdane_decision *d, int allowed, struct line *l)
{
	char num[16];
	size_t i;

	for (i = 0; i < d->ndane; i++) {
		const char *h = d->dane[i].name;

		if (h == NULL || !stsdane_host_allowed(d, h) != !allowed)
			continue;
		if (l->len > 0)
			line_puts(l, ", ");
		(void)snprintf(num, sizeof(num), "%u ", d->dane[i].preference);
		line_puts(l, num);
		line_puts(l, h);
	}
}

/* "id X, mode M, mx: P1 P2, source S": what a log line says of a policy. */
static void
policy_words(const struct stsdane_decision *d, char *out, size_t outlen)
{
	char mx[512];
	struct line l = { mx, 0, sizeof(mx), 0 };
	size_t i;

	mx[0] = '\0';
	for (i = 0; i < d->nmx; i++) {
		if (i > 0)
			line_puts(&l, " ");
		line_puts(&l, d->mx[i]);
	}
	(void)snprintf(out, outlen, "id %s, mode %s, mx: %s, decision from "
	    "%s", d->policy_id != NULL ? d->policy_id : "",
	    stsdane_mode_name(d->mode), mx, stsdane_source_name(d->source));
	sanitize(out);
}

/*
 * The router's question, which must never fail: Exim skips a router whose
 * condition fails to expand, and the mail would go on to be delivered
 * without the module.  "" when delivery may go on; otherwise why it must
 * be deferred: a tempfail decision, an MTA-STS enforce policy that allows
 * none of the domain's MX hosts, a configuration that cannot be used
 * (also written once to the panic log), or a decision that cannot be made.
 * A message that says "TLS-Required: No" is never deferred for the
 * decision (RFC 8689): that is logged.
 */
EXIM_EXPORT int
stsdane_exim_defer(uschar **yield, int argc, uschar *argv[])
{
	char msg[MSG_LEN], words[MSG_LEN / 2], hosts[MSG_LEN / 2];
	struct line l = { hosts, 0, sizeof(hosts), 0 };
	const char *config;
	const struct stsdane_decision *d;
	struct memo *m;
	int rc, opt;

	take_config(&argc, &argv, &config, &opt);
	if (argc != 1)
		return give(yield, "stsdane: usage: stsdane_exim_defer "
		    "{[config=PATH]}{[tls_required=VALUE]}{DOMAIN}", 0);
	rc = module_open(config, yield);
	if (rc == ERROR)
		log_write(0, LOG_MAIN | LOG_PANIC, "%s", (const char *)*yield);
	if (rc == OK)
		rc = decision_for(argv[0], &m, yield);
	if (rc != OK)
		return OK;
	d = m->d;
	if (opt) {
		log_set_aside(m);
		return give(yield, "", 0);
	}
	if (d == NULL)
		return give(yield, "", 0);
	if (d->tempfail) {
		(void)snprintf(msg, sizeof(msg), "stsdane: %s",
		    d->reason != NULL ? d->reason : "decision is tempfail");
		sanitize(msg);
		return give(yield, msg, 1);
	}
	if (!mtasts_enforce(d) || d->no_mail || d->ndane == 0 ||
	    allowed_count(d) > 0)
		return give(yield, "", 0);
	hosts[0] = '\0';
	mx_list(d, 0, &l);
	policy_words(d, words, sizeof(words));
	(void)snprintf(msg, sizeof(msg), "stsdane: %s: no MX host is allowed "
	    "by the MTA-STS policy (%s); MX hosts: %s", m->domain, words,
	    hosts);
	sanitize(msg);
	return give(yield, msg, 1);
}

/* A small generator for shuffling; quality is not the point. */
static unsigned
next_random(void)
{
	static unsigned x;

	if (x == 0)
		x = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^ 1u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/*
 * The manualroute router's route_data for an MTA-STS enforce domain: the
 * MX hosts the policy allows, best preference first, hosts of equal
 * preference in random order (RFC 5321 5.1), then " bydns".  Exim's
 * dnslookup router keeps one host per address, the first; when that one
 * is an MX host the policy forbids, the allowed hosts behind it at the
 * same address would never be tried.  Routing to the allowed hosts alone
 * avoids that.  The hosts left out are logged.  "" (the router declines,
 * the dnslookup router routes as usual) for every other decision, and
 * for a message that says "TLS-Required: No".  Errors answer "" too: the
 * defer router before this one has deferred such a domain already, and
 * the transport refuses every host without a decision.
 */
EXIM_EXPORT int
stsdane_exim_route(uschar **yield, int argc, uschar *argv[])
{
	char words[MSG_LEN / 2], left[MSG_LEN / 2];
	struct line out, lo = { left, 0, sizeof(left), 0 };
	const struct stsdane_decision *d;
	size_t i, j, *order;
	struct memo *m;
	int rc, opt;

	rc = begin(yield, &argc, &argv, 1, "stsdane_exim_route "
	    "{[config=PATH]}{[tls_required=VALUE]}{DOMAIN}", &opt);
	if (rc == OK)
		rc = decision_for(argv[0], &m, yield);
	if (rc != OK || opt)
		return give(yield, "", 0);
	d = m->d;
	if (d == NULL || d->tempfail || d->no_mail || !mtasts_enforce(d) ||
	    d->ndane == 0)
		return give(yield, "", 0);
	order = calloc(d->ndane, sizeof(*order));
	memset(&out, 0, sizeof(out));
	out.buf = malloc(LINE_CAP);
	out.cap = LINE_CAP;
	if (order == NULL || out.buf == NULL) {
		free(order);
		free(out.buf);
		return give(yield, "", 0);
	}
	out.buf[0] = '\0';
	/* Shuffle each run of equal preference (the list is sorted). */
	for (i = 0; i < d->ndane; i++) {
		order[i] = i;
		for (j = i; j > 0 && d->dane[order[j - 1]].preference ==
		    d->dane[i].preference; j--)
			;
		j += next_random() % (i - j + 1);
		order[i] = order[j];
		order[j] = i;
	}
	for (i = 0; i < d->ndane; i++) {
		const char *h = d->dane[order[i]].name;

		if (h == NULL || !stsdane_host_allowed(d, h))
			continue;
		if (out.len > 0)
			line_puts(&out, ":");
		line_puts(&out, h);
	}
	free(order);
	if (out.over || out.len == 0) {
		free(out.buf);
		return give(yield, "", 0);
	}
	line_puts(&out, " bydns");
	left[0] = '\0';
	mx_list(d, 0, &lo);
	if (lo.len > 0) {
		policy_words(d, words, sizeof(words));
		log_write(0, LOG_MAIN, "stsdane: %s: MX %s not allowed by the "
		    "MTA-STS policy (%s): routing to the allowed MX hosts "
		    "only", m->domain, left, words);
	}
	sanitize(out.buf);
	rc = give(yield, out.buf, 1);
	free(out.buf);
	return rc;
}

EXIM_EXPORT int
stsdane_exim_field(uschar **yield, int argc, uschar *argv[])
{
	struct line l;
	struct memo *m;
	char *buf;
	int rc, tainted, opt;

	rc = begin(yield, &argc, &argv, 2, "stsdane_exim_field "
	    "{[config=PATH]}{DOMAIN}{FIELD}", &opt);
	if (rc != OK)
		return rc;
	if ((rc = decision_for(argv[0], &m, yield)) != OK)
		return rc;
	buf = malloc(LINE_CAP);
	if (buf == NULL)
		return fail(yield, FAIL, "stsdane: out of memory");
	memset(&l, 0, sizeof(l));
	l.buf = buf;
	l.cap = LINE_CAP;
	buf[0] = '\0';
	if (field_value(m, (const char *)argv[1], &l, &tainted) < 0) {
		free(buf);
		return fail(yield, FAIL, "stsdane: unknown field '%.64s'",
		    (const char *)argv[1]);
	}
	if (l.over) {
		free(buf);
		return fail(yield, FAIL, "stsdane: field '%.64s' too long",
		    (const char *)argv[1]);
	}
	sanitize(buf);
	rc = give(yield, buf, tainted);
	free(buf);
	return rc;
}

/*
 * Host lists fail closed: Exim treats a host list whose expansion fails as
 * not matching, which for hosts_require_tls would mean "clear text is
 * fine".  So an error answers "*" (require TLS, verify, refuse), logged;
 * only require_dane answers "", see below.
 */
EXIM_EXPORT int
stsdane_exim_hosts(uschar **yield, int argc, uschar *argv[])
{
	char host[NAME_MAX_LEN + 1];
	const char *safe;
	struct memo *m;
	int rc, want, opt;

	rc = begin(yield, &argc, &argv, 3, "stsdane_exim_hosts "
	    "{[config=PATH]}{[tls_required=VALUE]}{DOMAIN}{HOST}"
	    "{require_tls|require_dane|try_dane|verify|refuse}", &opt);
	if (rc == OK)
		rc = decision_for(argv[0], &m, yield);
	if (rc != OK) {
		/* Not for require_dane: Exim fails a message permanently
		   when DANE is required of a host without TLSA records. */
		safe = argc == 3 && argv[2] != NULL &&
		    strcmp((const char *)argv[2], "require_dane") == 0 ? "" :
		    "*";
		log_write(0, LOG_MAIN, "%s: host list is '%s'",
		    (const char *)*yield, safe);
		return give(yield, safe, 0);
	}
	if (normalize(argv[1] != NULL ? (const char *)argv[1] : "", host,
	    sizeof(host)) < 0)
		host[0] = '\0';
	want = host_wants(m, host, (const char *)argv[2], opt);
	if (want < 0) {
		log_write(0, LOG_MAIN, "stsdane: unknown host treatment "
		    "'%.64s': host list is '*'", (const char *)argv[2]);
		return give(yield, "*", 0);
	}
	if (debugging())
		debug_printf("stsdane: %s host %s %s: %s\n", m->domain,
		    host[0] ? host : "(none)", (const char *)argv[2],
		    want ? "yes" : "no");
	return give(yield, want ? "*" : "", 0);
}

EXIM_EXPORT int
stsdane_exim_ca_file(uschar **yield, int argc, uschar *argv[])
{
	const char *ca;
	int rc, opt;

	rc = begin(yield, &argc, &argv, 0, "stsdane_exim_ca_file "
	    "{[config=PATH]}", &opt);
	if (rc != OK)
		return rc;
	ca = stsdane_get(S.ctx, "ca_file");
	return give(yield, ca != NULL && ca[0] != '\0' ? ca : "system", 0);
}

/* The value of an Exim variable, or "" when it cannot be expanded. */
static const char *
exim_var(const char *name)
{
	uschar *v = expand_string((uschar *)name);

	return v != NULL ? (const char *)v : "";
}

/*
 * Exim names a host reached through a CNAME by the end of the chain ($host
 * is the canonical name), while the MTA-STS policy, the manualroute
 * router and the certificate check (Exim verifies the name at the head of
 * the chain) all use the MX host name.  So a host that is not itself one
 * of the decision's MX hosts is let through when Exim's DNS shows it as
 * the CNAME target, at most 4 links down, of an MX host the policy
 * allows.  Only then: an MX host the policy forbids stays forbidden.
 */
static int
cname_of_allowed(const struct memo *m, const char *host)
{
	const struct stsdane_decision *d = m->d;
	char q[NAME_MAX_LEN + 64], cur[NAME_MAX_LEN + 1];
	size_t i;
	int hop;

	if (host[0] == '\0')
		return 0;
	for (i = 0; i < d->ndane; i++)
		if (same_host(d->dane[i].name, host))
			return 0;	/* an MX host in its own right */
	for (i = 0; i < d->ndane; i++) {
		if (d->dane[i].name == NULL ||
		    !stsdane_host_allowed(d, d->dane[i].name))
			continue;
		(void)snprintf(cur, sizeof(cur), "%s", d->dane[i].name);
		for (hop = 0; hop < 4; hop++) {
			const char *t;

			if (strpbrk(cur, "{}$\\") != NULL)
				break;
			(void)snprintf(q, sizeof(q),
			    "${lookup dnsdb{defer_never,cname=%s}}", cur);
			t = exim_var(q);
			if (t[0] == '\0' || normalize(t, cur, sizeof(cur)) < 0)
				break;
			if (strcmp(cur, host) == 0) {
				if (debugging())
					debug_printf("stsdane: %s: %s is the "
					    "CNAME target of MX host %s\n",
					    m->domain, host, d->dane[i].name);
				return 1;
			}
		}
	}
	return 0;
}

static int
event_tcp_connect(uschar **yield, const struct memo *m, const char *host,
    const char *addr)
{
	const struct stsdane_decision *d = m->d;
	char why[MSG_LEN];

	if (d == NULL)
		return give(yield, "", 0);
	if (d->tempfail) {
		(void)snprintf(why, sizeof(why), "%s", d->reason != NULL ?
		    d->reason : "");
		sanitize(why);
		log_write(0, LOG_MAIN, "stsdane: %s: not connecting to %s "
		    "[%s]: decision is tempfail: %s", m->domain, host, addr,
		    why);
		return give(yield, "stsdane: tempfail", 0);
	}
	if (d->mechanism == STSDANE_MECH_DANE) {
		if (host[0] != '\0' && dane_listed(d, host))
			return give(yield, "", 0);
		/* Exim's DNS and the validated MX RRset disagree. */
		log_write(0, LOG_MAIN, "stsdane: %s: not connecting to %s "
		    "[%s]: not in the DNSSEC-validated MX RRset of a DANE "
		    "domain", m->domain, host[0] ? host : "(no name)", addr);
		return give(yield, "stsdane: MX host not in the validated "
		    "MX RRset", 0);
	}
	if (d->mechanism != STSDANE_MECH_MTASTS ||
	    d->mode == STSDANE_MODE_NONE ||
	    (host[0] != '\0' && stsdane_host_allowed(d, host)) ||
	    cname_of_allowed(m, host))
		return give(yield, "", 0);
	(void)snprintf(why, sizeof(why), "%s", d->policy_id != NULL ?
	    d->policy_id : "");
	sanitize(why);
	if (d->mode == STSDANE_MODE_ENFORCE) {
		log_write(0, LOG_MAIN, "stsdane: %s: not connecting to %s "
		    "[%s]: MX host not allowed by the MTA-STS policy (id %s, "
		    "mode enforce)", m->domain, host[0] ? host : "(no name)",
		    addr, why);
		return give(yield, "stsdane: MX host not allowed by the "
		    "MTA-STS policy", 0);
	}
	log_write(0, LOG_MAIN, "stsdane: %s: MTA-STS testing: MX host %s [%s] "
	    "not allowed by the policy (id %s); enforce would not connect",
	    m->domain, host[0] ? host : "(no name)", addr, why);
	return give(yield, "", 0);
}

/*
 * tls:cert, before Exim verifies the server's chain: a host the decision
 * found DANE-secure must be verified by Exim's DANE.  $tls_out_tlsa_usage
 * is 0 when Exim found no usable TLSA records itself (its resolver does
 * not validate, or the records changed since the decision): refusing the
 * certificate then fails the TLS session, and with hosts_require_tls the
 * host is deferred, never delivered to unauthenticated.  (Exim's own
 * hosts_require_dane would instead fail the message permanently when the
 * TLSA records are gone.)
 */
static int
event_tls_cert(uschar **yield, const struct memo *m, const char *host,
    const char *addr)
{
	const struct stsdane_decision *d = m->d;
	const char *usage;

	if (d == NULL || d->tempfail || d->mechanism != STSDANE_MECH_DANE ||
	    host[0] == '\0' || dane_status(d, host) != STSDANE_DANE_SECURE)
		return give(yield, "", 0);
	usage = exim_var("$tls_out_tlsa_usage");
	if (debugging())
		debug_printf("stsdane: %s: certificate of %s [%s], "
		    "tlsa_usage '%s'\n", m->domain, host, addr, usage);
	if (usage[0] != '\0' && strcmp(usage, "0") != 0)
		return give(yield, "", 0);
	log_write(0, LOG_MAIN, "stsdane: %s: %s [%s] has DNSSEC-secure TLSA "
	    "records, but Exim is not verifying it with DANE (is its "
	    "resolver validating, with \"options trust-ad\"?): refusing "
	    "the certificate", m->domain, host, addr);
	return give(yield, "stsdane: DANE verification required", 0);
}

/*
 * tcp:close, in the transport process, where Exim still has the state of
 * the connection: under a testing policy, say what enforce would have
 * refused.  (At msg:delivery, raised in the parent process, Exim has put
 * back the cipher but not $tls_out_certificate_verified.)
 */
static int
event_close(uschar **yield, const struct memo *m, const char *host,
    const char *addr)
{
	const struct stsdane_decision *d = m->d;
	const char *cipher, *verified;

	if (d == NULL || d->tempfail || d->mechanism != STSDANE_MECH_MTASTS ||
	    d->mode != STSDANE_MODE_TESTING)
		return give(yield, "", 0);
	cipher = exim_var("$tls_out_cipher");
	verified = exim_var("$tls_out_certificate_verified");
	if (debugging())
		debug_printf("stsdane: %s: closing %s [%s]: cipher '%s' "
		    "verified '%s'\n", m->domain, host, addr, cipher,
		    verified);
	if (cipher[0] == '\0')
		log_write(0, LOG_MAIN, "stsdane: %s: MTA-STS testing: "
		    "connection to %s [%s] without TLS; enforce would not "
		    "have sent mail on it", m->domain, host, addr);
	else if (strcmp(verified, "1") != 0)
		log_write(0, LOG_MAIN, "stsdane: %s: MTA-STS testing: "
		    "certificate of %s [%s] not verified; enforce would not "
		    "have sent mail on it", m->domain, host, addr);
	return give(yield, "", 0);
}

/*
 * msg:delivery: enforcement is Exim's (the transport options); this only
 * watches that it happened, and raises an alarm if mail to a domain that
 * requires TLS ever went out in clear text.
 */
static int
event_delivery(uschar **yield, const struct memo *m, const char *host,
    const char *addr)
{
	const struct stsdane_decision *d = m->d;
	const char *cipher;

	if (d == NULL || d->tempfail || !d->require_tls)
		return give(yield, "", 0);
	cipher = exim_var("$tls_out_cipher");
	if (cipher[0] == '\0')
		log_write(0, LOG_MAIN, "stsdane: ALARM: %s: delivered to %s "
		    "[%s] without TLS under %s %s (check the transport "
		    "options)", m->domain, host, addr,
		    stsdane_mechanism_name(d->mechanism),
		    stsdane_mode_name(d->mode));
	return give(yield, "", 0);
}

/*
 * Exim connects anyway when event_action fails to expand, so at
 * tcp:connect and tls:cert every error refuses (fail closed); at other
 * events errors are ignored.
 */
EXIM_EXPORT int
stsdane_exim_event(uschar **yield, int argc, uschar *argv[])
{
	char host[NAME_MAX_LEN + 1];
	const char *config, *event, *addr;
	struct memo *m;
	int rc, connect, cert, opt;

	take_config(&argc, &argv, &config, &opt);
	event = argc > 0 && argv[0] != NULL ? (const char *)argv[0] : "";
	connect = strcmp(event, "tcp:connect") == 0;
	cert = strcmp(event, "tls:cert") == 0;
	if (!connect && !cert && strcmp(event, "tcp:close") != 0 &&
	    strcmp(event, "msg:delivery") != 0)
		return give(yield, "", 0);
	if (argc != 4)
		rc = fail(yield, FAIL, "stsdane: usage: stsdane_exim_event "
		    "{[config=PATH]}{[tls_required=VALUE]}{EVENT}{DOMAIN}"
		    "{HOST}{ADDRESS}");
	else
		rc = module_open(config, yield);
	if (rc == OK && normalize(argv[2] != NULL ? (const char *)argv[2] :
	    "", host, sizeof(host)) < 0)
		host[0] = '\0';
	addr = argc == 4 && argv[3] != NULL ? (const char *)argv[3] : "";
	if (rc == OK)
		rc = decision_for(argv[1], &m, yield);
	if (rc != OK) {
		if (!connect && !cert)
			return give(yield, "", 0);
		/* No decision: no connection, no certificate accepted. */
		log_write(0, LOG_MAIN, "%s: refusing %s [%s]",
		    (const char *)*yield, connect ? "to connect to" :
		    "the certificate of", addr);
		return OK;
	}
	/* RFC 8689: the router logged that the policy is set aside. */
	if (opt && (connect || cert || strcmp(event, "msg:delivery") == 0))
		return give(yield, "", 0);
	if (connect)
		return event_tcp_connect(yield, m, host, addr);
	if (cert)
		return event_tls_cert(yield, m, host, addr);
	if (strcmp(event, "tcp:close") == 0)
		return event_close(yield, m, host, addr);
	return event_delivery(yield, m, host, addr);
}
