/*
 * NAME
 *	cache_admin.c - list, flush and refresh the shared cache
 * SYNOPSIS
 *	int stsdane_cache_list(stsdane_ctx *ctx, stsdane_cache_fn *fn,
 *	    void *arg)
 *	int stsdane_cache_flush(stsdane_ctx *ctx, const char *domain)
 *	int stsdane_cache_refresh(stsdane_ctx *ctx, int64_t within,
 *	    stsdane_refresh_fn *fn, void *arg, size_t *count)
 *	int stsdane_cache_expiring(stsdane_ctx *ctx, int64_t within,
 *	    size_t *count)
 *	int64_t stsdane_cache_refresh_waited(const stsdane_ctx *ctx)
 * DESCRIPTION
 *	For sts-dane-query's --cache-list, --cache-flush and --refresh, and
 *	for cron jobs: the public face of remember.c, which owns the keys
 *	and walks the tiers.  List hands only decisions (policies, DANE
 *	results, answers), never the markers; entries that do not decode
 *	are skipped by list and removed by flush --all.  Refresh first
 *	collects the domains to refresh, then queries them, so that it
 *	never writes to the database while walking it: in a random order,
 *	refresh_concurrency at a time, each worker thread with a context
 *	of its own, whose policy fetches wait for the per-address limits
 *	(hostlimit.c).  fn is called for one domain at a time (under a mutex),
 *	from whichever thread decided it.  Deliveries are not held up: each
 *	write takes the store's lock for one put, as any decision does.
 * DIAGNOSTICS
 *	STSDANE_ERR_CACHE when no cache is configured or it cannot be
 *	opened; the detail is in stsdane_error().
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "hostlimit.h"
#include "remember.h"

static int
need_cache(stsdane_ctx *ctx, struct remember **r)
{
	const struct settings *s = ctx_settings(ctx);

	*r = ctx_remember(ctx);
	if (remember_have_store(*r))
		return STSDANE_OK;
	if (s->cache_path == NULL)
		return ctx_fail(ctx, STSDANE_ERR_CACHE,
		    "no cache_path in the configuration");
	return ctx_fail(ctx, STSDANE_ERR_CACHE, "cache '%s' cannot be used",
	    s->cache_path);
}

SD_EXPORT int
stsdane_cache_list(stsdane_ctx *ctx, stsdane_cache_fn *fn, void *arg)
{
	struct remember *r;
	int rc;

	if (ctx == NULL || fn == NULL)
		return STSDANE_ERR_INVAL;
	rc = need_cache(ctx, &r);
	if (rc != STSDANE_OK)
		return rc;
	return remember_list(r, fn, arg);
}

SD_EXPORT int
stsdane_cache_flush(stsdane_ctx *ctx, const char *domain)
{
	struct remember *r;
	char name[SD_MAX_NAME];
	int rc;

	if (ctx == NULL)
		return STSDANE_ERR_INVAL;
	rc = need_cache(ctx, &r);
	if (rc != STSDANE_OK)
		return rc;
	if (domain != NULL) {
		if (sd_hostname_normalize(domain, name, sizeof(name), 0) < 0)
			return ctx_fail(ctx, STSDANE_ERR_NAME,
			    "'%.*s' is not a valid domain name", 255, domain);
		domain = name;
	}
	rc = remember_flush(r, domain);
	if (rc != STSDANE_OK)
		return ctx_fail(ctx, rc, "cache flush failed");
	return STSDANE_OK;
}

/* ---- refresh ------------------------------------------------------------- */

static int
count_one(void *arg, const char *domain)
{
	(void)domain;
	(*(size_t *)arg)++;
	return 0;
}

SD_EXPORT int
stsdane_cache_expiring(stsdane_ctx *ctx, int64_t within, size_t *count)
{
	struct remember *r;
	int rc;

	if (ctx == NULL || count == NULL)
		return STSDANE_ERR_INVAL;
	*count = 0;
	rc = need_cache(ctx, &r);
	if (rc != STSDANE_OK)
		return rc;
	return remember_expiring(r, (int64_t)time(NULL) + within, count_one,
	    count);
}

struct refresh {
	pthread_mutex_t mu;		/* the fields below, and fn's calls */
	pthread_mutex_t wmu;		/* one store write at a time */
	char **v;			/* the domains, in a shuffled order */
	size_t n, cap;
	size_t next;			/* the next one to take */
	size_t done;
	int oom;			/* the list could not be made whole */
	stsdane_refresh_fn *fn;
	void *arg;
};

static int
collect_one(void *arg, const char *domain)
{
	struct refresh *st = arg;
	char *copy;

	if (st->n == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 256;
		char **v = realloc(st->v, cap * sizeof(*v));

		if (v == NULL) {
			st->oom = 1;
			return 1;
		}
		st->v = v;
		st->cap = cap;
	}
	if ((copy = sd_strdup(domain)) == NULL) {
		st->oom = 1;
		return 1;
	}
	st->v[st->n++] = copy;
	return 0;
}

/*
 * A random order, so that servers whose caches were filled alike do not
 * ask the same policy hosts at the same moment (the timer's
 * RandomizedDelaySec spreads the start; this spreads the order).
 */
static void
shuffle(struct refresh *st)
{
	uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
	    (uint64_t)(uintptr_t)st;
	size_t i;

	for (i = st->n; i > 1; i--) {
		size_t j;
		char *t;

		x ^= x << 13;		/* xorshift64: an order, not a secret */
		x ^= x >> 7;
		x ^= x << 17;
		j = (size_t)(x % i);
		t = st->v[i - 1];
		st->v[i - 1] = st->v[j];
		st->v[j] = t;
	}
}

static void
write_gate(void *arg, int enter)
{
	struct refresh *st = arg;

	if (enter)
		pthread_mutex_lock(&st->wmu);
	else
		pthread_mutex_unlock(&st->wmu);
}

struct worker {
	struct refresh *st;
	stsdane_ctx *ctx;
	pthread_t tid;
	int started;
};

/* Take domains until none is left; each decided afresh, then reported. */
static void *
work(void *arg)
{
	struct worker *w = arg;
	struct refresh *st = w->st;

	for (;;) {
		struct stsdane_decision *d = NULL;
		const char *domain;
		int rc;

		pthread_mutex_lock(&st->mu);
		domain = st->next < st->n ? st->v[st->next++] : NULL;
		pthread_mutex_unlock(&st->mu);
		if (domain == NULL)
			break;
		rc = stsdane_query(w->ctx, domain, STSDANE_QUERY_REFRESH, &d);
		pthread_mutex_lock(&st->mu);
		if (st->fn != NULL)
			st->fn(st->arg, domain, rc, d);
		st->done++;
		pthread_mutex_unlock(&st->mu);
		stsdane_decision_free(d);
	}
	return NULL;
}

/*
 * refresh_concurrency workers, each with a context of its own (its own
 * resolver and HTTPS connections; the cache is shared by design), the
 * first being the caller's.  A worker that cannot be set up leaves the
 * work to the others.
 */
static void
run_workers(stsdane_ctx *ctx, struct refresh *st)
{
	unsigned want = ctx_settings(ctx)->refresh_concurrency, i;
	struct worker one = { st, ctx, 0, 0 };
	struct worker *w = NULL;

	ctx_set_host_limits(ctx, 1);	/* and so every clone */
	if (want > st->n)
		want = (unsigned)st->n;
	if (want > 1)
		w = calloc(want, sizeof(*w));
	if (w == NULL || pthread_mutex_init(&st->wmu, NULL) != 0) {
		free(w);		/* one at a time, in this thread */
		(void)work(&one);
		ctx_set_host_limits(ctx, 0);
		return;
	}
	for (i = 0; i < want; i++) {
		w[i].st = st;
		w[i].ctx = i == 0 ? ctx : ctx_clone(ctx);
		if (w[i].ctx == NULL)
			continue;
		remember_set_background(ctx_remember(w[i].ctx), write_gate,
		    st);
		if (i > 0)
			w[i].started = pthread_create(&w[i].tid, NULL, work,
			    &w[i]) == 0;
	}
	(void)work(&w[0]);
	for (i = 1; i < want; i++) {
		if (w[i].started)
			(void)pthread_join(w[i].tid, NULL);
		stsdane_free(w[i].ctx);
	}
	remember_set_background(ctx_remember(ctx), NULL, NULL);
	ctx_set_host_limits(ctx, 0);
	pthread_mutex_destroy(&st->wmu);
	free(w);
}

SD_EXPORT int
stsdane_cache_refresh(stsdane_ctx *ctx, int64_t within,
    stsdane_refresh_fn *fn, void *arg, size_t *count)
{
	struct refresh st;
	struct remember *r;
	size_t i;
	int rc;

	if (count != NULL)
		*count = 0;
	if (ctx == NULL)
		return STSDANE_ERR_INVAL;
	rc = need_cache(ctx, &r);
	if (rc != STSDANE_OK)
		return rc;
	memset(&st, 0, sizeof(st));
	st.fn = fn;
	st.arg = arg;
	rc = remember_expiring(r, (int64_t)time(NULL) + within, collect_one,
	    &st);
	if (rc == STSDANE_OK && st.oom)
		rc = ctx_fail(ctx, STSDANE_ERR_NOMEM, "out of memory listing "
		    "the domains to refresh");
	if (rc == STSDANE_OK) {
		if (pthread_mutex_init(&st.mu, NULL) != 0)
			rc = ctx_fail(ctx, STSDANE_ERR_NOMEM,
			    "cannot set up the refresh");
		else {
			shuffle(&st);
			run_workers(ctx, &st);
			pthread_mutex_destroy(&st.mu);
		}
	}
	if (count != NULL)
		*count = st.done;
	for (i = 0; i < st.n; i++)
		free(st.v[i]);
	free(st.v);
	return rc;
}

SD_EXPORT int64_t
stsdane_cache_refresh_waited(const stsdane_ctx *ctx)
{
	(void)ctx;		/* the limits are the process's */
	return hostlimit_waited_ms();
}
