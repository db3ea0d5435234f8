/*
 * ctx.h - what the other modules may ask of the opaque stsdane_ctx
 *
 * The context (api.c) owns the settings and, once first needed, the
 * resolver, the fetch module and what is remembered (remember.h).  Its
 * structure is private to api.c; the modules that work for a context
 * (verify.c, probe_run.c, cache_admin.c) use these functions.
 */
#ifndef STSDANE_CTX_H
#define STSDANE_CTX_H

#include "config.h"
#include "util.h"

struct decide_env;
struct remember;

/* Record an error message for stsdane_error(); returns err. */
int ctx_fail(stsdane_ctx *ctx, int err, const char *fmt, ...)
    SD_PRINTF(3, 4);
/* Through the log callback (default: stderr for levels 0 and 1). */
void ctx_log(stsdane_ctx *ctx, int level, const char *fmt, ...)
    SD_PRINTF(3, 4);
/* The settings, read-only. */
const struct settings *ctx_settings(const stsdane_ctx *ctx);
/* The tiers of what is remembered; freezes the settings.  May be NULL
   (out of memory): remember.h accepts that everywhere. */
struct remember *ctx_remember(stsdane_ctx *ctx);
/*
 * The layers as decide() and the probe see them; freezes the settings.
 * flags: STSDANE_QUERY_NO_CACHE leaves env->mem NULL.
 */
void ctx_decide_env(stsdane_ctx *ctx, unsigned flags, struct decide_env *env);
/*
 * The TLS-RPT day file the context keeps open (src/report/record.c):
 * descriptor (-1: none) and its UTC day.  Closed by stsdane_free().
 */
struct ctx_tlsrpt {
	int fd;
	char day[16];
};
struct ctx_tlsrpt *ctx_tlsrpt(stsdane_ctx *ctx);

/*
 * A new context with a copy of ctx's settings and log callback, its
 * resolver and fetch module set up now (so that contexts made one after
 * another may then be used at once, one per thread; its resolver has
 * small caches, dns_unbound.c); NULL on failure.
 * Free it with stsdane_free().
 */
stsdane_ctx *ctx_clone(stsdane_ctx *ctx);
/*
 * on: the context's policy fetches wait for the per-address limits
 * (refresh_host_concurrency, refresh_host_rate), as --refresh's do;
 * contexts cloned from it then do too.  Off by default.
 */
void ctx_set_host_limits(stsdane_ctx *ctx, int on);

#endif /* STSDANE_CTX_H */
