/*
 * NAME
 *	fuzz_netstring.c - libFuzzer target: stsdane-policyd's netstring
 *	parser (a Postfix socketmap request)
 * DESCRIPTION
 *	The first byte picks the payload limit (0 to 255 bytes, or the
 *	daemon's own 10000 when it is 255); the rest is what a client sent.
 *	A whole netstring lies inside the input, ends in ',' and has a
 *	payload within the limit; every shorter prefix of it is "more
 *	needed", never a different answer (a request that arrives byte by
 *	byte is read the same); and its payload encodes to a netstring that
 *	parses back to the same payload.  A "not a netstring" verdict stays
 *	so whatever follows.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../postfix/netstring.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf, *payload, *p2;
	size_t max, len, dlen, used, dlen2, used2, k;
	enum netstring_status st, st2;
	char *enc;
	long elen;

	if (size < 1)
		return 0;
	max = data[0] == 255 ? 10000 : data[0];
	buf = (const char *)data + 1;
	len = size - 1;
	st = netstring_parse(buf, len, max, &payload, &dlen, &used);
	FUZZ_CHECK(st == NETSTRING_DONE || st == NETSTRING_MORE ||
	    st == NETSTRING_BAD || st == NETSTRING_TOOBIG);
	if (st == NETSTRING_BAD || st == NETSTRING_TOOBIG) {
		/* more bytes never make it good */
		char *longer = malloc(len + 2);

		FUZZ_CHECK(longer != NULL);
		if (len > 0)
			memcpy(longer, buf, len);
		memcpy(longer + len, "0,", 2);
		st2 = netstring_parse(longer, len + 2, max, &p2, &dlen2,
		    &used2);
		FUZZ_CHECK(st2 == st || (st == NETSTRING_TOOBIG &&
		    st2 == NETSTRING_BAD) || (st == NETSTRING_BAD &&
		    st2 == NETSTRING_TOOBIG));
		free(longer);
		return 0;
	}
	if (st == NETSTRING_MORE)
		return 0;
	FUZZ_CHECK(used <= len && dlen <= max);
	FUZZ_CHECK(payload >= buf && payload + dlen < buf + used);
	FUZZ_CHECK(buf[used - 1] == ',');
	for (k = 0; k < used; k++)
		FUZZ_CHECK(netstring_parse(buf, k, max, &p2, &dlen2, &used2) ==
		    NETSTRING_MORE);
	enc = malloc(netstring_size(dlen));
	FUZZ_CHECK(enc != NULL);
	elen = netstring_encode(payload, dlen, enc, netstring_size(dlen));
	FUZZ_CHECK(elen > 0);
	FUZZ_CHECK(netstring_parse(enc, (size_t)elen, max, &p2, &dlen2,
	    &used2) == NETSTRING_DONE);
	FUZZ_CHECK(used2 == (size_t)elen && dlen2 == dlen &&
	    memcmp(p2, payload, dlen) == 0);
	free(enc);
	return 0;
}
