/*
 * NAME
 *	bench_tlsrpt.c - time recording one TLS-RPT session in a fresh process
 * SYNOPSIS
 *	bench-tlsrpt CONFIG DIR N [DOMAIN]
 * DESCRIPTION
 *	Runs N fresh processes one after another (fork and exec of this
 *	program), each of which opens a context from CONFIG with
 *	tlsrpt = 1 and tlsrpt_dir = DIR, asks for the (cached) decision
 *	for DOMAIN as a delivery does before it connects, and then times
 *	its first stsdane_tlsrpt_record() of that decision (a failure with
 *	every field set, the costliest record) and a second one, each with
 *	one clock reading on either side.  The first is what a delivery
 *	process pays: the day file opened, checked against the day's
 *	bound, appended to and closed, in a process that never recorded.
 *	Without DOMAIN no decision is asked for (an MTA-STS enforce
 *	decision is made up), and the first record also pays for the
 *	library's first calls into libc.  Prints "first_p50_ns=...
 *	first_p99_ns=... next_p50_ns=... n=N".
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
child(const char *config, const char *dir, const char *domain)
{
	char *mx[] = { "mx.enforce.test" };
	struct stsdane_decision fake, *d = &fake;
	struct stsdane_tlsrpt_session s;
	stsdane_ctx *ctx = stsdane_new();
	uint64_t t0, t1, t2;
	int rc;

	if (ctx == NULL || stsdane_load_config(ctx, config) != 0 ||
	    stsdane_set(ctx, "tlsrpt", "1") != 0 ||
	    stsdane_set(ctx, "tlsrpt_dir", dir) != 0)
		return 1;
	memset(&fake, 0, sizeof(fake));
	fake.domain = "enforce.test";
	fake.mechanism = STSDANE_MECH_MTASTS;
	fake.mode = STSDANE_MODE_ENFORCE;
	fake.require_tls = 1;
	fake.nmx = 1;
	fake.mx = mx;
	fake.max_age = 86400;
	if (domain != NULL && stsdane_query(ctx, domain, 0, &d) != 0)
		return 1;
	memset(&s, 0, sizeof(s));
	s.result = STSDANE_TLSRPT_CERTIFICATE_HOST_MISMATCH;
	s.sending_mta_ip = "192.0.2.1";
	s.receiving_ip = "192.0.2.25";
	s.receiving_mx_helo = "mx.enforce.test";
	s.additional_information = "bench";
	t0 = now_ns();
	rc = stsdane_tlsrpt_record(ctx, &s, d, "mx.enforce.test");
	t1 = now_ns();
	if (rc == STSDANE_OK)
		rc = stsdane_tlsrpt_record(ctx, &s, d, "mx.enforce.test");
	t2 = now_ns();
	if (d != &fake)
		stsdane_decision_free(d);
	stsdane_free(ctx);
	if (rc != STSDANE_OK)
		return 1;
	printf("%llu %llu\n", (unsigned long long)(t1 - t0),
	    (unsigned long long)(t2 - t1));
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
	uint64_t *v, *w;
	long n, i;

	if ((argc == 4 || argc == 5) && strcmp(argv[1], "child") == 0)
		return child(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if ((argc != 4 && argc != 5) ||
	    parse_long(argv[3], 1, 100000, &n) != 0) {
		fprintf(stderr, "usage: bench-tlsrpt CONFIG DIR N [DOMAIN]\n");
		return 2;
	}
	v = calloc((size_t)n, sizeof(*v));
	w = calloc((size_t)n, sizeof(*w));
	if (v == NULL || w == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		unsigned long long a, b;
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
			    argv[2], argc == 5 ? argv[4] : (char *)NULL,
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
		if (sscanf(buf, "%llu %llu", &a, &b) != 2)
			return 1;
		v[i] = a;
		w[i] = b;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp);
	qsort(w, (size_t)n, sizeof(*w), cmp);
	printf("first_p50_ns=%llu first_p99_ns=%llu next_p50_ns=%llu n=%ld\n",
	    (unsigned long long)v[n / 2],
	    (unsigned long long)v[(n * 99) / 100],
	    (unsigned long long)w[n / 2], n);
	free(v);
	free(w);
	return 0;
}
