/*
 * NAME
 *	tlsa.c - which TLSA records are usable for SMTP
 * SUMMARY
 *	RFC 7672 section 3.1 and RFC 7671: only DANE-TA(2) and DANE-EE(3)
 *	records with a known selector and matching type are usable
 * SYNOPSIS
 *	#include "util.h"
 *
 *	int tlsa_usable(const struct stsdane_tlsa *t, char *err,
 *	    size_t errlen);
 *
 *	#include <stsdane.h>
 *
 *	int stsdane_tlsa_check(const char *text, char *err, size_t errlen);
 * DESCRIPTION
 *	tlsa_usable() looks at one record as it came from the DNS: usage 2
 *	or 3, selector 0 (full certificate) or 1 (SubjectPublicKeyInfo),
 *	matching type 0 (exact data, non-empty, at most TLSA_MAX_EXACT
 *	bytes, and a DER certificate for selector 0 or a DER
 *	SubjectPublicKeyInfo for selector 1, as GnuTLS parses them), 1
 *	(SHA2-256: exactly 32 bytes) or 2 (SHA2-512: exactly 64 bytes).  PKIX-TA(0) and PKIX-EE(1) are not usable for SMTP because
 *	there is no agreed set of CAs for MX hosts (RFC 7672 3.1.3).
 *
 *	stsdane_tlsa_check() parses a record in presentation form, "U S M
 *	HEX", as an administrator would paste it from a zone file: three
 *	decimal fields 0..255, then the data in hexadecimal, which may be
 *	split by blanks as zone files allow.  It is a pure function.
 * DIAGNOSTICS
 *	tlsa_usable() returns 1 for a usable record and 0 otherwise, with
 *	the reason in err, e.g. "usage 0 (PKIX-TA) is not usable for SMTP".
 *	stsdane_tlsa_check() returns STSDANE_OK, STSDANE_ERR_SYNTAX when the
 *	text does not parse, STSDANE_ERR_VERIFY when it parses but is not
 *	usable, or STSDANE_ERR_INVAL / STSDANE_ERR_NOMEM.
 * SEE ALSO
 *	verify.c, which matches usable records against certificates
 */
#include <ctype.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "tlsa.h"

/*
 * Exact-match data is a whole certificate or key.  Real ones are a few
 * KiB; anything past this is more likely an attack on memory than a
 * certificate, and a digest record is the better choice anyway.
 */
#define TLSA_MAX_EXACT 16384

static const char *
usage_name(unsigned u)
{
	switch (u) {
	case 0: return "PKIX-TA";
	case 1: return "PKIX-EE";
	case 2: return "DANE-TA";
	case 3: return "DANE-EE";
	default: return NULL;
	}
}

/*
 * Exact data must be what the selector says: a certificate (0) or a
 * SubjectPublicKeyInfo (1).  Data that is neither can never match, and
 * Postfix's parse_tlsa_rr() counts such a record as unusable too.
 */
static int
exact_data_parses(const struct stsdane_tlsa *t)
{
	gnutls_datum_t der = { t->data, (unsigned)t->len };
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t key;
	int ok = 0;

	if (t->selector == 0) {
		if (gnutls_x509_crt_init(&crt) < 0)
			return 0;
		ok = gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) ==
		    GNUTLS_E_SUCCESS;
		gnutls_x509_crt_deinit(crt);
	} else {
		if (gnutls_pubkey_init(&key) < 0)
			return 0;
		ok = gnutls_pubkey_import(key, &der, GNUTLS_X509_FMT_DER) ==
		    GNUTLS_E_SUCCESS;
		gnutls_pubkey_deinit(key);
	}
	return ok;
}

int
tlsa_usable(const struct stsdane_tlsa *t, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (t == NULL) {
		sd_snprintf(err, errlen, "no record");
		return 0;
	}
	if (t->usage == 0 || t->usage == 1) {
		sd_snprintf(err, errlen,
		    "usage %u (%s) is not usable for SMTP", t->usage,
		    usage_name(t->usage));
		return 0;
	}
	if (t->usage != 2 && t->usage != 3) {
		sd_snprintf(err, errlen, "usage %u is unknown", t->usage);
		return 0;
	}
	if (t->selector > 1) {
		sd_snprintf(err, errlen, "selector %u is unknown",
		    t->selector);
		return 0;
	}
	switch (t->mtype) {
	case 0:
		if (t->len == 0 || t->data == NULL) {
			sd_snprintf(err, errlen,
			    "matching type 0 (Full) with no data");
			return 0;
		}
		if (t->len > TLSA_MAX_EXACT) {
			sd_snprintf(err, errlen,
			    "matching type 0 (Full) with %zu bytes of data, "
			    "more than %d", t->len, TLSA_MAX_EXACT);
			return 0;
		}
		if (!exact_data_parses(t)) {
			sd_snprintf(err, errlen, "matching type 0 (Full): the "
			    "data is not a DER %s", t->selector == 0 ?
			    "certificate" : "SubjectPublicKeyInfo");
			return 0;
		}
		break;
	case 1:
		if (t->len != 32 || t->data == NULL) {
			sd_snprintf(err, errlen,
			    "matching type 1 (SHA2-256) needs 32 bytes of "
			    "data, not %zu", t->len);
			return 0;
		}
		break;
	case 2:
		if (t->len != 64 || t->data == NULL) {
			sd_snprintf(err, errlen,
			    "matching type 2 (SHA2-512) needs 64 bytes of "
			    "data, not %zu", t->len);
			return 0;
		}
		break;
	default:
		sd_snprintf(err, errlen, "matching type %u is unknown",
		    t->mtype);
		return 0;
	}
	return 1;
}

/*
 * One decimal field of 1..3 digits, 0..255, ended by a blank.  *pp is
 * advanced past the field and the blanks after it.  0 or -1.
 */
static int
parse_u8(const char **pp, const char *what, uint8_t *out, char *err,
    size_t errlen)
{
	const char *p = *pp;
	unsigned v = 0;
	size_t n = 0;

	while (isdigit((unsigned char)p[n])) {
		if (n == 3) {
			sd_snprintf(err, errlen, "%s has too many digits",
			    what);
			return -1;
		}
		v = v * 10 + (unsigned)(p[n] - '0');
		n++;
	}
	if (n == 0) {
		if (p[0] == '\0')
			sd_snprintf(err, errlen, "%s is missing", what);
		else
			sd_snprintf(err, errlen,
			    "%s '%.16s' is not a decimal number", what, p);
		return -1;
	}
	if (p[n] != '\0' && p[n] != ' ' && p[n] != '\t') {
		sd_snprintf(err, errlen, "%s '%.16s' is not a decimal number",
		    what, p);
		return -1;
	}
	if (v > 255) {
		sd_snprintf(err, errlen, "%s %u is more than 255", what, v);
		return -1;
	}
	p += n;
	while (*p == ' ' || *p == '\t')
		p++;
	*pp = p;
	*out = (uint8_t)v;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

SD_EXPORT int
stsdane_tlsa_check(const char *text, char *err, size_t errlen)
{
	struct stsdane_tlsa t;
	unsigned char *data = NULL;
	const char *p;
	size_t ndigits = 0, cap, i;
	int hi = -1, v, rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL)
		return STSDANE_ERR_INVAL;
	memset(&t, 0, sizeof(t));
	p = text;
	while (*p == ' ' || *p == '\t')
		p++;
	if (parse_u8(&p, "usage", &t.usage, err, errlen) < 0 ||
	    parse_u8(&p, "selector", &t.selector, err, errlen) < 0 ||
	    parse_u8(&p, "matching type", &t.mtype, err, errlen) < 0)
		return STSDANE_ERR_SYNTAX;

	/* Count first, so the buffer is exactly as large as it must be. */
	for (i = 0; p[i] != '\0'; i++) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
		    p[i] == '\n')
			continue;
		if (hexval((unsigned char)p[i]) < 0) {
			sd_snprintf(err, errlen,
			    "data: '%c' at offset %zu is not a hex digit",
			    isprint((unsigned char)p[i]) ? p[i] : '?',
			    (size_t)(p + i - text));
			return STSDANE_ERR_SYNTAX;
		}
		ndigits++;
	}
	if (ndigits == 0) {
		sd_snprintf(err, errlen, "data is missing");
		return STSDANE_ERR_SYNTAX;
	}
	if (ndigits % 2 != 0) {
		sd_snprintf(err, errlen,
		    "data has an odd number of hex digits (%zu)", ndigits);
		return STSDANE_ERR_SYNTAX;
	}
	cap = ndigits / 2;
	data = malloc(cap);
	if (data == NULL)
		return STSDANE_ERR_NOMEM;
	for (i = 0; p[i] != '\0'; i++) {
		v = hexval((unsigned char)p[i]);
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			data[t.len++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	t.data = data;
	rc = tlsa_usable(&t, err, errlen) ? STSDANE_OK : STSDANE_ERR_VERIFY;
	free(data);
	return rc;
}
