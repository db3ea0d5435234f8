/*
 * NAME
 *	progress.c - the progress of sts-dane-query --refresh
 * SYNOPSIS
 *	#include "progress.h"
 *
 *	void progress_start(struct progress *p, size_t total, int quiet,
 *	    FILE *out)
 *	void progress_step(struct progress *p, const char *domain,
 *	    int failed, const char *what)
 *	void progress_end(struct progress *p, int64_t waited_ms)
 * DESCRIPTION
 *	A refresh of 10^5 domains runs for minutes.  On a terminal (out is
 *	a tty) one status line is redrawn at most five times a second:
 *
 *	    refresh: 1234/100000 domains, 210/s, 3 errors, ETA 7m50s
 *
 *	and only the domains that failed get a line of their own.
 *	Elsewhere (a pipe, the journal) every domain gets its line, as
 *	before.  Quiet (--quiet, for the timer) prints neither, only the
 *	failures on stderr and the summary.  The summary is one line on
 *	stdout:
 *
 *	    refreshed 100000 domains, 3 errors, 412.0 s (243/s)
 *
 *	followed, when policy fetches had to wait for the per-address
 *	limits (refresh_host_concurrency, refresh_host_rate), by the time
 *	they waited in all: ", waited S.S s for per-address limits".
 *
 *	The caller serialises calls (the library calls its refresh
 *	callback for one domain at a time).
 * SEE ALSO
 *	main.c, stsdane_cache_refresh() in include/stsdane.h
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
progress_start(struct progress *p, size_t total, int quiet, FILE *out)
{
	p->total = total;
	p->done = 0;
	p->errors = 0;
	p->quiet = quiet;
	p->out = out;
	p->live = !quiet && isatty(fileno(out));
	p->start = now_s();
	p->drawn = 0;
}

static void
draw(struct progress *p, double now)
{
	double el = now - p->start;
	double rate = el > 0 ? (double)p->done / el : 0;

	fprintf(p->out, "\rrefresh: %zu/%zu domains, %.0f/s, %zu errors",
	    p->done, p->total, rate, p->errors);
	if (rate > 0 && p->total > p->done) {
		long eta = (long)((double)(p->total - p->done) / rate + 0.5);

		fprintf(p->out, ", ETA %ldm%02lds", eta / 60, eta % 60);
	}
	fputs("\033[K", p->out);	/* clear what a longer line left */
	fflush(p->out);
	p->drawn = now;
}

void
progress_step(struct progress *p, const char *domain, int failed,
    const char *what)
{
	double now;

	p->done++;
	if (failed)
		p->errors++;
	if (p->quiet || p->live) {
		if (failed) {
			if (p->live)
				fputs("\r\033[K", p->out);
			fprintf(stderr, "%s: error\n", domain);
		}
		if (!p->live)
			return;
		now = now_s();
		if (failed || now - p->drawn >= 0.2 || p->done == p->total)
			draw(p, now);
		return;
	}
	if (failed)
		printf("%s: error\n", domain);
	else
		printf("%s: %s\n", domain, what);
}

void
progress_end(struct progress *p, int64_t waited_ms)
{
	double el = now_s() - p->start;

	if (p->live) {
		draw(p, now_s());
		fputc('\n', p->out);
	}
	printf("refreshed %zu domains, %zu errors, %.1f s (%.0f/s)",
	    p->done, p->errors, el, el > 0 ? (double)p->done / el : 0.0);
	if (waited_ms > 0)
		printf(", waited %.1f s for per-address limits",
		    (double)waited_ms / 1000);
	putchar('\n');
}
