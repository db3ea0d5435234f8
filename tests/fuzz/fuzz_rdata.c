/*
 * NAME
 *	fuzz_rdata.c - libFuzzer target: the RDATA decoders
 * DESCRIPTION
 *	The first byte picks the decoder (TXT, MX, TLSA, A, AAAA), the rest
 *	is the RDATA.  What a decoder accepts is encoded again and must give
 *	the same bytes (MX, TLSA, A, AAAA) or decode to the same text (TXT,
 *	whose split into character-strings is not unique).
 */
#include <arpa/inet.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"
#include "util.h"
#include "rdata.h"

static void
check_txt(const uint8_t *rd, size_t len)
{
	static char out[65536 + 1], out2[65536 + 1];
	static unsigned char wire[65536 + 512];
	size_t n, n2, i, w = 0;

	if (rdata_txt(rd, len, out, sizeof(out), &n) < 0)
		return;
	FUZZ_CHECK(n <= len);
	for (i = 0; i < n || i == 0; i += 255) {
		size_t k = n - i > 255 ? 255 : n - i;

		wire[w++] = (unsigned char)k;
		memcpy(wire + w, out + i, k);
		w += k;
		if (n == 0)
			break;
	}
	FUZZ_CHECK(rdata_txt(wire, w, out2, sizeof(out2), &n2) == 0);
	FUZZ_CHECK(n2 == n && memcmp(out, out2, n) == 0);
}

static void
check_mx(const uint8_t *rd, size_t len)
{
	char name[SD_MAX_NAME + 2];
	unsigned char wire[2 + 256];
	unsigned pref;
	size_t w = 2, i = 0, n;

	if (rdata_mx(rd, len, &pref, name, sizeof(name)) < 0)
		return;
	FUZZ_CHECK(pref <= 65535);
	wire[0] = (unsigned char)(pref >> 8);
	wire[1] = (unsigned char)pref;
	n = strlen(name);
	while (i < n) {
		const char *dot = memchr(name + i, '.', n - i);
		size_t l = dot != NULL ? (size_t)(dot - (name + i)) : n - i;

		FUZZ_CHECK(l >= 1 && l <= 63 && w + 1 + l < sizeof(wire));
		wire[w++] = (unsigned char)l;
		memcpy(wire + w, name + i, l);
		w += l;
		i += l + 1;
	}
	wire[w++] = 0;
	FUZZ_CHECK(w == len && memcmp(wire, rd, len) == 0);
}

static void
check_tlsa(const uint8_t *rd, size_t len)
{
	const unsigned char *d;
	uint8_t u, s, m;
	size_t dl;

	if (rdata_tlsa(rd, len, &u, &s, &m, &d, &dl) < 0)
		return;
	FUZZ_CHECK(dl + 3 == len && rd[0] == u && rd[1] == s && rd[2] == m);
	FUZZ_CHECK(d == rd + 3);
}

static void
check_addr(int type, const uint8_t *rd, size_t len)
{
	char out[64];
	unsigned char back[16];

	if (rdata_addr(type, rd, len, out, sizeof(out)) < 0)
		return;
	FUZZ_CHECK(inet_pton(type == DNS_T_A ? AF_INET : AF_INET6, out,
	    back) == 1);
	FUZZ_CHECK(len == (type == DNS_T_A ? 4u : 16u));
	FUZZ_CHECK(memcmp(back, rd, len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	switch (data[0] % 5) {
	case 0: check_txt(data + 1, size - 1); break;
	case 1: check_mx(data + 1, size - 1); break;
	case 2: check_tlsa(data + 1, size - 1); break;
	case 3: check_addr(DNS_T_A, data + 1, size - 1); break;
	case 4: check_addr(DNS_T_AAAA, data + 1, size - 1); break;
	}
	return 0;
}
