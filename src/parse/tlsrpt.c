/*
 * NAME
 *	tlsrpt.c - the _smtp._tls TXT record set (RFC 8460 section 3)
 * SUMMARY
 *	pick the one v=TLSRPTv1 record and the report destinations it names
 * SYNOPSIS
 *	#include "stsdane.h"
 *
 *	int stsdane_tlsrpt_check(const char *const *records,
 *	    const size_t *lens, size_t n, struct stsdane_tlsrpt **out,
 *	    char *err, size_t errlen)
 *	void stsdane_tlsrpt_free(struct stsdane_tlsrpt *r)
 * DESCRIPTION
 *	Each of the n records is the concatenation of the character-strings
 *	of one TXT record (records[i], lens[i] bytes, not necessarily
 *	NUL-terminated).  Records that do not begin with "v=TLSRPTv1"
 *	(followed by a delimiter or the end) are discarded; exactly one must
 *	remain, and it must match the grammar:
 *
 *	    tlsrpt-record   = tlsrpt-version 1*(field-delim tlsrpt-field)
 *	                      [field-delim]
 *	    field-delim     = *WSP ";" *WSP
 *	    tlsrpt-field    = tlsrpt-rua / tlsrpt-extension  ; rua required
 *	    tlsrpt-version  = %s"v=TLSRPTv1"
 *	    tlsrpt-rua      = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *	    tlsrpt-uri      = URI                            ; RFC 3986
 *	    tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
 *	    tlsrpt-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *	    tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 *	A URI may not hold a "," or ";" (the RFC has them percent-encoded).
 *	Of the URIs, the "mailto:" and "https:" ones are the destinations a
 *	sender can use; each must be well-formed: mailto:LOCAL@DOMAIN (no
 *	header fields), https://HOST[:PORT][/PATH][?QUERY], with a DNS host
 *	name or an IP literal.  URIs of other schemes are ignored (counted
 *	in nignored), as the RFC says; one that is malformed, or a mailto:
 *	or https: URI that is malformed, makes the record invalid.  A
 *	repeated "rua" field is a syntax error.  Trailing white space after
 *	the last field is tolerated.
 * DIAGNOSTICS
 *	STSDANE_OK with *out set (nrua may be 0 when every URI had another
 *	scheme; callers that send reports need at least one);
 *	STSDANE_ERR_NOTFOUND when no record begins with v=TLSRPTv1;
 *	STSDANE_ERR_SYNTAX with the reason in err (more than one such
 *	record, or the one does not parse); STSDANE_ERR_NOMEM;
 *	STSDANE_ERR_INVAL for NULL arguments.  *out is NULL unless
 *	STSDANE_OK; release it with stsdane_tlsrpt_free().
 * SEE ALSO
 *	RFC 8460 section 3, RFC 3986, RFC 6068, sts_txt.c
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define TLSRPT_VERSION "v=TLSRPTv1"
#define TLSRPT_VERSION_LEN (sizeof(TLSRPT_VERSION) - 1)
#define MAX_RUA 16		/* URIs kept from one record */
#define MAX_URI 1024

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_alnum(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

static int
is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
	    (c >= 'a' && c <= 'f');
}

/* Does this record begin with the version, then a delimiter or the end? */
static int
is_tlsrpt(const char *r, size_t n)
{
	size_t i = TLSRPT_VERSION_LEN;

	if (n < i || memcmp(r, TLSRPT_VERSION, i) != 0)
		return 0;
	while (i < n && is_wsp((unsigned char)r[i]))
		i++;
	return i == n || r[i] == ';';
}

/*
 * RFC 3986 characters that may appear in a URI here: unreserved,
 * sub-delims but "," and ";" (the record's delimiters), ":", "@", "/",
 * "?", "#", and "%" followed by two hex digits.
 */
static int
uri_chars_ok(const char *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)u[i];

		if (c == '%') {
			if (i + 2 >= n || !is_hex((unsigned char)u[i + 1]) ||
			    !is_hex((unsigned char)u[i + 2]))
				return 0;
			i += 2;
			continue;
		}
		if (is_alnum(c) || strchr("-._~!$&'()*+=:@/?#", c) != NULL)
			continue;
		return 0;
	}
	return 1;
}

/* A DNS host name or an IP literal ([v6] or dotted v4) of n bytes. */
static int
host_ok(const char *h, size_t n)
{
	char buf[SD_MAX_NAME], norm[SD_MAX_NAME];

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (buf[0] == '[')
		return buf[n - 1] == ']' && sd_is_ip_literal(buf);
	if (sd_is_ip_literal(buf))
		return 1;
	return sd_hostname_normalize(buf, norm, sizeof(norm), 0) == 0 &&
	    strchr(norm, '.') != NULL;
}

/* mailto:LOCAL@DOMAIN, percent-encoding allowed in LOCAL. */
static int
mailto_ok(const char *u, size_t n, const char **why)
{
	const char *at;
	size_t i, local;

	*why = "not mailto:LOCAL@DOMAIN";
	if (memchr(u, '?', n) != NULL) {
		*why = "header fields ('?') are not allowed in a report address";
		return 0;
	}
	at = memchr(u, '@', n);
	if (at == NULL || memchr(at + 1, '@', n - (size_t)(at + 1 - u)))
		return 0;
	local = (size_t)(at - u);
	if (local == 0)
		return 0;
	for (i = 0; i < local; i++)
		if (u[i] == '/' || u[i] == ':' || u[i] == '#')
			return 0;
	if (!host_ok(at + 1, n - local - 1)) {
		*why = "the domain of the address is not a host name";
		return 0;
	}
	return 1;
}

/* https://HOST[:PORT][/PATH][?QUERY], no user information. */
static int
https_ok(const char *u, size_t n, const char **why)
{
	size_t i = 0, hend, port;

	*why = "not https://HOST[:PORT]/PATH";
	if (n < 2 || u[0] != '/' || u[1] != '/')
		return 0;
	u += 2;
	n -= 2;
	while (i < n && u[i] != '/' && u[i] != '?' && u[i] != '#')
		i++;
	if (memchr(u, '@', i) != NULL) {
		*why = "user information in an https: URI";
		return 0;
	}
	hend = i;
	if (i > 0 && u[0] == '[') {	/* "https://" may end the record */
		const char *rb = memchr(u, ']', i);

		if (rb == NULL)
			return 0;
		hend = (size_t)(rb - u) + 1;
	} else {
		const char *colon = memchr(u, ':', i);

		if (colon != NULL)
			hend = (size_t)(colon - u);
	}
	if (!host_ok(u, hend)) {
		*why = "the host of the https: URI is not a host name";
		return 0;
	}
	if (hend < i) {
		if (u[hend] != ':' || hend + 1 == i)
			return 0;
		for (port = 0, hend++; hend < i; hend++) {
			if (u[hend] < '0' || u[hend] > '9')
				return 0;
			port = port * 10 + (size_t)(u[hend] - '0');
			if (port > 65535)
				return 0;
		}
		if (port == 0)
			return 0;
	}
	return 1;
}

/* 1: keep (mailto: or https:), 0: ignore (another scheme), -1: invalid. */
static int
uri_check(const char *u, size_t n, char *err, size_t errlen)
{
	char q[SD_QUOTE_LEN];
	const char *why = "not a URI";
	size_t s = 0;
	int ok;

	sd_quote(q, sizeof(q), u, n);
	if (n == 0 || n > MAX_URI) {
		(void)sd_snprintf(err, errlen, "rua: URI '%s' %s", q,
		    n == 0 ? "is empty" : "is too long");
		return -1;
	}
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	while (s < n && (is_alnum((unsigned char)u[s]) || u[s] == '+' ||
	    u[s] == '-' || u[s] == '.'))
		s++;
	if (s == 0 || s == n || u[s] != ':' ||
	    !((u[0] >= 'A' && u[0] <= 'Z') || (u[0] >= 'a' && u[0] <= 'z')) ||
	    !uri_chars_ok(u, n)) {
		(void)sd_snprintf(err, errlen, "rua: '%s' is not a URI", q);
		return -1;
	}
	if (s == 6 && strncasecmp(u, "mailto", 6) == 0)
		ok = mailto_ok(u + 7, n - 7, &why);
	else if (s == 5 && strncasecmp(u, "https", 5) == 0)
		ok = https_ok(u + 6, n - 6, &why);
	else
		return 0;
	if (!ok) {
		(void)sd_snprintf(err, errlen, "rua: '%s': %s", q, why);
		return -1;
	}
	return 1;
}

void
stsdane_tlsrpt_free(struct stsdane_tlsrpt *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nrua; i++)
		free(r->rua[i]);
	free(r->rua);
	free(r);
}

/* The rua value r[0..n): the URIs into out.  0 or -1 (err). */
static int
parse_rua(const char *r, size_t n, struct stsdane_tlsrpt *out, char *err,
    size_t errlen)
{
	size_t i = 0, total = 0;

	for (;;) {
		size_t start = i, end;
		int k;

		while (i < n && r[i] != ',' && !is_wsp((unsigned char)r[i]))
			i++;
		end = i;
		k = uri_check(r + start, end - start, err, errlen);
		if (k < 0)
			return -1;
		if (++total > MAX_RUA) {
			(void)sd_snprintf(err, errlen, "rua: more than %d URIs",
			    MAX_RUA);
			return -1;
		}
		if (k == 0) {
			out->nignored++;
		} else {
			out->rua[out->nrua] = sd_strndup(r + start,
			    end - start);
			if (out->rua[out->nrua] == NULL) {
				(void)sd_snprintf(err, errlen, "out of memory");
				return -2;
			}
			out->nrua++;
		}
		while (i < n && is_wsp((unsigned char)r[i]))
			i++;
		if (i == n)
			return 0;
		if (r[i] != ',') {
			(void)sd_snprintf(err, errlen, "rua: expected ',' "
			    "between URIs");
			return -1;
		}
		i++;
		while (i < n && is_wsp((unsigned char)r[i]))
			i++;
	}
}

/* One record, known to begin with the version.  0, -1 syntax, -2 memory. */
static int
parse_record(const char *r, size_t n, struct stsdane_tlsrpt *out, char *err,
    size_t errlen)
{
	size_t i = TLSRPT_VERSION_LEN, nfields = 0;
	int have_rua = 0;
	char q[SD_QUOTE_LEN];

	for (;;) {
		size_t name, eq, vstart, vend;

		while (i < n && is_wsp((unsigned char)r[i]))
			i++;
		if (i == n)
			break;
		if (r[i] != ';') {
			sd_quote(q, sizeof(q), r + i, n - i);
			(void)sd_snprintf(err, errlen, "expected ';' before "
			    "'%s'", q);
			return -1;
		}
		i++;
		while (i < n && is_wsp((unsigned char)r[i]))
			i++;
		if (i == n)
			break;		/* a final delimiter */
		name = i;
		while (i < n && r[i] != '=' && r[i] != ';' &&
		    !is_wsp((unsigned char)r[i]))
			i++;
		eq = i;
		if (eq == n || r[eq] != '=') {
			sd_quote(q, sizeof(q), r + name, eq - name);
			(void)sd_snprintf(err, errlen, "field '%s' has no '='",
			    q);
			return -1;
		}
		vstart = ++i;
		while (i < n && r[i] != ';')
			i++;
		vend = i;
		while (vend > vstart && is_wsp((unsigned char)r[vend - 1]))
			vend--;
		nfields++;
		if (eq - name == 3 && memcmp(r + name, "rua", 3) == 0) {
			int rc;

			if (have_rua) {
				(void)sd_snprintf(err, errlen, "more than one "
				    "rua field");
				return -1;
			}
			have_rua = 1;
			rc = parse_rua(r + vstart, vend - vstart, out, err,
			    errlen);
			if (rc < 0)
				return rc;
			continue;
		}
		/* tlsrpt-extension */
		if (eq - name == 0 || eq - name > 32 ||
		    !is_alnum((unsigned char)r[name])) {
			sd_quote(q, sizeof(q), r + name, eq - name);
			(void)sd_snprintf(err, errlen, "bad field name '%s'",
			    q);
			return -1;
		} else {
			size_t k;

			for (k = name; k < eq; k++)
				if (!is_alnum((unsigned char)r[k]) &&
				    r[k] != '_' && r[k] != '-' && r[k] != '.') {
					sd_quote(q, sizeof(q), r + name,
					    eq - name);
					(void)sd_snprintf(err, errlen,
					    "bad field name '%s'", q);
					return -1;
				}
			if (vend == vstart) {
				sd_quote(q, sizeof(q), r + name, eq - name);
				(void)sd_snprintf(err, errlen, "field '%s' "
				    "has an empty value", q);
				return -1;
			}
			for (k = vstart; k < vend; k++) {
				int c = (unsigned char)r[k];

				if (c < 0x21 || c > 0x7e || c == ';' ||
				    c == '=') {
					sd_quote(q, sizeof(q), r + name,
					    eq - name);
					(void)sd_snprintf(err, errlen,
					    "field '%s': bad character in "
					    "its value", q);
					return -1;
				}
			}
		}
	}
	if (nfields == 0 || !have_rua) {
		(void)sd_snprintf(err, errlen, "no rua field: the record "
		    "names no report destination");
		return -1;
	}
	return 0;
}

int
stsdane_tlsrpt_check(const char *const *records, const size_t *lens,
    size_t n, struct stsdane_tlsrpt **out, char *err, size_t errlen)
{
	struct stsdane_tlsrpt *r;
	size_t i, found = 0, which = 0;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((records == NULL && n > 0) || (lens == NULL && n > 0) ||
	    out == NULL)
		return STSDANE_ERR_INVAL;
	for (i = 0; i < n; i++) {
		if (records[i] == NULL)
			return STSDANE_ERR_INVAL;
		if (is_tlsrpt(records[i], lens[i])) {
			found++;
			which = i;
		}
	}
	if (found == 0) {
		(void)sd_snprintf(err, errlen, "no record starts with "
		    "'v=TLSRPTv1'");
		return STSDANE_ERR_NOTFOUND;
	}
	if (found > 1) {
		(void)sd_snprintf(err, errlen, "%zu records start with "
		    "'v=TLSRPTv1'; exactly one may", found);
		return STSDANE_ERR_SYNTAX;
	}
	r = calloc(1, sizeof(*r));
	if (r != NULL)
		r->rua = calloc(MAX_RUA, sizeof(*r->rua));
	if (r == NULL || r->rua == NULL) {
		free(r);
		(void)sd_snprintf(err, errlen, "out of memory");
		return STSDANE_ERR_NOMEM;
	}
	rc = parse_record(records[which], lens[which], r, err, errlen);
	if (rc < 0) {
		stsdane_tlsrpt_free(r);
		return rc == -2 ? STSDANE_ERR_NOMEM : STSDANE_ERR_SYNTAX;
	}
	*out = r;
	return STSDANE_OK;
}
