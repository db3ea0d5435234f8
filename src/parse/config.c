/*
 * NAME
 *	config.c - settings: defaults, validation, configuration file
 * SUMMARY
 *	the one place that knows every configuration key
 * SYNOPSIS
 *	#include "util.h"
 *
 *	void settings_init(struct settings *s)
 *	void settings_release(struct settings *s)
 *	int settings_set(struct settings *s, const char *key,
 *	    const char *value, char *err, size_t errlen)
 *	const char *settings_get(const struct settings *s, const char *key,
 *	    char *buf, size_t len)
 *	int settings_load_file(struct settings *s, const char *path,
 *	    char *err, size_t errlen, int *ioerr)
 *	int settings_load_buf(struct settings *s, const char *name,
 *	    const char *buf, size_t len, char *err, size_t errlen)
 * DESCRIPTION
 *	settings_init() fills in the defaults; settings_release() frees the
 *	strings the struct owns (the struct itself belongs to the caller).
 *
 *	Keys and values:
 *	    resolver            IP addresses, each optionally "@port",
 *	                        separated by spaces or commas; stored as
 *	                        one space-separated list.  Empty: full
 *	                        recursion from the root (the default).
 *	    resolv_conf, trust_anchor_file, unbound_config, ca_file
 *	                        file paths; empty means not set
 *	    cache_path          directory; empty means no cache
 *	    dns_timeout, fetch_timeout
 *	                        seconds, "5" or "2.5", 0.1 to 300; kept in
 *	                        milliseconds.  Default 5 each: a delivery
 *	                        process should not wait longer than that.
 *	    negative_ttl        whole seconds, 0 to 86400, default 3600
 *	    smtp_port           1 to 65535, default 25
 *	    cache_max_entries   1 to 100000000, default 100000
 *	    refresh_concurrency domains refreshed at once by --refresh,
 *	                        1 to 1024, default 64
 *	    refresh_host_concurrency
 *	                        policy fetches --refresh has in flight to
 *	                        one address, 0 to 1024, default 16
 *	    refresh_host_rate   policy fetches --refresh starts per second
 *	                        to one address, evenly spaced, 0 to 10000,
 *	                        default 50.  0 turns either limit off.
 *	    tlsrpt              0 or 1, default 0: TLS reporting (RFC 8460)
 *	    tlsrpt_org, tlsrpt_contact, tlsrpt_submitter, tlsrpt_sendmail,
 *	    tlsrpt_dir          text without control characters; empty
 *	                        means not set (docs/tlsrpt.md)
 *	    shared_cache        the fleet's Redis: "redis://[USER:PASSWORD@]
 *	                        HOST[:PORT][/DB]" or "unix:/PATH[?db=N]";
 *	                        empty means none (the default)
 *	    shared_cache_timeout
 *	                        milliseconds, 1 to 10000, default 50: the
 *	                        bound of every round trip to it
 *	    shared_cache_prefix key prefix, 1 to 64 of [A-Za-z0-9:._-],
 *	                        default "stsdane:"
 *	    shared_cache_key    a secret: every record carries an
 *	                        HMAC-SHA256 under it; empty means none
 *
 *	Numbers are parsed by hand, digit by digit: strtol() and strtod()
 *	would accept signs, white space, hexadecimal and trailing junk,
 *	and strtod() depends on the locale.
 *
 *	settings_get() returns the value as settings_set() would accept
 *	it ("" for an unset path), or NULL for an unknown key.
 *
 *	settings_load_file() reads "key = value" lines; blank lines and
 *	lines whose first non-blank character is '#' are skipped.  White
 *	space around key and value is dropped; a value may be empty.  The
 *	file is applied all or nothing: on any error s is left unchanged.
 *	Only a regular file of at most 1 MiB is read, whole, before any of
 *	it is parsed: a FIFO, a device such as /dev/zero, or an endless file
 *	is refused instead of blocking or spinning.  settings_load_buf()
 *	parses bytes already in memory (name is the FILE in messages); it is
 *	what settings_load_file() calls, and what the fuzz target feeds.
 * DIAGNOSTICS
 *	settings_set() and settings_load_file() return 0, or -1 with err set
 *	("FILE:LINE: unknown key 'dns_timeot'" from a file).  A file that
 *	cannot be opened or read sets *ioerr to 1.
 * SEE ALSO
 *	docs/stsdane.conf.example
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "config.h"

#define CONFIG_LINE_MAX 4096
#define CONFIG_FILE_MAX (1024 * 1024)	/* bytes; far beyond any real file */

#define DEFAULT_DNS_TIMEOUT_MS 5000u
#define DEFAULT_FETCH_TIMEOUT_MS 5000u
#define DEFAULT_NEGATIVE_TTL 3600u
#define DEFAULT_SMTP_PORT 25u
#define DEFAULT_CACHE_MAX_ENTRIES 100000u
#define DEFAULT_REFRESH_CONCURRENCY 64u
#define MAX_REFRESH_CONCURRENCY 1024u
#define DEFAULT_REFRESH_HOST_CONCURRENCY 16u
#define MAX_REFRESH_HOST_CONCURRENCY 1024u
#define DEFAULT_REFRESH_HOST_RATE 50u
#define MAX_REFRESH_HOST_RATE 10000u
#define DEFAULT_SHARED_TIMEOUT_MS 50u
#define MAX_SHARED_TIMEOUT_MS 10000u
#define MAX_SHARED_PREFIX 64u

#define MIN_TIMEOUT_MS 100u
#define MAX_TIMEOUT_MS 300000u
#define MAX_NEGATIVE_TTL 86400u
#define MAX_CACHE_ENTRIES 100000000u

enum key_kind {
	KIND_RESOLVER,
	KIND_PATH,
	KIND_TIMEOUT,
	KIND_UINT,
	KIND_SHARED_URL,	/* a string, checked by shared_url_parse() */
	KIND_PREFIX,
	KIND_SECRET		/* a string, never printed back */
};

struct key_def {
	const char *name;
	enum key_kind kind;
	size_t off;		/* offset of the field in struct settings */
	unsigned min;		/* KIND_UINT */
	unsigned max;
};

#define OFF(f) offsetof(struct settings, f)

static const struct key_def keys[] = {
	{"resolver", KIND_RESOLVER, OFF(resolver), 0, 0},
	{"resolv_conf", KIND_PATH, OFF(resolv_conf), 0, 0},
	{"trust_anchor_file", KIND_PATH, OFF(trust_anchor_file), 0, 0},
	{"unbound_config", KIND_PATH, OFF(unbound_config), 0, 0},
	{"ca_file", KIND_PATH, OFF(ca_file), 0, 0},
	{"cache_path", KIND_PATH, OFF(cache_path), 0, 0},
	{"dns_timeout", KIND_TIMEOUT, OFF(dns_timeout_ms), 0, 0},
	{"fetch_timeout", KIND_TIMEOUT, OFF(fetch_timeout_ms), 0, 0},
	{"negative_ttl", KIND_UINT, OFF(negative_ttl), 0, MAX_NEGATIVE_TTL},
	{"smtp_port", KIND_UINT, OFF(smtp_port), 1, 65535},
	{"cache_max_entries", KIND_UINT, OFF(cache_max_entries), 1,
	    MAX_CACHE_ENTRIES},
	{"refresh_concurrency", KIND_UINT, OFF(refresh_concurrency), 1,
	    MAX_REFRESH_CONCURRENCY},
	{"refresh_host_concurrency", KIND_UINT, OFF(refresh_host_concurrency),
	    0, MAX_REFRESH_HOST_CONCURRENCY},
	{"refresh_host_rate", KIND_UINT, OFF(refresh_host_rate), 0,
	    MAX_REFRESH_HOST_RATE},
	{"tlsrpt", KIND_UINT, OFF(tlsrpt), 0, 1},
	{"tlsrpt_org", KIND_PATH, OFF(tlsrpt_org), 0, 0},
	{"tlsrpt_contact", KIND_PATH, OFF(tlsrpt_contact), 0, 0},
	{"tlsrpt_submitter", KIND_PATH, OFF(tlsrpt_submitter), 0, 0},
	{"tlsrpt_sendmail", KIND_PATH, OFF(tlsrpt_sendmail), 0, 0},
	{"tlsrpt_dir", KIND_PATH, OFF(tlsrpt_dir), 0, 0},
	{"shared_cache", KIND_SHARED_URL, OFF(shared_cache), 0, 0},
	{"shared_cache_timeout", KIND_UINT, OFF(shared_cache_timeout_ms), 1,
	    MAX_SHARED_TIMEOUT_MS},
	{"shared_cache_prefix", KIND_PREFIX, OFF(shared_cache_prefix), 0, 0},
	{"shared_cache_key", KIND_SECRET, OFF(shared_cache_key), 0, 0},
};

/* The kinds whose field is a string the struct owns. */
static int
is_string(enum key_kind kind)
{
	return kind != KIND_TIMEOUT && kind != KIND_UINT;
}

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key_def *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

static char **
str_field(struct settings *s, const struct key_def *k)
{
	return (char **)(void *)((char *)s + k->off);
}

static const char *const *
str_field_c(const struct settings *s, const struct key_def *k)
{
	return (const char *const *)(const void *)((const char *)s + k->off);
}

static unsigned *
uint_field(struct settings *s, const struct key_def *k)
{
	return (unsigned *)(void *)((char *)s + k->off);
}

static const unsigned *
uint_field_c(const struct settings *s, const struct key_def *k)
{
	return (const unsigned *)(const void *)((const char *)s + k->off);
}

void
settings_init(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->dns_timeout_ms = DEFAULT_DNS_TIMEOUT_MS;
	s->fetch_timeout_ms = DEFAULT_FETCH_TIMEOUT_MS;
	s->negative_ttl = DEFAULT_NEGATIVE_TTL;
	s->smtp_port = DEFAULT_SMTP_PORT;
	s->cache_max_entries = DEFAULT_CACHE_MAX_ENTRIES;
	s->refresh_concurrency = DEFAULT_REFRESH_CONCURRENCY;
	s->refresh_host_concurrency = DEFAULT_REFRESH_HOST_CONCURRENCY;
	s->refresh_host_rate = DEFAULT_REFRESH_HOST_RATE;
	s->shared_cache_timeout_ms = DEFAULT_SHARED_TIMEOUT_MS;
}

void
settings_release(struct settings *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		if (is_string(keys[i].kind)) {
			char **f = str_field(s, &keys[i]);

			free(*f);
			*f = NULL;
		}
	}
}

/* Deep copy, for the all-or-nothing file load and for contexts made
   from another.  0 or -1 (ENOMEM). */
int
settings_copy(struct settings *dst, const struct settings *src)
{
	size_t i;

	*dst = *src;
	for (i = 0; i < NKEYS; i++) {
		if (is_string(keys[i].kind))
			*str_field(dst, &keys[i]) = NULL;
	}
	for (i = 0; i < NKEYS; i++) {
		const char *v;

		if (!is_string(keys[i].kind))
			continue;
		v = *str_field_c(src, &keys[i]);
		if (v == NULL)
			continue;
		*str_field(dst, &keys[i]) = sd_strdup(v);
		if (*str_field(dst, &keys[i]) == NULL) {
			settings_release(dst);
			return -1;
		}
	}
	return 0;
}

/* Whole number min..max, digits only.  0 or -1. */
static int
parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long n = 0;
	size_t i;

	if (v[0] == '\0')
		return -1;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (unsigned)(v[i] - '0');
		if (n > max)
			return -1;
	}
	if (n < min)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/*
 * Seconds with up to three decimals ("5", "2.5", "0.125") into
 * milliseconds.  0, or -1 when it is not such a number; the range is
 * checked by the caller.
 */
static int
parse_seconds(const char *v, unsigned *ms)
{
	unsigned long long whole = 0, frac = 0;
	size_t i = 0, nwhole = 0, nfrac = 0;

	while (v[i] >= '0' && v[i] <= '9') {
		/* saturate: a huge number is out of range, not junk */
		whole = whole * 10 + (unsigned)(v[i] - '0');
		if (whole > 1000000)
			whole = 1000001;
		i++;
		nwhole++;
	}
	if (v[i] == '.') {
		i++;
		while (v[i] >= '0' && v[i] <= '9') {
			if (nfrac == 3) {
				/* finer than a millisecond: only zeros */
				if (v[i] != '0')
					return -1;
			} else {
				frac = frac * 10 + (unsigned)(v[i] - '0');
				nfrac++;
			}
			i++;
		}
		if (nfrac == 0)
			return -1;
	}
	if (v[i] != '\0' || nwhole == 0)
		return -1;
	while (nfrac < 3) {
		frac *= 10;
		nfrac++;
	}
	*ms = (unsigned)(whole * 1000 + frac);
	return 0;
}

/*
 * resolver: validate each address[@port] and build a space-separated
 * list.  Returns a new string ("" for an empty list), or NULL with err.
 */
static char *
parse_resolver(const char *v, char *err, size_t errlen)
{
	size_t vlen = strlen(v), i = 0, o = 0;
	char *out;

	out = malloc(vlen + 1);
	if (out == NULL) {
		sd_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while (v[i] != '\0') {
		char tok[INET6_ADDRSTRLEN + 8];
		char q[SD_QUOTE_LEN];
		unsigned char addr[16];
		size_t start, tlen;
		char *at;

		while (v[i] == ' ' || v[i] == '\t' || v[i] == ',')
			i++;
		if (v[i] == '\0')
			break;
		start = i;
		while (v[i] != '\0' && v[i] != ' ' && v[i] != '\t' &&
		    v[i] != ',')
			i++;
		tlen = i - start;
		if (tlen >= sizeof(tok)) {
			sd_snprintf(tok, sizeof(tok), "%.*s", (int)tlen,
			    v + start);
			sd_quote(q, sizeof(q), tok, strlen(tok));
			sd_snprintf(err, errlen,
			    "resolver: '%s' is not an IP address", q);
			goto fail;
		}
		memcpy(tok, v + start, tlen);
		tok[tlen] = '\0';
		sd_quote(q, sizeof(q), tok, strlen(tok));
		at = strchr(tok, '@');
		if (at != NULL) {
			unsigned port;

			*at = '\0';
			if (parse_uint(at + 1, 1, 65535, &port) < 0) {
				sd_snprintf(err, errlen,
				    "resolver: '%s' has a bad port", q);
				goto fail;
			}
		}
		if (inet_pton(AF_INET, tok, addr) != 1 &&
		    inet_pton(AF_INET6, tok, addr) != 1) {
			sd_snprintf(err, errlen,
			    "resolver: '%s' is not an IP address", q);
			goto fail;
		}
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, v + start, tlen);
		o += tlen;
	}
	out[o] = '\0';
	return out;

fail:
	free(out);
	return NULL;
}

#define MAX_SHARED_DB 1000u
#define URL_FORMS "redis://[USER:PASSWORD@]HOST[:PORT][/DB] or " \
	"unix:/PATH[?db=N]"

/* Characters of a host name or an IPv4 address. */
static int
is_host_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

/* [USER:PASSWORD@]HOST[:PORT][/DB], after "redis://". */
static int
parse_redis_url(const char *v, struct shared_url *u, char *err,
    size_t errlen)
{
	const char *slash = strchr(v, '/');
	const char *end = slash != NULL ? slash : v + strlen(v);
	const char *at = memrchr(v, '@', (size_t)(end - v));
	const char *h = v, *hend, *colon;
	char num[16];
	size_t n;

	if (at != NULL) {
		colon = memchr(v, ':', (size_t)(at - v));
		if (colon == NULL) {
			sd_snprintf(err, errlen, "shared_cache: the part "
			    "before '@' is not USER:PASSWORD");
			return -1;
		}
		n = (size_t)(colon - v);
		if (n >= sizeof(u->user) ||
		    (size_t)(at - colon - 1) >= sizeof(u->password) ||
		    at == colon + 1) {
			sd_snprintf(err, errlen, "shared_cache: the user or "
			    "password is empty or too long");
			return -1;
		}
		memcpy(u->user, v, n);
		u->user[n] = '\0';
		memcpy(u->password, colon + 1, (size_t)(at - colon - 1));
		u->password[at - colon - 1] = '\0';
		h = at + 1;
	}
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));
		unsigned char a6[16];

		if (close == NULL || (size_t)(close - h - 1) >= sizeof(u->host))
			goto bad_host;
		memcpy(u->host, h + 1, (size_t)(close - h - 1));
		u->host[close - h - 1] = '\0';
		if (inet_pton(AF_INET6, u->host, a6) != 1)
			goto bad_host;
		hend = close + 1;
	} else {
		hend = h;
		while (hend < end && is_host_char((unsigned char)*hend))
			hend++;
		n = (size_t)(hend - h);
		if (n == 0 || n >= sizeof(u->host))
			goto bad_host;
		memcpy(u->host, h, n);
		u->host[n] = '\0';
	}
	if (hend < end && *hend == ':') {
		n = (size_t)(end - hend - 1);
		if (n == 0 || n >= sizeof(num))
			goto bad_port;
		memcpy(num, hend + 1, n);
		num[n] = '\0';
		if (parse_uint(num, 1, 65535, &u->port) < 0)
			goto bad_port;
	} else if (hend != end) {
		goto bad_host;
	}
	if (slash != NULL && parse_uint(slash + 1, 0, MAX_SHARED_DB,
	    &u->db) < 0) {
		sd_snprintf(err, errlen, "shared_cache: the database after "
		    "'/' is not a number from 0 to %u", MAX_SHARED_DB);
		return -1;
	}
	return 0;

bad_host:
	sd_snprintf(err, errlen, "shared_cache: no valid HOST in "
	    URL_FORMS);
	return -1;
bad_port:
	sd_snprintf(err, errlen, "shared_cache: the port is not a number "
	    "from 1 to 65535");
	return -1;
}

int
shared_url_parse(const char *v, struct shared_url *u, char *err,
    size_t errlen)
{
	char q[SD_QUOTE_LEN];
	const char *qm;
	size_t n;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (strncmp(v, "redis://", 8) == 0)
		return parse_redis_url(v + 8, u, err, errlen);
	if (strncmp(v, "unix:/", 6) != 0) {
		/* no '@': nothing secret to quote */
		if (strchr(v, '@') == NULL)
			sd_quote(q, sizeof(q), v, strlen(v));
		else
			(void)sd_strlcpy(q, "...", sizeof(q));
		sd_snprintf(err, errlen, "shared_cache: '%s' is neither "
		    URL_FORMS, q);
		return -1;
	}
	u->is_unix = 1;
	v += 5;
	qm = strchr(v, '?');
	n = qm != NULL ? (size_t)(qm - v) : strlen(v);
	if (n >= sizeof(u->path)) {
		sd_snprintf(err, errlen, "shared_cache: the socket path is "
		    "longer than %zu bytes", sizeof(u->path) - 1);
		return -1;
	}
	memcpy(u->path, v, n);
	u->path[n] = '\0';
	if (qm != NULL && (strncmp(qm, "?db=", 4) != 0 ||
	    parse_uint(qm + 4, 0, MAX_SHARED_DB, &u->db) < 0)) {
		sd_snprintf(err, errlen, "shared_cache: after the socket path "
		    "only '?db=N', N from 0 to %u", MAX_SHARED_DB);
		return -1;
	}
	return 0;
}

/* A string value for one of the string kinds: checked, then copied. */
static int
check_string(const struct key_def *k, const char *value, const char *q,
    char *err, size_t errlen)
{
	struct shared_url u;
	size_t i, n = strlen(value);

	for (i = 0; i < n; i++) {
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f) {
			if (k->kind == KIND_SECRET)
				sd_snprintf(err, errlen, "%s: contains a "
				    "control character", k->name);
			else
				sd_snprintf(err, errlen, "%s: '%s' contains "
				    "a control character", k->name, q);
			return -1;
		}
	}
	if (n == 0)
		return 0;
	if (k->kind == KIND_SHARED_URL)
		return shared_url_parse(value, &u, err, errlen);
	if (k->kind == KIND_PREFIX) {
		for (i = 0; i < n; i++)
			if (!is_host_char((unsigned char)value[i]) &&
			    value[i] != ':')
				break;
		if (i < n || n > MAX_SHARED_PREFIX) {
			sd_snprintf(err, errlen, "%s: '%s' is not 1 to %u of "
			    "A-Z a-z 0-9 : . _ -", k->name, q,
			    MAX_SHARED_PREFIX);
			return -1;
		}
	}
	return 0;
}

int
settings_set(struct settings *s, const char *key, const char *value,
    char *err, size_t errlen)
{
	const struct key_def *k;
	char q[SD_QUOTE_LEN];
	unsigned u;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || key == NULL) {
		sd_snprintf(err, errlen, "no key given");
		return -1;
	}
	k = find_key(key);
	if (k == NULL) {
		sd_quote(q, sizeof(q), key, strlen(key));
		sd_snprintf(err, errlen, "unknown key '%s'", q);
		return -1;
	}
	if (value == NULL)
		value = "";
	sd_quote(q, sizeof(q), value, strlen(value));

	switch (k->kind) {
	case KIND_RESOLVER: {
		char *list = parse_resolver(value, err, errlen);

		if (list == NULL)
			return -1;
		free(*str_field(s, k));
		if (list[0] == '\0') {
			free(list);
			list = NULL;
		}
		*str_field(s, k) = list;
		return 0;
	}
	case KIND_PATH:
	case KIND_SHARED_URL:
	case KIND_PREFIX:
	case KIND_SECRET: {
		char *copy = NULL;

		if (check_string(k, value, q, err, errlen) < 0)
			return -1;
		if (value[0] != '\0') {
			copy = sd_strdup(value);
			if (copy == NULL) {
				sd_snprintf(err, errlen, "out of memory");
				return -1;
			}
		}
		free(*str_field(s, k));
		*str_field(s, k) = copy;
		return 0;
	}
	case KIND_TIMEOUT:
		if (parse_seconds(value, &u) < 0) {
			sd_snprintf(err, errlen,
			    "%s: '%s' is not a number of seconds", k->name, q);
			return -1;
		}
		if (u < MIN_TIMEOUT_MS || u > MAX_TIMEOUT_MS) {
			sd_snprintf(err, errlen,
			    "%s: '%s' is out of range (0.1 to 300 seconds)",
			    k->name, q);
			return -1;
		}
		*uint_field(s, k) = u;
		return 0;
	case KIND_UINT:
		if (parse_uint(value, k->min, k->max, &u) < 0) {
			sd_snprintf(err, errlen,
			    "%s: '%s' is not a whole number from %u to %u",
			    k->name, q, k->min, k->max);
			return -1;
		}
		*uint_field(s, k) = u;
		return 0;
	}
	return -1;
}

const char *
settings_get(const struct settings *s, const char *key, char *buf,
    size_t len)
{
	const struct key_def *k;

	if (s == NULL || key == NULL || buf == NULL || len == 0)
		return NULL;
	k = find_key(key);
	if (k == NULL)
		return NULL;
	switch (k->kind) {
	case KIND_SECRET:
		/* never printed back: "" or that it is set */
		return sd_strlcpy(buf, *str_field_c(s, k) == NULL ? "" :
		    "(set)", len) < 0 ? NULL : buf;
	case KIND_RESOLVER:
	case KIND_PATH:
	case KIND_SHARED_URL:
	case KIND_PREFIX: {
		const char *v = *str_field_c(s, k);

		if (sd_strlcpy(buf, v == NULL ? "" : v, len) < 0)
			return NULL;
		return buf;
	}
	case KIND_TIMEOUT: {
		unsigned ms = *uint_field_c(s, k);
		int r;

		/* "5", "2.5", "0.125": the shortest form that reads back */
		if (ms % 1000 == 0)
			r = sd_snprintf(buf, len, "%u", ms / 1000);
		else if (ms % 100 == 0)
			r = sd_snprintf(buf, len, "%u.%u", ms / 1000,
			    (ms % 1000) / 100);
		else if (ms % 10 == 0)
			r = sd_snprintf(buf, len, "%u.%02u", ms / 1000,
			    (ms % 1000) / 10);
		else
			r = sd_snprintf(buf, len, "%u.%03u", ms / 1000,
			    ms % 1000);
		return r < 0 ? NULL : buf;
	}
	case KIND_UINT:
		if (sd_snprintf(buf, len, "%u", *uint_field_c(s, k)) < 0)
			return NULL;
		return buf;
	}
	return NULL;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * One line, NUL-terminated, without its LF.  0 or -1 with err set to
 * the message without the FILE:LINE prefix.
 */
static int
load_line(struct settings *s, char *line, char *err, size_t errlen)
{
	char *key, *eq, *value, *end;
	char q[SD_QUOTE_LEN];

	key = line;
	while (is_space((unsigned char)*key))
		key++;
	if (*key == '\0' || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (eq == NULL) {
		sd_quote(q, sizeof(q), key, strlen(key));
		sd_snprintf(err, errlen, "expected 'key = value', found '%s'",
		    q);
		return -1;
	}
	end = eq;
	while (end > key && is_space((unsigned char)end[-1]))
		end--;
	*end = '\0';
	if (*key == '\0') {
		sd_snprintf(err, errlen, "no key before '='");
		return -1;
	}
	value = eq + 1;
	while (is_space((unsigned char)*value))
		value++;
	end = value + strlen(value);
	while (end > value && is_space((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return settings_set(s, key, value, err, errlen);
}

/*
 * The whole file in memory, so that its size is known before a byte is
 * parsed.  Only a regular file: a FIFO or a device (/dev/zero, a
 * terminal) would block or never end.  O_NONBLOCK makes open() of a
 * FIFO return at once, so that fstat() can refuse it.  Returns the
 * bytes (malloc'd, *len set), or NULL with err set.
 */
static char *
read_config(const char *path, size_t *len, char *err, size_t errlen,
    int *ioerr)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd;

	*ioerr = 1;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		sd_snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		sd_snprintf(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		sd_snprintf(err, errlen, "%s: cannot read: not a regular file",
		    path);
		goto fail;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (buf == NULL) {
		sd_snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* one byte more than allowed, to tell "too long" from "just fits" */
	while (n < CONFIG_FILE_MAX + 1) {
		ssize_t r = read(fd, buf + n, CONFIG_FILE_MAX + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sd_snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > CONFIG_FILE_MAX) {
		*ioerr = 0;
		sd_snprintf(err, errlen, "%s: more than %d bytes", path,
		    CONFIG_FILE_MAX);
		goto fail;
	}
	close(fd);
	*ioerr = 0;
	*len = n;
	return buf;

fail:
	free(buf);
	close(fd);
	return NULL;
}

int
settings_load_buf(struct settings *s, const char *name, const char *buf,
    size_t len, char *err, size_t errlen)
{
	struct settings tmp;
	char line[CONFIG_LINE_MAX + 1];
	char msg[SD_ERRLEN];
	unsigned lineno = 0;
	size_t off = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || name == NULL || (buf == NULL && len > 0)) {
		sd_snprintf(err, errlen, "no configuration given");
		return -1;
	}
	if (settings_copy(&tmp, s) < 0) {
		sd_snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - (buf + off)) : len - off;

		lineno++;
		if (n > CONFIG_LINE_MAX) {
			sd_snprintf(err, errlen, "%s:%u: line longer than %d "
			    "bytes", name, lineno, CONFIG_LINE_MAX);
			goto fail;
		}
		/* a NUL byte must not hide the rest of the line */
		if (memchr(buf + off, '\0', n) != NULL) {
			sd_snprintf(err, errlen, "%s:%u: NUL byte", name,
			    lineno);
			goto fail;
		}
		memcpy(line, buf + off, n);
		line[n] = '\0';
		if (load_line(&tmp, line, msg, sizeof(msg)) < 0) {
			sd_snprintf(err, errlen, "%s:%u: %s", name, lineno,
			    msg);
			goto fail;
		}
		off += n + (nl != NULL ? 1 : 0);
	}
	settings_release(s);
	*s = tmp;
	return 0;

fail:
	settings_release(&tmp);
	return -1;
}

int
settings_load_file(struct settings *s, const char *path, char *err,
    size_t errlen, int *ioerr)
{
	size_t len = 0;
	char *buf;
	int rc, dummy;

	if (ioerr == NULL)
		ioerr = &dummy;
	*ioerr = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || path == NULL) {
		sd_snprintf(err, errlen, "no configuration file given");
		return -1;
	}
	buf = read_config(path, &len, err, errlen, ioerr);
	if (buf == NULL)
		return -1;
	rc = settings_load_buf(s, path, buf, len, err, errlen);
	free(buf);
	return rc;
}
