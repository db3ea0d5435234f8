/*
 * NAME
 *	rdata.c - bounded decoding of DNS RDATA
 * SUMMARY
 *	TXT, MX, TLSA, A and AAAA record data as libunbound hands it back
 * SYNOPSIS
 *	#include "util.h"
 *
 *	int rdata_txt(const unsigned char *rd, size_t len, char *out,
 *	    size_t outlen, size_t *outn)
 *	int rdata_mx(const unsigned char *rd, size_t len, unsigned *pref,
 *	    char *name, size_t namelen)
 *	int rdata_tlsa(const unsigned char *rd, size_t len, uint8_t *usage,
 *	    uint8_t *selector, uint8_t *mtype, const unsigned char **data,
 *	    size_t *datalen)
 *	int rdata_addr(int rrtype, const unsigned char *rd, size_t len,
 *	    char *out, size_t outlen)
 * DESCRIPTION
 *	The input is one RDATA item in uncompressed wire format (what
 *	ub_result->data[i] holds, with ub_result->len[i] bytes).  It comes
 *	from the network, so every length byte is checked against what is
 *	left before it is used, and the whole item must be consumed.
 *
 *	rdata_txt() concatenates the character-strings into out and
 *	NUL-terminates it; *outn is the number of bytes, which may include
 *	NUL bytes: callers that need text pass (out, *outn) on.
 *
 *	rdata_mx() gives the preference and the exchange in presentation
 *	form without the final dot, case as published; the root name (null
 *	MX, RFC 7505) gives "".  Labels are not escaped: a label with a byte
 *	other than a letter, digit, hyphen or underscore is refused, since
 *	no such name can be a host to connect to.  Compression pointers
 *	are refused too: they have no place in the data libunbound returns.
 *
 *	rdata_tlsa() splits the four TLSA fields; *data points into rd.
 *
 *	rdata_addr() formats A (rrtype 1, 4 bytes) or AAAA (rrtype 28, 16
 *	bytes) data with inet_ntop().
 * DIAGNOSTICS
 *	All return 0, or -1 when the data is malformed or does not fit.
 * SEE ALSO
 *	RFC 1035 section 3.3, RFC 6698 section 2.1, dns_unbound.c
 */
#include <arpa/inet.h>
#include <string.h>

#include "dns.h"
#include "util.h"
#include "rdata.h"

int
rdata_txt(const unsigned char *rd, size_t len, char *out, size_t outlen,
    size_t *outn)
{
	size_t pos = 0, o = 0;

	if (rd == NULL || out == NULL || outlen == 0 || len == 0)
		return -1;
	while (pos < len) {
		size_t n = rd[pos++];

		if (n > len - pos || n >= outlen - o) {
			out[0] = '\0';
			return -1;
		}
		memcpy(out + o, rd + pos, n);
		o += n;
		pos += n;
	}
	out[o] = '\0';
	if (outn != NULL)
		*outn = o;
	return 0;
}

static int
host_byte(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int
rdata_mx(const unsigned char *rd, size_t len, unsigned *pref, char *name,
    size_t namelen)
{
	size_t pos = 2, o = 0;

	if (rd == NULL || name == NULL || namelen == 0 || len < 3)
		return -1;
	name[0] = '\0';
	for (;;) {
		size_t n, i;

		if (pos >= len)
			return -1;	/* no root label */
		n = rd[pos++];
		if (n == 0)
			break;
		if (n > 63 || n > len - pos)
			return -1;	/* pointer, reserved type, or short */
		/* label, a dot before it unless first, and the NUL */
		if (o + (o > 0) + n >= namelen || o + (o > 0) + n > 253) {
			name[0] = '\0';
			return -1;
		}
		if (o > 0)
			name[o++] = '.';
		for (i = 0; i < n; i++) {
			if (!host_byte(rd[pos + i])) {
				name[0] = '\0';
				return -1;
			}
			name[o++] = (char)rd[pos + i];
		}
		pos += n;
	}
	if (pos != len) {
		name[0] = '\0';
		return -1;		/* bytes after the name */
	}
	name[o] = '\0';
	if (pref != NULL)
		*pref = ((unsigned)rd[0] << 8) | rd[1];
	return 0;
}

int
rdata_tlsa(const unsigned char *rd, size_t len, uint8_t *usage,
    uint8_t *selector, uint8_t *mtype, const unsigned char **data,
    size_t *datalen)
{
	/* three one-byte fields and at least one byte of association data */
	if (rd == NULL || len < 4)
		return -1;
	if (usage != NULL)
		*usage = rd[0];
	if (selector != NULL)
		*selector = rd[1];
	if (mtype != NULL)
		*mtype = rd[2];
	if (data != NULL)
		*data = rd + 3;
	if (datalen != NULL)
		*datalen = len - 3;
	return 0;
}

int
rdata_addr(int rrtype, const unsigned char *rd, size_t len, char *out,
    size_t outlen)
{
	int af;

	if (rd == NULL || out == NULL || outlen == 0)
		return -1;
	if (rrtype == DNS_T_A && len == 4)
		af = AF_INET;
	else if (rrtype == DNS_T_AAAA && len == 16)
		af = AF_INET6;
	else
		return -1;
	if (outlen > (size_t)(socklen_t)-1)
		outlen = (socklen_t)-1;
	if (inet_ntop(af, rd, out, (socklen_t)outlen) == NULL) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
