/*
 * cache.h - the tiers below remember.c: the store interface and its
 * Berkeley DB implementation, the answers file, the record encoding
 *
 * A store is byte strings by key, shared by every process of the MTA
 * (cache_bdb.c, on Berkeley DB), reached through struct cache_ops so
 * that unit tests give an in-memory one and a new shared tier is one
 * more implementation.  What is stored, under which keys, is
 * remember.h's business alone.
 */
#ifndef STSDANE_CACHE_H
#define STSDANE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "stsdane.h"

typedef void cache_log_fn(void *arg, int level, const char *msg);

struct cache_ops {
	/* STSDANE_OK with *val malloc'd, STSDANE_ERR_NOTFOUND, or
	   STSDANE_ERR_CACHE */
	int (*get)(void *impl, const char *key, unsigned char **val,
	    size_t *len);
	int (*put)(void *impl, const char *key, const unsigned char *val,
	    size_t len);
	int (*del)(void *impl, const char *key);
	/* call fn for every entry; fn returns nonzero to stop */
	int (*foreach)(void *impl, int (*fn)(void *arg, const char *key,
	    const unsigned char *val, size_t len), void *arg);
};

/*
 * cache_bdb.c.  Open (creating if needed) the environment in directory
 * `dir'.  A corrupt database is moved aside with one log line and
 * rebuilt.  NULL with err set when the cache cannot be used at all (the
 * caller then decides uncached and logs that once).
 */
void *cache_bdb_open(const char *dir, unsigned max_entries,
    cache_log_fn *log, void *logarg, char *err, size_t errlen);
void cache_bdb_close(void *impl);
extern const struct cache_ops cache_bdb_ops;

/*
 * Eviction order, from the owner of the records (remember.c): the rank
 * of the value stored under key, at time now.  When the store is full,
 * the lowest rank goes first, and within a rank the one stored longest
 * ago (the least recently written).
 */
enum {
	CACHE_RANK_DROP = 0,	/* expired, or unreadable */
	CACHE_RANK_ORDINARY = 1,
	CACHE_RANK_RECENT = 2,	/* its domain was used lately */
	CACHE_RANK_KEEP = 3	/* only after everything else */
};
typedef int cache_rank_fn(void *arg, const char *key,
    const unsigned char *val, size_t len, int64_t now);
void cache_bdb_set_rank(void *impl, cache_rank_fn *fn, void *arg);
/*
 * on: the handle's writes are a background job's (the refresh), whose
 * fsync waits outside the lock (cache_bdb.c).
 */
void cache_bdb_set_lazy_sync(void *impl, int on);

/*
 * cache_record.c: a decision plus the time it was learned, as bytes.
 * The encoding starts with a format version; a record of another version
 * or a damaged one decodes as STSDANE_ERR_NOTFOUND, never as data.
 */
int cache_record_encode(const struct stsdane_decision *d, int64_t learned,
    unsigned char **out, size_t *outlen);
int cache_record_decode(const unsigned char *in, size_t len,
    struct stsdane_decision **out, int64_t *learned);
/*
 * The mechanism, mode and expiry of a record, checked as decode checks
 * it (envelope, version, checksum) but with nothing allocated: for the
 * eviction's rank, which looks at up to thousands of records a put.
 */
struct record_peek {
	enum stsdane_mechanism mechanism;
	enum stsdane_mode mode;
	int64_t expires;
};
int cache_record_peek(const unsigned char *in, size_t len,
    struct record_peek *out);

/*
 * cache_ans.c: the answers file beside the database, read without a lock
 * in one pread(); see the file's header.  ans_get() returns a decision
 * valid now, or NULL; the others do their best and report nothing.
 */
struct ans_file;
struct ans_file *ans_open(const char *dir, cache_log_fn *log, void *logarg);
struct stsdane_decision *ans_get(struct ans_file *a, const char *domain,
    int64_t now);
void ans_put(struct ans_file *a, const struct stsdane_decision *d,
    int64_t now);
/* ans_put(), but never over another domain's answer (background work) */
void ans_update(struct ans_file *a, const struct stsdane_decision *d,
    int64_t now);
void ans_del(struct ans_file *a, const char *domain);
/* Does domain's slot name domain (an answer there, valid or not)? */
int ans_holds(const struct ans_file *a, const char *domain);
void ans_clear(struct ans_file *a);
void ans_close(struct ans_file *a);

/*
 * cache_redis.c: the fleet's shared tier (settings shared_cache*),
 * connected on first use.  NULL with err when the settings cannot make
 * one.  The envelope of its values, as pure functions: seal puts rec
 * inside it (with an HMAC-SHA256 under secret, when not NULL); open
 * returns STSDANE_OK with *rec pointing into val, or
 * STSDANE_ERR_NOTFOUND for anything that is not a whole, authentic
 * envelope of this version.
 */
struct settings;
void *cache_redis_new(const struct settings *s, cache_log_fn *log,
    void *logarg, char *err, size_t errlen);
void cache_redis_close(void *impl);
extern const struct cache_ops cache_redis_ops;
int redis_record_seal(const char *key, const unsigned char *rec, size_t len,
    int64_t fetched, int64_t expires, const unsigned char *secret,
    size_t slen, unsigned char **out, size_t *outlen);
int redis_record_open(const char *key, const unsigned char *val, size_t len,
    const unsigned char *secret, size_t slen, const unsigned char **rec,
    size_t *reclen, int64_t *fetched);

#endif /* STSDANE_CACHE_H */
