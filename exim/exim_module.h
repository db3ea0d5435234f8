/*
 * exim_module.h - what the files of the Exim module share
 *
 * stsdane_exim.c: the per-process state, the context and the decision of
 * one call, and the query, field, defer, hosts and ca_file functions;
 * exim_fields.c: a decision as key=value fields; exim_events.c: the
 * smtp transport's event_action; exim_route.c: the allowed MX hosts of
 * an MTA-STS enforce domain for the manualroute router, and RFC 8689.
 * Everything about a host is asked of stsdane_host_check().
 */
#ifndef STSDANE_EXIM_MODULE_H
#define STSDANE_EXIM_MODULE_H

#include <stddef.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <local_scan.h>
#pragma GCC diagnostic pop

#include "stsdane.h"

#define EXIM_EXPORT __attribute__((visibility("default")))

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

/* The decision for one call; d NULL: not a DNS name, no policy. */
struct answer {
	char domain[NAME_MAX_LEN + 1];
	struct stsdane_decision *d;
};

/* stsdane_exim.c */
uschar *exim_str(const char *s, int tainted);
/* OK with *yield a copy of s, tainted or not. */
int give(uschar **yield, const char *s, int tainted);
/* An expansion failure with a message; rc is FAIL or ERROR. */
int fail(uschar **yield, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int debugging(void);
/* Replace control characters: remote text must not break a log line. */
void sanitize(char *s);
/*
 * The optional leading arguments, in any order: config=PATH (*path NULL
 * without one) and tls_required=VALUE (*tls_optional: the message says
 * "TLS-Required: No", RFC 8689).
 */
void take_config(int *argc, uschar ***argv, const char **path,
    int *tls_optional);
/* Open the context, check the count of the remaining arguments. */
int begin(uschar **yield, int *argc, uschar ***argv, int need,
    const char *usage, int *tls_optional);
/* Open the context on first use: OK, or FAIL/ERROR with *yield set. */
int module_open(const char *want, uschar **yield);
/* The decision for a domain: OK (release a), or FAIL with *yield set. */
int decision_for(const uschar *arg, struct answer *a, uschar **yield);
void answer_release(struct answer *a);
/* The open context, or NULL. */
stsdane_ctx *module_context(void);

/* exim_tlsrpt.c: the events as TLS-RPT sessions (docs/tlsrpt.md) */
int tlsrpt_event_wanted(const char *event);
/* refused: what tcp:connect answered ("" when it let Exim connect) */
void tlsrpt_event(const char *event, const struct answer *m,
    const char *host, const char *addr, const char *refused);
/* the router deferred for a tempfail decision */
void tlsrpt_defer(const struct answer *m);
/* An MX host the router left out under MTA-STS enforce. */
void tlsrpt_route_refused(const struct answer *m, const char *host);

/* exim_fields.c: a bounded line; over is set when something did not fit */
struct line {
	char *buf;
	size_t len;
	size_t cap;
	int over;
};

extern const char *const FIELDS[];
/* Append s to l (over set when it does not fit). */
void line_puts(struct line *l, const char *s);
/* key=value, value quoted when empty or holding blanks, quotes, '\\'. */
void line_kv(struct line *l, const char *key, const char *val);
/*
 * The value of one field into l.  *tainted: the value carries remote
 * data.  0, or -1 for an unknown field.
 */
int field_value(const struct answer *m, const char *field, struct line *l,
    int *tainted);

/* exim_route.c: MTA-STS enforce routing, and RFC 8689 */
/* Log that a TLS-Required: No message sets the domain's policy aside. */
void log_set_aside(const struct answer *m);
/*
 * Why an MTA-STS enforce domain must be deferred because its policy
 * allows none of its MX hosts, into msg; 0 when that is not the case.
 */
int defer_no_allowed_mx(const struct answer *m, char *msg, size_t len);

/* exim_events.c */
/* The value of an Exim variable (or expansion), "" when it fails. */
const char *exim_var(const char *name);

#endif /* STSDANE_EXIM_MODULE_H */
