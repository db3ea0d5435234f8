/*
 * NAME
 *	redis-tier - drive the shared cache tier against a real Redis
 * SYNOPSIS
 *	redis-tier order URL
 *	redis-tier run CONFIG SECONDS DOMAIN=MODE...
 *	redis-tier fresh CONFIG N DOMAIN
 *	redis-tier cost URL KEY N
 * DESCRIPTION
 *	order: through cache_redis.c itself, stores a record fetched at T2,
 *	then one of the same key fetched earlier (T1), and reads back: the
 *	later fetch must still be there (RFC 8461 5.1 across the fleet).
 *	Prints "kept T2" and exits 0, or says what it found.
 *
 *	run: one process, as an MTA's long-lived one: for SECONDS, for each
 *	DOMAIN in turn, forgets the domain locally (stsdane_cache_flush(),
 *	which leaves the fleet's copy alone) and decides it again, so every
 *	decision goes past the local tiers.  Each decision must have mode
 *	MODE.  Prints one line:
 *	    decisions N wrong N tempfail N shared N network N log N p50 MS max MS
 *	where "log" counts the lines about the shared cache the library
 *	logged; the lines themselves go to stderr.  Exits 0 when no
 *	decision was wrong.
 *
 *	fresh: N times, a new context with CONFIG and no local cache
 *	(cache_path empty) decides DOMAIN, as a fresh process whose local
 *	tiers miss: configuration, connection, one GET, the decode.
 *	Prints "n N p50_us X p99_us Y notshared N".
 *
 *	cost: what the tier adds to a fresh process's decision that misses
 *	locally, N times, each with a new tier (not yet connected) with
 *	shared_cache_key KEY and shared_cache_timeout 50: the GET of the
 *	answer, then the PUT of what the network taught.  Prints
 *	"n N p50_ms X max_ms Y".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "config.h"
#include "decision.h"
#include "stsdane.h"

#define MAX_SAMPLES 100000

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static unsigned nlog;

static void
count_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (strstr(msg, "shared cache") != NULL) {
		nlog++;
		fprintf(stderr, "log %d: %s\n", level, msg);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
order(const char *url)
{
	struct settings s;
	struct stsdane_decision *d;
	unsigned char *rec = NULL, *back = NULL;
	size_t len = 0, blen = 0;
	int64_t t = (int64_t)time(NULL), learned = 0;
	char err[512];
	void *impl;
	int i, rc = 1;

	settings_init(&s);
	if (settings_set(&s, "shared_cache", url, err, sizeof(err)) < 0 ||
	    settings_set(&s, "shared_cache_prefix", "order:", err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	impl = cache_redis_new(&s, NULL, NULL, err, sizeof(err));
	if (impl == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	for (i = 0; i < 2; i++) {
		/* first fetched at t (T2), then at t - 100 (T1) */
		d = decision_new("order.test");
		d->mechanism = STSDANE_MECH_MTASTS;
		d->mode = i == 0 ? STSDANE_MODE_ENFORCE : STSDANE_MODE_NONE;
		d->expires = t + 600;
		cache_record_encode(d, i == 0 ? t : t - 100, &rec, &len);
		stsdane_decision_free(d);
		if (cache_redis_ops.put(impl, "sts/order.test", rec, len) !=
		    STSDANE_OK)
			fprintf(stderr, "put %d failed\n", i);
		free(rec);
	}
	if (cache_redis_ops.get(impl, "sts/order.test", &back, &blen) ==
	    STSDANE_OK && cache_record_decode(back, blen, &d, &learned) ==
	    STSDANE_OK) {
		if (learned == t && d->mode == STSDANE_MODE_ENFORCE) {
			printf("kept T2\n");
			rc = 0;
		} else {
			printf("found the earlier fetch (mode %s)\n",
			    stsdane_mode_name(d->mode));
		}
		stsdane_decision_free(d);
	} else {
		printf("nothing read back\n");
	}
	free(back);
	cache_redis_close(impl);
	settings_release(&s);
	return rc;
}

static int
run(const char *conf, double seconds, int n, char **want)
{
	static double ms[MAX_SAMPLES];
	stsdane_ctx *ctx = stsdane_new();
	unsigned total = 0, wrong = 0, tf = 0, shared = 0, net = 0;
	double end;
	int i;

	if (ctx == NULL || stsdane_load_config(ctx, conf) != 0) {
		fprintf(stderr, "config: %s\n", ctx ? stsdane_error(ctx) : "");
		return 2;
	}
	stsdane_set_log(ctx, count_log, NULL);
	end = now_ms() + seconds * 1e3;
	while (now_ms() < end && total < MAX_SAMPLES) {
		for (i = 0; i < n && total < MAX_SAMPLES; i++) {
			char dom[256];
			const char *eq = strchr(want[i], '=');
			struct stsdane_decision *d = NULL;
			double t0;

			if (eq == NULL || (size_t)(eq - want[i]) >= sizeof(dom))
				return 2;
			memcpy(dom, want[i], (size_t)(eq - want[i]));
			dom[eq - want[i]] = '\0';
			(void)stsdane_cache_flush(ctx, dom);
			t0 = now_ms();
			(void)stsdane_query(ctx, dom, 0, &d);
			ms[total++] = now_ms() - t0;
			if (d == NULL || d->tempfail) {
				tf++;
			} else if (strcmp(stsdane_mode_name(d->mode),
			    eq + 1) != 0) {
				fprintf(stderr, "wrong: %s mode %s\n", dom,
				    stsdane_mode_name(d->mode));
				wrong++;
			}
			if (d != NULL && d->source == STSDANE_SOURCE_SHARED)
				shared++;
			else if (d != NULL && d->source ==
			    STSDANE_SOURCE_NETWORK)
				net++;
			stsdane_decision_free(d);
		}
	}
	qsort(ms, total, sizeof(ms[0]), cmp_double);
	printf("decisions %u wrong %u tempfail %u shared %u network %u "
	    "log %u p50 %.1f max %.1f\n", total, wrong, tf, shared, net, nlog,
	    total ? ms[total / 2] : 0.0, total ? ms[total - 1] : 0.0);
	stsdane_free(ctx);
	return wrong == 0 && tf == 0 ? 0 : 1;
}

static int
fresh(const char *conf, int n, const char *domain)
{
	static double ms[MAX_SAMPLES];
	unsigned notshared = 0;
	int i;

	if (n <= 0 || n > MAX_SAMPLES)
		return 2;
	for (i = 0; i < n; i++) {
		stsdane_ctx *ctx = stsdane_new();
		struct stsdane_decision *d = NULL;
		double t0 = now_ms();

		if (ctx == NULL || stsdane_load_config(ctx, conf) != 0 ||
		    stsdane_set(ctx, "cache_path", "") != 0)
			return 2;
		(void)stsdane_query(ctx, domain, 0, &d);
		if (d == NULL || d->source != STSDANE_SOURCE_SHARED)
			notshared++;
		stsdane_decision_free(d);
		stsdane_free(ctx);
		ms[i] = now_ms() - t0;
	}
	qsort(ms, (size_t)n, sizeof(ms[0]), cmp_double);
	printf("n %d p50_us %.0f p99_us %.0f notshared %u\n", n,
	    ms[n / 2] * 1e3, ms[(n * 99) / 100] * 1e3, notshared);
	return notshared == 0 ? 0 : 1;
}

static int
cost(const char *url, const char *key, int n)
{
	static double ms[MAX_SAMPLES];
	struct stsdane_decision *d = decision_new("cost.test");
	struct settings s;
	unsigned char *rec = NULL, *val;
	size_t len = 0, vlen;
	char err[512];
	int i;

	if (d == NULL || n <= 0 || n > MAX_SAMPLES)
		return 2;
	d->expires = (int64_t)time(NULL) + 600;
	if (cache_record_encode(d, (int64_t)time(NULL), &rec, &len) != 0)
		return 2;
	settings_init(&s);
	if (settings_set(&s, "shared_cache", url, err, sizeof(err)) < 0 ||
	    settings_set(&s, "shared_cache_key", key, err, sizeof(err)) < 0 ||
	    settings_set(&s, "shared_cache_timeout", "50", err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	for (i = 0; i < n; i++) {
		void *impl = cache_redis_new(&s, NULL, NULL, err, sizeof(err));
		double t0 = now_ms();

		if (impl == NULL)
			return 2;
		if (cache_redis_ops.get(impl, "ans/cost.test", &val, &vlen) ==
		    STSDANE_OK)
			free(val);
		(void)cache_redis_ops.put(impl, "ans/cost.test", rec, len);
		ms[i] = now_ms() - t0;
		cache_redis_close(impl);
	}
	qsort(ms, (size_t)n, sizeof(ms[0]), cmp_double);
	printf("n %d p50_ms %.2f max_ms %.2f\n", n, ms[n / 2], ms[n - 1]);
	free(rec);
	stsdane_decision_free(d);
	settings_release(&s);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "cost") == 0)
		return cost(argv[2], argv[3], (int)strtol(argv[4], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "fresh") == 0)
		return fresh(argv[2], (int)strtol(argv[3], NULL, 10), argv[4]);
	if (argc == 3 && strcmp(argv[1], "order") == 0)
		return order(argv[2]);
	if (argc >= 5 && strcmp(argv[1], "run") == 0)
		return run(argv[2], strtod(argv[3], NULL), argc - 4, argv + 4);
	fprintf(stderr, "usage: redis-tier order URL\n"
	    "       redis-tier run CONFIG SECONDS DOMAIN=MODE...\n");
	return 2;
}
