/*
 * NAME
 *	cache_admin.c - list, flush and refresh the shared cache
 * SYNOPSIS
 *	int stsdane_cache_list(stsdane_ctx *ctx, stsdane_cache_fn *fn,
 *	    void *arg)
 *	int stsdane_cache_flush(stsdane_ctx *ctx, const char *domain)
 *	int stsdane_cache_refresh(stsdane_ctx *ctx, int64_t within,
 *	    stsdane_refresh_fn *fn, void *arg, size_t *count)
 * DESCRIPTION
 *	For sts-dane-query's --cache-list, --cache-flush and --refresh, and
 *	for cron jobs: the public face of remember.c, which owns the keys
 *	and walks the tiers.  List hands only decisions (policies, DANE
 *	results, answers), never the markers; entries that do not decode
 *	are skipped by list and removed by flush --all.  Refresh first
 *	collects the domains to refresh, then queries them, so that it
 *	never writes to the database while walking it.
 * DIAGNOSTICS
 *	STSDANE_ERR_CACHE when no cache is configured or it cannot be
 *	opened; the detail is in stsdane_error().
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"
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

struct refresh {
	stsdane_ctx *ctx;
	stsdane_refresh_fn *fn;
	void *arg;
	size_t n;
};

static int
refresh_one(void *arg, const char *domain)
{
	struct refresh *st = arg;
	struct stsdane_decision *d = NULL;
	int r = stsdane_query(st->ctx, domain, STSDANE_QUERY_REFRESH, &d);

	if (st->fn != NULL)
		st->fn(st->arg, domain, r, d);
	stsdane_decision_free(d);
	st->n++;
	return 0;
}

SD_EXPORT int
stsdane_cache_refresh(stsdane_ctx *ctx, int64_t within,
    stsdane_refresh_fn *fn, void *arg, size_t *count)
{
	struct refresh st = { ctx, fn, arg, 0 };
	struct remember *r;
	int rc;

	if (count != NULL)
		*count = 0;
	if (ctx == NULL)
		return STSDANE_ERR_INVAL;
	rc = need_cache(ctx, &r);
	if (rc != STSDANE_OK)
		return rc;
	rc = remember_expiring(r, (int64_t)time(NULL) + within, refresh_one,
	    &st);
	if (count != NULL)
		*count = st.n;
	return rc;
}
