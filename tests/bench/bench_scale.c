/*
 * NAME
 *	bench_scale.c - what a cached decision costs as the cache grows
 * SUMMARY
 *	The growth curve of make bench-scale: a cache filled with N domains
 *	through the cache layer itself (no network), then cached decisions
 *	in fresh processes, the answers file read alone, the size of the
 *	database and the time to open it.
 * SYNOPSIS
 *	bench-scale fill DIR FROM TO
 *	bench-scale touch DIR N WORKING
 *	bench-scale measure DIR N WORKING PROCS
 *	bench-scale ans DIR N WORKING SECONDS
 * DESCRIPTION
 *	Domains are named dN.scale.test.  Each gets what a cached MTA-STS
 *	domain has in the store: its policy ("sts/"), the TXT id seen
 *	("txt/") and its final answer ("ans/", also in the answers file),
 *	written through remember.c as a decision would write them, valid
 *	for a week.
 *
 *	fill adds domains FROM to TO-1.  touch decides the last WORKING of
 *	the N domains again (their answers go to the answers file, as a
 *	site's working set would): the working set.
 *
 *	measure forks PROCS processes from a parent that has opened
 *	nothing; each makes one cached decision (remember_new() on DIR,
 *	remember_answer_get() of a random domain of the working set,
 *	remember_free()) and reports its time and the tier that answered;
 *	then PROCS more that only open the Berkeley DB store and read one
 *	key (cache_bdb_open() and a get), the time to open the cache.  It
 *	prints the p50 and p99 of both, the answers-file hit ratio of the
 *	working set (every domain of it asked once, in this process), the
 *	database size and bytes per domain.
 *
 *	ans reads the working set's answers from the answers file alone
 *	(ans_get(): the memo bypassed) for SECONDS and prints the median
 *	and p99 of one read.
 *
 *	The children are forked, not exec'd: "fresh" means no handle open
 *	and nothing in the memo, with the program's code already mapped.
 *	Output is key=value words for tests/bench/scale.sh.
 * DIAGNOSTICS
 *	Exit 0 when the measurement ran, 1 when it could not, 2 on bad
 *	usage.
 * SEE ALSO
 *	tests/bench/scale.sh, docs/performance.md
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "decision.h"
#include "remember.h"

#define WEEK (7 * 86400)

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
num(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || *out < 0 ? -1 : 0;
}

static void
name_of(long i, char *buf, size_t len)
{
	(void)snprintf(buf, len, "d%ld.scale.test", i);
}

static struct stsdane_decision *
policy(const char *domain, int64_t now)
{
	struct stsdane_decision *d = decision_new(domain);

	if (d == NULL)
		return NULL;
	d->mechanism = STSDANE_MECH_MTASTS;
	d->mode = STSDANE_MODE_ENFORCE;
	d->require_tls = 1;
	d->max_age = WEEK;
	d->expires = now + WEEK;
	if (decision_add_mx(d, "mx.scale.test") < 0 ||
	    decision_set_reason(d, "MTA-STS policy in enforce mode") < 0 ||
	    (d->policy_id = strdup("20261201")) == NULL) {
		stsdane_decision_free(d);
		return NULL;
	}
	return d;
}

static void
log_err(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level <= 1)
		fprintf(stderr, "bench-scale: %s\n", msg);
}

/* Decide domains [from, to) into the cache, as a decision would. */
static int
store(const char *dir, long from, long to, int full)
{
	/* room for every record: nothing evicted while filling */
	struct remember *r = remember_new(dir, (unsigned)(4 * to + 1000),
	    log_err, NULL);
	int64_t now = now_s();
	char domain[64];
	long i;

	if (r == NULL)
		return -1;
	for (i = from; i < to; i++) {
		struct stsdane_decision *d;

		name_of(i, domain, sizeof(domain));
		if ((d = policy(domain, now)) == NULL)
			break;
		if (full) {
			remember_policy_put(r, d, now);
			remember_txt_put(r, domain, d->policy_id, now,
			    now + 86400);
		}
		remember_answer_put(r, d, now, full);
		stsdane_decision_free(d);
	}
	remember_free(r);
	return i == to ? 0 : -1;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

/*
 * One fresh process: one timed operation; writes its time in µs and
 * whether the answers file answered into the pipe.
 */
static void
child(int fd, const char *dir, long n, long working, int open_only)
{
	char domain[64];
	double t0, t1;
	double rec[2] = { -1, 0 };	/* µs, from the answers file */

	srand((unsigned)getpid());
	name_of(n - 1 - rand() % working, domain, sizeof(domain));
	if (open_only) {
		char err[256];
		unsigned char *val = NULL;
		size_t len;
		void *c;
		char key[96];

		(void)rem_key(REM_ANSWER, domain, key, sizeof(key));
		t0 = now_us();
		c = cache_bdb_open(dir, 0, NULL, NULL, err, sizeof(err));
		if (c != NULL && cache_bdb_ops.get(c, key, &val, &len) ==
		    STSDANE_OK)
			rec[1] = 1;
		t1 = now_us();
		free(val);
		cache_bdb_close(c);
	} else {
		struct remember *r;
		struct stsdane_decision *d, *x;
		struct ans_file *a;

		/* which tier will answer: is it in the answers file?  (Asked
		   first, as a hit in the store fills the answers file.) */
		a = ans_open(dir, NULL, NULL);
		x = ans_get(a, domain, now_s());
		rec[1] = x != NULL;
		stsdane_decision_free(x);
		ans_close(a);
		t0 = now_us();
		r = remember_new(dir, 0, NULL, NULL);
		d = remember_answer_get(r, domain, now_s());
		t1 = now_us();
		if (d == NULL)
			rec[1] = -1;
		stsdane_decision_free(d);
		remember_free(r);
	}
	if (rec[1] >= 0 && t1 >= t0)
		rec[0] = t1 - t0;
	else
		rec[0] = -1;
	if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec))
		_exit(1);
	_exit(0);
}

static int
fresh(const char *dir, long n, long working, long procs, int open_only,
    const char *label)
{
	double *v = calloc((size_t)procs, sizeof(double));
	long i, got = 0, ans = 0, fail = 0;
	int p[2], samples = getenv("BENCH_SAMPLES") != NULL;

	if (v == NULL || pipe(p) < 0)
		return -1;
	for (i = 0; i < procs; i++) {
		pid_t pid = fork();
		double rec[2];
		int st;

		if (pid < 0)
			break;
		if (pid == 0) {
			close(p[0]);
			child(p[1], dir, n, working, open_only);
		}
		if (read(p[0], rec, sizeof(rec)) == (ssize_t)sizeof(rec) &&
		    rec[0] >= 0) {
			v[got++] = rec[0];
			ans += rec[1] > 0;
			if (samples && !open_only)	/* each one, for a
							   caller's own tally */
				printf("sample %s %.2f\n", rec[1] > 0 ?
				    "answers-file" : "database", rec[0]);
		} else
			fail++;
		(void)waitpid(pid, &st, 0);
	}
	close(p[0]);
	close(p[1]);
	if (got == 0) {
		free(v);
		return -1;
	}
	qsort(v, (size_t)got, sizeof(double), cmp_d);
	printf("%s n=%ld procs=%ld p50_us=%.2f p99_us=%.2f %s=%ld "
	    "failed=%ld\n", label, n, got, pct(v, (size_t)got, 0.5),
	    pct(v, (size_t)got, 0.99), open_only ? "found" : "from_ans",
	    ans, fail);
	free(v);
	return 0;
}

static int
cmd_measure(const char *dir, long n, long working, long procs)
{
	struct ans_file *a = ans_open(dir, NULL, NULL);
	char domain[64], path[4096];
	struct stat st;
	long i, hits = 0;
	int64_t now = now_s();

	if (a == NULL)
		return -1;
	for (i = n - working; i < n; i++) {
		struct stsdane_decision *d;

		name_of(i, domain, sizeof(domain));
		d = ans_get(a, domain, now);
		hits += d != NULL;
		stsdane_decision_free(d);
	}
	ans_close(a);
	(void)snprintf(path, sizeof(path), "%s/stsdane.db", dir);
	if (stat(path, &st) < 0)
		return -1;
	printf("size n=%ld working=%ld ans_hits=%ld ans_ratio=%.3f "
	    "db_bytes=%lld bytes_per_domain=%.0f\n", n, working, hits,
	    (double)hits / (double)working, (long long)st.st_size,
	    (double)st.st_size / (double)n);
	fflush(stdout);
	if (fresh(dir, n, working, procs, 0, "fresh") < 0 ||
	    fresh(dir, n, working, procs, 1, "open") < 0)
		return -1;
	return 0;
}

static int
cmd_ans(const char *dir, long n, long working, long seconds)
{
	struct ans_file *a = ans_open(dir, NULL, NULL);
	size_t cap = 1 << 22, got = 0;
	double *v = malloc(cap * sizeof(double));
	double end = now_us() + (double)seconds * 1e6;
	char domain[64];
	long i = n - working, miss = 0;
	int64_t now = now_s();

	if (a == NULL || v == NULL)
		return -1;
	while (got < cap) {
		struct stsdane_decision *d;
		double t0, t1;

		name_of(i, domain, sizeof(domain));
		t0 = now_us();
		d = ans_get(a, domain, now);
		stsdane_decision_free(d);
		t1 = now_us();
		if (d == NULL)
			miss++;
		else
			v[got++] = t1 - t0;
		if (++i == n) {
			i = n - working;
			if (t1 > end)
				break;
		}
	}
	ans_close(a);
	if (got == 0) {
		free(v);
		return -1;
	}
	qsort(v, got, sizeof(double), cmp_d);
	printf("ans reads=%zu p50_us=%.3f p99_us=%.3f misses=%ld\n", got,
	    pct(v, got, 0.5), pct(v, got, 0.99), miss);
	free(v);
	return 0;
}

int
main(int argc, char **argv)
{
	long a, b, c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "fill") == 0 &&
	    num(argv[3], &a) == 0 && num(argv[4], &b) == 0)
		return store(argv[2], a, b, 1) < 0;
	if (argc == 5 && strcmp(argv[1], "touch") == 0 &&
	    num(argv[3], &a) == 0 && num(argv[4], &b) == 0 && b <= a)
		return store(argv[2], a - b, a, 0) < 0;
	if (argc == 6 && strcmp(argv[1], "measure") == 0 &&
	    num(argv[3], &a) == 0 && num(argv[4], &b) == 0 &&
	    num(argv[5], &c) == 0 && b > 0 && b <= a && c > 0)
		return cmd_measure(argv[2], a, b, c) < 0;
	if (argc == 6 && strcmp(argv[1], "ans") == 0 &&
	    num(argv[3], &a) == 0 && num(argv[4], &b) == 0 &&
	    num(argv[5], &c) == 0 && b > 0 && b <= a)
		return cmd_ans(argv[2], a, b, c) < 0;
	fprintf(stderr, "usage: bench-scale fill DIR FROM TO | "
	    "touch DIR N WORKING | measure DIR N WORKING PROCS | "
	    "ans DIR N WORKING SECONDS\n");
	return 2;
}
