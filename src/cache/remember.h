/*
 * remember.h - everything stsdane remembers, behind one owner
 *
 * Tiers, in the order they are asked:
 *	memo		decisions this process made, in the context
 *	answers file	final answers, one lock-free pread() (cache_ans.c)
 *	store		every record kind, shared by the MTA's processes:
 *			Berkeley DB (cache_bdb.c) behind struct cache_ops
 *	shared		optional: the same records, shared by a fleet of
 *			MTAs (cache_redis.c), remember_add_shared()
 * A new shared tier (a network store, say) is one more struct cache_ops
 * implementation handed to remember_new_store(); nothing above this
 * module knows which tiers exist.
 *
 * Record kinds and their keys, "PREFIX/DOMAIN" in the store:
 *	REM_POLICY	"sts/"	last valid MTA-STS policy, with its id
 *	REM_TXT_SEEN	"txt/"	the TXT id last seen, until it is due to be
 *				looked at again
 *	REM_NEGATIVE	"neg/"	no policy, or a recent failure, bounded
 *	REM_DANE	"dane/"	DANE result, or "DANE does not apply",
 *				until the smallest TTL involved
 *	REM_ANSWER	"ans/"	the final answer, as the answers file
 *				holds it
 *	REM_TLSRPT	"rpt/"	the _smtp._tls TXT record set (RFC 8460),
 *				one record per mx string, until its TTL
 * Every record is cache_record_encode()'s versioned encoding; a record
 * that does not decode, or has expired, is deleted and reads as absent.
 *
 * Lifetimes in the memo: a decision until its own expiry; a tempfail,
 * or a decision with no lifetime of its own (nothing could be cached
 * for it: NXDOMAIN, a TXT record that does not parse), REM_SHORT_HOLD
 * seconds, so that the expansions of one delivery (router, transport,
 * events) see one answer and a failing domain is not asked again for
 * every one of them.  A tempfail never reaches the answers file or the
 * store.  A NULL struct remember is valid everywhere: nothing is
 * remembered (STSDANE_QUERY_NO_CACHE).
 */
#ifndef STSDANE_REMEMBER_H
#define STSDANE_REMEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "util.h"

#define REM_MEMO_SLOTS 32
#define REM_SHORT_HOLD 30	/* seconds a tempfail stays in the memo */

enum rem_kind {
	REM_POLICY = 0, REM_TXT_SEEN, REM_NEGATIVE, REM_DANE, REM_ANSWER,
	REM_TLSRPT,
	REM_NKINDS
};

/* "sts", "txt", "neg", "dane", "ans", "rpt" */
const char *rem_kind_name(enum rem_kind k);
/* "PREFIX/DOMAIN" into key; 0, or -1 when it does not fit. */
int rem_key(enum rem_kind k, const char *domain, char *key, size_t len);
/* The kind and domain of a key; 0, or -1 for a key of no known kind. */
int rem_key_parse(const char *key, enum rem_kind *k, const char **domain);

struct remember;

/*
 * The tiers of a context: the answers file and Berkeley DB in directory
 * dir (NULL or "": memo only; the string must outlive r, as the
 * context's frozen settings do), opened on first need; a store that
 * cannot be opened is logged once and the decision goes on without it.
 */
struct remember *remember_new(const char *dir, unsigned max_entries,
    cache_log_fn *log, void *logarg);
/*
 * A store of the caller's (unit tests; a future shared tier), with
 * memo_slots memo entries (0: no memo) and the answers file in ans_dir
 * (NULL: none; the string must outlive r).
 */
struct remember *remember_new_store(const struct cache_ops *ops,
    void *impl, unsigned memo_slots, const char *ans_dir);
/*
 * The fleet's tier (cache_redis.c), asked after the store and before
 * the network; r owns impl from now on and closes it with close.
 */
void remember_add_shared(struct remember *r, const struct cache_ops *ops,
    void *impl, void (*close)(void *impl));
void remember_free(struct remember *r);
/*
 * r works in the background (--refresh), beside the deliveries:
 * gate(arg, 1) before and gate(arg, 0) after each of its writes to the
 * store, and its answers never displace another domain's in the answers
 * file (ans_update()).  --refresh runs many contexts in one process and
 * lets one write at a time: the store's lock is not first come, first
 * served, and a delivery process asking for it among dozens of writers
 * could wait past its deadline; and a walk over 10^5 domains would push
 * the deliveries' working set out of the answers file.  gate NULL: an
 * ordinary context again.
 */
void remember_set_background(struct remember *r, void (*gate)(void *arg,
    int enter), void *arg);
/*
 * The eviction rank of a stored record (cache_rank_fn, cache.h); arg is
 * the struct remember whose answers file says which domains were used
 * lately, or NULL.
 */
int remember_evict_rank(void *arg, const char *key, const unsigned char *val,
    size_t len, int64_t now);
/* Is the shared store usable?  Opens it on first call. */
int remember_have_store(struct remember *r);

/*
 * The final answer: memo, then answers file, then store; a hit in a
 * lower tier fills the tiers above it.  A copy, source CACHE, or NULL.
 */
struct stsdane_decision *remember_answer_get(struct remember *r,
    const char *domain, int64_t now);
/*
 * Remember d as the answer for its domain in the memo and the answers
 * file; with shared set, also in the store (a tempfail instead removes
 * the store's answer).
 */
void remember_answer_put(struct remember *r, const struct stsdane_decision *d,
    int64_t now, int shared);

/* The cached, unexpired MTA-STS policy, or NULL. */
struct stsdane_decision *remember_policy_get(struct remember *r,
    const char *domain, int64_t now);
void remember_policy_put(struct remember *r, const struct stsdane_decision *d,
    int64_t now);

struct rem_txt {
	char id[SD_MAX_ID + 1];
	int64_t expires;
};
/* 1 with *t filled, or 0. */
int remember_txt_get(struct remember *r, const char *domain, int64_t now,
    struct rem_txt *t);
void remember_txt_put(struct remember *r, const char *domain,
    const char *id, int64_t now, int64_t expires);

struct rem_neg {
	enum stsdane_problem problem;
	char reason[SD_ERRLEN];
	char id[SD_MAX_ID + 1];		/* the TXT id it was seen with, or "" */
	int64_t expires;
};
int remember_neg_get(struct remember *r, const char *domain, int64_t now,
    struct rem_neg *n);
void remember_neg_put(struct remember *r, const char *domain,
    const struct rem_neg *n, int64_t now);
void remember_neg_forget(struct remember *r, const char *domain);

/*
 * DANE: 1 with *d the DANE decision (mechanism DANE) and *until its
 * expiry; 1 with *d NULL when "DANE does not apply" is remembered until
 * *until; 0 when nothing is known.
 */
int remember_dane_get(struct remember *r, const char *domain, int64_t now,
    struct stsdane_decision **d, int64_t *until);
void remember_dane_put(struct remember *r, const struct stsdane_decision *d,
    int64_t now);
void remember_dane_none_put(struct remember *r, const char *domain,
    int64_t now, int64_t until);

/*
 * Administration (src/api/cache_admin.c).  remember_list() calls fn for every
 * stored decision: policies, DANE results and answers; the markers (TXT
 * id seen, negative answers, "no DANE") are not decisions and are not
 * listed.  remember_flush() removes every record of domain (all when
 * NULL) from every tier.  remember_expiring() calls fn with each domain
 * whose policy or DANE result expires before `before'.
 */
/*
 * The _smtp._tls TXT record set last looked up: a marker whose mx[]
 * holds the records (nmx 0: none published), valid until its expires;
 * NULL when not remembered.  Free with stsdane_decision_free().  A set
 * with a NUL byte in a record is not remembered.
 */
struct stsdane_decision *remember_tlsrpt_get(struct remember *r,
    const char *domain, int64_t now);
void remember_tlsrpt_put(struct remember *r, const char *domain,
    const char *const *recs, const size_t *lens, size_t n, int64_t now,
    int64_t expires);

int remember_list(struct remember *r, int (*fn)(void *arg, const char *kind,
    const struct stsdane_decision *d, int64_t learned), void *arg);
int remember_flush(struct remember *r, const char *domain);
int remember_expiring(struct remember *r, int64_t before,
    int (*fn)(void *arg, const char *domain), void *arg);

#endif /* STSDANE_REMEMBER_H */
