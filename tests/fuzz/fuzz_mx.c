/*
 * NAME
 *	fuzz_mx.c - libFuzzer target: mx patterns against MX host names
 * DESCRIPTION
 *	The input is "PATTERN\nHOST".  stsdane_mx_match() must not depend
 *	on ASCII case or on one trailing dot of the host.  When the pattern
 *	is accepted as an mx line of a policy, the stored pattern (A-labels)
 *	must match a host of its own shape, and so must the pattern as
 *	written (U-labels are mapped on the host side too).
 */
#include <string.h>

#include "fuzz.h"
#include "util.h"

static void
flip_case(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
		else if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

/* No blank or control byte: the policy line keeps it whole. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char pat[512], host[512], host2[520], pol[600], shape[520];
	struct stsdane_policy *p = NULL;
	const uint8_t *nl;
	size_t plen, hlen;
	int m;

	nl = memchr(data, '\n', size);
	if (nl == NULL)
		return 0;
	plen = (size_t)(nl - data);
	hlen = size - plen - 1;
	if (plen >= sizeof(pat) || hlen >= sizeof(host) ||
	    memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(pat, data, plen);
	pat[plen] = '\0';
	memcpy(host, nl + 1, hlen);
	host[hlen] = '\0';

	m = stsdane_mx_match(pat, host);
	memcpy(host2, host, hlen + 1);
	flip_case(host2);
	FUZZ_CHECK(stsdane_mx_match(pat, host2) == m);
	if (hlen > 0 && host[hlen - 1] != '.') {
		snprintf(host2, sizeof(host2), "%s.", host);
		FUZZ_CHECK(stsdane_mx_match(pat, host2) == m);
	}

	snprintf(pol, sizeof(pol), "version: STSv1\nmode: enforce\n"
	    "max_age: 86400\nmx: %s\n", pat);
	if (stsdane_policy_parse(pol, strlen(pol), &p, NULL, 0) ==
	    STSDANE_OK) {
		FUZZ_CHECK(p->nmx == 1);
		if (p->mx[0][0] == '*')
			snprintf(shape, sizeof(shape), "x%s", p->mx[0] + 1);
		else
			snprintf(shape, sizeof(shape), "%s", p->mx[0]);
		FUZZ_CHECK(stsdane_mx_match(p->mx[0], shape));
		/* the pattern as written matches what it was stored as */
		if (printable(pat))
			FUZZ_CHECK(stsdane_mx_match(pat, shape));
		stsdane_policy_free(p);
	}
	return 0;
}
