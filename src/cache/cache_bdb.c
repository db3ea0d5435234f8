/*
 * NAME
 *	cache_bdb.c - the shared, crash-safe cache store on Berkeley DB 5.3
 * SYNOPSIS
 *	#include "cache.h"
 *
 *	void *cache_bdb_open(const char *dir, unsigned max_entries,
 *	    cache_log_fn *log, void *logarg, char *err, size_t errlen)
 *	void cache_bdb_close(void *impl)
 *	void cache_bdb_set_rank(void *impl, cache_rank_fn *fn, void *arg)
 *	void cache_bdb_set_lazy_sync(void *impl, int on)
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
 *	are sampled and ranked by the owner's rank function
 *	(cache_bdb_set_rank(): expired first, ordinary next, recently used
 *	after them, those to keep longest last), and of the lowest rank the one stored longest ago
 *	is deleted.  A value whose envelope is wrong reads as absent and
 *	is deleted.
 *
 *	Files are created mode 0640 (the directory 0750) whatever the
 *	umask; when root creates them in a directory owned by another
 *	user, they are given to that user, so that a cron job run as root
 *	does not lock the MTA out of its own cache.
 *
 *	Each write flushes the database to the file (so that the other
 *	processes' handles see it) and fsyncs it before the lock is
 *	released.  With cache_bdb_set_lazy_sync(), for a background job's
 *	handle (the refresh), the flush stays under the lock but the
 *	fsync is made just after it is released, so that deliveries
 *	waiting to read do not wait for the disk: Berkeley DB's fsync is
 *	replaced, process-wide and only once such a handle exists, by one
 *	that in the writing thread, while it flushes, only notes the
 *	descriptor.  Every other thread and handle fsyncs as before.  A
 *	crash between the release and the fsync can lose only what a
 *	crash just before the write would have lost.
 *
 *	get() returns a malloc'd copy the caller frees.  foreach() copies
 *	the entries out under the lock, 512 at a time, and calls fn on a
 *	batch after releasing it, so fn may call the other operations, and
 *	the memory is one batch's whatever the size of the database.  An
 *	entry written during the walk may or may not be seen.  A handle is for one thread; a
 *	process that forks may go on using it in both processes.
 * DIAGNOSTICS
 *	cache_bdb_open() returns NULL with err set when the directory
 *	cannot be created, is not a directory, or cannot be written.
 *	Operations return STSDANE_OK, STSDANE_ERR_NOTFOUND or
 *	STSDANE_ERR_CACHE (lock wait over, I/O error, damaged database
 *	just moved aside).
 * SEE ALSO
 *	cache.h, cache_bdb_lock.c (locks, sessions, repair),
 *	cache_bdb_evict.c (which entry goes at the bound), cache_record.c,
 *	docs/cache.md
 */
#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cache_bdb.h"

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


/* ---- fsync after the lock, for background writers ------------------------- */

#define DEFER_MAX 4

static _Thread_local int defer_fsync;	/* this thread is flushing lazily */
static _Thread_local int deferred[DEFER_MAX];
static _Thread_local int ndeferred;
static pthread_once_t fsync_once = PTHREAD_ONCE_INIT;

static int
fsync_hook(int fd)
{
	int i;

	if (!defer_fsync)
		return fsync(fd);
	for (i = 0; i < ndeferred; i++)
		if (deferred[i] == fd)
			return 0;
	if (ndeferred == DEFER_MAX)
		return fsync(fd);
	deferred[ndeferred++] = fd;
	return 0;
}

static void
fsync_hook_install(void)
{
	(void)db_env_set_func_fsync(fsync_hook);
}

void
cache_bdb_set_lazy_sync(void *impl, int on)
{
	struct bdb_cache *c = impl;

	if (c == NULL)
		return;
	if (on && pthread_once(&fsync_once, fsync_hook_install) != 0)
		on = 0;
	c->lazy_sync = on;
}

/* The fsyncs noted while flushing; after the lock is released. */
static void
deferred_fsync(void)
{
	int i;

	for (i = 0; i < ndeferred; i++)
		(void)fsync(deferred[i]);
	ndeferred = 0;
}

int
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
	defer_fsync = c->lazy_sync;
	sret = c->db->sync(c->db, 0);
	defer_fsync = 0;
	if (sret != 0)
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
	if (rc != CR_OK && rc != CR_ABSENT) {
		ndeferred = 0;	/* its descriptor may be closed now */
		handles_close(c);
	}
	session_end(c);
	deferred_fsync();
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

/* The copies in e[0..n), not the array. */
static void
entries_free_in(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].val);
		e[i].key = NULL;
		e[i].val = NULL;
	}
}

/*
 * The walk goes in batches of WALK_BATCH entries: each batch is copied
 * out under the shared lock, which is then released while fn runs on
 * it.  The memory is one batch's, whatever the size of the database,
 * and no writer waits behind a walk for longer than one batch takes.
 */
#define WALK_BATCH 512

/*
 * Copy out up to WALK_BATCH sound entries whose keys sort after `after'
 * (from the first when after is ""); the caller holds the shared lock.
 * *more is 0 once the last key was read.
 */
static int
collect(struct bdb_cache *c, const char *after, struct entry *e,
    size_t *nout, int *more)
{
	size_t n = 0, alen = strlen(after);
	DBC *cur = NULL;
	DBT k, d;
	u_int32_t op = DB_NEXT;
	int ret;

	*more = 0;
	c->dberr[0] = '\0';
	if ((ret = c->db->cursor(c->db, NULL, &cur, 0)) != 0)
		return classify(c, ret, "cursor");
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = DB_DBT_REALLOC;
	d.flags = DB_DBT_REALLOC;
	if (alen > 0) {
		if ((k.data = malloc(alen)) == NULL) {
			(void)cur->close(cur);
			return CR_FAIL;
		}
		memcpy(k.data, after, alen);
		k.size = (u_int32_t)alen;
		op = DB_SET_RANGE;	/* the first key >= after */
	}
	while (n < WALK_BATCH) {
		ret = cur->get(cur, &k, &d, op);
		op = DB_NEXT;
		if (ret != 0)
			break;
		if (k.size == 0 || k.size >= MAX_KEY ||
		    memchr(k.data, '\0', k.size) != NULL ||
		    !valid_value(d.data, d.size) ||
		    (k.size == alen && memcmp(k.data, after, alen) == 0))
			continue;
		e[n].key = sd_strndup(k.data, k.size);
		e[n].len = d.size - VAL_HDR;
		e[n].val = malloc(e[n].len ? e[n].len : 1);
		if (e[n].key == NULL || e[n].val == NULL) {
			free(e[n].key);
			free(e[n].val);
			ret = ENOMEM;
			break;
		}
		memcpy(e[n].val, (unsigned char *)d.data + VAL_HDR, e[n].len);
		n++;
	}
	free(k.data);
	free(d.data);
	(void)cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND) {
		entries_free_in(e, n);
		return classify(c, ret, "cursor");
	}
	*more = ret == 0;
	*nout = n;
	return CR_OK;
}

static int
bdb_foreach(void *impl, int (*fn)(void *arg, const char *key,
    const unsigned char *val, size_t len), void *arg)
{
	struct bdb_cache *c = impl;
	struct entry *e;
	char after[MAX_KEY] = "";
	struct hdr h;
	size_t n, i;
	int rc = CR_OK, more = 1, stop = 0;

	if (c == NULL || fn == NULL)
		return STSDANE_ERR_CACHE;
	if (after_fork(c) != CR_OK)
		return STSDANE_ERR_CACHE;
	if ((e = calloc(WALK_BATCH, sizeof(*e))) == NULL)
		return STSDANE_ERR_CACHE;
	while (more && !stop) {
		if ((rc = session_open(c, 0, &h)) != CR_OK)
			break;
		n = 0;
		rc = handles_ensure(c, &h, 0);
		if (rc == CR_OK)
			rc = collect(c, after, e, &n, &more);
		if (rc == CR_CORRUPT) {
			(void)damage_found(c, 0, h.gen);
			rc = CR_OK;	/* the cache is now empty */
			break;
		}
		session_end(c);
		if (rc != CR_OK)
			break;
		for (i = 0; i < n && !stop; i++)
			stop = fn(arg, e[i].key, e[i].val, e[i].len) != 0;
		if (n > 0)
			(void)sd_strlcpy(after, e[n - 1].key, sizeof(after));
		else
			more = 0;
		entries_free_in(e, n);
	}
	free(e);
	return rc == CR_OK || rc == CR_ABSENT ? STSDANE_OK :
	    STSDANE_ERR_CACHE;
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
