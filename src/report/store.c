/*
 * NAME
 *	store.c - the TLS-RPT session store
 * SUMMARY
 *	one append-only file of fixed-size, checksummed records per UTC day
 * SYNOPSIS
 *	#include "store.h"
 *
 *	int store_append(const char *dir, const struct store_rec *r,
 *	    char *err, size_t errlen)
 *	int store_read_day(const char *dir, const char *day, store_fn *fn,
 *	    void *arg, size_t *bad, char *err, size_t errlen)
 * DESCRIPTION
 *	Every delivery process of every MTA on the machine appends to the
 *	same file, DIR/YYYY-MM-DD.tlsrpt, without a lock: a record is
 *	STORE_REC_SIZE bytes, less than PIPE_BUF, written with one write()
 *	on a descriptor opened O_APPEND, so Linux puts it whole at the end
 *	of the file whoever else writes at the same time.  A process killed
 *	during the write leaves at most its own record short or unwritten:
 *	it is the last thing in the file it wrote, the reader checks each
 *	record's CRC-32 and length, and a torn record is skipped.  Nobody
 *	else's record is touched, and none is ever rewritten.
 *
 *	Why not Berkeley DB, as the cache: a delivery would then take the
 *	environment's locks and a page write for what is a log; the
 *	aggregation reads one day once, in order, which a flat file does
 *	best.  The cost on the delivery path is fstat() and write() on a
 *	descriptor the context opened when it was first used, and that a
 *	forked delivery process inherits (record.c); open() and close()
 *	besides when the day changed (tests/bench: row 7).
 *
 *	Bounded: at most STORE_MAX_PER_DAY records a day (the append is
 *	refused past it), and the day files older than STORE_KEEP_DAYS are
 *	removed by store_expire(), which the daily send calls.
 *
 *	Record layout: "TR01", CRC-32 of bytes 8..USED, result, policy
 *	type, USED (16 bits, big-endian: the bytes in use), 4 zero bytes,
 *	time (64-bit big-endian), then the strings of struct store_rec in
 *	its order, each ending in a NUL, then zeros to STORE_REC_SIZE.
 *	Only the bytes in use are summed: that keeps the record cheap to
 *	write, and a reader never uses the padding.
 * DIAGNOSTICS
 *	-1 with err: "cannot open 'PATH': ...", "short write to 'PATH'".
 * SEE ALSO
 *	store.h, docs/tlsrpt.md
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>

#include "store.h"
#include "util.h"

#define MAGIC "TR01"
#define HDR 24

/* The string fields, in the order of the file. */
#define FIELDS(X) X(domain) X(mx_hostname) X(receiving_ip) X(sending_ip) \
	X(helo) X(reason_code) X(info) X(mx_patterns) X(policy)

const char *
store_ptype_name(unsigned t)
{
	switch (t) {
	case STORE_PTYPE_STS:
		return "sts";
	case STORE_PTYPE_TLSA:
		return "tlsa";
	default:
		return "no-policy-found";
	}
}

/*
 * The civil date of a day number (days since 1970-01-01), proleptic
 * Gregorian, by arithmetic alone: the delivery path calls this, and
 * gmtime_r() and snprintf() cost more than the rest of a record.
 */
int
store_day_name(int64_t when, char *buf, size_t len)
{
	int64_t z, era, doe, yoe, y, doy, mp, d, m;
	int i;

	if (len < 11 || when < 0)
		return -1;
	z = when / 86400 + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y > 9999)
		return -1;
	for (i = 3; i >= 0; i--, y /= 10)
		buf[i] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + d / 10);
	buf[9] = (char)('0' + d % 10);
	buf[10] = '\0';
	return 0;
}

int
store_day_parse(const char *day, int64_t *t)
{
	struct tm tm;
	int i, v[3] = {0, 0, 0}, w[3] = {4, 2, 2}, k = 0;
	const char *p = day;
	char back[16];

	if (day == NULL || strlen(day) != 10)
		return -1;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < w[k]; i++, p++) {
			if (*p < '0' || *p > '9')
				return -1;
			v[k] = v[k] * 10 + (*p - '0');
		}
		if (k < 2 && *p++ != '-')
			return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	*t = (int64_t)timegm(&tm);
	/* 2026-02-30 would be normalized to March: refuse it */
	if (store_day_name(*t, back, sizeof(back)) != 0 ||
	    strcmp(back, day) != 0)
		return -1;
	return 0;
}

int
store_day_path_s(const char *dir, const char *day, char *buf, size_t len)
{
	size_t n = strlen(dir), k = strlen(day);

	if (n + 1 + k + sizeof(".tlsrpt") > len)
		return -1;
	memcpy(buf, dir, n);
	buf[n] = '/';
	memcpy(buf + n + 1, day, k);
	memcpy(buf + n + 1 + k, ".tlsrpt", sizeof(".tlsrpt"));
	return 0;
}

int
store_day_path(const char *dir, int64_t when, char *buf, size_t len)
{
	char day[16];

	if (store_day_name(when, day, sizeof(day)) != 0)
		return -1;
	return store_day_path_s(dir, day, buf, len);
}

static void
encode(const struct store_rec *r, unsigned char *b)
{
	size_t off = HDR, n;
	uint32_t crc;
	int i;

	memset(b, 0, STORE_REC_SIZE);
	memcpy(b, MAGIC, 4);
	b[8] = r->result;
	b[9] = r->ptype;
	for (i = 0; i < 8; i++)
		b[16 + i] = (unsigned char)((uint64_t)r->when >> (56 - 8 * i));
	/* the fields fit: their sizes add up to less than the record */
#define PUT(f) n = strnlen(r->f, sizeof(r->f) - 1); \
	memcpy(b + off, r->f, n); off += n + 1;
	FIELDS(PUT)
#undef PUT
	b[10] = (unsigned char)(off >> 8);
	b[11] = (unsigned char)off;
	crc = sd_crc32(0, b + 8, off - 8);
	for (i = 0; i < 4; i++)
		b[4 + i] = (unsigned char)(crc >> (24 - 8 * i));
}

/* 0, or -1: not an intact record. */
static int
decode(const unsigned char *b, struct store_rec *r)
{
	uint32_t crc = 0;
	uint64_t w = 0;
	size_t off = HDR, used, n;
	const unsigned char *nul;
	int i;

	if (memcmp(b, MAGIC, 4) != 0)
		return -1;
	used = (size_t)b[10] << 8 | b[11];
	if (used < HDR || used > STORE_REC_SIZE)
		return -1;
	for (i = 0; i < 4; i++)
		crc = crc << 8 | b[4 + i];
	if (crc != sd_crc32(0, b + 8, used - 8))
		return -1;
	memset(r, 0, sizeof(*r));
	r->result = b[8];
	r->ptype = b[9];
	for (i = 0; i < 8; i++)
		w = w << 8 | b[16 + i];
	r->when = (int64_t)w;
#define GET(f) nul = off < used ? memchr(b + off, 0, used - off) : NULL; \
	if (nul == NULL) return -1; \
	n = (size_t)(nul - (b + off)); \
	if (n >= sizeof(r->f)) return -1; \
	memcpy(r->f, b + off, n); off += n + 1;
	FIELDS(GET)
#undef GET
	/*
	 * The padding must be zeros: a torn record followed by the next
	 * writer's would otherwise pass when its used part is complete,
	 * and the next record would be lost in its padding.
	 */
	for (off = used; off < STORE_REC_SIZE; off++)
		if (b[off] != 0)
			return -1;
	return 0;
}

int
store_open(const char *dir, int64_t when, int create, int *fd, char *err,
    size_t errlen)
{
	char path[4096];

	if (store_day_path(dir, when, path, sizeof(path)) != 0) {
		(void)sd_snprintf(err, errlen, "store path too long");
		return -1;
	}
	*fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC |
	    (create ? O_CREAT : 0), 0660);
	if (*fd < 0 && errno == ENOENT && create) {
		(void)mkdir(dir, 0770);
		*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0660);
	}
	if (*fd < 0) {
		(void)sd_snprintf(err, errlen, "cannot open '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
store_write(int fd, const struct store_rec *r, char *err, size_t errlen)
{
	unsigned char b[STORE_REC_SIZE];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) == 0 &&
	    st.st_size >= (off_t)STORE_MAX_PER_DAY * STORE_REC_SIZE) {
		(void)sd_snprintf(err, errlen, "the day's file is full (%u "
		    "records)", STORE_MAX_PER_DAY);
		return 1;
	}
	encode(r, b);
	n = write(fd, b, sizeof(b));
	if (n != (ssize_t)sizeof(b)) {
		(void)sd_snprintf(err, errlen, "short write to the day's file: "
		    "%s", n < 0 ? strerror(errno) : "partial");
		return -1;
	}
	return 0;
}

void
store_warm(int fd)
{
	unsigned char b[STORE_REC_SIZE];
	struct store_rec r;
	struct stat st;

	memset(&r, 0, sizeof(r));
	(void)sd_strlcpy(r.domain, "warm", sizeof(r.domain));
	encode(&r, b);
	(void)fstat(fd, &st);
}

int
store_append(const char *dir, const struct store_rec *r, char *err,
    size_t errlen)
{
	int fd, rc;

	if (store_open(dir, r->when, 1, &fd, err, errlen) != 0)
		return -1;
	rc = store_write(fd, r, err, errlen);
	(void)close(fd);
	return rc;
}

int
store_read_day(const char *dir, const char *day, store_fn *fn, void *arg,
    size_t *bad, char *err, size_t errlen)
{
	struct store_rec r;
	struct stat st;
	char path[4096];
	const unsigned char *m;
	size_t off, size;
	int fd, torn = 0;

	*bad = 0;
	if (store_day_path_s(dir, day, path, sizeof(path)) != 0) {
		(void)sd_snprintf(err, errlen, "store path too long");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		(void)sd_snprintf(err, errlen, "cannot open '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_size == 0) {
		(void)close(fd);
		return 0;
	}
	size = (size_t)st.st_size;
	m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	(void)close(fd);
	if (m == MAP_FAILED) {
		(void)sd_snprintf(err, errlen, "cannot map '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	/*
	 * A record cut short by a writer killed in the middle moves every
	 * later one off the STORE_REC_SIZE grid: after a bad record, look
	 * for the next magic whose record checks out.
	 */
	for (off = 0; off + STORE_REC_SIZE <= size;) {
		if (decode(m + off, &r) == 0) {
			torn = 0;
			if (fn(arg, &r) != 0)
				break;
			off += STORE_REC_SIZE;
			continue;
		}
		if (!torn)
			(*bad)++;
		torn = 1;
		off++;
		while (off + STORE_REC_SIZE <= size &&
		    memcmp(m + off, MAGIC, 4) != 0)
			off++;
	}
	if (off < size && off + STORE_REC_SIZE > size && !torn)
		(*bad)++;
	(void)munmap((void *)(uintptr_t)m, size);
	return 0;
}

void
store_expire(const char *dir, int64_t now)
{
	char oldest[16], path[4096];
	struct dirent *e;
	DIR *d;

	if (store_day_name(now - (int64_t)STORE_KEEP_DAYS * 86400, oldest,
	    sizeof(oldest)) != 0)
		return;
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int64_t t;
		char day[16];

		if (strlen(e->d_name) < 10)
			continue;
		memcpy(day, e->d_name, 10);
		day[10] = '\0';
		if (store_day_parse(day, &t) != 0 || strcmp(day, oldest) >= 0)
			continue;
		if (sd_snprintf(path, sizeof(path), "%s/%s", dir,
		    e->d_name) == 0)
			(void)unlink(path);
	}
	(void)closedir(d);
}
