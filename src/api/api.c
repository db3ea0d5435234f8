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
 *	what is remembered (remember.c: memo, answers file, Berkeley DB).
 *	Each is set up on first use only: a query answered from memory
 *	never touches the resolver or the fetch module.  Settings are
 *	frozen by the first query.  The structure is private to this file;
 *	other modules use src/api/ctx.h.
 * DIAGNOSTICS
 *	Functions return STSDANE_OK or a negative STSDANE_ERR_* code and
 *	leave the detail in the context, for stsdane_error().  A cache that
 *	cannot be used is reported once through the log callback; queries
 *	then go on uncached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "decide.h"
#include "remember.h"
#include "report.h"

struct stsdane_ctx {
	struct settings settings;
	int locked;			/* first query done: settings frozen */
	char error[SD_ERRLEN];		/* detail of the last error */
	char getbuf[1024];		/* stsdane_get()'s answer */

	const struct dns_ops *dns;	/* NULL until first needed */
	void *dns_impl;
	pid_t dns_pid;			/* process that set up dns_impl */
	int dns_lean;			/* a refresh worker's: small caches */
	const struct fetch_ops *fetch;	/* NULL until first needed */
	void *fetch_impl;
	struct remember *mem;		/* NULL until first needed */
	struct decide_env env;		/* stsdane_query()'s, set up once */
	int env_ready;
	int host_limits;		/* ctx_set_host_limits() */

	stsdane_log_fn *log;
	void *log_arg;
	struct ctx_tlsrpt tlsrpt;	/* the TLS-RPT day file, when open */
};

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

const struct settings *
ctx_settings(const stsdane_ctx *ctx)
{
	return &ctx->settings;
}

/*
 * A context with no resources yet: every descriptor field is -1, so that
 * stsdane_free() of a context that never opened them closes nothing (a
 * zeroed fd field would close descriptor 0, which by then may be another
 * context's database).
 */
static struct stsdane_ctx *
ctx_alloc(void)
{
	struct stsdane_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx != NULL)
		ctx->tlsrpt.fd = -1;
	return ctx;
}

SD_EXPORT stsdane_ctx *
stsdane_new(void)
{
	struct stsdane_ctx *ctx = ctx_alloc();

	if (ctx == NULL)
		return NULL;
	settings_init(&ctx->settings);
	return ctx;
}

struct ctx_tlsrpt *
ctx_tlsrpt(stsdane_ctx *ctx)
{
	return &ctx->tlsrpt;
}

SD_EXPORT void
stsdane_free(stsdane_ctx *ctx)
{
	if (ctx == NULL)
		return;
	remember_free(ctx->mem);
	if (ctx->tlsrpt.fd >= 0)
		(void)close(ctx->tlsrpt.fd);
	if (ctx->dns_impl != NULL && ctx->dns_pid == getpid())
		dns_unbound_free(ctx->dns_impl);
	if (ctx->fetch_impl != NULL)
		ctx->fetch->free(ctx->fetch_impl);
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

static int
get_dns(struct stsdane_ctx *ctx)
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
	ctx->dns_impl = dns_unbound_new(&ctx->settings, ctx->dns_lean, err,
	    sizeof(err));
	ctx->dns_pid = getpid();
	if (ctx->dns_impl == NULL)
		return ctx_fail(ctx, STSDANE_ERR_RESOLVER, "resolver: %s",
		    err);
	ctx->dns = &dns_unbound_ops;
	return STSDANE_OK;
}

static int
get_fetch(struct stsdane_ctx *ctx)
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

stsdane_ctx *
ctx_clone(stsdane_ctx *ctx)
{
	struct stsdane_ctx *c = ctx_alloc();

	if (c == NULL)
		return NULL;
	if (settings_copy(&c->settings, &ctx->settings) < 0) {
		free(c);
		return NULL;
	}
	c->log = ctx->log;
	c->log_arg = ctx->log_arg;
	c->dns_lean = 1;
	c->host_limits = ctx->host_limits;
	if (get_dns(c) != STSDANE_OK || get_fetch(c) != STSDANE_OK) {
		stsdane_free(c);
		return NULL;
	}
	return c;
}

static void
cache_log(void *arg, int level, const char *msg)
{
	ctx_log(arg, level, "%s", msg);
}

/* The fleet's tier, when shared_cache is set; not connected yet. */
static void
add_shared(stsdane_ctx *ctx)
{
	char err[SD_ERRLEN];
	void *impl;

	if (ctx->settings.shared_cache == NULL)
		return;
	impl = cache_redis_new(&ctx->settings, cache_log, ctx, err,
	    sizeof(err));
	if (impl == NULL) {
		ctx_log(ctx, 0, "shared cache not used: %s", err);
		return;
	}
	remember_add_shared(ctx->mem, &cache_redis_ops, impl,
	    cache_redis_close);
}

struct remember *
ctx_remember(stsdane_ctx *ctx)
{
	ctx->locked = 1;
	if (ctx->mem == NULL) {
		ctx->mem = remember_new(ctx->settings.cache_path,
		    ctx->settings.cache_max_entries, cache_log, ctx);
		if (ctx->mem != NULL)
			add_shared(ctx);
	}
	return ctx->mem;
}

static int
env_get_dns(void *arg, const struct dns_ops **ops, void **impl, char *err,
    size_t errlen)
{
	struct stsdane_ctx *ctx = arg;

	if (get_dns(ctx) != STSDANE_OK) {
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

	if (get_fetch(ctx) != STSDANE_OK) {
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

void
ctx_decide_env(stsdane_ctx *ctx, unsigned flags, struct decide_env *env)
{
	memset(env, 0, sizeof(*env));
	ctx->locked = 1;
	env->settings = &ctx->settings;
	env->get_dns = env_get_dns;
	env->get_fetch = env_get_fetch;
	env->get_arg = ctx;
	if (!(flags & STSDANE_QUERY_NO_CACHE))
		env->mem = ctx_remember(ctx);
	env->now = real_now;
	env->mono_ms = real_mono_ms;
	env->clock_arg = NULL;
	env->log = env_log;
	env->log_arg = ctx;
	env->host_limits = ctx->host_limits;
}

void
ctx_set_host_limits(stsdane_ctx *ctx, int on)
{
	ctx->host_limits = on;
	ctx->env.host_limits = on;
}

SD_EXPORT int
stsdane_query(stsdane_ctx *ctx, const char *domain, unsigned flags,
    struct stsdane_decision **out)
{
	char name[SD_MAX_NAME];

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || domain == NULL || out == NULL)
		return STSDANE_ERR_INVAL;
	if ((flags & STSDANE_QUERY_CACHE_ONLY) && (flags &
	    (STSDANE_QUERY_NO_CACHE | STSDANE_QUERY_REFRESH)))
		return ctx_fail(ctx, STSDANE_ERR_INVAL, "cache-only goes "
		    "with neither no-cache nor refresh");
	if (sd_hostname_normalize(domain, name, sizeof(name), 0) < 0)
		return ctx_fail(ctx, STSDANE_ERR_NAME,
		    "'%.*s' is not a valid domain name", 255, domain);
	if (!ctx->env_ready) {
		ctx_decide_env(ctx, STSDANE_QUERY_NO_CACHE, &ctx->env);
		ctx->env_ready = 1;
		/* so that a delivery process forked from this one only
		   writes its TLS-RPT records (docs/tlsrpt.md) */
		report_prepare(ctx);
	}
	ctx->env.mem = flags & STSDANE_QUERY_NO_CACHE ? NULL :
	    ctx_remember(ctx);
	return decide(&ctx->env, name, flags, out, ctx->error,
	    sizeof(ctx->error));
}
