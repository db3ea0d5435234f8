/*
 * answer.h - what stsdane-policyd tells Postfix for one decision
 */
#ifndef POLICYD_ANSWER_H
#define POLICYD_ANSWER_H

#include <stddef.h>

#include "stsdane.h"

/* The kinds of answer, for metrics and logs. */
enum answer_kind {
	ANSWER_DANE = 0,	/* OK dane-only */
	ANSWER_SECURE,		/* OK secure match=... */
	ANSWER_NOTFOUND,	/* NOTFOUND: Postfix's own TLS settings */
	ANSWER_TEMP,		/* TEMP: defer */
	ANSWER_PERM,		/* PERM: a broken request */
	ANSWER_NKINDS
};

const char *answer_kind_name(enum answer_kind k);

/* Longest answer payload. */
#define ANSWER_MAX 8192

struct answer_opts {
	int tlsrpt;		/* add Postfix 3.10 TLSRPT attributes */
};

/*
 * Is key a domain stsdane can decide for?  0 for what Postfix may also
 * look up in smtp_tls_policy_maps but is not one: "[host]:port",
 * "host:port", ".parent.domain", an empty key.
 */
int answer_key_is_domain(const char *key, size_t len);

/*
 * The answer for a decision: rc and d as stsdane_query() returned them
 * (d may be NULL when rc is not STSDANE_OK), why the library's message
 * for rc.  Writes the payload, NUL-terminated, into out (ANSWER_MAX + 1
 * bytes or more) and returns its kind.
 */
enum answer_kind answer_make(int rc, const struct stsdane_decision *d,
    const char *why, const struct answer_opts *o, char *out,
    size_t outlen);

#endif
