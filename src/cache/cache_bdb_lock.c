/*
 * NAME
 *	cache_bdb_lock.c - the Berkeley DB tier's lock file, sessions and
 *	repair
 * SYNOPSIS
 *	#include "cache_bdb.h"
 *
 *	int session_open(struct bdb_cache *c, int write, struct hdr *h)
 *	void session_end(struct bdb_cache *c)
 *	int damage_found(struct bdb_cache *c, int have_write, uint64_t gen)
 *	int rebuild_locked(struct bdb_cache *c, struct hdr *h,
 *	    const char *why)
 * DESCRIPTION
 *	The coordination half of cache_bdb.c (whose header says why there
 *	is no shared environment): the lock file header (magic, version,
 *	state, generation, serial, CRC-32), the turnstile and data locks,
 *	polled against a deadline, the "writing" mark a writer leaves until
 *	it has flushed, the verification a process runs when it finds that
 *	mark from a writer that died, and the move aside of a damaged
 *	database (at most ASIDE_KEEP kept), decided by the generation so
 *	that only one process does it.
 * DIAGNOSTICS
 *	Internal results CR_OK, CR_ABSENT, CR_BUSY, CR_CORRUPT, CR_FAIL;
 *	moving a database aside is logged once.
 * SEE ALSO
 *	cache_bdb.c, docs/cache.md
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

#include "cache_bdb.h"

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

uint64_t
rng_next(struct bdb_cache *c)
{
	uint64_t x = c->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	c->rng = x;
	return x;
}


void
be_put(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

uint64_t
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
		if (pause_us < 400)	/* 50 to 400 us: a write takes about
					   a millisecond, and a reader should
					   not sleep long past its end */
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

void
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

int
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

void
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

/*
 * Is this Berkeley DB error a sign of a damaged database?  Berkeley DB's
 * own codes are, but for lock contention and a time-out; of the system's
 * errno values only EINVAL is (what it says of a page or a meta-data
 * page it cannot read).  Every other errno is this process's trouble,
 * not the file's: a full disk, a permission, or EBADF, a descriptor that
 * someone closed under the handle.  Moving the database aside for one
 * of those would throw away every other process's cache.
 */
static int
is_damage(int ret)
{
	switch (ret) {
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
	case DB_TIMEOUT:
		return 0;
	case EINVAL:
		return 1;
	default:
		return ret < 0;
	}
}

int
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
int
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
int
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

/*
 * Full structural check of the database file, in a handle of its own
 * without an environment: DB->verify in an environment of ours left the
 * memory pool's buffers of its scratch databases behind when the
 * environment was closed (valgrind: definitely lost, from
 * __db_vrfy_dbinfo_create); without one, Berkeley DB makes and tears
 * down its own.
 */
static int
verify_db(struct bdb_cache *c)
{
	DB *db;
	int ret;

	c->dberr[0] = '\0';
	if ((ret = db_create(&db, NULL, 0)) != 0)
		return CR_FAIL;
	db->get_env(db)->app_private = c;	/* for bdb_errcall */
	db->set_errcall(db, bdb_errcall);
	/* DB->verify always destroys the handle */
	ret = db->verify(db, c->dbpath, NULL, NULL, 0);
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
int
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
int
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
