/*
 * internal.h - definitions shared by stsdane's modules, never installed
 *
 * Small bounded-string helpers, the settings every layer reads, the limits
 * that bound every input, and the context structure.  Nothing here does
 * I/O.  All non-static functions in the library carry hidden visibility by
 * default (-fvisibility=hidden); the export list is src/libstsdane.map.
 */
#ifndef STSDANE_INTERNAL_H
#define STSDANE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "stsdane.h"

#define SD_EXPORT __attribute__((visibility("default")))
#define SD_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Limits on everything that comes from outside. */
#define SD_MAX_NAME 254		/* presentation-form host name, with NUL */
#define SD_MAX_ID 32		/* MTA-STS policy id */
#define SD_MAX_POLICY 65536	/* policy body bytes (RFC 8461 3.3) */
#define SD_MAX_POLICY_MX 64	/* mx lines kept from one policy */
#define SD_MAX_MAX_AGE 31557600u
#define SD_MAX_MX_HOSTS 16	/* MX hosts examined for DANE */
#define SD_MAX_TLSA 32		/* TLSA records kept per host */
#define SD_MAX_TXT 4096		/* one joined TXT record */
#define SD_ERRLEN 512
/* The last enum stsdane_problem value: decoders refuse larger ones. */
#define SD_PROBLEM_LAST STSDANE_PROBLEM_HEADER_FLOOD

/*
 * Bounded formatting.  Returns 0, or -1 when the output was truncated (it
 * is still NUL-terminated).  A NULL or zero-sized buffer is allowed.
 */
int sd_snprintf(char *buf, size_t len, const char *fmt, ...) SD_PRINTF(3, 4);
int sd_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
/* Copy with truncation check: 0, or -1 when src did not fit. */
int sd_strlcpy(char *dst, const char *src, size_t len);
char *sd_strdup(const char *s);			/* NULL on NULL or ENOMEM */
char *sd_strndup(const char *s, size_t n);

/*
 * Host names.  sd_hostname_normalize() lower-cases, drops one trailing
 * dot, and checks LDH syntax (labels 1-63 of letters, digits, hyphen, not
 * starting or ending with a hyphen; underscore allowed for service labels
 * when allow_underscore is set).  0 when valid, -1 otherwise.
 */
int sd_hostname_normalize(const char *in, char *out, size_t outlen,
    int allow_underscore);
/*
 * src/util/idn.c: labels with bytes outside ASCII mapped to A-labels
 * (IDNA2008, UTS#46 non-transitional); ASCII labels copied as they are.
 * 0, or -1 with err naming the invalid label.
 */
int sd_idn_to_ascii(const char *in, char *out, size_t outlen, char *err,
    size_t errlen);
/* Monotonic clock, milliseconds: for deadlines. */
int64_t sd_mono_ms(void);
/* CRC-32 of p[0..n), continuing from crc (0 to start). */
uint32_t sd_crc32(uint32_t crc, const unsigned char *p, size_t n);
/* Is s an IPv4 or IPv6 literal (with or without brackets)? */
int sd_is_ip_literal(const char *s);

/*
 * Settings, filled from the configuration file and stsdane_set().
 * Strings are owned by the struct; NULL means "not set".
 */
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
};

/* src/config.c */
void settings_init(struct settings *s);
void settings_release(struct settings *s);
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

/* src/decision.c */
struct stsdane_decision *decision_new(const char *domain);
int decision_set_reason(struct stsdane_decision *d, const char *fmt, ...)
    SD_PRINTF(2, 3);
int decision_add_mx(struct stsdane_decision *d, const char *pattern);
struct stsdane_decision *decision_copy(const struct stsdane_decision *d);

/* src/rdata.c: bounded decoding of RDATA that libunbound hands back. */
/* TXT: concatenate the character-strings; 0, or -1 if malformed/too long */
int rdata_txt(const unsigned char *rd, size_t len, char *out, size_t outlen,
    size_t *outn);
/* MX: preference and exchange name in presentation form (no final dot);
   an exchange of "." (null MX) gives name "". 0 or -1. */
int rdata_mx(const unsigned char *rd, size_t len, unsigned *pref,
    char *name, size_t namelen);
/* TLSA: 0 or -1; data points into rd (not copied). */
int rdata_tlsa(const unsigned char *rd, size_t len, uint8_t *usage,
    uint8_t *selector, uint8_t *mtype, const unsigned char **data,
    size_t *datalen);
/* A / AAAA into presentation form. 0 or -1. */
int rdata_addr(int rrtype, const unsigned char *rd, size_t len, char *out,
    size_t outlen);

/* src/parse/sts_txt.c: stsdane_txt_check() on a TXT RRset's RDATA items,
   every one of them decoded; a malformed item is STSDANE_ERR_SYNTAX. */
int txt_check_rdata(const unsigned char *const *rdata, const size_t *rdlen,
    size_t n, char id[33], char *err, size_t errlen);

/* src/tlsa.c */
/*
 * Is this TLSA record usable for SMTP (RFC 7672 3.1, RFC 7671)?  Usage
 * 2 or 3, selector 0 or 1, matching type 0, 1 (32 bytes) or 2 (64
 * bytes).  1 usable; 0 not, with the reason in err.
 */
int tlsa_usable(const struct stsdane_tlsa *t, char *err, size_t errlen);

/* src/probe.c: the SMTP side of stsdane_probe(), split out for tests */
struct smtp_reply {
	int code;		/* e.g. 250 */
	int starttls;		/* a line after the first is "STARTTLS" */
	size_t nlines;
	char text[256];		/* first line after the code, for messages */
};
/*
 * One complete reply at the start of buf: 1 (with *used bytes), 0 when
 * more input is needed, -1 on garbage or a reply over the bounds (err).
 */
int smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r,
    size_t *used, char *err, size_t errlen);
/* Greeting, EHLO, STARTTLS, handshake, verification on connected fd;
   each step within step_ms and the whole session within budget_ms. */
void probe_session(stsdane_ctx *ctx, const struct stsdane_decision *d,
    const char *host, int fd, const char *ehlo, unsigned step_ms,
    unsigned budget_ms, struct stsdane_probe_host *h);

#endif /* STSDANE_INTERNAL_H */
