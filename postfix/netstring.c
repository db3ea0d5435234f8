/*
 * NAME
 *	netstring.c - parse and encode netstrings, no I/O
 * SUMMARY
 *	the framing of Postfix's socketmap protocol, kept apart from the
 *	sockets so that it can be tested byte by byte
 * SYNOPSIS
 *	#include "netstring.h"
 *
 *	enum netstring_status netstring_parse(const char *buf, size_t len,
 *	    size_t max, const char **data, size_t *dlen, size_t *used)
 *	size_t netstring_size(size_t max)
 *	long netstring_encode(const char *data, size_t len, char *out,
 *	    size_t outlen)
 * DESCRIPTION
 *	A netstring is "LEN:DATA,": LEN in decimal without leading zeros
 *	("0" itself is allowed), a colon, exactly LEN bytes of data, a
 *	comma.  socketmap_table(5) frames each request "NAME KEY" and each
 *	answer "STATUS DATA" this way.
 *
 *	netstring_parse() looks at the bytes received so far.  It decides
 *	as early as it can: a length over max is NETSTRING_TOOBIG as soon
 *	as its digits say so, a non-digit before the colon or a missing
 *	comma is NETSTRING_BAD, so that a client cannot make the server
 *	buffer more than netstring_size(max) bytes before it is refused.
 *	The payload is pointed to, not copied; it belongs to buf.
 *
 *	netstring_encode() never writes past outlen and adds no NUL.
 * DIAGNOSTICS
 *	The status values of netstring.h; -1 from netstring_encode() when
 *	out is too small.
 * SEE ALSO
 *	socketmap_table(5), http://cr.yp.to/proto/netstrings.txt
 */
#include <stdio.h>
#include <string.h>

#include "netstring.h"

enum netstring_status
netstring_parse(const char *buf, size_t len, size_t max, const char **data,
    size_t *dlen, size_t *used)
{
	size_t i, n = 0;

	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (i == 1 && buf[0] == '0')
			return NETSTRING_BAD;	/* leading zero */
		n = n * 10 + (size_t)(buf[i] - '0');
		if (n > max)
			return NETSTRING_TOOBIG;
	}
	if (i == len)
		return NETSTRING_MORE;
	if (i == 0 || buf[i] != ':')
		return NETSTRING_BAD;
	if (len - i - 1 < n + 1)
		return NETSTRING_MORE;
	if (buf[i + 1 + n] != ',')
		return NETSTRING_BAD;
	*data = buf + i + 1;
	*dlen = n;
	*used = i + 1 + n + 1;
	return NETSTRING_DONE;
}

size_t
netstring_size(size_t max)
{
	size_t digits = 1, m = max;

	while (m >= 10) {
		m /= 10;
		digits++;
	}
	return digits + 1 + max + 1;
}

long
netstring_encode(const char *data, size_t len, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%zu:", len);

	if (n < 0 || (size_t)n >= outlen || outlen - (size_t)n < len + 1)
		return -1;
	memcpy(out + n, data, len);
	out[(size_t)n + len] = ',';
	return (long)((size_t)n + len + 1);
}
