/*
 * progress.h - what sts-dane-query --refresh shows while it runs
 */
#ifndef STS_DANE_QUERY_PROGRESS_H
#define STS_DANE_QUERY_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
	size_t total;		/* 0: not known */
	size_t done;
	size_t errors;
	int live;		/* redraw a status line on out */
	int quiet;		/* nothing per domain, nor a status line */
	double start;		/* seconds, CLOCK_MONOTONIC */
	double drawn;		/* when the line was last drawn */
	FILE *out;
};

void progress_start(struct progress *p, size_t total, int quiet, FILE *out);
/* One domain done: its line (unless live or quiet), or the status line. */
void progress_step(struct progress *p, const char *domain, int failed,
    const char *what);
/* The summary, on stdout: "refreshed N domains, E errors, T s (R/s)",
   then ", waited W s for per-address limits" when waited_ms > 0. */
void progress_end(struct progress *p, int64_t waited_ms);

#endif
