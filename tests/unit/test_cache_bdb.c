/*
 * test_cache_bdb.c - the Berkeley DB cache store: operations, limits,
 * and what it does with damaged, unwritable or busy caches
 */
#include <criterion/criterion.h>
#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "util.h"

struct logbuf {
	int n;			/* lines at level 0 or 1 */
	int all;
	char last[1024];
};

static void
log_cb(void *arg, int level, const char *msg)
{
	struct logbuf *l = arg;

	l->all++;
	if (level <= 1) {
		l->n++;
		(void)sd_strlcpy(l->last, msg, sizeof(l->last));
	}
}

static char *
tmpdir(void)
{
	char *d = strdup("/tmp/stsdane-cache-XXXXXX");

	cr_assert_not_null(d);
	cr_assert_not_null(mkdtemp(d));
	return d;
}

static void
rmtree(const char *dir)
{
	struct dirent *de;
	char path[1024];
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void *
open_ok(const char *dir, unsigned max, struct logbuf *l)
{
	char err[256] = "";
	void *c = cache_bdb_open(dir, max, log_cb, l, err, sizeof(err));

	cr_assert_not_null(c, "open '%s': %s", dir, err);
	return c;
}

static void
put_str(void *c, const char *key, const char *val)
{
	cr_assert_eq(cache_bdb_ops.put(c, key, (const unsigned char *)val,
	    strlen(val)), STSDANE_OK, "put '%s'", key);
}

static void
expect(void *c, const char *key, const char *val)
{
	unsigned char *v = NULL;
	size_t len = 0;
	int rc = cache_bdb_ops.get(c, key, &v, &len);

	if (val == NULL) {
		cr_assert_eq(rc, STSDANE_ERR_NOTFOUND, "get '%s': %d", key, rc);
		cr_assert_null(v);
		return;
	}
	cr_assert_eq(rc, STSDANE_OK, "get '%s': %d", key, rc);
	cr_assert_eq(len, strlen(val), "get '%s': length", key);
	cr_assert_eq(memcmp(v, val, len), 0, "get '%s': value", key);
	free(v);
}

struct seen {
	int n;
	int stop_after;
	char keys[64][64];
};

static int
count_cb(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct seen *s = arg;

	if (s->n < 64)
		(void)sd_strlcpy(s->keys[s->n], key, sizeof(s->keys[0]));
	s->n++;
	return s->stop_after > 0 && s->n >= s->stop_after;
}

static int
count_entries(void *c)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	cr_assert_eq(cache_bdb_ops.foreach(c, count_cb, &s), STSDANE_OK);
	return s.n;
}

static int
count_aside(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".corrupt-") != NULL)
			n++;
	closedir(d);
	return n;
}

static void
fill(void *c, int n)
{
	char key[64], val[128];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "sts/domain%d.example", i);
		snprintf(val, sizeof(val), "value of domain %d", i);
		put_str(c, key, val);
	}
}

Test(cache_bdb, put_get_del_foreach)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	struct seen s;
	void *c = open_ok(dir, 100, &l);

	expect(c, "sts/example.com", NULL);
	cr_assert_eq(count_entries(c), 0);
	cr_assert_eq(cache_bdb_ops.del(c, "sts/example.com"),
	    STSDANE_ERR_NOTFOUND);
	put_str(c, "sts/example.com", "one");
	put_str(c, "dane/example.com", "two");
	put_str(c, "neg/example.org", "");
	expect(c, "sts/example.com", "one");
	expect(c, "dane/example.com", "two");
	expect(c, "neg/example.org", "");
	put_str(c, "sts/example.com", "one, replaced");
	expect(c, "sts/example.com", "one, replaced");
	cr_assert_eq(count_entries(c), 3);

	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	cr_assert_eq(cache_bdb_ops.foreach(c, count_cb, &s), STSDANE_OK);
	cr_assert_eq(s.n, 2, "foreach stops when fn says so");

	cr_assert_eq(cache_bdb_ops.del(c, "dane/example.com"), STSDANE_OK);
	expect(c, "dane/example.com", NULL);
	cr_assert_eq(count_entries(c), 2);

	/* bad keys are refused, not stored */
	cr_assert_eq(cache_bdb_ops.put(c, "", (const unsigned char *)"x", 1),
	    STSDANE_ERR_CACHE);
	cr_assert_eq(l.n, 0, "no warnings: %s", l.last);
	cache_bdb_close(c);

	/* modes */
	{
		struct stat st;
		char path[512];

		snprintf(path, sizeof(path), "%s/stsdane.db", dir);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_mode & 07777, 0640);
		snprintf(path, sizeof(path), "%s/stsdane.lock", dir);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_mode & 07777, 0640);
	}
	rmtree(dir);
	free(dir);
}

Test(cache_bdb, foreach_callback_may_write)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	void *c = open_ok(dir, 100, &l);
	struct seen s;
	int i;

	fill(c, 10);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(cache_bdb_ops.foreach(c, count_cb, &s), STSDANE_OK);
	cr_assert_eq(s.n, 10);
	/* delete from outside the walk, as an expiry sweep would */
	for (i = 0; i < s.n; i++)
		cr_assert_eq(cache_bdb_ops.del(c, s.keys[i]), STSDANE_OK);
	cr_assert_eq(count_entries(c), 0);
	cache_bdb_close(c);
	rmtree(dir);
	free(dir);
}

Test(cache_bdb, survives_reopen_and_sees_other_handles)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	void *a = open_ok(dir, 100, &l);
	void *b = open_ok(dir, 100, &l);

	put_str(a, "sts/a.example", "from a");
	expect(b, "sts/a.example", "from a");
	put_str(b, "sts/a.example", "from b");
	expect(a, "sts/a.example", "from b");
	cr_assert_eq(cache_bdb_ops.del(a, "sts/a.example"), STSDANE_OK);
	expect(b, "sts/a.example", NULL);
	put_str(b, "sts/kept.example", "kept");
	cache_bdb_close(a);
	cache_bdb_close(b);

	a = open_ok(dir, 100, &l);
	expect(a, "sts/kept.example", "kept");
	cache_bdb_close(a);
	cr_assert_eq(l.n, 0, "no warnings: %s", l.last);
	rmtree(dir);
	free(dir);
}

Test(cache_bdb, max_entries_evicts_oldest)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	void *c = open_ok(dir, 50, &l);
	int n;

	fill(c, 200);
	n = count_entries(c);
	cr_assert_leq(n, 50, "%d entries", n);
	cr_assert_geq(n, 45, "%d entries", n);
	expect(c, "sts/domain199.example", "value of domain 199");
	/* replacing an entry never evicts */
	put_str(c, "sts/domain199.example", "again");
	cr_assert_eq(count_entries(c), n);
	cache_bdb_close(c);

	/* a smaller limit later shrinks the cache a little per put */
	c = open_ok(dir, 20, &l);
	fill(c, 20);
	n = count_entries(c);
	cr_assert_leq(n, 20, "%d entries", n);
	cache_bdb_close(c);
	rmtree(dir);
	free(dir);
}

Test(cache_bdb, unwritable_directory_fails_open)
{
	char err[256] = "";
	struct logbuf l = {0};
	char *dir = tmpdir();
	char path[512];
	int fd;

	/* below a character device: fails for root too */
	cr_assert_null(cache_bdb_open("/dev/null/x", 100, log_cb, &l, err,
	    sizeof(err)));
	cr_assert(strstr(err, "'/dev/null/x'") != NULL, "err: %s", err);

	/* a regular file where the directory should be */
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	err[0] = '\0';
	cr_assert_null(cache_bdb_open(path, 100, log_cb, &l, err,
	    sizeof(err)));
	cr_assert(strstr(err, "not a directory") != NULL, "err: %s", err);

	/* read-only file system (procfs refuses writes, even to root) */
	err[0] = '\0';
	cr_assert_null(cache_bdb_open("/proc/self", 100, log_cb, &l, err,
	    sizeof(err)));
	cr_assert_neq(err[0], '\0');

	cr_assert_null(cache_bdb_open("", 100, log_cb, &l, err, sizeof(err)));
	cr_assert_eq(l.n, 0);
	rmtree(dir);
	free(dir);
}

static void
scribble(const char *path, off_t off, size_t n)
{
	unsigned char buf[8192];
	int fd = open(path, O_WRONLY);
	size_t i;

	cr_assert_geq(fd, 0, "open '%s'", path);
	cr_assert_leq(n, sizeof(buf));
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	cr_assert_eq(pwrite(fd, buf, n, off), (ssize_t)n);
	close(fd);
}

static void
damaged_db_case(void (*damage)(const char *path), const char *what)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	char path[512];
	void *c = open_ok(dir, 1000, &l);

	fill(c, 300);
	cache_bdb_close(c);
	snprintf(path, sizeof(path), "%s/stsdane.db", dir);
	damage(path);

	c = open_ok(dir, 1000, &l);
	/* read every page, so that damage anywhere is seen */
	(void)count_entries(c);
	expect(c, "sts/domain5.example", NULL);
	cr_assert_eq(l.n, 1, "%s: one log line, got %d: %s", what, l.n,
	    l.last);
	cr_assert(strstr(l.last, "moved aside") != NULL, "%s: %s", what,
	    l.last);
	cr_assert_eq(count_aside(dir), 1, "%s", what);
	put_str(c, "sts/new.example", "fresh");
	expect(c, "sts/new.example", "fresh");
	cr_assert_eq(count_entries(c), 1);
	cache_bdb_close(c);
	cr_assert_eq(l.n, 1, "%s: still one line: %s", what, l.last);
	rmtree(dir);
	free(dir);
}

static void
scribble_meta(const char *path)
{
	scribble(path, 0, 512);
}

static void
scribble_middle(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	scribble(path, st.st_size / 2, 100);
}

static void
truncate_half(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(truncate(path, st.st_size / 2), 0);
}

static void
truncate_empty(const char *path)
{
	cr_assert_eq(truncate(path, 0), 0);
}

Test(cache_bdb, scribbled_meta_page_is_moved_aside)
{
	damaged_db_case(scribble_meta, "meta page");
}

Test(cache_bdb, scribbled_data_page_is_moved_aside)
{
	damaged_db_case(scribble_middle, "data page");
}

Test(cache_bdb, truncated_database_is_moved_aside)
{
	damaged_db_case(truncate_half, "half");
}

Test(cache_bdb, empty_database_file_is_moved_aside)
{
	damaged_db_case(truncate_empty, "empty");
}

Test(cache_bdb, damaged_lock_file_is_reset_and_data_kept)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	char path[512];
	void *c = open_ok(dir, 1000, &l);

	fill(c, 20);
	cache_bdb_close(c);
	snprintf(path, sizeof(path), "%s/stsdane.lock", dir);
	scribble(path, 0, 36);
	c = open_ok(dir, 1000, &l);
	cr_assert_eq(l.n, 1, "one line: %s", l.last);
	expect(c, "sts/domain5.example", "value of domain 5");
	cache_bdb_close(c);

	cr_assert_eq(truncate(path, 0), 0);
	c = open_ok(dir, 1000, &l);
	cr_assert_eq(l.n, 2, "one more line: %s", l.last);
	expect(c, "sts/domain6.example", "value of domain 6");
	put_str(c, "sts/x.example", "x");
	cache_bdb_close(c);
	cr_assert_eq(count_aside(dir), 0);
	rmtree(dir);
	free(dir);
}

/* Rewrite the lock file header's state, as a writer killed mid-write
   leaves it. */
static void
mark_writing(const char *dir)
{
	unsigned char b[36];
	char path[512];
	uint32_t crc = 0xffffffffu;
	int fd, i, k;

	snprintf(path, sizeof(path), "%s/stsdane.lock", dir);
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, b, 36, 0), 36);
	b[11] = 1;
	for (i = 0; i < 32; i++) {
		crc ^= b[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	crc = ~crc;
	b[32] = (unsigned char)(crc >> 24);
	b[33] = (unsigned char)(crc >> 16);
	b[34] = (unsigned char)(crc >> 8);
	b[35] = (unsigned char)crc;
	cr_assert_eq(pwrite(fd, b, 36, 0), 36);
	close(fd);
}

Test(cache_bdb, interrupted_write_is_verified_quietly)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	void *c = open_ok(dir, 1000, &l);
	void *other = open_ok(dir, 1000, &l);

	fill(c, 30);
	expect(other, "sts/domain3.example", "value of domain 3");
	mark_writing(dir);
	expect(other, "sts/domain4.example", "value of domain 4");
	expect(c, "sts/domain5.example", "value of domain 5");
	cr_assert_eq(l.n, 0, "sound database: no warning: %s", l.last);
	cr_assert_eq(count_aside(dir), 0);

	/* the same, with the database also damaged */
	cache_bdb_close(c);
	cache_bdb_close(other);
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/stsdane.db", dir);
		scribble_middle(path);
	}
	mark_writing(dir);
	c = open_ok(dir, 1000, &l);
	cr_assert_eq(l.n, 1, "one line: %s", l.last);
	cr_assert(strstr(l.last, "half-written") != NULL, "%s", l.last);
	cr_assert_eq(count_entries(c), 0);
	put_str(c, "sts/after.example", "ok");
	expect(c, "sts/after.example", "ok");
	cache_bdb_close(c);
	rmtree(dir);
	free(dir);
}

Test(cache_bdb, bad_value_envelope_is_absent_and_deleted)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	char path[512];
	void *c = open_ok(dir, 1000, &l);
	DB *db;
	DBT k, d;

	put_str(c, "sts/good.example", "good");
	cache_bdb_close(c);

	/* a value written without the envelope, straight into the file */
	snprintf(path, sizeof(path), "%s/stsdane.db", dir);
	cr_assert_eq(db_create(&db, NULL, 0), 0);
	cr_assert_eq(db->set_flags(db, DB_CHKSUM | DB_RECNUM), 0);
	cr_assert_eq(db->open(db, NULL, path, NULL, DB_BTREE, 0, 0), 0);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = "sts/bad.example";
	k.size = (u_int32_t)strlen("sts/bad.example");
	d.data = "no envelope here";
	d.size = (u_int32_t)strlen("no envelope here");
	cr_assert_eq(db->put(db, NULL, &k, &d, 0), 0);
	cr_assert_eq(db->close(db, 0), 0);

	c = open_ok(dir, 1000, &l);
	cr_assert_eq(count_entries(c), 1, "foreach skips it");
	expect(c, "sts/bad.example", NULL);
	cr_assert_eq(cache_bdb_ops.del(c, "sts/bad.example"),
	    STSDANE_ERR_NOTFOUND, "get deleted it");
	expect(c, "sts/good.example", "good");
	cache_bdb_close(c);
	rmtree(dir);
	free(dir);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(cache_bdb, busy_lock_gives_up_in_bounded_time)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	char path[512];
	struct flock fl;
	unsigned char *v;
	size_t len;
	int64_t t0, dt;
	void *c = open_ok(dir, 1000, &l);
	int fd;

	put_str(c, "sts/x.example", "x");
	snprintf(path, sizeof(path), "%s/stsdane.lock", dir);
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 1025;	/* the data lock */
	fl.l_len = 1;
	cr_assert_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);

	t0 = now_ms();
	cr_assert_eq(cache_bdb_ops.get(c, "sts/x.example", &v, &len),
	    STSDANE_ERR_CACHE);
	cr_assert_eq(cache_bdb_ops.put(c, "sts/y.example",
	    (const unsigned char *)"y", 1), STSDANE_ERR_CACHE);
	dt = now_ms() - t0;
	cr_assert_geq(dt, 1500, "waited %lld ms", (long long)dt);
	cr_assert_leq(dt, 4000, "waited %lld ms", (long long)dt);

	close(fd);		/* a dead holder's lock goes with it */
	expect(c, "sts/x.example", "x");
	cache_bdb_close(c);
	rmtree(dir);
	free(dir);
}

Test(cache_bdb, usable_across_fork)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	void *c = open_ok(dir, 1000, &l);
	pid_t pid;
	int status;

	put_str(c, "sts/parent.example", "p");
	expect(c, "sts/parent.example", "p");
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		unsigned char *v = NULL;
		size_t len;
		int ok;

		ok = cache_bdb_ops.get(c, "sts/parent.example", &v, &len) ==
		    STSDANE_OK && len == 1 && v[0] == 'p';
		ok = ok && cache_bdb_ops.put(c, "sts/child.example",
		    (const unsigned char *)"c", 1) == STSDANE_OK;
		free(v);
		cache_bdb_close(c);
		_exit(ok ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	expect(c, "sts/child.example", "c");
	cache_bdb_close(c);
	rmtree(dir);
	free(dir);
}

/* Each key once, in order, across batches; fn may write as it goes. */
struct walk {
	void *c;
	int n, dup, bad;
	char last[64];
};

static int
walk_cb(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct walk *w = arg;
	char k2[64];

	(void)val;
	(void)len;
	if (strncmp(key, "w/", 2) != 0)
		return 0;	/* the ones walk_cb itself wrote */
	if (w->last[0] != '\0' && strcmp(key, w->last) <= 0)
		w->dup++;
	(void)sd_strlcpy(w->last, key, sizeof(w->last));
	w->n++;
	/* a write in the middle of the walk, as the refresh does */
	(void)snprintf(k2, sizeof(k2), "x/%s", key + 2);
	if (cache_bdb_ops.put(w->c, k2, (const unsigned char *)"v", 1) !=
	    STSDANE_OK)
		w->bad++;
	return 0;
}

Test(cache_bdb, walk_in_batches_sees_each_entry_once)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	void *c = open_ok(dir, 10000, &l);
	struct walk w;
	char key[64];
	int i;

	for (i = 0; i < 1300; i++) {	/* two batches and a half */
		(void)snprintf(key, sizeof(key), "w/%05d.test", i);
		put_str(c, key, "value");
	}
	memset(&w, 0, sizeof(w));
	w.c = c;
	cr_assert_eq(cache_bdb_ops.foreach(c, walk_cb, &w), STSDANE_OK);
	cr_assert_eq(w.n, 1300, "walked %d of 1300", w.n);
	cr_assert_eq(w.dup, 0, "%d keys out of order or twice", w.dup);
	cr_assert_eq(w.bad, 0);
	cr_assert_eq(count_entries(c), 2600);
	cache_bdb_close(c);
	rmtree(dir);
	free(dir);
}

/* A background writer's fsync comes after the lock; what it wrote is seen. */
Test(cache_bdb, lazy_sync_writes_are_seen_by_other_handles)
{
	char *dir = tmpdir();
	struct logbuf l = {0};
	void *w = open_ok(dir, 100, &l);
	void *r = open_ok(dir, 100, &l);

	cache_bdb_set_lazy_sync(w, 1);
	put_str(w, "sts/lazy.test", "one");
	expect(r, "sts/lazy.test", "one");
	put_str(w, "sts/lazy.test", "two");
	expect(r, "sts/lazy.test", "two");
	cr_assert_eq(cache_bdb_ops.del(w, "sts/lazy.test"), STSDANE_OK);
	expect(r, "sts/lazy.test", NULL);
	cache_bdb_set_lazy_sync(w, 0);
	put_str(w, "sts/lazy.test", "three");
	expect(r, "sts/lazy.test", "three");
	cache_bdb_close(w);
	cache_bdb_close(r);
	rmtree(dir);
	free(dir);
}
