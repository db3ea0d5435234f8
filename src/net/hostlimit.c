/*
 * NAME
 *	hostlimit.c - per-address concurrency and start rate of policy
 *	fetches, shared by every thread of the process
 * SYNOPSIS
 *	#include "hostlimit.h"
 *
 *	g = hostlimit_acquire(addr, max_conc, rate, now_ms, &retry_at);
 *	... the fetch, once g is HOSTLIMIT_HELD or HOSTLIMIT_FREE ...
 *	hostlimit_release(addr);	(after HOSTLIMIT_HELD only)
 * DESCRIPTION
 *	A table of HOSTLIMIT_MAX addresses, each with its fetches in
 *	flight and the time of its last start, behind one mutex.  Only the
 *	scheduler of a --refresh worker asks (src/decide/scheduler.c): a
 *	delivery makes one fetch, and a limit there would only defer mail.
 *
 *	An entry with nothing in flight whose last start is older than its
 *	spacing limits nothing any more, and is reused for another
 *	address (the one started longest ago first).  When every entry is
 *	busy the fetch is not limited: a refresh that spreads over more
 *	than HOSTLIMIT_MAX busy addresses at once hammers none of them,
 *	and failing it would only leave policies to expire.
 *
 *	The spacing is strict: two starts to one address are never closer
 *	than 1000/rate ms, so with a clock in milliseconds a rate above
 *	1000 acts as 1000.
 * DIAGNOSTICS
 *	None: an address too long for the table is not limited.
 * SEE ALSO
 *	hostlimit.h, docs/performance.md ("Refresh at scale")
 */
#include <pthread.h>
#include <string.h>

#include "hostlimit.h"
#include "util.h"

struct entry {
	char addr[HOSTLIMIT_ADDR_MAX];	/* "" when unused */
	unsigned inflight;
	int64_t last_us;		/* last start, microseconds */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry table[HOSTLIMIT_MAX];
static int64_t waited_ms;

/* The spacing of starts, in microseconds; 0: none. */
static int64_t
interval_us(unsigned rate)
{
	return rate == 0 ? 0 : (1000000 + rate - 1) / rate;
}

/* Its entry, or a reusable one made its (NULL: the table is full). */
static struct entry *
find(const char *addr, int64_t now_us, int64_t gap_us)
{
	struct entry *spare = NULL;
	size_t i;

	for (i = 0; i < HOSTLIMIT_MAX; i++) {
		struct entry *e = &table[i];

		if (e->addr[0] != '\0' && strcmp(e->addr, addr) == 0)
			return e;
		if (e->addr[0] == '\0') {
			if (spare == NULL || spare->addr[0] != '\0')
				spare = e;
		} else if (e->inflight == 0 && now_us - e->last_us >= gap_us &&
		    (spare == NULL || (spare->addr[0] != '\0' &&
		    e->last_us < spare->last_us)))
			spare = e;
	}
	if (spare != NULL) {
		(void)sd_strlcpy(spare->addr, addr, sizeof(spare->addr));
		spare->inflight = 0;
		spare->last_us = INT64_MIN / 2;
	}
	return spare;
}

enum hostlimit_grant
hostlimit_acquire(const char *addr, unsigned max_conc, unsigned rate,
    int64_t now_ms, int64_t *retry_at_ms)
{
	int64_t now_us = now_ms * 1000, gap_us = interval_us(rate);
	enum hostlimit_grant g = HOSTLIMIT_FREE;
	struct entry *e;

	*retry_at_ms = now_ms;
	if ((max_conc == 0 && rate == 0) || addr == NULL ||
	    strlen(addr) >= HOSTLIMIT_ADDR_MAX)
		return HOSTLIMIT_FREE;
	pthread_mutex_lock(&mu);
	e = find(addr, now_us, gap_us);
	if (e == NULL)
		goto out;
	if (max_conc != 0 && e->inflight >= max_conc) {
		*retry_at_ms = now_ms + HOSTLIMIT_POLL_MS;
		g = HOSTLIMIT_WAIT;
	}
	if (gap_us != 0 && now_us - e->last_us < gap_us) {
		int64_t at = (e->last_us + gap_us + 999) / 1000;

		if (g != HOSTLIMIT_WAIT || at > *retry_at_ms)
			*retry_at_ms = at;
		g = HOSTLIMIT_WAIT;
	}
	if (g == HOSTLIMIT_WAIT)
		goto out;
	e->inflight++;
	e->last_us = now_us;
	g = HOSTLIMIT_HELD;
out:
	pthread_mutex_unlock(&mu);
	return g;
}

void
hostlimit_release(const char *addr)
{
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < HOSTLIMIT_MAX; i++)
		if (table[i].addr[0] != '\0' &&
		    strcmp(table[i].addr, addr) == 0) {
			if (table[i].inflight > 0)
				table[i].inflight--;
			break;
		}
	pthread_mutex_unlock(&mu);
}

void
hostlimit_add_waited(int64_t ms)
{
	pthread_mutex_lock(&mu);
	waited_ms += ms;
	pthread_mutex_unlock(&mu);
}

int64_t
hostlimit_waited_ms(void)
{
	int64_t ms;

	pthread_mutex_lock(&mu);
	ms = waited_ms;
	pthread_mutex_unlock(&mu);
	return ms;
}

void
hostlimit_reset(void)
{
	pthread_mutex_lock(&mu);
	memset(table, 0, sizeof(table));
	waited_ms = 0;
	pthread_mutex_unlock(&mu);
}
