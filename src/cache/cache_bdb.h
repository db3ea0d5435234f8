/*
 * cache_bdb.h - inside the Berkeley DB tier: shared by cache_bdb.c (the
 * operations), cache_bdb_lock.c (lock file, sessions, repair) and
 * cache_bdb_evict.c (which entry goes at the bound)
 *
 * Nothing outside those files includes this; the rest of the library
 * sees the tier only as struct cache_ops (cache.h).
 */
#ifndef STSDANE_CACHE_BDB_H
#define STSDANE_CACHE_BDB_H

#include <db.h>
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "cache.h"
#include "util.h"

#define DB_NAME "stsdane.db"
#define LOCK_NAME "stsdane.lock"
#define ASIDE_TAG ".corrupt-"
#define ASIDE_KEEP 3

#define FILE_MODE 0640
#define DIR_MODE 0750

#define LOCK_WAIT_MS 1000	/* longest wait for the lock, per call */
#define CACHE_BYTES (1024 * 1024)
#define DEFAULT_MAX_ENTRIES 10000
#define MAX_KEY 512
#define EVICT_SAMPLE 8
#define EVICT_PER_PUT 4
#define EVICT_SCAN 1024	/* looked at beyond the sample for a non-keeper */

/* Lock file header. */
#define HDR_MAGIC "SDLK"
#define HDR_VERSION 1
#define HDR_SIZE 36
#define STATE_CLEAN 0
#define STATE_WRITING 1

/* Byte ranges that carry the locks, past the header. */
#define TURNSTILE_OFF 1024
#define DATA_OFF 1025

/* Value envelope. */
#define VAL_MAGIC "SDV"
#define VAL_VERSION 1
#define VAL_HDR 12

struct hdr {
	int valid;		/* magic, version and checksum were right */
	uint32_t state;
	uint64_t gen;		/* bumped when the database is replaced */
	uint64_t serial;	/* bumped by every write */
};

struct bdb_cache {
	char dir[PATH_MAX];
	char dbpath[PATH_MAX];
	char lockpath[PATH_MAX];
	unsigned max_entries;
	cache_rank_fn *rank;	/* NULL: every entry ordinary */
	void *rank_arg;
	cache_log_fn *log;
	void *logarg;
	int lockfd;
	pid_t pid;		/* process that opened lockfd and handles */
	int own_files;		/* root in someone else's directory */
	uid_t dir_uid;
	gid_t dir_gid;

	DB_ENV *env;		/* open handles, current as of serial/gen */
	DB *db;
	uint64_t serial;
	uint64_t gen;

	uint64_t rng;
	char dberr[256];	/* last message from Berkeley DB */
	int lazy_sync;		/* fsync after the lock is released */
};

/* Internal results, wider than the cache_ops ones. */
enum {
	CR_OK = 0,
	CR_ABSENT,		/* no such key, or no database yet */
	CR_BUSY,			/* lock not had in time */
	CR_CORRUPT,		/* the database is damaged */
	CR_FAIL			/* I/O error, out of memory */
};

/* cache_bdb_lock.c */
uint64_t be_get(const unsigned char *p, int n);
void be_put(unsigned char *p, uint64_t v, int n);
int classify(struct bdb_cache *c, int ret, const char *what);
int damage_found(struct bdb_cache *c, int have_write, uint64_t gen);
void handles_close(struct bdb_cache *c);
int handles_ensure(struct bdb_cache *c, const struct hdr *h, int create);
int hdr_write(struct bdb_cache *c, const struct hdr *h);
int rebuild_locked(struct bdb_cache *c, struct hdr *h, const char *why);
uint64_t rng_next(struct bdb_cache *c);

/* cache_bdb.c: is this a value with a sound envelope? */
int valid_value(const unsigned char *p, size_t n);
/* cache_bdb_evict.c: evict for a put of key k, under the write lock. */
int make_room(struct bdb_cache *c, DBT *k);
void session_end(struct bdb_cache *c);
int session_open(struct bdb_cache *c, int write, struct hdr *h);

#endif /* STSDANE_CACHE_BDB_H */
