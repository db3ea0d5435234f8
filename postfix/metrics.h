/*
 * metrics.h - counters of stsdane-policyd, in Prometheus text format
 */
#ifndef POLICYD_METRICS_H
#define POLICYD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "answer.h"

enum metrics_error {
	MERR_MALFORMED = 0,	/* not a netstring, or not "NAME KEY" */
	MERR_OVERSIZE,		/* request over request_max */
	MERR_TIMEOUT,		/* request or answer not finished in time */
	MERR_OVERLOAD,		/* max_lookups or max_connections reached */
	MERR_LIBRARY,		/* TEMP because the library failed */
	MERR_IO,		/* accept() or write() failed */
	MERR_NKINDS
};

#define METRICS_NBUCKETS 14

struct metrics {
	uint64_t requests[ANSWER_NKINDS];
	uint64_t tier_shared;		/* joined a lookup in flight */
	uint64_t tier_cache;		/* decision from the library's cache */
	uint64_t tier_network;		/* decision from DNS and HTTPS */
	uint64_t errors[MERR_NKINDS];
	uint64_t lookups;
	uint64_t buckets[METRICS_NBUCKETS];	/* cumulative at render */
	double seconds_sum;
	uint64_t connections_total;
	/* gauges, set by the caller before rendering */
	unsigned connections, lookups_in_flight, lookups_queued;
	uint64_t reloads;
};

/* One finished lookup of ns nanoseconds. */
void metrics_lookup(struct metrics *m, uint64_t ns);
/* The whole text into out; its length, or 0 when out is too small. */
size_t metrics_render(const struct metrics *m, char *out, size_t outlen);

#endif
