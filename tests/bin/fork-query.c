/*
 * NAME
 *	fork-query - a decision in a forked child of a process that already
 *	used the resolver
 * SYNOPSIS
 *	fork-query CONFIG DOMAIN1 DOMAIN2
 * DESCRIPTION
 *	Decides DOMAIN1 (the resolver starts), forks, and decides DOMAIN2 in
 *	the child, as an MTA does when it routes in one process and delivers
 *	in a forked one.  Prints the child's decision and how long it took;
 *	exits 0 when the child decided without tempfail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stsdane.h"

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int
decide(stsdane_ctx *ctx, const char *domain, const char *who)
{
	struct stsdane_decision *d = NULL;
	double t0 = now();
	int rc = stsdane_query(ctx, domain, STSDANE_QUERY_NO_CACHE, &d);

	if (rc != STSDANE_OK) {
		printf("%s %s: error %s\n", who, domain, stsdane_error(ctx));
		return 1;
	}
	printf("%s %s: %s %s tempfail=%d in %.3f s\n", who, domain,
	    stsdane_mechanism_name(d->mechanism), stsdane_mode_name(d->mode),
	    d->tempfail, now() - t0);
	rc = d->tempfail;
	stsdane_decision_free(d);
	return rc;
}

int
main(int argc, char **argv)
{
	stsdane_ctx *ctx;
	pid_t pid;
	int status;

	if (argc != 4) {
		fprintf(stderr, "usage: fork-query CONFIG DOMAIN1 DOMAIN2\n");
		return 2;
	}
	ctx = stsdane_new();
	if (ctx == NULL || stsdane_load_config(ctx, argv[1]) != STSDANE_OK) {
		fprintf(stderr, "fork-query: %s\n", stsdane_error(ctx));
		return 2;
	}
	if (decide(ctx, argv[2], "parent") != 0)
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		int rc = decide(ctx, argv[3], "child");

		fflush(stdout);
		_exit(rc != 0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return 1;
	if (decide(ctx, argv[3], "parent again") != 0)
		return 1;
	stsdane_free(ctx);
	return WEXITSTATUS(status);
}
