/*
 * NAME
 *	api.c - the public context: settings, lazy layers, queries
 * SYNOPSIS
 *	#include <stsdane.h>
 *
 *	stsdane_ctx *stsdane_new(void)
 *	int stsdane_load_config(stsdane_ctx *ctx, const char *path)
 *	int stsdane_set(stsdane_ctx *ctx, const char *key, const char *value)
 *	int stsdane_query(stsdane_ctx *ctx, const char *domain,
 *	    unsigned flags, struct stsdane_decision **out)
 *	void stsdane_free(stsdane_ctx *ctx)
 * DESCRIPTION
 *	The context owns the settings and, once first needed, the resolver
 *	(libunbound), the fetch module (libcurl, in stsdane-fetch.so) and
 *	the cache (Berkeley DB).  Each is set up on first use only: a query
 *	answered from the cache never touches the resolver or the fetch
 *	module.  Settings are frozen by the first query.
 * DIAGNOSTICS
 *	Functions return STSDANE_OK or a negative STSDANE_ERR_* code and
 *	leave the detail in the context, for stsdane_error().  A cache that
 *	cannot be used is reported once through the log callback; queries
 *	then go on uncached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "decide.h"

SD_EXPORT const char *
stsdane_strerror(int err)
{
	switch (err) {
	case STSDANE_OK: return "success";
	case STSDANE_ERR_NOMEM: return "out of memory";
	case STSDANE_ERR_INVAL: return "invalid argument";
	case STSDANE_ERR_CONFIG: return "bad configuration";
	case STSDANE_ERR_IO: return "file could not be read or written";
	case STSDANE_ERR_RESOLVER: return "resolver could not be set up";
	case STSDANE_ERR_FETCH: return "HTTPS fetch could not be set up";
	case STSDANE_ERR_CACHE: return "cache could not be used";
	case STSDANE_ERR_SYNTAX: return "syntax error";
	case STSDANE_ERR_TLS: return "TLS failure";
	case STSDANE_ERR_LOCKED: return "settings cannot change after first use";
	case STSDANE_ERR_VERSION: return "unsupported interface version";
	case STSDANE_ERR_NOTFOUND: return "not found";
	case STSDANE_ERR_VERIFY: return "certificate does not satisfy the decision";
	case STSDANE_ERR_NETWORK: return "network failure";
	}
	return "unknown error";
}

SD_EXPORT const char *
stsdane_mechanism_name(enum stsdane_mechanism m)
{
	switch (m) {
	case STSDANE_MECH_NONE: return "none";
	case STSDANE_MECH_MTASTS: return "mta-sts";
	case STSDANE_MECH_DANE: return "dane";
	}
	return "unknown";
}

SD_EXPORT const char *
stsdane_mode_name(enum stsdane_mode m)
{
	switch (m) {
	case STSDANE_MODE_NONE: return "none";
	case STSDANE_MODE_TESTING: return "testing";
	case STSDANE_MODE_ENFORCE: return "enforce";
	}
	return "unknown";
}

SD_EXPORT const char *
stsdane_source_name(enum stsdane_source s)
{
	return s == STSDANE_SOURCE_CACHE ? "cache" : "network";
}

SD_EXPORT const char *
stsdane_dane_status_name(enum stsdane_dane_status s)
{
	switch (s) {
	case STSDANE_DANE_INSECURE: return "insecure";
	case STSDANE_DANE_SECURE: return "secure";
	case STSDANE_DANE_UNUSABLE: return "unusable";
	case STSDANE_DANE_BOGUS: return "bogus";
	case STSDANE_DANE_TEMPFAIL: return "tempfail";
	}
	return "unknown";
}

SD_EXPORT const char *
stsdane_problem_name(enum stsdane_problem p)
{
	switch (p) {
	case STSDANE_PROBLEM_NONE: return "none";
	case STSDANE_PROBLEM_TXT_MISSING: return "txt-missing";
	case STSDANE_PROBLEM_TXT_SYNTAX: return "txt-syntax";
	case STSDANE_PROBLEM_TXT_MULTIPLE: return "txt-multiple";
	case STSDANE_PROBLEM_DNS_TEMPFAIL: return "dns-tempfail";
	case STSDANE_PROBLEM_DNS_BOGUS: return "dns-bogus";
	case STSDANE_PROBLEM_POLICY_HOST_DNS: return "policy-host-dns";
	case STSDANE_PROBLEM_CONNECT: return "connect";
	case STSDANE_PROBLEM_TLS: return "tls";
	case STSDANE_PROBLEM_TIMEOUT: return "timeout";
	case STSDANE_PROBLEM_HTTP_REDIRECT: return "http-redirect";
	case STSDANE_PROBLEM_HTTP_STATUS: return "http-status";
	case STSDANE_PROBLEM_MEDIA_TYPE: return "media-type";
	case STSDANE_PROBLEM_TOO_LARGE: return "too-large";
	case STSDANE_PROBLEM_POLICY_SYNTAX: return "policy-syntax";
	case STSDANE_PROBLEM_NULL_MX: return "null-mx";
	case STSDANE_PROBLEM_DANE_UNUSABLE: return "dane-unusable";
	case STSDANE_PROBLEM_FETCH_OTHER: return "fetch-other";
	case STSDANE_PROBLEM_INTERNAL: return "internal";
	case STSDANE_PROBLEM_HEADER_TOO_LONG: return "header-too-long";
	case STSDANE_PROBLEM_HEADER_FLOOD: return "header-flood";
	}
	return "unknown";
}

int
ctx_fail(struct stsdane_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)sd_vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	return err;
}

void
ctx_log(struct stsdane_ctx *ctx, int level, const char *fmt, ...)
{
	char buf[SD_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	(void)sd_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ctx->log != NULL)
		ctx->log(ctx->log_arg, level, buf);
	else if (level <= 1)
		fprintf(stderr, "stsdane: %s\n", buf);
}

SD_EXPORT stsdane_ctx *
stsdane_new(void)
{
	struct stsdane_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	settings_init(&ctx->settings);
	return ctx;
}

void
ctx_memo_clear(struct stsdane_ctx *ctx)
{
	unsigned i;

	for (i = 0; i < SD_MEMO; i++) {
		stsdane_decision_free(ctx->memo[i]);
		ctx->memo[i] = NULL;
	}
}

/* A copy of the remembered decision for `domain', or NULL. */
static struct stsdane_decision *
memo_get(struct stsdane_ctx *ctx, const char *domain, int64_t now)
{
	struct stsdane_decision *d;
	unsigned i;

	for (i = 0; i < SD_MEMO; i++) {
		if (ctx->memo[i] == NULL ||
		    strcmp(ctx->memo[i]->domain, domain) != 0)
			continue;
		if (ctx->memo[i]->expires <= now) {
			stsdane_decision_free(ctx->memo[i]);
			ctx->memo[i] = NULL;
			return NULL;
		}
		d = decision_copy(ctx->memo[i]);
		if (d != NULL)
			d->source = STSDANE_SOURCE_CACHE;
		return d;
	}
	return NULL;
}

static void
memo_put(struct stsdane_ctx *ctx, const struct stsdane_decision *d,
    int64_t now)
{
	struct stsdane_decision *copy;
	unsigned i, slot = ctx->memo_next;

	if (d->tempfail || d->expires <= now)
		return;
	for (i = 0; i < SD_MEMO; i++)
		if (ctx->memo[i] != NULL &&
		    strcmp(ctx->memo[i]->domain, d->domain) == 0) {
			slot = i;
			break;
		}
	copy = decision_copy(d);
	if (copy == NULL)
		return;
	if (slot == ctx->memo_next)
		ctx->memo_next = (ctx->memo_next + 1) % SD_MEMO;
	stsdane_decision_free(ctx->memo[slot]);
	ctx->memo[slot] = copy;
}

SD_EXPORT void
stsdane_free(stsdane_ctx *ctx)
{
	if (ctx == NULL)
		return;
	ctx_memo_clear(ctx);
	if (ctx->dns_impl != NULL && ctx->dns_pid == getpid())
		dns_unbound_free(ctx->dns_impl);
	if (ctx->fetch_impl != NULL)
		ctx->fetch->free(ctx->fetch_impl);
	if (ctx->cache_impl != NULL)
		cache_bdb_close(ctx->cache_impl);
	ans_close(ctx->ans);
	settings_release(&ctx->settings);
	free(ctx);
}

SD_EXPORT const char *
stsdane_error(const stsdane_ctx *ctx)
{
	if (ctx == NULL)
		return "no context";
	return ctx->error[0] != '\0' ? ctx->error : "no error";
}

SD_EXPORT void
stsdane_set_log(stsdane_ctx *ctx, stsdane_log_fn *fn, void *arg)
{
	ctx->log = fn;
	ctx->log_arg = arg;
}

SD_EXPORT int
stsdane_load_config(stsdane_ctx *ctx, const char *path)
{
	int ioerr = 0;

	if (ctx == NULL || path == NULL)
		return STSDANE_ERR_INVAL;
	if (ctx->locked)
		return ctx_fail(ctx, STSDANE_ERR_LOCKED,
		    "configuration '%s' loaded after first query", path);
	if (settings_load_file(&ctx->settings, path, ctx->error,
	    sizeof(ctx->error), &ioerr) < 0)
		return ioerr ? STSDANE_ERR_IO : STSDANE_ERR_CONFIG;
	return STSDANE_OK;
}

SD_EXPORT int
stsdane_set(stsdane_ctx *ctx, const char *key, const char *value)
{
	if (ctx == NULL || key == NULL || value == NULL)
		return STSDANE_ERR_INVAL;
	if (ctx->locked)
		return ctx_fail(ctx, STSDANE_ERR_LOCKED,
		    "setting '%s' changed after first query", key);
	if (settings_set(&ctx->settings, key, value, ctx->error,
	    sizeof(ctx->error)) < 0)
		return STSDANE_ERR_CONFIG;
	return STSDANE_OK;
}

SD_EXPORT const char *
stsdane_get(stsdane_ctx *ctx, const char *key)
{
	if (ctx == NULL || key == NULL)
		return NULL;
	return settings_get(&ctx->settings, key, ctx->getbuf,
	    sizeof(ctx->getbuf));
}

int
ctx_get_dns(struct stsdane_ctx *ctx)
{
	char err[SD_ERRLEN];

	if (ctx->dns_impl != NULL && ctx->dns_pid == getpid())
		return STSDANE_OK;
	/*
	 * A resolver set up before fork() (an MTA routes in one process and
	 * delivers in a forked one) has lost its worker thread: abandon it
	 * without tearing it down, which would wait for that thread, and
	 * set up this process's own.
	 */
	ctx->dns_impl = dns_unbound_new(&ctx->settings, err, sizeof(err));
	ctx->dns_pid = getpid();
	if (ctx->dns_impl == NULL)
		return ctx_fail(ctx, STSDANE_ERR_RESOLVER, "resolver: %s",
		    err);
	ctx->dns = &dns_unbound_ops;
	return STSDANE_OK;
}

int
ctx_get_fetch(struct stsdane_ctx *ctx)
{
	char err[SD_ERRLEN];
	const struct fetch_ops *ops;

	if (ctx->fetch_impl != NULL)
		return STSDANE_OK;
	ops = fetch_load(err, sizeof(err));
	if (ops == NULL)
		return ctx_fail(ctx, STSDANE_ERR_FETCH, "%s", err);
	ctx->fetch_impl = ops->new(err, sizeof(err));
	if (ctx->fetch_impl == NULL)
		return ctx_fail(ctx, STSDANE_ERR_FETCH, "fetch: %s", err);
	ctx->fetch = ops;
	return STSDANE_OK;
}

static void
cache_log(void *arg, int level, const char *msg)
{
	ctx_log(arg, level, "cache: %s", msg);
}

/* Open the cache on first need; a failure is logged once, then ignored. */
void
ctx_get_cache(struct stsdane_ctx *ctx)
{
	char err[SD_ERRLEN];

	if (ctx->cache_tried)
		return;
	ctx->cache_tried = 1;
	if (ctx->settings.cache_path == NULL ||
	    ctx->settings.cache_path[0] == '\0')
		return;
	ctx->cache_impl = cache_bdb_open(ctx->settings.cache_path,
	    ctx->settings.cache_max_entries, cache_log, ctx, err,
	    sizeof(err));
	if (ctx->cache_impl == NULL) {
		ctx_log(ctx, 0, "cache '%s' not used, deciding uncached: %s",
		    ctx->settings.cache_path, err);
		return;
	}
	ctx->cache = &cache_bdb_ops;
	if (ctx->ans == NULL)	/* the directory exists now */
		ctx->ans = ans_open(ctx->settings.cache_path, cache_log, ctx);
}

/*
 * The answers file, without opening the database: a cached decision
 * found there costs one read and never starts Berkeley DB.
 */
static void
ctx_get_ans(struct stsdane_ctx *ctx)
{
	if (ctx->ans != NULL || ctx->ans_tried)
		return;
	ctx->ans_tried = 1;
	if (ctx->settings.cache_path != NULL &&
	    ctx->settings.cache_path[0] != '\0')
		ctx->ans = ans_open(ctx->settings.cache_path, cache_log, ctx);
}

static int
env_get_dns(void *arg, const struct dns_ops **ops, void **impl, char *err,
    size_t errlen)
{
	struct stsdane_ctx *ctx = arg;

	if (ctx_get_dns(ctx) != STSDANE_OK) {
		(void)sd_strlcpy(err, ctx->error, errlen);
		return -1;
	}
	*ops = ctx->dns;
	*impl = ctx->dns_impl;
	return 0;
}

static int
env_get_fetch(void *arg, const struct fetch_ops **ops, void **impl,
    char *err, size_t errlen)
{
	struct stsdane_ctx *ctx = arg;

	if (ctx_get_fetch(ctx) != STSDANE_OK) {
		(void)sd_strlcpy(err, ctx->error, errlen);
		return -1;
	}
	*ops = ctx->fetch;
	*impl = ctx->fetch_impl;
	return 0;
}

static int64_t
real_now(void *arg)
{
	return (int64_t)time(NULL);
}

static int64_t
real_mono_ms(void *arg)
{
	return sd_mono_ms();
}

static void
env_log(void *arg, int level, const char *msg)
{
	ctx_log(arg, level, "%s", msg);
}

SD_EXPORT int
stsdane_query(stsdane_ctx *ctx, const char *domain, unsigned flags,
    struct stsdane_decision **out)
{
	struct decide_env env;
	char name[SD_MAX_NAME];
	int64_t now;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || domain == NULL || out == NULL)
		return STSDANE_ERR_INVAL;
	if (sd_hostname_normalize(domain, name, sizeof(name), 0) < 0)
		return ctx_fail(ctx, STSDANE_ERR_INVAL,
		    "'%.*s' is not a valid domain name", 255, domain);
	ctx->locked = 1;
	now = (int64_t)time(NULL);
	if (!(flags & (STSDANE_QUERY_NO_CACHE | STSDANE_QUERY_REFRESH))) {
		*out = memo_get(ctx, name, now);
		if (*out != NULL)
			return STSDANE_OK;
		ctx_get_ans(ctx);
		*out = ans_get(ctx->ans, name, now);
		if (*out != NULL) {
			memo_put(ctx, *out, now);
			return STSDANE_OK;
		}
	}
	if (!(flags & STSDANE_QUERY_NO_CACHE))
		ctx_get_cache(ctx);

	memset(&env, 0, sizeof(env));
	env.settings = &ctx->settings;
	env.get_dns = env_get_dns;
	env.get_fetch = env_get_fetch;
	env.get_arg = ctx;
	if (!(flags & STSDANE_QUERY_NO_CACHE)) {
		env.cache = ctx->cache;
		env.cache_impl = ctx->cache_impl;
	}
	env.now = real_now;
	env.mono_ms = real_mono_ms;
	env.log = env_log;
	env.log_arg = ctx;
	rc = decide(&env, name, flags, out, ctx->error, sizeof(ctx->error));
	if (rc == STSDANE_OK && !(flags & STSDANE_QUERY_NO_CACHE)) {
		memo_put(ctx, *out, now);
		ans_put(ctx->ans, *out, now);
	}
	return rc;
}
