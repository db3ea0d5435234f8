/*
 * NAME
 *	bench_exec.c - run commands in interleaved rounds, time them, and
 *	read their peak resident memory
 * SUMMARY
 *	What a fresh MTA process pays for loading the module and making
 *	one cached decision, against the same process doing nothing of the
 *	kind, measured side by side on a shared, noisy machine.
 * SYNOPSIS
 *	bench-exec ROUNDS OUTDIR NAME ARGFILE [NAME ARGFILE...]
 * DESCRIPTION
 *	Each ARGFILE holds one command, one argument per line.  Every
 *	round runs each command once, the first of them rotating from
 *	round to round so that none is always first (or last) after a
 *	pause.  A run is timed from fork() to the end of wait4(), and
 *	wait4() also reports the child's peak resident set (ru_maxrss,
 *	the kernel's VmHWM), in KiB.
 *
 *	The standard output of each command's first run is kept in
 *	OUTDIR/NAME.out (later runs go to /dev/null), so that the caller
 *	can check the command did what it was meant to.  Standard error
 *	goes to OUTDIR/NAME.err.
 *
 *	For every command, one line of key=value words: the median, 10th
 *	and 90th percentile of the wall time (microseconds), the mean of
 *	the middle 80 % ("trimmed"), the median peak RSS (KiB), and,
 *	against the first command, the ratio of the medians, the ratio of
 *	the trimmed means, and the median of the per-round ratios.
 * DIAGNOSTICS
 *	Exit 0 when every run exited 0; 1 when a command failed (its
 *	standard error is in OUTDIR); 2 on bad usage.
 * SEE ALSO
 *	tests/bench/run.sh, docs/performance.md
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_CMDS 8
#define MAX_ARGS 32
#define MAX_ROUNDS 2000
#define ARG_LEN 4096

struct cmd {
	const char *name;
	char *argv[MAX_ARGS + 1];
	double us[MAX_ROUNDS];
	double rss[MAX_ROUNDS];
	int failed;
};

/* One argument per line; 0, or -1 with a message. */
static int
load_args(struct cmd *c, const char *path)
{
	char line[ARG_LEN];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (f == NULL) {
		fprintf(stderr, "bench-exec: cannot open '%s': %s\n", path,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			fprintf(stderr, "bench-exec: '%s': line too long\n",
			    path);
			fclose(f);
			return -1;
		}
		if (n == MAX_ARGS) {
			fprintf(stderr, "bench-exec: '%s': too many "
			    "arguments\n", path);
			fclose(f);
			return -1;
		}
		if ((c->argv[n++] = strdup(line)) == NULL) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	c->argv[n] = NULL;
	if (n == 0) {
		fprintf(stderr, "bench-exec: '%s' holds no command\n", path);
		return -1;
	}
	return 0;
}

static int
open_out(const char *dir, const char *name, const char *ext)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext) >=
	    (int)sizeof(path))
		return -1;
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/* Run once: wall time in microseconds, peak RSS in KiB; 0 or -1. */
static int
run_once(struct cmd *c, int out, int err, double *us, double *rss)
{
	struct rusage ru;
	uint64_t t0, t1;
	pid_t pid;
	int status;

	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(126);
		execv(c->argv[0], c->argv);
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	t1 = now_ns();
	*us = (double)(t1 - t0) / 1e3;
	*rss = (double)ru.ru_maxrss;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v in place. */
static double
quantile(double *v, size_t n, double p)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static double
trimmed_mean(const double *v, size_t n)
{
	double s[MAX_ROUNDS], sum = 0;
	size_t i, lo = n / 10, hi = n - n / 10;

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	for (i = lo; i < hi; i++)
		sum += s[i];
	return hi > lo ? sum / (double)(hi - lo) : 0;
}

int
main(int argc, char **argv)
{
	static struct cmd cmds[MAX_CMDS];
	double tmp[MAX_ROUNDS], base_med, base_trim;
	const char *outdir;
	int devnull, ncmd, i, failed = 0;
	long rounds, r;
	char *end;

	if (argc < 5 || (argc - 3) % 2 != 0 || (argc - 3) / 2 > MAX_CMDS) {
		fprintf(stderr, "usage: bench-exec ROUNDS OUTDIR NAME ARGFILE "
		    "[NAME ARGFILE...]\n");
		return 2;
	}
	errno = 0;
	rounds = strtol(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "bench-exec: bad round count '%s'\n", argv[1]);
		return 2;
	}
	outdir = argv[2];
	ncmd = (argc - 3) / 2;
	for (i = 0; i < ncmd; i++) {
		cmds[i].name = argv[3 + 2 * i];
		if (load_args(&cmds[i], argv[4 + 2 * i]) < 0)
			return 2;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0) {
		perror("bench-exec: /dev/null");
		return 2;
	}
	for (r = 0; r < rounds; r++) {
		int k;

		for (k = 0; k < ncmd; k++) {
			struct cmd *c = &cmds[(k + r) % ncmd];
			int out = devnull, err = devnull;

			if (c->failed)
				continue;
			if (r < ncmd) {	/* the first run of each: keep it */
				out = open_out(outdir, c->name, "out");
				err = open_out(outdir, c->name, "err");
				if (out < 0 || err < 0) {
					fprintf(stderr, "bench-exec: cannot "
					    "write to '%s'\n", outdir);
					return 2;
				}
			}
			if (run_once(c, out, err, &c->us[r], &c->rss[r]) < 0) {
				fprintf(stderr, "bench-exec: '%s' failed; see "
				    "%s/%s.err\n", c->name, outdir, c->name);
				c->failed = 1;
				failed = 1;
			}
			if (out != devnull)
				close(out);
			if (err != devnull)
				close(err);
		}
	}
	memcpy(tmp, cmds[0].us, (size_t)rounds * sizeof(double));
	base_med = quantile(tmp, (size_t)rounds, 0.5);
	base_trim = trimmed_mean(cmds[0].us, (size_t)rounds);
	for (i = 0; i < ncmd; i++) {
		struct cmd *c = &cmds[i];
		double med, p10, p90, trim, rss, rmed;

		if (c->failed) {
			printf("exec name=%s failed=1\n", c->name);
			continue;
		}
		memcpy(tmp, c->us, (size_t)rounds * sizeof(double));
		med = quantile(tmp, (size_t)rounds, 0.5);
		p10 = quantile(tmp, (size_t)rounds, 0.1);
		p90 = quantile(tmp, (size_t)rounds, 0.9);
		trim = trimmed_mean(c->us, (size_t)rounds);
		memcpy(tmp, c->rss, (size_t)rounds * sizeof(double));
		rss = quantile(tmp, (size_t)rounds, 0.5);
		for (r = 0; r < rounds; r++)
			tmp[r] = cmds[0].us[r] > 0 ? c->us[r] / cmds[0].us[r] :
			    0;
		rmed = quantile(tmp, (size_t)rounds, 0.5);
		printf("exec name=%s runs=%ld median_us=%.0f p10_us=%.0f "
		    "p90_us=%.0f trimmed_us=%.0f rss_kib=%.0f "
		    "ratio_median=%.4f ratio_trimmed=%.4f "
		    "ratio_per_round=%.4f\n", c->name, rounds, med, p10, p90,
		    trim, rss, base_med > 0 ? med / base_med : 0,
		    base_trim > 0 ? trim / base_trim : 0, rmed);
	}
	return failed;
}
