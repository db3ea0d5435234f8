/*
 * NAME
 *	bench_api.c - time cached decisions through the public API
 * SUMMARY
 *	The in-process figures of make bench: how long one cached decision
 *	takes, how many a process makes per second, how that scales over
 *	many processes sharing the cache, and how long a cold decision
 *	takes.
 * SYNOPSIS
 *	bench-api warm CONFIG DOMAIN...
 *	bench-api lat MODE CONFIG SECONDS DOMAIN...
 *	bench-api par MODE CONFIG ROUNDS SECONDS N[,N...] DOMAIN...
 *	bench-api cold CONFIG RUNS DOMAIN
 * DESCRIPTION
 *	warm decides every DOMAIN afresh (STSDANE_QUERY_REFRESH), which
 *	stores it in the cache, then once more from a new context, and
 *	prints "warm-ok DOMAIN" when that second answer came from the
 *	cache, "warm-bad DOMAIN" when not (a decision that is never
 *	cached, e.g. a tempfail); it fails when no domain is cached.  The
 *	world's negative TTLs are short (60 s), so the figures that follow
 *	are taken right after a warm.
 *
 *	MODE says which path a decision takes:
 *	  memo   one context, the domains in turn: after the first round
 *	         every answer is a copy from the context's memo;
 *	  bdb    one context, the domains in turn, more of them than the
 *	         memo holds (32): every answer is the one-read "ans" record
 *	         from Berkeley DB, with the handles kept open;
 *	  fresh  a new context per decision: stsdane_new(), the
 *	         configuration file, the cache opened, one read, all freed:
 *	         what the first decision of a fresh MTA process costs,
 *	         process start aside.
 *
 *	lat runs MODE for SECONDS in this process and times every decision
 *	(stsdane_query() and stsdane_decision_free(), one clock reading per
 *	decision, its cost included).
 *
 *	par runs ROUNDS rounds; each round runs MODE in N processes at once
 *	for SECONDS, for every N of the list in turn, so that the ratios
 *	between them are taken side by side on a shared machine.  Every
 *	process opens its own context after fork(), warms it, waits at a
 *	common start line, and counts.
 *
 *	cold times stsdane_query() with STSDANE_QUERY_NO_CACHE from a new
 *	context, RUNS times: no cache of ours, no resolver cache (a fresh
 *	libunbound), a new HTTPS connection.  Each run's start and end
 *	(CLOCK_MONOTONIC, ms) are printed, to be set beside the log of
 *	tests/bench/delay_proxy.py.
 *
 *	Output is lines of key=value words for tests/bench/run.sh.  A
 *	decision that did not come from the cache (it had expired) counts
 *	as a miss, an error return as an error; both are reported, never
 *	hidden in the figures.
 * DIAGNOSTICS
 *	Exit 0 when the measurement ran, 1 when it could not (bad
 *	configuration, warm failed), 2 on bad usage.
 * SEE ALSO
 *	tests/bench/run.sh, docs/performance.md
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include "stsdane.h"

#define MAX_SAMPLES (4u * 1024 * 1024)
#define MAX_NS 64
#define MAX_ROUNDS 64

enum mode { M_MEMO, M_BDB, M_FRESH };

struct counts {
	uint64_t ok;		/* answered from the cache */
	uint64_t miss;		/* answered, but not from the cache */
	uint64_t err;		/* stsdane_query() failed */
	uint64_t ns;		/* time spent */
};

static int
parse_mode(const char *s, enum mode *m)
{
	if (strcmp(s, "memo") == 0)
		*m = M_MEMO;
	else if (strcmp(s, "bdb") == 0)
		*m = M_BDB;
	else if (strcmp(s, "fresh") == 0)
		*m = M_FRESH;
	else
		return -1;
	return 0;
}

static void
quiet_log(void *arg, int level, const char *msg)
{
	if (level <= 1)
		fprintf(stderr, "bench-api: library: %s\n", msg);
}

static stsdane_ctx *
open_ctx(const char *config)
{
	stsdane_ctx *ctx = stsdane_new();

	if (ctx == NULL) {
		fprintf(stderr, "bench-api: out of memory\n");
		return NULL;
	}
	stsdane_set_log(ctx, quiet_log, NULL);
	if (stsdane_load_config(ctx, config) != STSDANE_OK) {
		fprintf(stderr, "bench-api: configuration '%s': %s\n", config,
		    stsdane_error(ctx));
		stsdane_free(ctx);
		return NULL;
	}
	return ctx;
}

/* One decision, counted.  The context is NULL in fresh mode. */
static void
one(stsdane_ctx *ctx, const char *config, const char *domain,
    struct counts *c)
{
	struct stsdane_decision *d = NULL;
	stsdane_ctx *own = NULL;
	int rc;

	if (ctx == NULL) {
		own = open_ctx(config);
		if (own == NULL) {
			c->err++;
			return;
		}
		ctx = own;
	}
	rc = stsdane_query(ctx, domain, 0, &d);
	if (rc != STSDANE_OK)
		c->err++;
	else if (d->source != STSDANE_SOURCE_CACHE)
		c->miss++;
	else
		c->ok++;
	stsdane_decision_free(d);
	if (own != NULL)
		stsdane_free(own);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i];
}

/* ---------------------------------------------------------------- warm */

static int
cmd_warm(const char *config, int n, char **domains)
{
	stsdane_ctx *ctx;
	struct stsdane_decision *d;
	int i, rc, bad = 0;

	if ((ctx = open_ctx(config)) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		rc = stsdane_query(ctx, domains[i], STSDANE_QUERY_REFRESH, &d);
		if (rc != STSDANE_OK) {
			fprintf(stderr, "bench-api: warm '%s': %s\n",
			    domains[i], stsdane_error(ctx));
			bad++;
		}
		stsdane_decision_free(d);
	}
	stsdane_free(ctx);
	if ((ctx = open_ctx(config)) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		rc = stsdane_query(ctx, domains[i], 0, &d);
		if (rc != STSDANE_OK || d->source != STSDANE_SOURCE_CACHE) {
			printf("warm-bad %s\n", domains[i]);
			bad++;
		} else {
			printf("warm-ok %s\n", domains[i]);
		}
		stsdane_decision_free(d);
	}
	stsdane_free(ctx);
	printf("warm domains=%d bad=%d\n", n, bad);
	return bad == n ? 1 : 0;
}

/* ---------------------------------------------------------------- lat */

static int
cmd_lat(enum mode m, const char *config, long seconds, int n,
    char **domains)
{
	stsdane_ctx *ctx = NULL;
	struct counts c = { 0, 0, 0, 0 };
	uint32_t *lat;
	size_t ns = 0;
	uint64_t start, t0, t1, stop;
	int i = 0;

	lat = malloc(MAX_SAMPLES * sizeof(*lat));
	if (lat == NULL) {
		fprintf(stderr, "bench-api: out of memory\n");
		return 1;
	}
	if (m != M_FRESH) {
		if ((ctx = open_ctx(config)) == NULL) {
			free(lat);
			return 1;
		}
		/* first round: opens the cache and fills the memo */
		for (i = 0; i < n; i++) {
			struct counts w = { 0, 0, 0, 0 };

			one(ctx, config, domains[i], &w);
		}
	}
	start = now_ns();
	stop = start + (uint64_t)seconds * 1000000000u;
	t0 = start;
	i = 0;
	while (ns < MAX_SAMPLES) {
		one(ctx, config, domains[i], &c);
		if (++i == n)
			i = 0;
		t1 = now_ns();
		lat[ns++] = t1 - t0 > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)(t1 - t0);
		t0 = t1;
		if (t1 >= stop)
			break;
	}
	c.ns = t0 - start;
	qsort(lat, ns, sizeof(*lat), cmp_u32);
	printf("lat n=%zu ok=%llu miss=%llu err=%llu seconds=%.3f rate=%.0f "
	    "p50_ns=%.0f p90_ns=%.0f p99_ns=%.0f\n", ns,
	    (unsigned long long)c.ok, (unsigned long long)c.miss,
	    (unsigned long long)c.err, (double)c.ns / 1e9,
	    (double)ns * 1e9 / (double)c.ns, pct(lat, ns, 0.5),
	    pct(lat, ns, 0.9), pct(lat, ns, 0.99));
	free(lat);
	stsdane_free(ctx);
	return 0;
}

/* ---------------------------------------------------------------- par */

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t r = read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* A worker: own context, warm it, report ready, wait for go, count. */
static void
worker(enum mode m, const char *config, long seconds, int n,
    char **domains, int ready_fd, int go_fd, int out_fd)
{
	stsdane_ctx *ctx = NULL;
	struct counts c = { 0, 0, 0, 0 };
	uint64_t start, stop, t;
	char byte = 'r';
	int i;

	if (m != M_FRESH) {
		ctx = open_ctx(config);
		for (i = 0; ctx != NULL && i < n; i++) {
			struct counts w = { 0, 0, 0, 0 };

			one(ctx, config, domains[i], &w);
		}
	}
	(void)write_all(ready_fd, &byte, 1);
	(void)read(go_fd, &byte, 1);	/* EOF: the parent said go */
	if (m != M_FRESH && ctx == NULL) {
		c.err = 1;
		(void)write_all(out_fd, &c, sizeof(c));
		_exit(1);
	}
	start = now_ns();
	stop = start + (uint64_t)seconds * 1000000000u;
	i = 0;
	do {
		int k;

		/* the clock once per 16 decisions */
		for (k = 0; k < 16; k++) {
			one(ctx, config, domains[i], &c);
			if (++i == n)
				i = 0;
		}
		t = now_ns();
	} while (t < stop);
	c.ns = t - start;
	(void)write_all(out_fd, &c, sizeof(c));
	stsdane_free(ctx);
	_exit(0);
}

/* One round with nproc workers: aggregate decisions per second. */
static int
par_round(enum mode m, const char *config, long seconds, long nproc,
    int n, char **domains, double *rate, struct counts *sum)
{
	int ready[2], go[2], out[2];
	pid_t pids[256];
	long i, started = 0;
	char byte;
	int rc = 0, status;

	*rate = 0;
	if (pipe(ready) < 0 || pipe(go) < 0 || pipe(out) < 0) {
		perror("bench-api: pipe");
		return -1;
	}
	fflush(NULL);
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("bench-api: fork");
			rc = -1;
			break;
		}
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			close(out[0]);
			worker(m, config, seconds, n, domains, ready[1], go[0],
			    out[1]);
		}
		pids[started++] = pid;
	}
	close(ready[1]);
	close(go[0]);
	close(out[1]);
	for (i = 0; i < started; i++)
		if (read_all(ready[0], &byte, 1) < 0)
			break;
	close(go[1]);			/* everyone starts now */
	for (i = 0; i < started; i++) {
		struct counts c;

		if (read_all(out[0], &c, sizeof(c)) < 0) {
			rc = -1;
			break;
		}
		sum->ok += c.ok;
		sum->miss += c.miss;
		sum->err += c.err;
		if (c.ns > 0)
			*rate += (double)(c.ok + c.miss + c.err) * 1e9 /
			    (double)c.ns;
	}
	for (i = 0; i < started; i++) {
		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			sum->err++;
	}
	close(ready[0]);
	close(out[0]);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *v, size_t n)
{
	double s[MAX_ROUNDS];

	if (n == 0)
		return 0;
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static int
cmd_par(enum mode m, const char *config, long rounds, long seconds,
    const char *list, int n, char **domains)
{
	long nprocs[MAX_NS];
	double rates[MAX_NS][MAX_ROUNDS], ratio[MAX_NS][MAX_ROUNDS];
	struct counts sums[MAX_NS];
	char buf[256], *p, *comma;
	int k = 0, j;
	long r;

	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return 2;
	for (p = buf; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (k == MAX_NS || parse_long(p, 1, 256, &nprocs[k]) < 0) {
			fprintf(stderr, "bench-api: bad process count '%s'\n",
			    p);
			return 2;
		}
		k++;
	}
	/* a worker that dies before the start line must not hang us */
	alarm((unsigned)(rounds * k * (seconds + 30)));
	memset(sums, 0, sizeof(sums));
	for (r = 0; r < rounds; r++) {
		for (j = 0; j < k; j++) {
			/* alternate the order, so neither is always first */
			int jj = r % 2 ? k - 1 - j : j;

			if (par_round(m, config, seconds, nprocs[jj], n,
			    domains, &rates[jj][r], &sums[jj]) < 0)
				return 1;
		}
		for (j = 0; j < k; j++)
			ratio[j][r] = rates[0][r] > 0 ?
			    rates[j][r] / rates[0][r] : 0;
	}
	for (j = 0; j < k; j++)
		printf("par nproc=%ld rounds=%ld rate=%.0f ratio=%.3f "
		    "ok=%llu miss=%llu err=%llu\n", nprocs[j], rounds,
		    median(rates[j], (size_t)rounds),
		    median(ratio[j], (size_t)rounds),
		    (unsigned long long)sums[j].ok,
		    (unsigned long long)sums[j].miss,
		    (unsigned long long)sums[j].err);
	return 0;
}

/* ---------------------------------------------------------------- cold */

static int
cmd_cold(const char *config, long runs, const char *domain)
{
	double ms[MAX_ROUNDS];
	long r;
	int bad = 0;

	for (r = 0; r < runs; r++) {
		struct stsdane_decision *d = NULL;
		stsdane_ctx *ctx = open_ctx(config);
		uint64_t t0, t1;
		int rc;

		if (ctx == NULL)
			return 1;
		t0 = now_ns();
		rc = stsdane_query(ctx, domain, STSDANE_QUERY_NO_CACHE, &d);
		t1 = now_ns();
		ms[r] = (double)(t1 - t0) / 1e6;
		if (rc != STSDANE_OK || d->tempfail) {
			fprintf(stderr, "bench-api: cold '%s': %s\n", domain,
			    rc != STSDANE_OK ? stsdane_error(ctx) :
			    d->reason);
			bad++;
		} else if (r == 0) {
			printf("cold-decision mechanism=%s mode=%s\n",
			    stsdane_mechanism_name(d->mechanism),
			    stsdane_mode_name(d->mode));
		}
		printf("cold-run ms=%.1f start=%.3f end=%.3f\n", ms[r],
		    (double)t0 / 1e6, (double)t1 / 1e6);
		fflush(stdout);
		stsdane_decision_free(d);
		stsdane_free(ctx);
	}
	qsort(ms, (size_t)runs, sizeof(ms[0]), cmp_double);
	printf("cold runs=%ld bad=%d median_ms=%.1f min_ms=%.1f max_ms=%.1f\n",
	    runs, bad, median(ms, (size_t)runs), ms[0], ms[runs - 1]);
	return bad ? 1 : 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench-api warm CONFIG DOMAIN...\n"
	    "       bench-api lat memo|bdb|fresh CONFIG SECONDS DOMAIN...\n"
	    "       bench-api par memo|bdb|fresh CONFIG ROUNDS SECONDS "
	    "N[,N...] DOMAIN...\n"
	    "       bench-api cold CONFIG RUNS DOMAIN\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	enum mode m;
	long a, b;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && strcmp(argv[1], "warm") == 0)
		return cmd_warm(argv[2], argc - 3, argv + 3);
	if (argc >= 6 && strcmp(argv[1], "lat") == 0) {
		if (parse_mode(argv[2], &m) < 0 ||
		    parse_long(argv[4], 1, 3600, &a) < 0)
			usage();
		return cmd_lat(m, argv[3], a, argc - 5, argv + 5);
	}
	if (argc >= 8 && strcmp(argv[1], "par") == 0) {
		if (parse_mode(argv[2], &m) < 0 ||
		    parse_long(argv[4], 1, MAX_ROUNDS, &a) < 0 ||
		    parse_long(argv[5], 1, 3600, &b) < 0)
			usage();
		return cmd_par(m, argv[3], a, b, argv[6], argc - 7, argv + 7);
	}
	if (argc == 5 && strcmp(argv[1], "cold") == 0) {
		if (parse_long(argv[3], 1, MAX_ROUNDS, &a) < 0)
			usage();
		return cmd_cold(argv[2], a, argv[4]);
	}
	usage();
	return 2;
}
