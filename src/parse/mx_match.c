/*
 * NAME
 *	mx_match.c - MTA-STS mx patterns against MX host names
 * SUMMARY
 *	RFC 8461 section 4.1 matching, and the host filter of a decision
 * SYNOPSIS
 *	#include "stsdane.h"
 *
 *	int stsdane_mx_match(const char *pattern, const char *host)
 *	int stsdane_host_allowed(const struct stsdane_decision *d,
 *	    const char *host)
 * DESCRIPTION
 *	stsdane_mx_match() compares without regard to ASCII case and
 *	ignores one trailing dot on either side.  Labels written with
 *	characters outside ASCII (U-labels) are first mapped to A-labels
 *	by sd_idn_to_ascii(), on both sides, so "x.\xc3\xb1aca.com" matches
 *	"x.xn--aca-6ma.com"; a name that is not valid IDN matches nothing.  A pattern "*.rest"
 *	matches a host that is exactly one non-empty label followed by
 *	".rest": "*.example.com" matches "a.example.com", but neither
 *	"b.a.example.com" nor "example.com".  A "*" anywhere else, an
 *	empty label, or an empty name never matches: patterns come from a
 *	policy file and host names from DNS, and neither may widen the
 *	match by being malformed.
 *
 *	stsdane_host_allowed() applies a decision to one MX host.  Only an
 *	MTA-STS decision in mode enforce or testing restricts MX names (a
 *	testing policy is applied the same way here; whether a mismatch
 *	defers or is only reported is the caller's business).  DANE does
 *	not restrict MX names, and without a decision any host is allowed.
 * DIAGNOSTICS
 *	Both return 1 for a match / an allowed host, 0 otherwise.
 * SEE ALSO
 *	RFC 8461 section 4.1, sts_policy.c
 */
#include <string.h>
#include <strings.h>

#include "util.h"

/*
 * Length of name without one trailing dot, or 0 when the name is unfit
 * for matching: empty, an empty label, or a '*' in it.
 */
static size_t
plain_len(const char *s)
{
	size_t n = strlen(s), i;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > SD_MAX_NAME)
		return 0;
	if (s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '*')
			return 0;
		if (s[i] == '.' && (i + 1 == n || s[i + 1] == '.'))
			return 0;
	}
	return n;
}

SD_EXPORT int
stsdane_mx_match(const char *pattern, const char *host)
{
	char pa[SD_MAX_NAME + 4], ha[SD_MAX_NAME + 2];
	size_t hlen, plen;
	const char *dot;

	if (pattern == NULL || host == NULL)
		return 0;
	/* U-labels on either side compare as their A-labels; a name that
	   does not map matches nothing */
	if (sd_idn_to_ascii(pattern, pa, sizeof(pa), NULL, 0) < 0 ||
	    sd_idn_to_ascii(host, ha, sizeof(ha), NULL, 0) < 0)
		return 0;
	pattern = pa;
	host = ha;
	hlen = plain_len(host);
	if (hlen == 0)
		return 0;
	if (pattern[0] == '*' && pattern[1] == '.') {
		plen = plain_len(pattern + 2);
		if (plen == 0)
			return 0;
		/* exactly one label before the rest */
		dot = memchr(host, '.', hlen);
		if (dot == NULL || dot == host)
			return 0;
		if (hlen - (size_t)(dot + 1 - host) != plen)
			return 0;
		return strncasecmp(dot + 1, pattern + 2, plen) == 0;
	}
	plen = plain_len(pattern);
	if (plen == 0 || plen != hlen)
		return 0;
	return strncasecmp(pattern, host, plen) == 0;
}

SD_EXPORT int
stsdane_host_allowed(const struct stsdane_decision *d, const char *host)
{
	size_t i;

	if (d == NULL || d->mechanism != STSDANE_MECH_MTASTS)
		return 1;
	if (d->mode == STSDANE_MODE_NONE)
		return 1;
	if (host == NULL || d->mx == NULL)
		return 0;
	for (i = 0; i < d->nmx; i++) {
		if (d->mx[i] != NULL && stsdane_mx_match(d->mx[i], host))
			return 1;
	}
	return 0;
}
