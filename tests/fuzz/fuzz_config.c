/*
 * NAME
 *	fuzz_config.c - libFuzzer target: the configuration file
 * DESCRIPTION
 *	The input goes to settings_load_buf() on settings that already hold
 *	a value of every kind.  A failed load must leave every setting as it
 *	was; a successful one is written out as "key = value" lines, which
 *	must load into fresh settings with the same values (round trip).
 */
#include <string.h>

#include "fuzz.h"
#include "util.h"
#include "config.h"

static const char *const keys[] = {
	"resolver", "resolv_conf", "trust_anchor_file", "unbound_config",
	"ca_file", "cache_path", "dns_timeout", "fetch_timeout",
	"negative_ttl", "smtp_port", "cache_max_entries"
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define DUMP_VALUE 4100	/* a value fits on a 4096-byte line */

/* Every value as text, "key = value\n" each. */
static size_t
dump(const struct settings *s, char *out, size_t cap)
{
	char v[DUMP_VALUE];
	size_t i, o = 0;

	for (i = 0; i < NKEYS; i++) {
		const char *got = settings_get(s, keys[i], v, sizeof(v));

		FUZZ_CHECK(got != NULL);
		o += (size_t)snprintf(out + o, cap - o, "%s = %s\n", keys[i],
		    got);
		FUZZ_CHECK(o < cap);
	}
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char before[NKEYS * (DUMP_VALUE + 32)];
	static char after[sizeof(before)], again[sizeof(before)];
	struct settings s, t;
	char err[SD_ERRLEN];
	size_t nb, na;

	settings_init(&s);
	FUZZ_CHECK(settings_set(&s, "ca_file", "/etc/ca.pem", err,
	    sizeof(err)) == 0);
	FUZZ_CHECK(settings_set(&s, "resolver", "127.0.0.1@53", err,
	    sizeof(err)) == 0);
	FUZZ_CHECK(settings_set(&s, "dns_timeout", "2.5", err,
	    sizeof(err)) == 0);
	nb = dump(&s, before, sizeof(before));
	if (settings_load_buf(&s, "fuzz", (const char *)data, size, err,
	    sizeof(err)) < 0) {
		FUZZ_CHECK(strncmp(err, "fuzz", 4) == 0 ||
		    strcmp(err, "out of memory") == 0);
		na = dump(&s, after, sizeof(after));
		FUZZ_CHECK(na == nb && memcmp(before, after, nb) == 0);
		settings_release(&s);
		return 0;
	}
	na = dump(&s, after, sizeof(after));
	settings_init(&t);
	FUZZ_CHECK(settings_load_buf(&t, "dump", after, na, err,
	    sizeof(err)) == 0);
	FUZZ_CHECK(dump(&t, again, sizeof(again)) == na);
	FUZZ_CHECK(memcmp(after, again, na) == 0);
	settings_release(&t);
	settings_release(&s);
	return 0;
}
