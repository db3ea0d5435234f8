/*
 * NAME
 *	cache_bdb.c - the shared, crash-safe cache store on Berkeley DB 5.3
 * SYNOPSIS
 *	#include "cache.h"
 *
 *	void *cache_bdb_open(const char *dir, unsigned max_entries,
 *	    cache_log_fn *log, void *logarg, char *err, size_t errlen)
 *	void cache_bdb_close(void *impl)
 *	extern const struct cache_ops cache_bdb_ops
 * DESCRIPTION
 *	Byte strings by key, shared by every process of the MTA at once,
 *	in directory `dir':
 *
 *	  stsdane.db     a Berkeley DB btree (page checksums, record
 *	                 numbers), opened in a private environment whose
 *	                 home is `dir'
 *	  stsdane.lock   the lock file: a 36-byte header (magic, version,
 *	                 state, generation, serial, CRC-32) plus two byte
 *	                 ranges that carry open-file-description locks
 *
 *	Why not a shared Berkeley DB environment: its regions hold POSIX
 *	mutexes and read/write latches in shared memory, and a process
 *	killed while holding one leaves every other process that needs it
 *	blocked for ever; neither lock timeouts (they cover logical locks,
 *	not mutexes) nor failchk (only the failchk thread is let through)
 *	bound that wait.  Kernel file locks die with their process, so
 *	they are the coordination here; docs/cache.md has the long form.
 *
 *	Readers share the data lock, writers hold it alone; a turnstile
 *	range taken just before it keeps a stream of readers from starving
 *	a writer.  Every lock is polled against a deadline (1 s): when it
 *	passes, the call returns STSDANE_ERR_CACHE and the caller decides
 *	uncached.  A writer marks the header "writing" before it touches
 *	the database and "clean" after it has flushed it; a process that
 *	finds "writing" knows one died mid-write and verifies the database
 *	(DB->verify) before anyone reads it again.  Each write bumps the
 *	serial; a process keeps its handles across calls and reopens them
 *	only when the serial moved, so a get in a warm process is a few
 *	system calls.
 *
 *	A database that fails to open, fails a page checksum, fails
 *	verification or returns an unexpected error is renamed to
 *	stsdane.db.corrupt-YYYYMMDDTHHMMSSZ with one log line and the
 *	cache starts empty; the generation in the header makes sure only
 *	one of the processes that noticed does it.  At most three such
 *	files are kept.
 *
 *	Each stored value is prefixed with a small envelope ("SDV", a
 *	version byte, the store time) that eviction uses: when a new key
 *	would exceed max_entries, a few entries from a random position
 *	are sampled and the one stored longest ago is deleted.  A value
 *	whose envelope is wrong reads as absent and is deleted.
 *
 *	Files are created mode 0640 (the directory 0750) whatever the
 *	umask; when root creates them in a directory owned by another
 *	user, they are given to that user, so that a cron job run as root
 *	does not lock the MTA out of its own cache.
 *
 *	get() returns a malloc'd copy the caller frees.  foreach() copies
 *	the entries out under the lock and calls fn after releasing it, so
 *	fn may call the other operations.  A handle is for one thread; a
 *	process that forks may go on using it in both processes.
 * DIAGNOSTICS
 *	cache_bdb_open() returns NULL with err set when the directory
 *	cannot be created, is not a directory, or cannot be written.
 *	Operations return STSDANE_OK, STSDANE_ERR_NOTFOUND or
 *	STSDANE_ERR_CACHE (lock wait over, I/O error, damaged database
 *	just moved aside).
 * SEE ALSO
 *	cache.h, cache_record.c, docs/cache.md
 */
#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

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
};

/* Internal results, wider than the cache_ops ones. */
enum {
	CR_OK = 0,
	CR_ABSENT,		/* no such key, or no database yet */
	CR_BUSY,			/* lock not had in time */
	CR_CORRUPT,		/* the database is damaged */
	CR_FAIL			/* I/O error, out of memory */
};

static void cache_log(struct bdb_cache *c, int level, const char *fmt, ...)
    SD_PRINTF(3, 4);

static void
cache_log(struct bdb_cache *c, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	char *p;

	if (c->log == NULL)
		return;
	va_start(ap, fmt);
	(void)sd_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (p = buf; *p != '\0'; p++)	/* one line, whatever BDB said */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	c->log(c->logarg, level, buf);
}

static void
bdb_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	struct bdb_cache *c = env->app_private;

	/* the first message names the cause; later ones are its echoes */
	if (c != NULL && c->dberr[0] == '\0')
		(void)sd_strlcpy(c->dberr, msg, sizeof(c->dberr));
}

static uint64_t
rng_next(struct bdb_cache *c)
{
	uint64_t x = c->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	c->rng = x;
	return x;
}


static void
be_put(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t
be_get(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * File locks.  Open-file-description locks, because classic POSIX locks
 * belong to the process: two handles in one process would not exclude
 * each other, and closing any descriptor of the file would drop both.
 */
static int
lock_try(int fd, short type, off_t off)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = off;
	fl.l_len = 1;
	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* CR_OK, CR_BUSY when the deadline passed, CR_FAIL on another error. */
static int
lock_wait(int fd, short type, off_t off, int64_t deadline)
{
	long pause_us = 50;

	for (;;) {
		struct timespec ts;

		if (lock_try(fd, type, off) == 0)
			return CR_OK;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return CR_FAIL;
		if (sd_mono_ms() >= deadline)
			return CR_BUSY;
		ts.tv_sec = 0;
		ts.tv_nsec = pause_us * 1000;
		(void)nanosleep(&ts, NULL);
		if (pause_us < 2000)
			pause_us *= 2;
	}
}

static void
unlock_range(int fd, off_t off)
{
	(void)lock_try(fd, F_UNLCK, off);
}

/* Take the data lock, shared or exclusive, through the turnstile. */
static int
session_begin(struct bdb_cache *c, int write)
{
	int64_t deadline = sd_mono_ms() + LOCK_WAIT_MS;
	short type = write ? F_WRLCK : F_RDLCK;
	int rc;

	rc = lock_wait(c->lockfd, type, TURNSTILE_OFF, deadline);
	if (rc != CR_OK)
		return rc;
	rc = lock_wait(c->lockfd, type, DATA_OFF, deadline);
	unlock_range(c->lockfd, TURNSTILE_OFF);
	return rc;
}

static void
session_end(struct bdb_cache *c)
{
	unlock_range(c->lockfd, DATA_OFF);
}

static void
hdr_read(struct bdb_cache *c, struct hdr *h)
{
	unsigned char b[HDR_SIZE];

	memset(h, 0, sizeof(*h));
	if (pread(c->lockfd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return;
	if (memcmp(b, HDR_MAGIC, 4) != 0 || be_get(b + 4, 4) != HDR_VERSION ||
	    sd_crc32(0, b, 32) != (uint32_t)be_get(b + 32, 4))
		return;
	h->state = (uint32_t)be_get(b + 8, 4);
	h->gen = be_get(b + 16, 8);
	h->serial = be_get(b + 24, 8);
	h->valid = h->state == STATE_CLEAN || h->state == STATE_WRITING;
}

static int
hdr_write(struct bdb_cache *c, const struct hdr *h)
{
	unsigned char b[HDR_SIZE];

	memset(b, 0, sizeof(b));
	memcpy(b, HDR_MAGIC, 4);
	be_put(b + 4, HDR_VERSION, 4);
	be_put(b + 8, h->state, 4);
	be_put(b + 16, h->gen, 8);
	be_put(b + 24, h->serial, 8);
	be_put(b + 32, sd_crc32(0, b, 32), 4);
	if (pwrite(c->lockfd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return CR_FAIL;
	return CR_OK;
}

/*
 * Next generation.  After a lost header the old number is unknown, so
 * take one that no process can still hold handles for.
 */
static void
next_gen(struct bdb_cache *c, struct hdr *h)
{
	if (h->valid)
		h->gen++;
	else
		h->gen = ((uint64_t)time(NULL) << 20) ^
		    (rng_next(c) & 0xfffff);
}

/* Modes and owner of a file we just created. */
static void
adopt_file(struct bdb_cache *c, const char *path)
{
	(void)chmod(path, FILE_MODE);
	if (c->own_files)
		(void)chown(path, c->dir_uid, c->dir_gid);
}

static void
handles_close(struct bdb_cache *c)
{
	if (c->db != NULL)
		(void)c->db->close(c->db, DB_NOSYNC);
	if (c->env != NULL)
		(void)c->env->close(c->env, 0);
	c->db = NULL;
	c->env = NULL;
}

static int
env_open(struct bdb_cache *c, DB_ENV **out)
{
	DB_ENV *env;
	int ret;

	*out = NULL;
	if ((ret = db_env_create(&env, 0)) != 0)
		return ret;
	env->app_private = c;
	env->set_errcall(env, bdb_errcall);
	(void)env->set_cachesize(env, 0, CACHE_BYTES, 1);
	/* never map the file: a truncation by someone else would SIGBUS */
	(void)env->set_flags(env, DB_NOMMAP, 1);
	ret = env->open(env, c->dir, DB_CREATE | DB_PRIVATE | DB_INIT_MPOOL,
	    FILE_MODE);
	if (ret != 0) {
		(void)env->close(env, 0);
		return ret;
	}
	*out = env;
	return 0;
}

/* Is this Berkeley DB error a sign of a damaged database? */
static int
is_damage(int ret)
{
	switch (ret) {
	case ENOMEM:
	case ENOSPC:
	case EACCES:
	case EPERM:
	case EROFS:
	case EIO:
	case EDQUOT:
	case EMFILE:
	case ENFILE:
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		return 0;
	default:
		return 1;
	}
}

static int
classify(struct bdb_cache *c, int ret, const char *what)
{
	if (c->dberr[0] == '\0')
		(void)sd_snprintf(c->dberr, sizeof(c->dberr), "%s: %s", what,
		    db_strerror(ret));
	return is_damage(ret) ? CR_CORRUPT : CR_FAIL;
}

/*
 * Make c->db current for header h.  Without `create', a missing
 * database is CR_ABSENT.  The caller holds the data lock.
 */
static int
handles_ensure(struct bdb_cache *c, const struct hdr *h, int create)
{
	struct stat st;
	int ret, created = 0;
	u_int32_t flags = 0;

	if (c->db != NULL && c->serial == h->serial && c->gen == h->gen)
		return CR_OK;
	handles_close(c);
	if (stat(c->dbpath, &st) < 0) {
		if (errno != ENOENT)
			return CR_FAIL;
		if (!create)
			return CR_ABSENT;
		flags = DB_CREATE | DB_EXCL;
		created = 1;
	} else if (st.st_size == 0) {
		/* BDB would quietly initialise an empty file */
		(void)sd_strlcpy(c->dberr, "database file is empty",
		    sizeof(c->dberr));
		return CR_CORRUPT;
	}
	c->dberr[0] = '\0';
	if ((ret = env_open(c, &c->env)) != 0) {
		(void)classify(c, ret, "environment open");
		return CR_FAIL;
	}
	if ((ret = db_create(&c->db, c->env, 0)) != 0) {
		handles_close(c);
		return CR_FAIL;
	}
	(void)c->db->set_flags(c->db, DB_CHKSUM | DB_RECNUM);
	ret = c->db->open(c->db, NULL, DB_NAME, NULL, DB_BTREE, flags,
	    FILE_MODE);
	if (ret != 0) {
		int r = classify(c, ret, "open");

		c->db->close(c->db, DB_NOSYNC);
		c->db = NULL;
		handles_close(c);
		return r;
	}
	if (created) {
		adopt_file(c, c->dbpath);
		if ((ret = c->db->sync(c->db, 0)) != 0) {
			handles_close(c);
			return classify(c, ret, "sync");
		}
	}
	c->serial = h->serial;
	c->gen = h->gen;
	return CR_OK;
}

/* Remove all but the newest ASIDE_KEEP - 1 moved-aside files. */
static void
prune_aside(struct bdb_cache *c)
{
	char names[16][64];
	size_t n = 0, i, j;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(c->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < 16) {
		if (strncmp(de->d_name, DB_NAME ASIDE_TAG,
		    sizeof(DB_NAME ASIDE_TAG) - 1) != 0)
			continue;
		if (sd_strlcpy(names[n], de->d_name, sizeof(names[n])) == 0)
			n++;
	}
	closedir(d);
	/* the names end in a timestamp: sorted by name is sorted by age */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char t[64];

			memcpy(t, names[j], sizeof(t));
			memcpy(names[j], names[j - 1], sizeof(t));
			memcpy(names[j - 1], t, sizeof(t));
		}
	for (i = 0; i + (ASIDE_KEEP - 1) < n; i++) {
		char path[PATH_MAX];

		if (sd_snprintf(path, sizeof(path), "%s/%s", c->dir,
		    names[i]) == 0)
			(void)unlink(path);
	}
}

/*
 * Replace a damaged database: move it aside, log once, start empty.
 * The caller holds the data lock exclusively and has read h.
 */
static int
rebuild_locked(struct bdb_cache *c, struct hdr *h, const char *why)
{
	char aside[PATH_MAX], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int moved = 0;

	handles_close(c);
	gmtime_r(&now, &tm);
	if (strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		stamp[0] = '\0';
	if (access(c->dbpath, F_OK) == 0) {
		prune_aside(c);
		if (sd_snprintf(aside, sizeof(aside), "%s" ASIDE_TAG "%s",
		    c->dbpath, stamp) < 0)
			return CR_FAIL;
		if (access(aside, F_OK) == 0 &&
		    sd_snprintf(aside, sizeof(aside), "%s" ASIDE_TAG "%s-%ld",
		    c->dbpath, stamp, (long)getpid()) < 0)
			return CR_FAIL;
		if (rename(c->dbpath, aside) < 0 && unlink(c->dbpath) < 0) {
			cache_log(c, 0, "cache database '%s' is damaged (%s) and "
			    "cannot be moved aside: %s", c->dbpath, why,
			    strerror(errno));
			return CR_FAIL;
		}
		moved = 1;
	}
	next_gen(c, h);
	h->serial++;
	h->state = STATE_CLEAN;
	h->valid = 1;
	if (hdr_write(c, h) != CR_OK) {
		cache_log(c, 0, "cache lock file '%s' cannot be written: %s",
		    c->lockpath, strerror(errno));
		return CR_FAIL;
	}
	if (moved)
		cache_log(c, 1, "cache database '%s' is damaged (%s): moved aside "
		    "to '%s', starting with an empty cache", c->dbpath, why,
		    aside);
	else
		cache_log(c, 1, "cache lock file '%s' was damaged (%s): reset",
		    c->lockpath, why);
	return CR_OK;
}

/* Full structural check of the database file, in a private handle. */
static int
verify_db(struct bdb_cache *c)
{
	DB_ENV *env;
	DB *db;
	int ret;

	c->dberr[0] = '\0';
	if ((ret = env_open(c, &env)) != 0)
		return CR_FAIL;
	if ((ret = db_create(&db, env, 0)) != 0) {
		(void)env->close(env, 0);
		return CR_FAIL;
	}
	/* DB->verify always destroys the handle */
	ret = db->verify(db, DB_NAME, NULL, NULL, 0);
	(void)env->close(env, 0);
	if (ret == 0)
		return CR_OK;
	if (c->dberr[0] == '\0')
		(void)sd_strlcpy(c->dberr, db_strerror(ret),
		    sizeof(c->dberr));
	return is_damage(ret) ? CR_CORRUPT : CR_FAIL;
}

/*
 * The header says a writer died, or is damaged: decide, under the
 * exclusive lock, whether the database can still be trusted.
 */
static int
repair_locked(struct bdb_cache *c, struct hdr *h)
{
	struct stat st;
	char why[300];
	int rc, fresh;

	handles_close(c);
	fresh = !h->valid && fstat(c->lockfd, &st) == 0 && st.st_size == 0;
	if (access(c->dbpath, F_OK) < 0) {
		/* nothing to trust or distrust */
		if (!h->valid && !fresh)
			return rebuild_locked(c, h, "bad header");
		next_gen(c, h);
		h->serial++;
		h->state = STATE_CLEAN;
		h->valid = 1;
		return hdr_write(c, h);
	}
	rc = verify_db(c);
	if (rc == CR_FAIL)
		return CR_FAIL;
	if (rc == CR_CORRUPT) {
		(void)sd_snprintf(why, sizeof(why), "%s%s",
		    h->valid ? "left half-written by a process that died: " :
		    "", c->dberr);
		return rebuild_locked(c, h, why);
	}
	if (!h->valid) {
		/* the database is sound; only the header was lost */
		next_gen(c, h);
		h->serial++;
		h->state = STATE_CLEAN;
		h->valid = 1;
		if (hdr_write(c, h) != CR_OK)
			return CR_FAIL;
		cache_log(c, 1, "cache lock file '%s' was %s: reset, database "
		    "verified", c->lockpath, fresh ? "empty" : "damaged");
		return CR_OK;
	}
	cache_log(c, 3, "cache database '%s' verified after an interrupted "
	    "write", c->dbpath);
	h->serial++;
	h->state = STATE_CLEAN;
	return hdr_write(c, h);
}

/*
 * Start a session with a trustworthy database: lock, check the header,
 * repair if needed (which needs the exclusive lock, so a reader lets go
 * and comes back).  On CR_OK the lock is held and *h is current.
 */
static int
session_open(struct bdb_cache *c, int write, struct hdr *h)
{
	int tries, rc;

	for (tries = 0; tries < 3; tries++) {
		if ((rc = session_begin(c, write)) != CR_OK)
			return rc;
		hdr_read(c, h);
		if (h->valid && h->state == STATE_CLEAN)
			return CR_OK;
		if (!write) {
			session_end(c);
			if ((rc = session_begin(c, 1)) != CR_OK)
				return rc;
			hdr_read(c, h);
			if (h->valid && h->state == STATE_CLEAN) {
				session_end(c);
				continue;
			}
		}
		rc = repair_locked(c, h);
		if (rc != CR_OK) {
			session_end(c);
			return rc;
		}
		if (write)
			return CR_OK;
		session_end(c);
	}
	return CR_BUSY;
}

/*
 * Damage seen during a session: take the exclusive lock (a reader lets
 * go of its shared one first) and rebuild, unless someone else already
 * did since generation `gen'.  Returns with no lock held.
 */
static int
damage_found(struct bdb_cache *c, int have_write, uint64_t gen)
{
	struct hdr h;
	char why[300];
	int rc;

	(void)sd_strlcpy(why, c->dberr[0] ? c->dberr : "unexpected error",
	    sizeof(why));
	handles_close(c);
	if (!have_write) {
		session_end(c);
		if ((rc = session_begin(c, 1)) != CR_OK)
			return rc;
	}
	hdr_read(c, &h);
	if (h.valid && h.gen != gen)
		rc = CR_OK;
	else
		rc = rebuild_locked(c, &h, why);
	session_end(c);
	return rc;
}

static int
check_key(const char *key, size_t *len)
{
	if (key == NULL)
		return -1;
	*len = strlen(key);
	return *len == 0 || *len >= MAX_KEY ? -1 : 0;
}

static int
to_api(int rc)
{
	switch (rc) {
	case CR_OK:
		return STSDANE_OK;
	case CR_ABSENT:
		return STSDANE_ERR_NOTFOUND;
	default:
		return STSDANE_ERR_CACHE;
	}
}

/* A forked child must not share the parent's lock description. */
static int
after_fork(struct bdb_cache *c)
{
	int fd;

	if (c->pid == getpid())
		return CR_OK;
	handles_close(c);
	fd = open(c->lockpath, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return CR_FAIL;
	(void)close(c->lockfd);
	c->lockfd = fd;
	c->pid = getpid();
	return CR_OK;
}

static int
valid_value(const unsigned char *p, size_t n)
{
	return n >= VAL_HDR && memcmp(p, VAL_MAGIC, 3) == 0 &&
	    p[3] == VAL_VERSION;
}

static int bdb_del(void *impl, const char *key);

static int
bdb_get(void *impl, const char *key, unsigned char **val, size_t *len)
{
	struct bdb_cache *c = impl;
	DBT k, d;
	struct hdr h;
	size_t klen;
	int rc, ret, bad = 0;

	*val = NULL;
	*len = 0;
	if (c == NULL || check_key(key, &klen) < 0)
		return STSDANE_ERR_CACHE;
	if (after_fork(c) != CR_OK)
		return STSDANE_ERR_CACHE;
	if ((rc = session_open(c, 0, &h)) != CR_OK)
		return to_api(rc);
	rc = handles_ensure(c, &h, 0);
	if (rc == CR_CORRUPT) {
		(void)damage_found(c, 0, h.gen);
		return STSDANE_ERR_NOTFOUND;
	}
	if (rc != CR_OK) {
		session_end(c);
		return to_api(rc);
	}
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	d.flags = DB_DBT_MALLOC;
	c->dberr[0] = '\0';
	ret = c->db->get(c->db, NULL, &k, &d, 0);
	if (ret == DB_NOTFOUND || ret == DB_KEYEMPTY) {
		session_end(c);
		return STSDANE_ERR_NOTFOUND;
	}
	if (ret != 0) {
		if (classify(c, ret, "get") == CR_CORRUPT) {
			(void)damage_found(c, 0, h.gen);
			return STSDANE_ERR_NOTFOUND;
		}
		session_end(c);
		return STSDANE_ERR_CACHE;
	}
	session_end(c);
	if (!valid_value(d.data, d.size)) {
		bad = 1;
	} else {
		*len = d.size - VAL_HDR;
		*val = malloc(*len ? *len : 1);
		if (*val == NULL) {
			free(d.data);
			*len = 0;
			return STSDANE_ERR_CACHE;
		}
		memcpy(*val, (unsigned char *)d.data + VAL_HDR, *len);
	}
	free(d.data);
	if (bad) {
		(void)bdb_del(c, key);
		return STSDANE_ERR_NOTFOUND;
	}
	return STSDANE_OK;
}

/*
 * Evict one entry: sample a few from a random position and delete the
 * one stored longest ago (a damaged one at once).
 */
static int
evict_one(struct bdb_cache *c, db_recno_t n)
{
	unsigned char kbuf[MAX_KEY], vbuf[VAL_HDR], victim[MAX_KEY];
	u_int32_t vlen = 0;
	int64_t oldest = INT64_MAX;
	db_recno_t recno;
	DBC *cur;
	DBT k, d;
	int i, ret;

	if ((ret = c->db->cursor(c->db, NULL, &cur, 0)) != 0)
		return ret;
	recno = (db_recno_t)(1 + rng_next(c) % n);
	for (i = 0; i < EVICT_SAMPLE; i++) {
		memset(&k, 0, sizeof(k));
		memset(&d, 0, sizeof(d));
		k.data = kbuf;
		k.ulen = sizeof(kbuf);
		k.flags = DB_DBT_USERMEM;
		d.data = vbuf;
		d.ulen = sizeof(vbuf);
		d.dlen = sizeof(vbuf);
		d.doff = 0;
		d.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
		if (i == 0) {
			k.size = sizeof(recno);
			memcpy(kbuf, &recno, sizeof(recno));
			ret = cur->get(cur, &k, &d, DB_SET_RECNO);
		} else {
			ret = cur->get(cur, &k, &d, DB_NEXT);
			if (ret == DB_NOTFOUND)
				ret = cur->get(cur, &k, &d, DB_FIRST);
		}
		if (ret != 0)
			break;
		if (!valid_value(vbuf, d.size)) {
			memcpy(victim, kbuf, k.size);
			vlen = k.size;
			break;
		}
		if ((int64_t)be_get(vbuf + 4, 8) < oldest) {
			oldest = (int64_t)be_get(vbuf + 4, 8);
			memcpy(victim, kbuf, k.size);
			vlen = k.size;
		}
	}
	(void)cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND && vlen == 0)
		return ret;
	if (vlen == 0)
		return 0;
	memset(&k, 0, sizeof(k));
	k.data = victim;
	k.size = vlen;
	ret = c->db->del(c->db, NULL, &k, 0);
	return ret == DB_NOTFOUND ? 0 : ret;
}

static int
make_room(struct bdb_cache *c, DBT *k)
{
	DB_BTREE_STAT *st = NULL;
	db_recno_t n;
	int ret, i;

	ret = c->db->exists(c->db, NULL, k, 0);
	if (ret == 0)
		return 0;	/* replacing: the count does not grow */
	if (ret != DB_NOTFOUND)
		return ret;
	for (i = 0; i < EVICT_PER_PUT; i++) {
		if ((ret = c->db->stat(c->db, NULL, &st, DB_FAST_STAT)) != 0)
			return ret;
		n = st->bt_nkeys;
		free(st);
		if (n < c->max_entries || n == 0)
			return 0;
		if ((ret = evict_one(c, n)) != 0)
			return ret;
	}
	return 0;
}

/*
 * The change itself, on current handles: mark the header, change,
 * flush, mark it clean.  buf is the enveloped value, or NULL for del.
 */
static int
write_one(struct bdb_cache *c, struct hdr *h, const char *key, size_t klen,
    unsigned char *buf, size_t vlen)
{
	DBT k, d;
	int ret, sret;

	h->state = STATE_WRITING;
	if (hdr_write(c, h) != CR_OK)
		return CR_FAIL;
	memset(&k, 0, sizeof(k));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	c->dberr[0] = '\0';
	if (buf != NULL) {
		memset(&d, 0, sizeof(d));
		d.data = buf;
		d.size = (u_int32_t)(VAL_HDR + vlen);
		ret = make_room(c, &k);
		if (ret == 0)
			ret = c->db->put(c->db, NULL, &k, &d, 0);
	} else {
		ret = c->db->del(c->db, NULL, &k, 0);
	}
	if (ret != 0 && ret != DB_NOTFOUND)
		return classify(c, ret, buf != NULL ? "put" : "del");
	if ((sret = c->db->sync(c->db, 0)) != 0)
		return classify(c, sret, "sync");
	h->state = STATE_CLEAN;
	h->serial++;
	if (hdr_write(c, h) != CR_OK)
		return CR_FAIL;
	c->serial = h->serial;	/* our handles hold what we wrote */
	return ret == 0 ? CR_OK : CR_ABSENT;
}

/*
 * One write under the exclusive lock: op is put (val != NULL) or del.
 * The header says "writing" from before the first change until the
 * database has been flushed.
 */
static int
write_op(struct bdb_cache *c, const char *key, size_t klen,
    const unsigned char *val, size_t vlen)
{
	unsigned char *buf = NULL;
	char why[300];
	struct hdr h;
	int rc, attempt;

	if ((rc = session_open(c, 1, &h)) != CR_OK)
		return rc;
	if (val != NULL) {
		buf = malloc(VAL_HDR + vlen);
		if (buf == NULL) {
			session_end(c);
			return CR_FAIL;
		}
		memcpy(buf, VAL_MAGIC, 3);
		buf[3] = VAL_VERSION;
		be_put(buf + 4, (uint64_t)time(NULL), 8);
		if (vlen > 0)
			memcpy(buf + VAL_HDR, val, vlen);
	}
	for (attempt = 0; attempt < 2; attempt++) {
		rc = handles_ensure(c, &h, val != NULL);
		if (rc == CR_OK)
			rc = write_one(c, &h, key, klen, buf, vlen);
		if (rc != CR_CORRUPT)
			break;	/* on CR_FAIL the header stays "writing" and
				   the next session verifies the database */
		(void)sd_strlcpy(why, c->dberr[0] ? c->dberr :
		    "unexpected error", sizeof(why));
		if (rebuild_locked(c, &h, why) != CR_OK) {
			rc = CR_FAIL;
			break;
		}
		if (val == NULL) {
			rc = CR_ABSENT;	/* the new database is empty */
			break;
		}
	}
	if (rc != CR_OK && rc != CR_ABSENT)
		handles_close(c);
	session_end(c);
	free(buf);
	return rc;
}

static int
bdb_put(void *impl, const char *key, const unsigned char *val, size_t len)
{
	struct bdb_cache *c = impl;
	size_t klen;

	if (c == NULL || check_key(key, &klen) < 0 ||
	    (val == NULL && len > 0) || len > 1024 * 1024)
		return STSDANE_ERR_CACHE;
	if (after_fork(c) != CR_OK)
		return STSDANE_ERR_CACHE;
	return to_api(write_op(c, key, klen, val ? val : (const unsigned char *)"",
	    len));
}

static int
bdb_del(void *impl, const char *key)
{
	struct bdb_cache *c = impl;
	size_t klen;

	if (c == NULL || check_key(key, &klen) < 0)
		return STSDANE_ERR_CACHE;
	if (after_fork(c) != CR_OK)
		return STSDANE_ERR_CACHE;
	return to_api(write_op(c, key, klen, NULL, 0));
}

struct entry {
	char *key;
	unsigned char *val;
	size_t len;
};

static void
entries_free(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].val);
	}
	free(e);
}

/* Copy every sound entry out; the caller holds the shared lock. */
static int
collect(struct bdb_cache *c, struct entry **out, size_t *nout)
{
	struct entry *e = NULL;
	size_t n = 0, cap = 0;
	DBC *cur = NULL;
	DBT k, d;
	int ret;

	c->dberr[0] = '\0';
	if ((ret = c->db->cursor(c->db, NULL, &cur, 0)) != 0)
		return classify(c, ret, "cursor");
	for (;;) {
		memset(&k, 0, sizeof(k));
		memset(&d, 0, sizeof(d));
		k.flags = DB_DBT_REALLOC;
		d.flags = DB_DBT_REALLOC;
		ret = cur->get(cur, &k, &d, DB_NEXT);
		if (ret != 0) {
			free(k.data);
			free(d.data);
			break;
		}
		if (k.size == 0 || k.size >= MAX_KEY ||
		    memchr(k.data, '\0', k.size) != NULL ||
		    !valid_value(d.data, d.size)) {
			free(k.data);
			free(d.data);
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct entry *ne = realloc(e, ncap * sizeof(*e));

			if (ne == NULL) {
				free(k.data);
				free(d.data);
				ret = ENOMEM;
				break;
			}
			e = ne;
			cap = ncap;
		}
		e[n].key = sd_strndup(k.data, k.size);
		e[n].len = d.size - VAL_HDR;
		e[n].val = malloc(e[n].len ? e[n].len : 1);
		if (e[n].key == NULL || e[n].val == NULL) {
			free(e[n].key);
			free(e[n].val);
			free(k.data);
			free(d.data);
			ret = ENOMEM;
			break;
		}
		memcpy(e[n].val, (unsigned char *)d.data + VAL_HDR, e[n].len);
		n++;
		free(k.data);
		free(d.data);
	}
	(void)cur->close(cur);
	if (ret != DB_NOTFOUND) {
		entries_free(e, n);
		return classify(c, ret, "cursor");
	}
	*out = e;
	*nout = n;
	return CR_OK;
}

static int
bdb_foreach(void *impl, int (*fn)(void *arg, const char *key,
    const unsigned char *val, size_t len), void *arg)
{
	struct bdb_cache *c = impl;
	struct entry *e = NULL;
	struct hdr h;
	size_t n = 0, i;
	int rc;

	if (c == NULL || fn == NULL)
		return STSDANE_ERR_CACHE;
	if (after_fork(c) != CR_OK)
		return STSDANE_ERR_CACHE;
	if ((rc = session_open(c, 0, &h)) != CR_OK)
		return to_api(rc);
	rc = handles_ensure(c, &h, 0);
	if (rc == CR_OK)
		rc = collect(c, &e, &n);
	if (rc == CR_CORRUPT) {
		(void)damage_found(c, 0, h.gen);
		return STSDANE_OK;	/* the cache is now empty */
	}
	session_end(c);
	if (rc == CR_ABSENT)
		return STSDANE_OK;
	if (rc != CR_OK)
		return STSDANE_ERR_CACHE;
	for (i = 0; i < n; i++)
		if (fn(arg, e[i].key, e[i].val, e[i].len) != 0)
			break;
	entries_free(e, n);
	return STSDANE_OK;
}

const struct cache_ops cache_bdb_ops = {
	bdb_get,
	bdb_put,
	bdb_del,
	bdb_foreach
};

static int
open_lockfile(struct bdb_cache *c, char *err, size_t errlen)
{
	int fd;

	fd = open(c->lockpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, FILE_MODE);
	if (fd >= 0) {
		(void)fchmod(fd, FILE_MODE);
		if (c->own_files)
			(void)fchown(fd, c->dir_uid, c->dir_gid);
	} else if (errno == EEXIST) {
		fd = open(c->lockpath, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		(void)sd_snprintf(err, errlen, "cache lock file '%s' cannot "
		    "be opened for writing: %s", c->lockpath, strerror(errno));
		return -1;
	}
	c->lockfd = fd;
	return 0;
}

void *
cache_bdb_open(const char *dir, unsigned max_entries, cache_log_fn *log,
    void *logarg, char *err, size_t errlen)
{
	struct bdb_cache *c;
	struct stat st;
	struct hdr h;
	int rc;

	memset(&h, 0, sizeof(h));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (dir == NULL || dir[0] == '\0') {
		(void)sd_snprintf(err, errlen, "no cache directory given");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		(void)sd_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->lockfd = -1;
	if (sd_strlcpy(c->dir, dir, sizeof(c->dir)) < 0 ||
	    sd_snprintf(c->dbpath, sizeof(c->dbpath), "%s/%s", dir,
	    DB_NAME) < 0 ||
	    sd_snprintf(c->lockpath, sizeof(c->lockpath), "%s/%s", dir,
	    LOCK_NAME) < 0) {
		(void)sd_snprintf(err, errlen, "cache directory name '%s' is "
		    "too long", dir);
		goto fail;
	}
	c->max_entries = max_entries ? max_entries : DEFAULT_MAX_ENTRIES;
	c->log = log;
	c->logarg = logarg;
	c->pid = getpid();
	c->rng = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
	    (uint64_t)(uintptr_t)c;
	if (c->rng == 0)
		c->rng = 1;

	if (mkdir(dir, DIR_MODE) == 0)
		(void)chmod(dir, DIR_MODE);
	else if (errno != EEXIST) {
		(void)sd_snprintf(err, errlen, "cache directory '%s' cannot "
		    "be created: %s", dir, strerror(errno));
		goto fail;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		(void)sd_snprintf(err, errlen, "cache directory '%s' is not "
		    "a directory", dir);
		goto fail;
	}
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
		(void)sd_snprintf(err, errlen, "cache directory '%s' is not "
		    "writable: %s", dir, strerror(errno));
		goto fail;
	}
	c->dir_uid = st.st_uid;
	c->dir_gid = st.st_gid;
	c->own_files = geteuid() == 0 && st.st_uid != 0;
	if (open_lockfile(c, err, errlen) < 0)
		goto fail;

	/*
	 * Look at the cache once now, so that damage is found (and
	 * logged) when the cache is opened rather than mid-decision.
	 * A busy lock is no reason to refuse: the calls will wait again.
	 */
	rc = session_open(c, 0, &h);
	if (rc == CR_OK) {
		rc = handles_ensure(c, &h, 0);
		if (rc == CR_CORRUPT)
			(void)damage_found(c, 0, h.gen);
		else
			session_end(c);
	}
	if (rc == CR_FAIL) {
		(void)sd_snprintf(err, errlen, "cache in '%s' cannot be "
		    "used: %s", dir, c->dberr[0] ? c->dberr : strerror(errno));
		goto fail;
	}
	return c;
fail:
	cache_bdb_close(c);
	return NULL;
}

void
cache_bdb_close(void *impl)
{
	struct bdb_cache *c = impl;

	if (c == NULL)
		return;
	handles_close(c);
	if (c->lockfd >= 0)
		(void)close(c->lockfd);
	free(c);
}
