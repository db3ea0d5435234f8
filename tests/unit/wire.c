/*
 * NAME
 *	wire.c - the wire encoder: presentation form to RDATA, for fakes
 * SYNOPSIS
 *	#include "fakes.h"
 * DESCRIPTION
 *	fake_rdata() encodes one record given as text ("10 mx1.a.test",
 *	"3 1 1 <hex>", "\\# <hex>") to the uncompressed wire form that
 *	src/parse/rdata.c decodes.
 * DIAGNOSTICS
 *	Scripting functions return -1 on input they cannot encode; the test
 *	is expected to check that.  Nothing here calls exit().
 * SEE ALSO
 *	fakes.h, src/decide/decide.h
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fakes.h"

/* ---- record data -------------------------------------------------------- */

static int
wire_name(const char *text, unsigned char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = text;

	while (*p == ' ')
		p++;
	if (strcmp(p, ".") == 0 || *p == '\0') {
		if (outlen < 1)
			return -1;
		out[0] = 0;
		return 1;
	}
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (n == 0 || n > 63 || o + 1 + n >= outlen)
			return -1;
		out[o++] = (unsigned char)n;
		memcpy(out + o, p, n);
		o += n;
		p += n;
		if (*p == '.')
			p++;
	}
	out[o++] = 0;
	return (int)o;
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

/* Hex digits, blanks allowed between them. */
static int
hex_bytes(const char *p, unsigned char *out, size_t outlen)
{
	size_t o = 0;

	for (;;) {
		int hi, lo;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return (int)o;
		hi = hexval((unsigned char)p[0]);
		lo = hexval((unsigned char)p[1]);
		if (hi < 0 || lo < 0 || o >= outlen)
			return -1;
		out[o++] = (unsigned char)(hi << 4 | lo);
		p += 2;
	}
}

/* A decimal number 0..max, then a blank; *pp moves past both. */
static int
number(const char **pp, unsigned long max, unsigned long *v)
{
	const char *p = *pp;
	char *end;

	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	*v = strtoul(p, &end, 10);
	if (end == p || *v > max || (*end != ' ' && *end != '\0'))
		return -1;
	*pp = end;
	return 0;
}

int
fake_rdata(int type, const char *text, unsigned char *out, size_t outlen)
{
	unsigned long v[3];
	const char *p = text;
	size_t len, o;
	int n, i;

	if (strncmp(text, "\\#", 2) == 0)
		return hex_bytes(text + 2, out, outlen);
	switch (type) {
	case DNS_T_A:
		return outlen >= 4 && inet_pton(AF_INET, text, out) == 1 ?
		    4 : -1;
	case DNS_T_AAAA:
		return outlen >= 16 && inet_pton(AF_INET6, text, out) == 1 ?
		    16 : -1;
	case DNS_T_CNAME:
		return wire_name(text, out, outlen);
	case DNS_T_MX:
		if (number(&p, 65535, &v[0]) < 0 || outlen < 3)
			return -1;
		out[0] = (unsigned char)(v[0] >> 8);
		out[1] = (unsigned char)(v[0] & 0xff);
		n = wire_name(p, out + 2, outlen - 2);
		return n < 0 ? -1 : n + 2;
	case DNS_T_TXT:
		/* one record: character-strings of at most 255 bytes */
		len = strlen(text);
		o = 0;
		do {
			size_t chunk = len > 255 ? 255 : len;

			if (o + 1 + chunk > outlen)
				return -1;
			out[o++] = (unsigned char)chunk;
			memcpy(out + o, text, chunk);
			o += chunk;
			text += chunk;
			len -= chunk;
		} while (len > 0);
		return (int)o;
	case DNS_T_TLSA:
		for (i = 0; i < 3; i++)
			if (number(&p, 255, &v[i]) < 0)
				return -1;
		if (outlen < 3)
			return -1;
		out[0] = (unsigned char)v[0];
		out[1] = (unsigned char)v[1];
		out[2] = (unsigned char)v[2];
		n = hex_bytes(p, out + 3, outlen - 3);
		return n < 0 ? -1 : n + 3;
	default:
		return -1;
	}
}

