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
 *	void ans_del(struct ans_file *a, const char *domain)
 *	void ans_clear(struct ans_file *a)
 *	void ans_close(struct ans_file *a)
 * DESCRIPTION
 *	Beside the Berkeley DB database, in the same directory, a file of
 *	fixed size ("stsdane.ans") holds the final decision of recently
 *	decided domains, one fixed-size slot per domain (chosen by a hash of
 *	the domain; a collision simply replaces the older answer).  A
 *	process that finds its answer there never opens the database: one
 *	pread(), a checksum, a decode.  That keeps a fresh MTA process that
 *	makes one cached decision as cheap as one that makes none.
 *
 *	Readers take no lock.  Each slot carries its length, its domain
 *	and a CRC-32 over both and the record; a slot being written while
 *	it is read, or left half-written by a process killed mid-write,
 *	fails the check and reads as a miss (the caller then asks the
 *	database, which has its own crash-safety).  Writers serialise on
 *	an exclusive lock of the file (bounded wait; on time-out the write
 *	is skipped).  The file is never truncated while in use: clearing
 *	writes zeros.
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
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "util.h"

#define ANS_FILE "stsdane.ans"
#define ANS_MAGIC "SDANS001"		/* format 1 */
#define ANS_SLOTS 2048
#define ANS_SLOT 1024
#define ANS_HDR 64
#define ANS_SIZE ((off_t)ANS_HDR + (off_t)ANS_SLOTS * ANS_SLOT)
#define ANS_LOCK_TRIES 100		/* x 10 ms */

/* Slot: u32 len (of domain + record), u32 crc, u16 domain length,
   domain, record.  All little-endian. */
#define SLOT_HDR 10

struct ans_file {
	int fd;
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

/* Zeros over the slots, then a fresh header.  Under the lock. */
static int
rebuild(struct ans_file *a)
{
	static const unsigned char zero[ANS_SLOT];
	unsigned char hdr[ANS_HDR];
	off_t off;

	if (ftruncate(a->fd, ANS_SIZE) < 0)
		return -1;
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
	if (header_ok(a->fd))
		return a;
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
	close(a->fd);
	free(a);
}

struct stsdane_decision *
ans_get(struct ans_file *a, const char *domain, int64_t now)
{
	unsigned char slot[ANS_SLOT];
	struct stsdane_decision *d = NULL;
	size_t dlen = strlen(domain);
	uint32_t len;
	int64_t learned;

	if (a == NULL || pread(a->fd, slot, sizeof(slot), slot_of(domain)) !=
	    (ssize_t)sizeof(slot))
		return NULL;
	len = get32(slot);
	if (len < 2 + dlen || len > ANS_SLOT - 8 ||
	    get32(slot + 4) != sd_crc32(0, slot + 8, len) ||
	    (size_t)(slot[8] | slot[9] << 8) != dlen ||
	    memcmp(slot + SLOT_HDR, domain, dlen) != 0)
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

static void
write_slot(struct ans_file *a, const char *domain, const unsigned char *rec,
    size_t reclen)
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
	(void)write_all(a->fd, slot, sizeof(slot), slot_of(domain));
	unlock(a);
}

void
ans_put(struct ans_file *a, const struct stsdane_decision *d, int64_t now)
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
	write_slot(a, d->domain, rec, reclen);
	free(rec);
}

void
ans_del(struct ans_file *a, const char *domain)
{
	unsigned char slot[ANS_SLOT];
	uint32_t len;

	if (a == NULL || pread(a->fd, slot, sizeof(slot), slot_of(domain)) !=
	    (ssize_t)sizeof(slot))
		return;
	len = get32(slot);
	/* only this domain's answer: a collision's stays */
	if (len == 0 || len > ANS_SLOT - 8 ||
	    (size_t)(slot[8] | slot[9] << 8) != strlen(domain) ||
	    memcmp(slot + SLOT_HDR, domain, strlen(domain)) != 0)
		return;
	write_slot(a, domain, NULL, 0);
}

void
ans_clear(struct ans_file *a)
{
	if (a == NULL || lock_ex(a) < 0)
		return;
	(void)rebuild(a);
	unlock(a);
}
