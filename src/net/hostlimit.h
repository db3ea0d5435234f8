/*
 * hostlimit.h - per-address limits on policy fetches, for the process
 *
 * Many domains' policy hosts (mta-sts.DOMAIN) are served by one
 * hosting provider's server, which only its address gives away.  A
 * refresh of 10^5 domains with many workers must not hammer it: before
 * a fetch starts, the scheduler asks for a slot for the first address
 * the fetch will connect to, and gives it back however the fetch ends.
 *
 * The table is the process's, behind a mutex: the limit is per process
 * by design (every worker thread of one refresh shares it), which is why
 * it is not kept in any one context.
 */
#ifndef STSDANE_HOSTLIMIT_H
#define STSDANE_HOSTLIMIT_H

#include <stdint.h>

#define HOSTLIMIT_MAX 512	/* addresses tracked at once */
#define HOSTLIMIT_ADDR_MAX 64	/* longer addresses are not limited */
#define HOSTLIMIT_POLL_MS 5	/* ask again this soon for a free slot */

enum hostlimit_grant {
	HOSTLIMIT_WAIT = 0,	/* ask again at *retry_at_ms */
	HOSTLIMIT_HELD = 1,	/* start now; hostlimit_release() after */
	HOSTLIMIT_FREE = 2	/* start now, nothing held: no limit applies
				   (both 0), or the table is full */
};

/*
 * May a fetch to addr start at now_ms (monotonic)?  At most max_conc in
 * flight to one address, and starts at least 1000/rate ms apart (the
 * clock is in milliseconds, so a rate above 1000 acts as 1000); 0 turns
 * either off.  On HOSTLIMIT_WAIT, *retry_at_ms is when to ask again.
 */
enum hostlimit_grant hostlimit_acquire(const char *addr, unsigned max_conc,
    unsigned rate, int64_t now_ms, int64_t *retry_at_ms);
/* The fetch that got HOSTLIMIT_HELD for addr has ended. */
void hostlimit_release(const char *addr);
/* Milliseconds fetches of this process have waited for a slot. */
void hostlimit_add_waited(int64_t ms);
int64_t hostlimit_waited_ms(void);
/* Forget every address (unit tests). */
void hostlimit_reset(void);

#endif /* STSDANE_HOSTLIMIT_H */
