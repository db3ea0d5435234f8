/*
 * NAME
 *	metrics.c - what stsdane-policyd counts, and its /metrics page
 * SUMMARY
 *	plain counters, touched by the event loop only, written out in the
 *	Prometheus text exposition format (version 0.0.4)
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	void metrics_lookup(struct metrics *m, uint64_t ns)
 *	size_t metrics_render(const struct metrics *m, char *out,
 *	    size_t outlen)
 * DESCRIPTION
 *	Families (all prefixed stsdane_policyd_):
 *	  requests_total{answer}      answers by kind: dane, secure,
 *	                              notfound, temp, perm
 *	  answers_by_tier_total{tier} where a domain's answer came from:
 *	                              shared (a lookup already in flight),
 *	                              cache (the library's cache), network
 *	  lookups_in_flight, lookups_queued, connections   gauges
 *	  lookup_duration_seconds     histogram of stsdane_query() times
 *	  errors_total{kind}          malformed, oversize, timeout,
 *	                              overload, library, io
 *	  connections_total, reloads_total
 *	The worker threads never touch these: their figures come back with
 *	the job, and the event loop adds them.
 * SEE ALSO
 *	postfix/policyd.c, docs/postfix.md
 */
#include <stdarg.h>
#include <stdio.h>

#include "metrics.h"

static const double bounds[METRICS_NBUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 5
};

static const char *const error_names[MERR_NKINDS] = {
	"malformed", "oversize", "timeout", "overload", "library", "io"
};

void
metrics_lookup(struct metrics *m, uint64_t ns)
{
	double s = (double)ns / 1e9;
	int i;

	m->lookups++;
	m->seconds_sum += s;
	for (i = 0; i < METRICS_NBUCKETS; i++)
		if (s <= bounds[i]) {
			m->buckets[i]++;
			break;
		}
}

struct out {
	char *buf;
	size_t len, cap;
	int full;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = 1;
	else
		o->len += (size_t)n;
}

#define P "stsdane_policyd_"

size_t
metrics_render(const struct metrics *m, char *buf, size_t cap)
{
	struct out o = { buf, 0, cap, 0 };
	uint64_t cum = 0;
	int i;

	put(&o, "# HELP " P "requests_total Answers given, by kind.\n"
	    "# TYPE " P "requests_total counter\n");
	for (i = 0; i < ANSWER_NKINDS; i++)
		put(&o, P "requests_total{answer=\"%s\"} %llu\n",
		    answer_kind_name((enum answer_kind)i),
		    (unsigned long long)m->requests[i]);
	put(&o, "# HELP " P "answers_by_tier_total Where answers came from: "
	    "a lookup in flight, the library's cache, the network.\n"
	    "# TYPE " P "answers_by_tier_total counter\n"
	    P "answers_by_tier_total{tier=\"shared\"} %llu\n"
	    P "answers_by_tier_total{tier=\"cache\"} %llu\n"
	    P "answers_by_tier_total{tier=\"network\"} %llu\n",
	    (unsigned long long)m->tier_shared,
	    (unsigned long long)m->tier_cache,
	    (unsigned long long)m->tier_network);
	put(&o, "# HELP " P "lookups_in_flight Lookups running now.\n"
	    "# TYPE " P "lookups_in_flight gauge\n"
	    P "lookups_in_flight %u\n"
	    "# HELP " P "lookups_queued Lookups waiting for a worker.\n"
	    "# TYPE " P "lookups_queued gauge\n"
	    P "lookups_queued %u\n"
	    "# HELP " P "connections Client connections open.\n"
	    "# TYPE " P "connections gauge\n"
	    P "connections %u\n"
	    "# HELP " P "connections_total Client connections accepted.\n"
	    "# TYPE " P "connections_total counter\n"
	    P "connections_total %llu\n",
	    m->lookups_in_flight, m->lookups_queued, m->connections,
	    (unsigned long long)m->connections_total);
	put(&o, "# HELP " P "lookup_duration_seconds Time of one decision "
	    "(stsdane_query).\n"
	    "# TYPE " P "lookup_duration_seconds histogram\n");
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cum += m->buckets[i];
		put(&o, P "lookup_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    bounds[i], (unsigned long long)cum);
	}
	put(&o, P "lookup_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    P "lookup_duration_seconds_sum %.6f\n"
	    P "lookup_duration_seconds_count %llu\n",
	    (unsigned long long)m->lookups, m->seconds_sum,
	    (unsigned long long)m->lookups);
	put(&o, "# HELP " P "errors_total Requests and connections that "
	    "failed, by kind.\n"
	    "# TYPE " P "errors_total counter\n");
	for (i = 0; i < MERR_NKINDS; i++)
		put(&o, P "errors_total{kind=\"%s\"} %llu\n", error_names[i],
		    (unsigned long long)m->errors[i]);
	put(&o, "# HELP " P "reloads_total Configuration reloads (SIGHUP).\n"
	    "# TYPE " P "reloads_total counter\n"
	    P "reloads_total %llu\n", (unsigned long long)m->reloads);
	return o.full ? 0 : o.len;
}
