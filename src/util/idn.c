/*
 * NAME
 *	idn.c - internationalised host names to A-labels (libidn2)
 * SUMMARY
 *	one mapping of U-labels, used by the policy and by host matching
 * SYNOPSIS
 *	#include "util.h"
 *
 *	int sd_idn_to_ascii(const char *in, char *out, size_t outlen,
 *	    char *err, size_t errlen)
 * DESCRIPTION
 *	An MTA-STS policy may name its MX hosts with U-labels ("ñaca.com"),
 *	while DNS hands out A-labels ("xn--aca-6ma.com"); RFC 8461 4.1
 *	compares the names as the DNS has them.  sd_idn_to_ascii() maps
 *	every label that holds a byte outside ASCII to its A-label with
 *	libidn2, IDNA2008 with UTS#46 non-transitional mapping (as the
 *	sending MTAs and browsers do), after NFC; ASCII labels are copied as
 *	they are, so "*" and case survive for the caller's own checks.  The
 *	policy side (sts_policy.c) and the host side (mx_match.c) both call
 *	it, so the two can never map one name two ways.
 * DIAGNOSTICS
 *	0 with out set; -1 with err naming the label that is not a valid
 *	IDN label ("label '\xff' is not a valid IDN label: ...") or saying
 *	that the result does not fit.  Bytes that are not printable ASCII
 *	are shown as '?' when the label is not valid UTF-8.
 * SEE ALSO
 *	RFC 5890, RFC 5891, UTS #46, RFC 8461 section 4.1
 */
#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define LABEL_SHOW 64

static int
has_8bit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* The label for a message: controls always '?', 8-bit bytes too when
   the label is not UTF-8 (they would be junk on a terminal). */
static void
show_label(char *dst, size_t dstlen, const char *s, size_t n, int utf8)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 4 < dstlen && i < LABEL_SHOW; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			c = '?';
		dst[o++] = (char)c;
	}
	if (i < n && o + 4 <= dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

int
sd_idn_to_ascii(const char *in, char *out, size_t outlen, char *err,
    size_t errlen)
{
	char label[SD_MAX_NAME + 1], show[LABEL_SHOW + 8];
	size_t n, i = 0, o = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (in == NULL || out == NULL || outlen == 0)
		return -1;
	n = strlen(in);
	if (!has_8bit(in, n)) {
		if (sd_strlcpy(out, in, outlen) < 0) {
			sd_snprintf(err, errlen, "name is too long");
			return -1;
		}
		return 0;
	}
	if (n > SD_MAX_NAME * 4) {
		sd_snprintf(err, errlen, "name is too long");
		return -1;
	}
	while (i <= n) {
		const char *dot = memchr(in + i, '.', n - i);
		size_t l = dot != NULL ? (size_t)(dot - (in + i)) : n - i;
		const char *piece = in + i;
		char *a = NULL;
		size_t al;
		int rc;

		if (has_8bit(piece, l)) {
			if (l >= sizeof(label)) {
				show_label(show, sizeof(show), piece, l, 0);
				sd_snprintf(err, errlen, "label '%s' is too "
				    "long", show);
				return -1;
			}
			memcpy(label, piece, l);
			label[l] = '\0';
			rc = idn2_to_ascii_8z(label, &a, IDN2_NFC_INPUT |
			    IDN2_NONTRANSITIONAL);
			if (rc != IDN2_OK) {
				show_label(show, sizeof(show), piece, l,
				    rc != IDN2_ENCODING_ERROR);
				sd_snprintf(err, errlen, "label '%s' is not a "
				    "valid IDN label: %s", show,
				    idn2_strerror(rc));
				return -1;
			}
			piece = a;
			l = strlen(a);
		}
		al = l + (dot != NULL ? 1 : 0);
		if (o + al >= outlen) {
			idn2_free(a);
			sd_snprintf(err, errlen, "name is too long");
			return -1;
		}
		memcpy(out + o, piece, l);
		o += l;
		if (dot != NULL)
			out[o++] = '.';
		idn2_free(a);
		if (dot == NULL)
			break;
		i = (size_t)(dot - in) + 1;
	}
	out[o] = '\0';
	return 0;
}
