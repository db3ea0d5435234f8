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
 *	context, opened from the configuration file on first call.  The
 *	module keeps no decisions of its own: the library's memo makes the
 *	router, each transport option and the events of one delivery cost
 *	one decision and see the same one (a tempfail, too, is kept there
 *	for 30 seconds), and stsdane_host_check() answers every question
 *	about a host.
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
 *	against the CA file and name the MX host) or refuse (a host
 *	stsdane_host_check() does not let a connection go to: outside an
 *	MTA-STS enforce policy or a DANE domain's validated MX RRset, any
 *	host of a tempfail decision or of a null MX).
 *
 *	stsdane_exim_ca_file returns the ca_file setting, or "system".
 *
 *	stsdane_exim_event is the smtp transport's event_action
 *	(exim_events.c).
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
 *	exim_events.c, exim_fields.c, docs/exim.md, exim/exim.conf.example,
 *	exim/conf.d/, stsdane.h
 */
#define DLFUNC_IMPL

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exim_module.h"

#ifndef STSDANE_SYSCONFDIR
#define STSDANE_SYSCONFDIR "/etc"
#endif

#define DEFAULT_CONFIG STSDANE_SYSCONFDIR "/stsdane.conf"
#define CONFIG_ARG "config="
#define TLSREQ_ARG "tls_required="

/*
 * The per-process state.  A dlfunc module is loaded once per process and
 * never unloaded; a forked child (Exim runs each transport in one)
 * inherits it, the library's memo included, which is what makes one
 * decision serve routing and transport alike.
 */
struct exim_state {
	int state;			/* 0 not opened, 1 open, -1 failed */
	stsdane_ctx *ctx;
	char asked[4096];		/* config= argument, "" for default */
	char error[MSG_LEN];		/* why opening failed */
};

struct exim_state S;

stsdane_ctx *
module_context(void)
{
	return S.state == 1 ? S.ctx : NULL;
}

/* ------------------------------------------------------------ results */

uschar *
exim_str(const char *s, int tainted)
{
	return string_copy_taint((const uschar *)s,
	    tainted ? GET_TAINTED : GET_UNTAINTED);
}

int
give(uschar **yield, const char *s, int tainted)
{
	*yield = exim_str(s, tainted);
	return OK;
}

/* An expansion failure with a message; rc is FAIL or ERROR. */
int
fail(uschar **yield, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int
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

int
debugging(void)
{
	return debug_selector != 0;
}

/* Replace control characters: remote text must not break a log line. */
void
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

/* A TLS-Required header value that says "No" (RFC 8689), blanks around. */
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
 * path: none was given) and tls_required=VALUE, the message's
 * TLS-Required header as the configuration passes it (empty when the
 * administrator turned RFC 8689 off).
 */
void
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
int
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

/* ------------------------------------------------------------ decision */

/*
 * The decision for a domain.  OK with a filled (release with
 * answer_release()), or FAIL with *yield set.
 */
int
decision_for(const uschar *arg, struct answer *a, uschar **yield)
{
	struct stsdane_decision *d = NULL;
	size_t i, n;
	int rc;

	memset(a, 0, sizeof(*a));
	if (arg == NULL || arg[0] == '\0')
		return fail(yield, FAIL, "stsdane: no recipient domain (set "
		    "multi_domain = false on the smtp transport)");
	n = strlen((const char *)arg);
	if (n > 0 && arg[n - 1] == '.')
		n--;
	if (n >= sizeof(a->domain))
		return fail(yield, FAIL, "stsdane: domain name too long");
	for (i = 0; i < n; i++) {
		char c = (char)arg[i];

		a->domain[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	rc = stsdane_query(S.ctx, a->domain, 0, &d);
	if (rc == STSDANE_ERR_NAME) {
		/* Not a DNS name (a literal, UTF-8): it has no policy. */
		if (debugging())
			debug_printf("stsdane: '%s': %s: no policy\n",
			    a->domain, stsdane_error(S.ctx));
		return OK;
	}
	if (rc != STSDANE_OK)
		return fail(yield, FAIL, "stsdane: no decision for '%s': %s",
		    a->domain, stsdane_error(S.ctx));
	if (debugging())
		debug_printf("stsdane: %s: mechanism %s, mode %s, tempfail %d, "
		    "source %s: %s\n", a->domain,
		    stsdane_mechanism_name(d->mechanism),
		    stsdane_mode_name(d->mode), d->tempfail,
		    stsdane_source_name(d->source),
		    d->reason != NULL ? d->reason : "");
	a->d = d;
	return OK;
}

void
answer_release(struct answer *a)
{
	stsdane_decision_free(a->d);
	a->d = NULL;
}

/* Open the context and decide: the common start of the functions. */
int
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

/* ------------------------------------------------------------ hosts */

/*
 * 1: host gets treatment `what', 0: it does not, -1: unknown `what'.
 * tls_optional: the message says "TLS-Required: No" (RFC 8689): nothing
 * is required or refused, DANE is not tried; STARTTLS still is.
 */
static int
host_wants(const struct answer *m, const char *host, const char *what,
    int tls_optional)
{
	struct stsdane_host_rules r;

	if (strcmp(what, "require_tls") != 0 &&
	    strcmp(what, "require_dane") != 0 &&
	    strcmp(what, "try_dane") != 0 &&
	    strcmp(what, "verify") != 0 && strcmp(what, "refuse") != 0)
		return -1;
	if (strcmp(what, "try_dane") == 0)
		return !tls_optional;
	if (m->d == NULL || tls_optional)
		return 0;
	/* A tempfail refuses, requires TLS and verification: the router
	   should have deferred; this is the transport's second line. */
	(void)stsdane_host_check(m->d, host, &r);
	if (strcmp(what, "require_tls") == 0)
		return r.require_tls;
	if (strcmp(what, "require_dane") == 0)
		return r.require_dane;
	if (strcmp(what, "verify") == 0)
		return r.verify_pkix && r.enforce;
	return !r.connect;	/* refuse */
}

/* ------------------------------------------------------------ functions */

EXIM_EXPORT int
stsdane_exim_query(uschar **yield, int argc, uschar *argv[])
{
	struct line l, v;
	struct answer m;
	size_t i;
	int rc, tainted, opt;

	rc = begin(yield, &argc, &argv, 1, "stsdane_exim_query "
	    "{[config=PATH]}{DOMAIN}", &opt);
	if (rc != OK || (rc = decision_for(argv[0], &m, yield)) != OK)
		return rc;
	memset(&l, 0, sizeof(l));
	memset(&v, 0, sizeof(v));
	l.buf = malloc(LINE_CAP);
	v.buf = malloc(LINE_CAP);
	l.cap = v.cap = LINE_CAP;
	if (l.buf == NULL || v.buf == NULL) {
		rc = fail(yield, FAIL, "stsdane: out of memory");
		goto out;
	}
	l.buf[0] = '\0';
	for (i = 0; FIELDS[i] != NULL; i++) {
		v.len = 0;
		v.buf[0] = '\0';
		(void)field_value(&m, FIELDS[i], &v, &tainted);
		sanitize(v.buf);
		line_kv(&l, FIELDS[i], v.buf);
		l.over |= v.over;
	}
	if (l.over)
		rc = fail(yield, FAIL, "stsdane: decision for '%s' does not "
		    "fit in %d bytes", m.domain, LINE_CAP);
	else
		rc = give(yield, l.buf, 1);
out:
	free(l.buf);
	free(v.buf);
	answer_release(&m);
	return rc;
}

/*
 * The router's question, which must never fail: Exim skips a router whose
 * condition fails to expand, and the mail would go on to be delivered
 * without the module.  "" when delivery may go on; otherwise why it must
 * be deferred: a tempfail decision, an MTA-STS enforce policy that allows
 * none of the domain's MX hosts, a configuration that cannot be used
 * (also written once to the panic log), or a decision that cannot be made.
 * A message that says "TLS-Required: No" is never deferred for the
 * decision (RFC 8689); that is logged.
 */
EXIM_EXPORT int
stsdane_exim_defer(uschar **yield, int argc, uschar *argv[])
{
	char msg[MSG_LEN];
	const char *config;
	struct answer m;
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
	if (opt)
		log_set_aside(&m);
	if (opt || m.d == NULL ||
	    (!m.d->tempfail && !defer_no_allowed_mx(&m, msg, sizeof(msg)))) {
		answer_release(&m);
		return give(yield, "", 0);
	}
	if (m.d->tempfail)
		(void)snprintf(msg, sizeof(msg), "stsdane: %s",
		    m.d->reason != NULL ? m.d->reason : "decision is tempfail");
	sanitize(msg);
	if (m.d->tempfail) {
		tlsrpt_defer(&m);
	} else {
		size_t i;

		/* no MX host allowed: each one is a refused MX for TLS-RPT */
		for (i = 0; i < m.d->ndane; i++)
			if (m.d->dane[i].name != NULL)
				tlsrpt_route_refused(&m, m.d->dane[i].name);
	}
	answer_release(&m);
	return give(yield, msg, 1);
}

EXIM_EXPORT int
stsdane_exim_field(uschar **yield, int argc, uschar *argv[])
{
	struct line l;
	struct answer m;
	int rc, tainted, opt;

	rc = begin(yield, &argc, &argv, 2, "stsdane_exim_field "
	    "{[config=PATH]}{DOMAIN}{FIELD}", &opt);
	if (rc != OK || (rc = decision_for(argv[0], &m, yield)) != OK)
		return rc;
	memset(&l, 0, sizeof(l));
	l.buf = malloc(LINE_CAP);
	l.cap = LINE_CAP;
	if (l.buf == NULL)
		rc = fail(yield, FAIL, "stsdane: out of memory");
	else if ((l.buf[0] = '\0'), field_value(&m, (const char *)argv[1], &l,
	    &tainted) < 0)
		rc = fail(yield, FAIL, "stsdane: unknown field '%.64s'",
		    (const char *)argv[1]);
	else if (l.over)
		rc = fail(yield, FAIL, "stsdane: field '%.64s' too long",
		    (const char *)argv[1]);
	else {
		sanitize(l.buf);
		rc = give(yield, l.buf, tainted);
	}
	free(l.buf);
	answer_release(&m);
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
	const char *safe, *host;
	struct answer m;
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
	host = argv[1] != NULL ? (const char *)argv[1] : "";
	want = host_wants(&m, host, (const char *)argv[2], opt);
	if (want < 0)
		log_write(0, LOG_MAIN, "stsdane: unknown host treatment "
		    "'%.64s': host list is '*'", (const char *)argv[2]);
	else if (debugging())
		debug_printf("stsdane: %s host %s %s: %s\n", m.domain,
		    host[0] ? host : "(none)", (const char *)argv[2],
		    want ? "yes" : "no");
	answer_release(&m);
	return give(yield, want != 0 ? "*" : "", 0);
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

