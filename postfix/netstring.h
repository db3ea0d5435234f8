/*
 * netstring.h - netstrings (D. J. Bernstein), as Postfix's socketmap
 * speaks them: "LEN:DATA,"
 */
#ifndef POLICYD_NETSTRING_H
#define POLICYD_NETSTRING_H

#include <stddef.h>

enum netstring_status {
	NETSTRING_DONE = 1,	/* one whole netstring */
	NETSTRING_MORE = 0,	/* a valid beginning: more bytes needed */
	NETSTRING_BAD = -1,	/* not a netstring */
	NETSTRING_TOOBIG = -2	/* its length is over the limit */
};

/*
 * Parse the netstring at the start of buf (len bytes), whose payload may
 * be at most max bytes.  NETSTRING_DONE sets *data, *dlen (the payload)
 * and *used (bytes of buf it took).
 */
enum netstring_status netstring_parse(const char *buf, size_t len,
    size_t max, const char **data, size_t *dlen, size_t *used);

/* The longest netstring with a payload of max bytes. */
size_t netstring_size(size_t max);

/* Encode data into out; the netstring's length, or -1 when too small. */
long netstring_encode(const char *data, size_t len, char *out,
    size_t outlen);

#endif
