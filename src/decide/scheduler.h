/*
 * scheduler.h - the lookup scheduler: DNS lookups and one fetch, one loop
 *
 * Every lookup carries its own completion callback, so the scheduler
 * knows nothing of what the answers mean; the DANE half, the MTA-STS
 * half and the probe each submit their own.  The loop ends when nothing
 * is in flight, when the caller's progress function says the outcome is
 * settled, or at the DNS deadline (what is left is then answered
 * DNS_TEMPFAIL "timed out (dns_timeout)").
 */
#ifndef STSDANE_SCHEDULER_H
#define STSDANE_SCHEDULER_H

#include <stdint.h>

#include "dns.h"
#include "fetch.h"
#include "hostlimit.h"
#include "util.h"

struct decide_env;

enum lk_state { LK_IDLE = 0, LK_WAIT, LK_DONE };

struct lookup;
typedef void lookup_cb(void *arg, struct lookup *l,
    const struct dns_answer *a);

/* One DNS answer, reduced to what callers keep. */
struct lookup {
	enum lk_state state;
	enum dns_status status;
	int secure;
	uint32_t ttl;
	char why[160];
	char canon[SD_MAX_NAME];	/* after CNAMEs, normalized; or "" */
	/* private to the scheduler */
	struct sched *sched;
	lookup_cb *cb;
	void *arg;
	int background;
};

/* The fetch finished (res filled: problem NONE or why not). */
typedef void fetch_done_cb(void *arg);

struct sched {
	const struct dns_ops *dns;
	void *dns_impl;
	int64_t (*mono_ms)(void *arg);
	void *clock_arg;
	unsigned dns_timeout_ms;
	unsigned fetch_timeout_ms;
	int stopping;			/* late lookups answer "timed out" */
	int timed_out;			/* the DNS deadline passed */
	int background;			/* lookups nobody waits for */
	/* the one fetch */
	const struct fetch_ops *fops;
	void *fimpl;
	struct fetch_result *fres;
	fetch_done_cb *fetch_cb;
	void *fetch_arg;
	int fetching;			/* started, or waiting to start */
	int64_t fetch_deadline;		/* once started */
	/* per-address limits (--refresh only; 0: none), hostlimit.h */
	unsigned host_conc, host_rate;
	int fetch_waiting;		/* for a slot; req below */
	int64_t wait_since, retry_at;
	int slot_held;			/* for slot_addr */
	char slot_addr[HOSTLIMIT_ADDR_MAX];
	struct fetch_request req;	/* a waiting fetch's request: */
	char req_host[SD_MAX_NAME + 8];	/* its copy of host and of */
	const char *req_addrs[16];	/* the address pointers */
};

void sched_init(struct sched *s, const struct decide_env *env,
    const struct dns_ops *dns, void *dns_impl);
/* Deadline for the DNS lookups of one run, instead of dns_timeout. */
void sched_set_dns_timeout(struct sched *s, unsigned ms);
/* Submit; cb (may be NULL) runs when the answer is in, l filled. */
void sched_lookup(struct sched *s, struct lookup *l, const char *name,
    int type, lookup_cb *cb, void *arg);
/*
 * Ask for the DNSKEY and DS RRsets along domain's name ahead (answers
 * only warm the resolver's cache); ls has room for SCHED_PRIME_MAX.
 */
#define SCHED_PRIME_MAX 8
void sched_prime(struct sched *s, struct lookup *ls, const char *domain);
/*
 * Start the fetch; 0, or -1 with err (nothing started).  Under the
 * per-address limits the fetch may wait for a slot for req->addrs[0]
 * first, in sched_run(): the strings req->addrs point to and res must
 * then outlive it (host and the array are copied); its fetch_timeout
 * counts from when it really starts.
 */
int sched_fetch(struct sched *s, const struct fetch_ops *ops, void *impl,
    const struct fetch_request *req, struct fetch_result *res,
    fetch_done_cb *cb, void *arg, char *err, size_t errlen);
/*
 * Run.  progress(arg), called before every wait, may submit more and
 * returns 1 once the outcome is settled.  Returns 1 when the DNS
 * deadline passed, 0 otherwise.
 */
int sched_run(struct sched *s, int (*progress)(void *arg), void *arg);
/* Abandon a fetch still running. */
void sched_release(struct sched *s);

/* The lookup ended in TEMPFAIL or BOGUS. */
int lookup_failed(const struct lookup *l);

#endif /* STSDANE_SCHEDULER_H */
