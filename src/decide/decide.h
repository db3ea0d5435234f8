/*
 * decide.h - the decision module: DANE first, then MTA-STS, remembered
 *
 * decide() combines the DNS, fetch and remembering layers, which it
 * reaches only through the structure below, and a clock.  Unit tests
 * hand it scripted layers, their own tiers and a clock they control; the
 * library hands it the real ones (src/api/api.c).
 *
 * Inside, four files: scheduler.c runs the lookups and the fetch in one event
 * loop, dane.c is the DANE half (RFC 7672), sts.c the MTA-STS half (RFC
 * 8461), and decide.c composes them with what is remembered.
 */
#ifndef STSDANE_DECIDE_H
#define STSDANE_DECIDE_H

#include <stdint.h>

#include "config.h"
#include "dns.h"
#include "fetch.h"
#include "remember.h"
#include "util.h"

struct decide_env {
	const struct settings *settings;
	/* DNS and fetch layers, set up on first need through these */
	int (*get_fetch)(void *arg, const struct fetch_ops **ops,
	    void **impl, char *err, size_t errlen);
	int (*get_dns)(void *arg, const struct dns_ops **ops, void **impl,
	    char *err, size_t errlen);
	void *get_arg;
	/* what is remembered, every tier: NULL when nothing is */
	struct remember *mem;
	/* wall clock, seconds since the epoch; monotonic milliseconds */
	int64_t (*now)(void *arg);
	int64_t (*mono_ms)(void *arg);
	void *clock_arg;
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;
	/* 1 in --refresh's workers: fetches wait for the per-address
	   limits, refresh_host_concurrency and refresh_host_rate */
	int host_limits;
};

/*
 * Decide for `domain' (already normalized).  STSDANE_OK with *out set, or
 * a negative error with err filled (resource failures only: every network
 * outcome is a decision, with tempfail set where the sender must defer).
 */
int decide(struct decide_env *env, const char *domain, unsigned flags,
    struct stsdane_decision **out, char *err, size_t errlen);

#endif /* STSDANE_DECIDE_H */
