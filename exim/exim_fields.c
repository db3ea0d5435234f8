/*
 * NAME
 *	exim_fields.c - a decision as the key=value fields Exim reads
 * SYNOPSIS
 *	#include "exim_module.h"
 * DESCRIPTION
 *	The fields of stsdane_exim_query and stsdane_exim_field, in a
 *	bounded line: domain mechanism mode require_tls tempfail no_mail
 *	mx dane_secure policy_id max_age source problem reason.  mx and
 *	dane_secure are colon-separated lists; values that are empty or
 *	contain white space are double-quoted.  A domain that is not a DNS
 *	name has no policy, and says so.
 * DIAGNOSTICS
 *	A value that does not fit sets the line's over flag; the caller
 *	fails the expansion.
 */
#include <stdio.h>
#include <string.h>

#include "exim_module.h"

/* ------------------------------------------------------------ fields */

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

void
line_puts(struct line *l, const char *s)
{
	line_put(l, s, strlen(s));
}

void
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

const char *const FIELDS[] = {
	"domain", "mechanism", "mode", "require_tls", "tempfail", "no_mail",
	"mx", "dane_secure", "policy_id", "max_age", "source", "problem",
	"reason", NULL
};

int
field_value(const struct answer *m, const char *field, struct line *l,
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
