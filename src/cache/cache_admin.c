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
 *	for cron jobs.  Keys are "KIND/DOMAIN" (see src/cache.h); entries
 *	that do not decode are skipped by list and removed by flush --all.
 *	Refresh first collects the domains to refresh, then queries them,
 *	so that it never writes to the database while walking it.
 * DIAGNOSTICS
 *	STSDANE_ERR_CACHE when no cache is configured or it cannot be
 *	opened; the detail is in stsdane_error().
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"

static int
need_cache(struct stsdane_ctx *ctx)
{
	ctx->locked = 1;
	ctx_get_cache(ctx);
	if (ctx->cache != NULL)
		return STSDANE_OK;
	if (ctx->settings.cache_path == NULL)
		return ctx_fail(ctx, STSDANE_ERR_CACHE,
		    "no cache_path in the configuration");
	return ctx_fail(ctx, STSDANE_ERR_CACHE, "cache '%s' cannot be used",
	    ctx->settings.cache_path);
}

/* Split "kind/domain"; 0, or -1 when the key is not of that form. */
static int
split_key(const char *key, char *kind, size_t kindlen, const char **domain)
{
	const char *slash = strchr(key, '/');

	if (slash == NULL || (size_t)(slash - key) >= kindlen)
		return -1;
	memcpy(kind, key, (size_t)(slash - key));
	kind[slash - key] = '\0';
	*domain = slash + 1;
	return 0;
}

struct list_state {
	stsdane_cache_fn *fn;
	void *arg;
};

static int
list_one(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct list_state *st = arg;
	struct stsdane_decision *d = NULL;
	char kind[16];
	const char *domain;
	int64_t learned = 0;
	int stop;

	if (split_key(key, kind, sizeof(kind), &domain) < 0 ||
	    cache_record_decode(val, len, &d, &learned) != STSDANE_OK)
		return 0;
	d->source = STSDANE_SOURCE_CACHE;
	stop = st->fn(st->arg, kind, d, learned);
	stsdane_decision_free(d);
	return stop;
}

SD_EXPORT int
stsdane_cache_list(stsdane_ctx *ctx, stsdane_cache_fn *fn, void *arg)
{
	struct list_state st = { fn, arg };
	int rc = need_cache(ctx);

	if (rc != STSDANE_OK)
		return rc;
	return ctx->cache->foreach(ctx->cache_impl, list_one, &st);
}

/* Keys collected while walking, acted on afterwards. */
struct keys {
	char **v;
	size_t n, cap;
	const char *domain;	/* only this domain, or all when NULL */
	int64_t before;		/* refresh: expiring before this */
};

static int
keys_add(struct keys *k, const char *s)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->v[i], s) == 0)
			return 0;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;
		char **v = realloc(k->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n] = sd_strdup(s);
	if (k->v[k->n] == NULL)
		return -1;
	k->n++;
	return 0;
}

static void
keys_release(struct keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
}

static int
collect_flush(void *arg, const char *key, const unsigned char *val,
    size_t len)
{
	struct keys *k = arg;
	char kind[16];
	const char *domain;

	if (k->domain != NULL && (split_key(key, kind, sizeof(kind),
	    &domain) < 0 || strcmp(domain, k->domain) != 0))
		return 0;
	return keys_add(k, key) < 0;
}

SD_EXPORT int
stsdane_cache_flush(stsdane_ctx *ctx, const char *domain)
{
	struct keys k;
	char name[SD_MAX_NAME];
	size_t i;
	int rc = need_cache(ctx);

	if (rc != STSDANE_OK)
		return rc;
	memset(&k, 0, sizeof(k));
	if (domain != NULL) {
		if (sd_hostname_normalize(domain, name, sizeof(name), 0) < 0)
			return ctx_fail(ctx, STSDANE_ERR_INVAL,
			    "'%.*s' is not a valid domain name", 255, domain);
		k.domain = name;
	}
	ctx_memo_clear(ctx);
	if (k.domain != NULL)
		ans_del(ctx->ans, k.domain);
	else
		ans_clear(ctx->ans);
	rc = ctx->cache->foreach(ctx->cache_impl, collect_flush, &k);
	for (i = 0; i < k.n && rc == STSDANE_OK; i++) {
		int r = ctx->cache->del(ctx->cache_impl, k.v[i]);

		if (r != STSDANE_OK && r != STSDANE_ERR_NOTFOUND)
			rc = r;
	}
	keys_release(&k);
	if (rc != STSDANE_OK)
		return ctx_fail(ctx, rc, "cache flush failed");
	return STSDANE_OK;
}

static int
collect_refresh(void *arg, const char *key, const unsigned char *val,
    size_t len)
{
	struct keys *k = arg;
	struct stsdane_decision *d = NULL;
	char kind[16];
	const char *domain;
	int64_t learned;
	int rc = 0;

	if (split_key(key, kind, sizeof(kind), &domain) < 0 ||
	    (strcmp(kind, "sts") != 0 && strcmp(kind, "dane") != 0))
		return 0;
	if (cache_record_decode(val, len, &d, &learned) != STSDANE_OK)
		return 0;
	/* DANE markers for "no DANE" are refreshed with their domain's
	   policy; a DANE result or a policy close to expiry is refreshed */
	if (d->expires < k->before &&
	    (strcmp(kind, "sts") == 0 || d->mechanism == STSDANE_MECH_DANE))
		rc = keys_add(k, domain) < 0;
	stsdane_decision_free(d);
	return rc;
}

SD_EXPORT int
stsdane_cache_refresh(stsdane_ctx *ctx, int64_t within,
    stsdane_refresh_fn *fn, void *arg, size_t *count)
{
	struct keys k;
	size_t i;
	int rc = need_cache(ctx);

	if (count != NULL)
		*count = 0;
	if (rc != STSDANE_OK)
		return rc;
	memset(&k, 0, sizeof(k));
	k.before = (int64_t)time(NULL) + within;
	rc = ctx->cache->foreach(ctx->cache_impl, collect_refresh, &k);
	for (i = 0; i < k.n && rc == STSDANE_OK; i++) {
		struct stsdane_decision *d = NULL;
		int r = stsdane_query(ctx, k.v[i], STSDANE_QUERY_REFRESH, &d);

		if (fn != NULL)
			fn(arg, k.v[i], r, d);
		stsdane_decision_free(d);
	}
	if (count != NULL)
		*count = k.n;
	keys_release(&k);
	return rc;
}
