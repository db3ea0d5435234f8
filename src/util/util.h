/*
 * util.h - bounded strings, host names, clock and checksum helpers
 *
 * The bottom layer: nothing here does I/O or keeps state.  Every other
 * module may include it; it includes nothing of the library but the
 * public header.  All non-static functions of the library carry hidden
 * visibility by default (-fvisibility=hidden); SD_EXPORT marks the few
 * that src/api/libstsdane.map exports.
 */
#ifndef STSDANE_UTIL_H
#define STSDANE_UTIL_H

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
/*
 * A bounded, printable copy of n untrusted bytes for a message: bytes
 * outside printable ASCII become '?', and a value longer than
 * SD_QUOTE_MAX (or than dst allows) ends in "...".  A dst of
 * SD_QUOTE_LEN bytes holds any such copy.
 */
#define SD_QUOTE_MAX 64
#define SD_QUOTE_LEN (SD_QUOTE_MAX + 4)
void sd_quote(char *dst, size_t dstlen, const char *src, size_t n);
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
 * The one host-name comparison of the library: 1 when a and b name the
 * same host, ignoring ASCII case and one trailing dot; 0 otherwise (also
 * when either is NULL).
 */
int sd_host_eq(const char *a, const char *b);
/* Monotonic clock, milliseconds: for deadlines. */
int64_t sd_mono_ms(void);
/*
 * src/util/idn.c: labels with bytes outside ASCII mapped to A-labels
 * (IDNA2008, UTS#46 non-transitional); ASCII labels copied as they are.
 * 0, or -1 with err naming the invalid label.
 */
int sd_idn_to_ascii(const char *in, char *out, size_t outlen, char *err,
    size_t errlen);
/* CRC-32 of p[0..n), continuing from crc (0 to start). */
uint32_t sd_crc32(uint32_t crc, const unsigned char *p, size_t n);
/* Is s an IPv4 or IPv6 literal (with or without brackets)? */
int sd_is_ip_literal(const char *s);

#endif /* STSDANE_UTIL_H */
