/*
 * NAME
 *	fake_env.c - a fake clock and struct decide_env wired to the fakes
 * SYNOPSIS
 *	#include "fakes.h"
 * DESCRIPTION
 *	fake_env_init() fills a decide_env with the fake DNS, fetch and
 *	clock, and with_cache, a struct remember over the fake store (no
 *	memo, no answers file: tests of the tiers build their own).
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

/* ---- clock -------------------------------------------------------------- */

int64_t
fake_clock_now(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

int64_t
fake_clock_mono_ms(void *arg)
{
	return ((struct fake_clock *)arg)->mono;
}

/* ---- the environment ---------------------------------------------------- */

static int
env_get_dns(void *arg, const struct dns_ops **ops, void **impl, char *err,
    size_t errlen)
{
	struct fake_env *w = arg;

	w->nget_dns++;
	if (w->get_dns_fails) {
		(void)sd_snprintf(err, errlen, "resolver refused by the test");
		return -1;
	}
	*ops = &fake_dns_ops;
	*impl = &w->dns;
	return 0;
}

static int
env_get_fetch(void *arg, const struct fetch_ops **ops, void **impl,
    char *err, size_t errlen)
{
	struct fake_env *w = arg;

	w->nget_fetch++;
	if (w->get_fetch_fails) {
		(void)sd_snprintf(err, errlen, "fetch module refused by the "
		    "test");
		return -1;
	}
	*ops = &fake_fetch_ops;
	*impl = &w->fetch;
	return 0;
}

void
fake_env_init(struct fake_env *w, int with_cache)
{
	memset(w, 0, sizeof(*w));
	settings_init(&w->settings);
	w->settings.dns_timeout_ms = 5000;
	w->settings.fetch_timeout_ms = 5000;
	w->settings.negative_ttl = 3600;
	w->clock.now = 1700000000;
	w->clock.mono = 1000000;
	fake_dns_init(&w->dns);
	w->dns.clock = &w->clock;
	w->dns.process_advance_ms = 100;
	fake_fetch_init(&w->fetch);
	w->fetch.clock = &w->clock;
	fake_cache_init(&w->cache);

	w->env.settings = &w->settings;
	w->env.get_dns = env_get_dns;
	w->env.get_fetch = env_get_fetch;
	w->env.get_arg = w;
	if (with_cache)
		w->env.mem = remember_new_store(&fake_cache_ops, &w->cache, 0,
		    NULL);
	w->env.now = fake_clock_now;
	w->env.mono_ms = fake_clock_mono_ms;
	w->env.clock_arg = &w->clock;
}

void
fake_env_release(struct fake_env *w)
{
	remember_free(w->env.mem);
	w->env.mem = NULL;
	fake_cache_release(&w->cache);
	settings_release(&w->settings);
}
