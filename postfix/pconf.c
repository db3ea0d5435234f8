/*
 * NAME
 *	pconf.c - the settings of stsdane-policyd itself
 * SUMMARY
 *	the keys the library does not know, in a file of their own
 * SYNOPSIS
 *	#include "pconf.h"
 *
 *	void pconf_init(struct pconf *c)
 *	int pconf_set(struct pconf *c, const char *key, const char *value,
 *	    char *err, size_t errlen)
 *	int pconf_load(struct pconf *c, const char *path, char *err,
 *	    size_t errlen)
 * DESCRIPTION
 *	The library's configuration file (stsdane.conf, -c) refuses keys it
 *	does not know, and it should: a typo there must not go unnoticed.
 *	So the daemon's keys live in a file of their own
 *	(stsdane-policyd.conf, -p), in the same "key = value" format:
 *	blank lines and lines starting with '#' are skipped, white space
 *	around key and value is dropped, lines are at most 4096 bytes.
 *
 *	    map_name          socketmap name accepted (default "postfix")
 *	    tlsrpt_attributes yes|no (no): Postfix 3.10 TLSRPT attributes
 *	    log_requests      yes|no (no): one line per answer
 *	    workers           1..1024 (32): lookups that run at once
 *	    max_lookups       1..1000000 (4096): distinct domains waiting
 *	                      or being looked up; beyond, TEMP
 *	    max_connections   1..1000000 (16384)
 *	    request_max       64..65536 (1024): bytes of one request
 *	    request_timeout   seconds, 1..3600 (10): to finish sending a
 *	                      request, or to read an answer
 *	    idle_timeout      seconds, 1..86400 (3600): between requests
 *
 *	Numbers are parsed by hand, as in the library's config.c.
 * DIAGNOSTICS
 *	-1 with err: "FILE:LINE: unknown key 'wokers'", "workers '0' is not
 *	a number from 1 to 1024".  A file is applied whole or not at all.
 * SEE ALSO
 *	postfix/stsdane-policyd.conf.example, stsdane-policyd(8)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pconf.h"

#define LINE_MAX_BYTES 4096

void
pconf_init(struct pconf *c)
{
	memset(c, 0, sizeof(*c));
	(void)snprintf(c->map_name, sizeof(c->map_name), "postfix");
	c->workers = 32;
	c->max_lookups = 4096;
	c->max_connections = 16384;
	c->request_max = 1024;
	c->request_timeout_ms = 10000;
	c->idle_timeout_ms = 3600000;
}

/* Decimal, digits only, within [lo, hi]; 0 or -1. */
static int
number(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > hi)
			return -1;
	}
	if (v < lo)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
boolean(const char *s, int *out)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

struct numkey {
	const char *name;
	size_t off;
	unsigned lo, hi, scale;
};

static const struct numkey numkeys[] = {
	{ "workers", offsetof(struct pconf, workers), 1, 1024, 1 },
	{ "max_lookups", offsetof(struct pconf, max_lookups), 1, 1000000, 1 },
	{ "max_connections", offsetof(struct pconf, max_connections), 1,
	    1000000, 1 },
	{ "request_max", offsetof(struct pconf, request_max), 64, 65536, 1 },
	{ "request_timeout", offsetof(struct pconf, request_timeout_ms), 1,
	    3600, 1000 },
	{ "idle_timeout", offsetof(struct pconf, idle_timeout_ms), 1, 86400,
	    1000 },
};

int
pconf_set(struct pconf *c, const char *key, const char *value, char *err,
    size_t errlen)
{
	size_t i;
	unsigned v;

	if (strcmp(key, "map_name") == 0) {
		size_t n = strlen(value);

		if (n == 0 || n >= sizeof(c->map_name) ||
		    strpbrk(value, " \t") != NULL) {
			(void)snprintf(err, errlen, "map_name '%s' is not a "
			    "name of 1 to %zu characters without spaces",
			    value, sizeof(c->map_name) - 1);
			return -1;
		}
		memcpy(c->map_name, value, n + 1);
		return 0;
	}
	if (strcmp(key, "tlsrpt_attributes") == 0 ||
	    strcmp(key, "log_requests") == 0) {
		int *p = key[0] == 't' ? &c->tlsrpt_attributes :
		    &c->log_requests;

		if (boolean(value, p) < 0) {
			(void)snprintf(err, errlen, "%s '%s' is not yes or no",
			    key, value);
			return -1;
		}
		return 0;
	}
	for (i = 0; i < sizeof(numkeys) / sizeof(numkeys[0]); i++) {
		const struct numkey *k = &numkeys[i];

		if (strcmp(key, k->name) != 0)
			continue;
		if (number(value, k->lo, k->hi, &v) < 0) {
			(void)snprintf(err, errlen, "%s '%s' is not a number "
			    "from %u to %u", key, value, k->lo, k->hi);
			return -1;
		}
		*(unsigned *)(void *)((char *)c + k->off) = v * k->scale;
		return 0;
	}
	(void)snprintf(err, errlen, "unknown key '%s'", key);
	return -1;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
pconf_load(struct pconf *c, const char *path, char *err, size_t errlen)
{
	char line[LINE_MAX_BYTES + 2], why[256];
	struct pconf tmp = *c;
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	int rc = -1;

	if (f == NULL) {
		(void)snprintf(err, errlen, "cannot open '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *k, *v, *eq;

		lineno++;
		if (strlen(line) > LINE_MAX_BYTES) {
			(void)snprintf(err, errlen, "%s:%u: line longer than "
			    "%d bytes", path, lineno, LINE_MAX_BYTES);
			goto out;
		}
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (eq == NULL) {
			(void)snprintf(err, errlen, "%s:%u: expected 'key = "
			    "value'", path, lineno);
			goto out;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		if (pconf_set(&tmp, k, v, why, sizeof(why)) < 0) {
			(void)snprintf(err, errlen, "%s:%u: %s", path, lineno,
			    why);
			goto out;
		}
	}
	if (ferror(f)) {
		(void)snprintf(err, errlen, "cannot read '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	*c = tmp;
	rc = 0;
out:
	fclose(f);
	return rc;
}
