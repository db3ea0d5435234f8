/*
 * config.h - the settings every layer reads, and their parser
 *
 * Filled from the configuration file and stsdane_set(); owned by the
 * context (src/api/ctx.h), read by the layers through a const pointer.
 */
#ifndef STSDANE_CONFIG_H
#define STSDANE_CONFIG_H

#include <stddef.h>

/* Strings are owned by the struct; NULL means "not set". */
struct settings {
	char *resolver;		/* addresses to forward to; NULL or "" means
				   full recursion from the root */
	char *resolv_conf;	/* use this resolv.conf's servers instead */
	char *trust_anchor_file;
	char *unbound_config;	/* handed to ub_ctx_config() as is */
	char *ca_file;		/* CAs for MTA-STS (policy host and MX) */
	char *cache_path;	/* Berkeley DB environment directory */
	unsigned dns_timeout_ms;
	unsigned fetch_timeout_ms;
	unsigned negative_ttl;	/* seconds "no policy" is cached */
	unsigned smtp_port;	/* port for --probe, normally 25 */
	unsigned cache_max_entries;
	unsigned refresh_concurrency;	/* contexts --refresh runs at once */
	unsigned refresh_host_concurrency;	/* --refresh's fetches in
						   flight to one address */
	unsigned refresh_host_rate;	/* and started per second; 0: none */
	/* TLS reporting, RFC 8460 (src/report/) */
	unsigned tlsrpt;	/* 1: record sessions, send reports */
	char *tlsrpt_org;	/* organization-name */
	char *tlsrpt_contact;	/* contact-info */
	char *tlsrpt_submitter;	/* TLS-Report-Submitter, report-id domain */
	char *tlsrpt_sendmail;	/* command a mailto: report is piped to */
	char *tlsrpt_dir;	/* the store; NULL: beside cache_path */
	char *shared_cache;	/* the fleet's Redis, as shared_url_parse()
				   reads it; NULL: none */
	unsigned shared_cache_timeout_ms;
	char *shared_cache_prefix;	/* NULL: "stsdane:" */
	char *shared_cache_key;	/* HMAC-SHA256 secret; NULL: none */
};

/* A shared_cache value, taken apart. */
struct shared_url {
	int is_unix;
	char host[256];		/* a name, an IPv4 or an IPv6 address */
	unsigned port;		/* default 6379 */
	char path[108];		/* is_unix: the socket */
	unsigned db;		/* SELECT this; default 0 */
	char user[128];		/* "" with a password: the default user */
	char password[256];	/* "": no AUTH */
};

/*
 * "redis://[USER:PASSWORD@]HOST[:PORT][/DB]" or "unix:/PATH[?db=N]"
 * into *u.  0, or -1 with err set to why (naming the key, never
 * quoting a password).
 */
int shared_url_parse(const char *v, struct shared_url *u, char *err,
    size_t errlen);

void settings_init(struct settings *s);
void settings_release(struct settings *s);
/* A deep copy of src into dst (uninitialised); 0, or -1 out of memory. */
int settings_copy(struct settings *dst, const struct settings *src);
/*
 * Set one key.  0, or -1 with err set to a message that names the key,
 * e.g. "unknown key 'dns_timeot'" or "dns_timeout: 'abc' is not a number
 * of seconds".
 */
int settings_set(struct settings *s, const char *key, const char *value,
    char *err, size_t errlen);
/* Value of key as text, in buf; NULL for an unknown key. */
const char *settings_get(const struct settings *s, const char *key,
    char *buf, size_t len);
/*
 * Parse a configuration file: "key = value" lines, '#' comments, blank
 * lines.  0, or -1 with err "FILE:LINE: message" (STSDANE_ERR_IO-style
 * problems read "FILE: cannot open: strerror").  *ioerr is set to 1 when
 * the file could not be read at all.
 */
int settings_load_file(struct settings *s, const char *path, char *err,
    size_t errlen, int *ioerr);
/* The same for bytes in memory; name stands for FILE in messages. */
int settings_load_buf(struct settings *s, const char *name, const char *buf,
    size_t len, char *err, size_t errlen);

#endif /* STSDANE_CONFIG_H */
