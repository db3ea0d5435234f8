/*
 * ctx.h - the context behind the opaque stsdane_ctx
 *
 * Everything that lives as long as the process uses stsdane lives here,
 * not in globals.  The resolver, the fetch module and the cache are
 * created lazily, on first need, so that a decision served from the cache
 * never sets up the resolver or maps libcurl.
 */
#ifndef STSDANE_CTX_H
#define STSDANE_CTX_H

#include <sys/types.h>

#include "cache.h"
#include "dns.h"
#include "fetch.h"
#include "internal.h"

#define SD_MEMO 32

struct stsdane_ctx {
	struct settings settings;
	int locked;			/* first query done: settings frozen */
	char error[SD_ERRLEN];		/* detail of the last error */
	char getbuf[1024];		/* stsdane_get()'s answer */

	const struct dns_ops *dns;	/* NULL until first needed */
	void *dns_impl;
	pid_t dns_pid;			/* process that set up dns_impl */
	const struct fetch_ops *fetch;	/* NULL until first needed */
	void *fetch_impl;
	const struct cache_ops *cache;	/* NULL until opened */
	void *cache_impl;
	int cache_tried;		/* opened, or failed and logged once */
	struct ans_file *ans;		/* answers file beside the database */
	int ans_tried;

	stsdane_log_fn *log;
	void *log_arg;

	/*
	 * Decisions this process already made, each until its own expiry:
	 * a warm process answers without even reading the database.
	 * Replaced round-robin; never shared between domains.
	 */
	struct stsdane_decision *memo[SD_MEMO];
	unsigned memo_next;
};

/* ctx.c: record an error message; returns err for convenience */
int ctx_fail(struct stsdane_ctx *ctx, int err, const char *fmt, ...)
    SD_PRINTF(3, 4);
void ctx_log(struct stsdane_ctx *ctx, int level, const char *fmt, ...)
    SD_PRINTF(3, 4);
/* Set up the resolver if not done yet: STSDANE_OK or an error. */
int ctx_get_dns(struct stsdane_ctx *ctx);
/* Open the cache if configured and not tried yet; failure logged once. */
void ctx_get_cache(struct stsdane_ctx *ctx);
/* Forget the decisions this context remembers. */
void ctx_memo_clear(struct stsdane_ctx *ctx);
/* Load the fetch module if not done yet. */
int ctx_get_fetch(struct stsdane_ctx *ctx);

#endif /* STSDANE_CTX_H */
