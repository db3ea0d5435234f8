/*
 * NAME
 *	cache_ans.c - the answers file: cached decisions in one read
 * SYNOPSIS
 *	#include "cache.h"
 *
 *	struct ans_file *ans_open(const char *dir, cache_log_fn *log,
 *	    void *logarg)
 *	struct stsdane_decision *ans_get(struct ans_file *a,
 *	    const char *domain, int64_t now)
 *	void ans_put(struct ans_file *a, const struct stsdane_decision *d,
 *	    int64_t now)
 *	void ans_update(struct ans_file *a,
 *	    const struct stsdane_decision *d, int64_t now)
 *	void ans_del(struct ans_file *a, const char *domain)
 *	int ans_holds(const struct ans_file *a, const char *domain)
 *	void ans_clear(struct ans_file *a)
 *	void ans_close(struct ans_file *a)
 * DESCRIPTION
 *	Beside the Berkeley DB database, in the same directory, a file of
 *	fixed size ("stsdane.answers", 65536 slots) holds the final decision of recently
 *	decided domains, one fixed-size slot per domain (chosen by a hash of
 *	the domain; a collision simply replaces the older answer).  A
 *	process that finds its answer there never opens the database: a
 *	copy out of a read-only shared mapping of the file (no system
 *	call), a checksum, a decode.  That keeps a fresh MTA process that
 *	makes one cached decision as cheap as one that makes none.
 *
 *	Readers take no lock.  Each slot carries its length, its domain
 *	and a CRC-32 over both and the record; a slot being written while
 *	it is read, or left half-written by a process killed mid-write,
 *	fails the check and reads as a miss (the caller then asks the
 *	database, which has its own crash-safety).  The reader copies the
 *	slot out of the mapping first and checks, then decodes, that copy:
 *	what it checked is what it uses.  Writers serialise on
 *	an exclusive lock of the file (bounded wait; on time-out the write
 *	is skipped).  The file is never truncated while in use: clearing
 *	writes zeros.  The mapping is made only of a file whose size and
 *	header are right; a file shrunk under a running process by
 *	something other than stsdane would fault the reader (SIGBUS), which
 *	is why stsdane itself never shrinks it.
 *
 *	One process maps a file once, however many contexts open it (the
 *	refresh's 64 workers each have one): the read-only mapping is
 *	shared, by device and inode, and unmapped with its last user; each
 *	handle keeps a descriptor of its own for its writes and its lock.
 *
 *	ans_update() is ans_put() for work in the background (--refresh):
 *	it writes over an empty slot or the domain's own only, so that a
 *	walk over every cached domain keeps the answers it finds fresh but
 *	does not push the deliveries' working set out of the file.
 *
 *	The record inside a slot is cache_record_encode()'s, with its own
 *	format version and checksum, so a newer stsdane never misreads an
 *	older file.  A decision is used only until its expires time, like
 *	the "ans" record of the database it mirrors.
 * DIAGNOSTICS
 *	ans_open() returns NULL when the file cannot be opened or created
 *	(the caller goes on with the database alone).  A file of the wrong
 *	size or with a damaged header is rebuilt with one log line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "util.h"

/* Format 1 was "stsdane.ans", 2048 slots, read with pread().  A mapping
   must never outlive its file's size, and a format 1 reader rebuilds a
   file of another size to its own, so format 2 has a file of its own. */
#define ANS_FILE "stsdane.answers"
#define ANS_MAGIC "SDANS002"		/* format 2 */
#define ANS_SLOTS 65536			/* 64 MiB, sparse until written */
#define ANS_SLOT 1024
#define ANS_HDR 64
#define ANS_SIZE ((off_t)ANS_HDR + (off_t)ANS_SLOTS * ANS_SLOT)
#define ANS_LOCK_TRIES 100		/* x 10 ms */

/* Slot: u32 len (of domain + record), u32 crc, u16 domain length,
   domain, record.  All little-endian. */
#define SLOT_HDR 10

struct ans_file {
	int fd;
	const unsigned char *map;	/* ANS_SIZE bytes, read-only, shared */
	char path[4096];
	uid_t uid;			/* give created files to the dir owner */
	gid_t gid;
	int own;
	cache_log_fn *log;
	void *logarg;
};

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* FNV-1a: the slot of a domain. */
static off_t
slot_of(const char *domain)
{
	uint32_t h = 2166136261u;

	for (; *domain != '\0'; domain++) {
		h ^= (unsigned char)*domain;
		h *= 16777619u;
	}
	return (off_t)ANS_HDR + (off_t)(h % ANS_SLOTS) * ANS_SLOT;
}

static int
lock_ex(struct ans_file *a)
{
	int i;

	for (i = 0; i < ANS_LOCK_TRIES; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (flock(a->fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static void
unlock(struct ans_file *a)
{
	(void)flock(a->fd, LOCK_UN);
}

static int
write_all(int fd, const unsigned char *p, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/*
 * Zeros over the slots, then a fresh header.  Under the lock.  Holes are
 * punched where the file system can (the size stays, so a reader's
 * mapping stays valid, and the file takes no space); zeros are written
 * where it cannot.
 */
static int
rebuild(struct ans_file *a)
{
	static const unsigned char zero[ANS_SLOT];
	unsigned char hdr[ANS_HDR];
	off_t off;

	if (ftruncate(a->fd, ANS_SIZE) < 0)
		return -1;
	if (fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    ANS_HDR, ANS_SIZE - ANS_HDR) < 0)
		for (off = ANS_HDR; off < ANS_SIZE; off += ANS_SLOT)
			if (write_all(a->fd, zero, sizeof(zero), off) < 0)
				return -1;
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, ANS_MAGIC, 8);
	put32(hdr + 8, ANS_SLOTS);
	put32(hdr + 12, ANS_SLOT);
	put32(hdr + 16, sd_crc32(0, hdr, 16));
	return write_all(a->fd, hdr, sizeof(hdr), 0);
}

static int
header_ok(int fd)
{
	unsigned char hdr[ANS_HDR];
	struct stat st;

	if (fstat(fd, &st) < 0 || st.st_size != ANS_SIZE ||
	    pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return 0;
	return memcmp(hdr, ANS_MAGIC, 8) == 0 &&
	    get32(hdr + 8) == ANS_SLOTS && get32(hdr + 12) == ANS_SLOT &&
	    get32(hdr + 16) == sd_crc32(0, hdr, 16);
}

/*
 * The process's mappings, by file: a mapping of 64 MiB per context would
 * put each page a refresh touches into the resident size 64 times over,
 * and cost 64 sets of page tables.  A file not in the table (it is
 * full) gets a mapping of its own, unmapped as before.
 */
#define MAPS_MAX 8

static struct shared_map {
	dev_t dev;
	ino_t ino;
	const unsigned char *map;
	unsigned refs;
} maps[MAPS_MAX];
static pthread_mutex_t maps_mu = PTHREAD_MUTEX_INITIALIZER;

/* After header_ok(): the size is ANS_SIZE. */
static int
map_file(struct ans_file *a)
{
	struct shared_map *free_slot = NULL;
	struct stat st;
	void *m;
	size_t i;

	if (fstat(a->fd, &st) < 0)
		return -1;
	(void)pthread_mutex_lock(&maps_mu);
	for (i = 0; i < MAPS_MAX; i++) {
		if (maps[i].refs > 0 && maps[i].dev == st.st_dev &&
		    maps[i].ino == st.st_ino) {
			maps[i].refs++;
			a->map = maps[i].map;
			(void)pthread_mutex_unlock(&maps_mu);
			return 0;
		}
		if (maps[i].refs == 0 && free_slot == NULL)
			free_slot = &maps[i];
	}
	m = mmap(NULL, (size_t)ANS_SIZE, PROT_READ, MAP_SHARED, a->fd, 0);
	if (m != MAP_FAILED) {
		a->map = m;
		if (free_slot != NULL) {
			free_slot->dev = st.st_dev;
			free_slot->ino = st.st_ino;
			free_slot->map = m;
			free_slot->refs = 1;
		}
	}
	(void)pthread_mutex_unlock(&maps_mu);
	return m == MAP_FAILED ? -1 : 0;
}

static void
unmap_file(const unsigned char *map)
{
	size_t i;

	(void)pthread_mutex_lock(&maps_mu);
	for (i = 0; i < MAPS_MAX; i++)
		if (maps[i].refs > 0 && maps[i].map == map) {
			if (--maps[i].refs > 0)
				map = NULL;	/* still in use */
			break;
		}
	(void)pthread_mutex_unlock(&maps_mu);
	if (map != NULL)
		(void)munmap((void *)map, (size_t)ANS_SIZE);
}

struct ans_file *
ans_open(const char *dir, cache_log_fn *log, void *logarg)
{
	struct ans_file *a = calloc(1, sizeof(*a));
	struct stat st;

	if (a == NULL)
		return NULL;
	a->log = log;
	a->logarg = logarg;
	if (sd_snprintf(a->path, sizeof(a->path), "%s/%s", dir,
	    ANS_FILE) < 0 || stat(dir, &st) < 0)
		goto fail;
	a->own = geteuid() == 0 && st.st_uid != 0;
	a->uid = st.st_uid;
	a->gid = st.st_gid;
	a->fd = open(a->path, O_RDWR | O_CLOEXEC);
	if (a->fd < 0 && errno == ENOENT)
		a->fd = open(a->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (a->fd < 0)
		goto fail;
	if (header_ok(a->fd)) {
		if (map_file(a) < 0)
			goto fail_fd;
		return a;
	}
	/* new, or damaged: set it up under the lock, unless another did */
	if (lock_ex(a) < 0)
		goto fail_fd;
	if (!header_ok(a->fd)) {
		struct stat fst;

		if (fstat(a->fd, &fst) == 0 && fst.st_size > 0 && log != NULL)
			log(logarg, 1, "answers file is damaged: rebuilt empty");
		if (rebuild(a) < 0) {
			unlock(a);
			goto fail_fd;
		}
		(void)fchmod(a->fd, 0640);
		if (a->own)
			(void)fchown(a->fd, a->uid, a->gid);
	}
	unlock(a);
	if (map_file(a) < 0)
		goto fail_fd;
	return a;
fail_fd:
	close(a->fd);
fail:
	free(a);
	return NULL;
}

void
ans_close(struct ans_file *a)
{
	if (a == NULL)
		return;
	if (a->map != NULL)
		unmap_file(a->map);
	close(a->fd);
	free(a);
}

/* Does a slot (or its copy) of len bytes in use name domain? */
static int
slot_names(const unsigned char *slot, uint32_t len, const char *domain,
    size_t dlen)
{
	return len >= 2 + dlen && (size_t)(slot[8] | slot[9] << 8) == dlen &&
	    memcmp(slot + SLOT_HDR, domain, dlen) == 0;
}

/*
 * Copy the slot of domain out of the mapping into slot (ANS_SLOT bytes):
 * its header first, then only the length it claims.  The length of the
 * domain and record, or 0 when the slot is empty or claims too much.
 * The bytes may change under the copy; the caller checks the copy.
 */
static uint32_t
copy_slot(const struct ans_file *a, const char *domain, unsigned char *slot)
{
	const unsigned char *src = a->map + slot_of(domain);
	uint32_t len;

	memcpy(slot, src, 8);
	len = get32(slot);
	if (len == 0 || len > ANS_SLOT - 8)
		return 0;
	memcpy(slot + 8, src + 8, len);
	return len;
}

struct stsdane_decision *
ans_get(struct ans_file *a, const char *domain, int64_t now)
{
	unsigned char slot[ANS_SLOT];
	struct stsdane_decision *d = NULL;
	size_t dlen = strlen(domain);
	uint32_t len;
	int64_t learned;

	if (a == NULL)
		return NULL;
	len = copy_slot(a, domain, slot);
	if (len < 2 + dlen || get32(slot + 4) != sd_crc32(0, slot + 8, len) ||
	    !slot_names(slot, len, domain, dlen))
		return NULL;
	if (cache_record_decode(slot + SLOT_HDR + dlen, len - 2 - dlen, &d,
	    &learned) != STSDANE_OK || d == NULL)
		return NULL;
	if (d->expires <= now || strcmp(d->domain, domain) != 0) {
		stsdane_decision_free(d);
		return NULL;
	}
	d->source = STSDANE_SOURCE_CACHE;
	return d;
}

/* Does the slot of domain hold nothing, or domain's own answer? */
static int
slot_free_or_own(const struct ans_file *a, const char *domain)
{
	unsigned char slot[ANS_SLOT];
	size_t dlen = strlen(domain);
	uint32_t len = copy_slot(a, domain, slot);

	return len == 0 || slot_names(slot, len, domain, dlen);
}

/*
 * For the eviction's rank: the domain was decided or read here lately.
 * Only its name is compared, so a torn slot can at worst change which
 * entry is evicted, never what is answered.
 */
int
ans_holds(const struct ans_file *a, const char *domain)
{
	const unsigned char *src;
	size_t dlen = strlen(domain);
	uint32_t len;

	if (a == NULL || dlen > ANS_SLOT - SLOT_HDR)
		return 0;
	src = a->map + slot_of(domain);
	len = get32(src);
	return len <= ANS_SLOT - 8 && slot_names(src, len, domain, dlen);
}

/* own_only: write only over an empty slot or domain's own (checked under
   the lock). */
static void
write_slot(struct ans_file *a, const char *domain, const unsigned char *rec,
    size_t reclen, int own_only)
{
	unsigned char slot[ANS_SLOT];
	size_t dlen = strlen(domain);
	uint32_t len = (uint32_t)(2 + dlen + reclen);

	memset(slot, 0, sizeof(slot));
	/* an answer too large for a slot clears it: never a stale one */
	if (rec != NULL && SLOT_HDR + dlen + reclen <= sizeof(slot)) {
		put32(slot, len);
		slot[8] = dlen & 0xff;
		slot[9] = (dlen >> 8) & 0xff;
		memcpy(slot + SLOT_HDR, domain, dlen);
		memcpy(slot + SLOT_HDR + dlen, rec, reclen);
		put32(slot + 4, sd_crc32(0, slot + 8, len));
	}
	if (lock_ex(a) < 0)
		return;			/* busy: the database has it anyway */
	if (!own_only || slot_free_or_own(a, domain))
		(void)write_all(a->fd, slot, sizeof(slot), slot_of(domain));
	unlock(a);
}

static void
put_answer(struct ans_file *a, const struct stsdane_decision *d, int64_t now,
    int own_only)
{
	unsigned char *rec = NULL;
	size_t reclen = 0;

	if (a == NULL)
		return;
	if (d->tempfail || d->expires <= now) {
		ans_del(a, d->domain);	/* nothing older may stand in for it */
		return;
	}
	if (cache_record_encode(d, now, &rec, &reclen) != STSDANE_OK) {
		ans_del(a, d->domain);
		return;
	}
	write_slot(a, d->domain, rec, reclen, own_only);
	free(rec);
}

void
ans_put(struct ans_file *a, const struct stsdane_decision *d, int64_t now)
{
	put_answer(a, d, now, 0);
}

void
ans_update(struct ans_file *a, const struct stsdane_decision *d, int64_t now)
{
	put_answer(a, d, now, 1);
}

void
ans_del(struct ans_file *a, const char *domain)
{
	unsigned char slot[ANS_SLOT];
	size_t dlen = strlen(domain);

	if (a == NULL)
		return;
	/* only this domain's answer: a collision's stays */
	if (copy_slot(a, domain, slot) < 2 + dlen ||
	    (size_t)(slot[8] | slot[9] << 8) != dlen ||
	    memcmp(slot + SLOT_HDR, domain, dlen) != 0)
		return;
	write_slot(a, domain, NULL, 0, 0);
}

void
ans_clear(struct ans_file *a)
{
	if (a == NULL || lock_ex(a) < 0)
		return;
	(void)rebuild(a);
	unlock(a);
}
