/*
 * store.h - the TLS-RPT session store: one file of fixed-size records
 * per UTC day (store.c)
 */
#ifndef STSDANE_REPORT_STORE_H
#define STSDANE_REPORT_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_REC_SIZE 2048	/* < PIPE_BUF: one O_APPEND write is atomic */
#define STORE_MAX_PER_DAY 65536u	/* records; 128 MiB a day at most */
#define STORE_KEEP_DAYS 8	/* day files older than this are removed */

/* The fields of one record, NUL-terminated, truncated to fit. */
struct store_rec {
	int64_t when;			/* seconds since the epoch */
	uint8_t result;			/* enum stsdane_tlsrpt_result */
	uint8_t ptype;			/* enum store_ptype */
	char domain[256];
	char mx_hostname[256];
	char receiving_ip[48];
	char sending_ip[48];
	char helo[128];
	char reason_code[96];
	char info[160];
	char mx_patterns[256];		/* the policy's mx lines, ' ' between */
	char policy[768];		/* the policy string, '\n' between */
};

enum store_ptype {
	STORE_PTYPE_NONE = 0,		/* no-policy-found */
	STORE_PTYPE_STS = 1,
	STORE_PTYPE_TLSA = 2
};

const char *store_ptype_name(unsigned t);

/* "DIR/YYYY-MM-DD.tlsrpt" of the day of `when' (UTC).  0 or -1. */
int store_day_path(const char *dir, int64_t when, char *buf, size_t len);
int store_day_path_s(const char *dir, const char *day, char *buf,
    size_t len);
/* "YYYY-MM-DD" of `when', UTC; 0 or -1. */
int store_day_name(int64_t when, char *buf, size_t len);
/* The start of day "YYYY-MM-DD" (UTC) into *t; 0, or -1 when malformed. */
int store_day_parse(const char *day, int64_t *t);

/*
 * Append r to the day file of r->when under dir (made 0770 if missing).
 * 0; -1 with err set (cannot open or write); 1 when the day is full.
 */
int store_append(const char *dir, const struct store_rec *r, char *err,
    size_t errlen);

/*
 * Call fn for every intact record of day "YYYY-MM-DD"; records whose
 * checksum fails, and a torn tail, are skipped and counted in *bad.
 * 0 (also for a day without a file), -1 with err set.  fn returns
 * nonzero to stop.
 */
typedef int store_fn(void *arg, const struct store_rec *r);
int store_read_day(const char *dir, const char *day, store_fn *fn,
    void *arg, size_t *bad, char *err, size_t errlen);

/*
 * The same in two steps: open the day file of `when' (O_APPEND; made,
 * and the directory, if missing and `create') into *fd, 0 or -1 with err; then append r to it, 0, 1
 * full, -1 with err.  The descriptor may be kept and shared by forked
 * processes: each record is still one write().
 */
int store_open(const char *dir, int64_t when, int create, int *fd,
    char *err, size_t errlen);
int store_write(int fd, const struct store_rec *r, char *err,
    size_t errlen);

/*
 * Do once what a process's first store_write() would: touch the
 * encoder and the descriptor, so that a delivery process forked after
 * this one finds them done (record.c's report_prepare()).
 */
void store_warm(int fd);

/* Remove the day files older than STORE_KEEP_DAYS before `now'. */
void store_expire(const char *dir, int64_t now);

#endif /* STSDANE_REPORT_STORE_H */
