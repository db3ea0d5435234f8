/*
 * NAME
 *	bench_tlsrpt.c - time recording one TLS-RPT session in a fresh process
 * SYNOPSIS
 *	bench-tlsrpt DIR N
 * DESCRIPTION
 *	Runs N fresh processes one after another (fork and exec of this
 *	program), each of which opens a context with tlsrpt = 1 and
 *	tlsrpt_dir = DIR and times its first stsdane_tlsrpt_record() of
 *	an MTA-STS enforce decision (a failure with every field set, the
 *	costliest record) with one clock reading on either side.  This is
 *	what a delivery process pays: the first record of a process, with
 *	the file opened, checked against the day's bound, appended to and
 *	closed.  Prints "p50_ns=... p99_ns=... n=N".
 * DIAGNOSTICS
 *	Exit 1 when a child fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "stsdane.h"

static int
child(const char *dir)
{
	char *mx[] = { "mx.enforce.test" };
	struct stsdane_decision d;
	struct stsdane_tlsrpt_session s;
	stsdane_ctx *ctx = stsdane_new();
	uint64_t t0, t1;
	int rc;

	if (ctx == NULL || stsdane_set(ctx, "tlsrpt", "1") != 0 ||
	    stsdane_set(ctx, "tlsrpt_dir", dir) != 0)
		return 1;
	memset(&d, 0, sizeof(d));
	d.domain = "enforce.test";
	d.mechanism = STSDANE_MECH_MTASTS;
	d.mode = STSDANE_MODE_ENFORCE;
	d.require_tls = 1;
	d.nmx = 1;
	d.mx = mx;
	d.max_age = 86400;
	memset(&s, 0, sizeof(s));
	s.result = STSDANE_TLSRPT_CERTIFICATE_HOST_MISMATCH;
	s.sending_mta_ip = "192.0.2.1";
	s.receiving_ip = "192.0.2.25";
	s.receiving_mx_helo = "mx.enforce.test";
	s.additional_information = "bench";
	t0 = now_ns();
	rc = stsdane_tlsrpt_record(ctx, &s, &d, "mx.enforce.test");
	t1 = now_ns();
	stsdane_free(ctx);
	if (rc != STSDANE_OK)
		return 1;
	printf("%llu\n", (unsigned long long)(t1 - t0));
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	uint64_t *v;
	long n, i;

	if (argc == 3 && strcmp(argv[1], "child") == 0)
		return child(argv[2]);
	if (argc != 3 || parse_long(argv[2], 1, 100000, &n) != 0) {
		fprintf(stderr, "usage: bench-tlsrpt DIR N\n");
		return 2;
	}
	v = calloc((size_t)n, sizeof(*v));
	if (v == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		int fds[2], st;
		char buf[64];
		ssize_t k;
		pid_t pid;

		if (pipe(fds) != 0 || (pid = fork()) < 0)
			return 1;
		if (pid == 0) {
			(void)dup2(fds[1], 1);
			(void)close(fds[0]);
			execl("/proc/self/exe", argv[0], "child", argv[1],
			    (char *)NULL);
			_exit(127);
		}
		(void)close(fds[1]);
		k = read(fds[0], buf, sizeof(buf) - 1);
		(void)close(fds[0]);
		(void)waitpid(pid, &st, 0);
		if (k <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "bench-tlsrpt: child failed\n");
			return 1;
		}
		buf[k] = '\0';
		v[i] = strtoull(buf, NULL, 10);
	}
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("p50_ns=%llu p99_ns=%llu n=%ld\n",
	    (unsigned long long)v[n / 2],
	    (unsigned long long)v[(n * 99) / 100], n);
	free(v);
	return 0;
}
