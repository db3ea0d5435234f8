/*
 * NAME
 *	fuzz_policy.c - libFuzzer target: the MTA-STS policy file
 * DESCRIPTION
 *	Any bytes go to stsdane_policy_parse().  A policy it accepts is
 *	written out again in canonical form and must parse to the same
 *	mode, max_age and mx list (round trip), and each accepted mx
 *	pattern must match a host of its own shape ("*.rest" matches
 *	"a.rest", a plain name matches itself in upper case).
 */
#include <string.h>

#include "fuzz.h"
#include "util.h"

static void
check_pattern(const char *p)
{
	char host[SD_MAX_NAME + 8];
	size_t i, n = strlen(p);

	FUZZ_CHECK(n > 0 && n < sizeof(host) - 2);
	if (p[0] == '*') {
		FUZZ_CHECK(p[1] == '.');
		host[0] = 'a';
		memcpy(host + 1, p + 1, n);	/* with the NUL */
	} else {
		for (i = 0; i <= n; i++)
			host[i] = (p[i] >= 'a' && p[i] <= 'z') ?
			    (char)(p[i] - 'a' + 'A') : p[i];
	}
	FUZZ_CHECK(stsdane_mx_match(p, host));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stsdane_policy *p = NULL, *q = NULL;
	char err[SD_ERRLEN];
	char *out;
	size_t i, o = 0, cap;

	if (stsdane_policy_parse((const char *)data, size, &p, err,
	    sizeof(err)) != STSDANE_OK) {
		FUZZ_CHECK(p == NULL);
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(p != NULL);
	cap = 128 + p->nmx * (SD_MAX_NAME + 8);
	out = malloc(cap);
	FUZZ_CHECK(out != NULL);
	o += (size_t)snprintf(out + o, cap - o, "version: STSv1\nmode: %s\n"
	    "max_age: %u\n", stsdane_mode_name(p->mode), (unsigned)p->max_age);
	for (i = 0; i < p->nmx; i++) {
		check_pattern(p->mx[i]);
		o += (size_t)snprintf(out + o, cap - o, "mx: %s\n", p->mx[i]);
	}
	FUZZ_CHECK(o < cap);
	FUZZ_CHECK(stsdane_policy_parse(out, o, &q, err, sizeof(err)) ==
	    STSDANE_OK);
	FUZZ_CHECK(q->mode == p->mode && q->max_age == p->max_age &&
	    q->nmx == p->nmx);
	for (i = 0; i < p->nmx; i++)
		FUZZ_CHECK(strcmp(p->mx[i], q->mx[i]) == 0);
	stsdane_policy_free(q);
	stsdane_policy_free(p);
	free(out);
	return 0;
}
