/*
 * sts.h - the MTA-STS half of a decision (RFC 8461)
 *
 * sts_start() looks up the _mta-sts TXT record.  A valid record whose id
 * differs from the remembered policy's (or a refresh) sends the policy
 * host's addresses to be looked up; the policy is fetched once the
 * composition, which holds the DANE verdict, says that DANE does not
 * apply (RFC 8461 2: DANE wins).  sts_decision() applies RFC 8461 5.1
 * against the remembered policy and records what was learned.
 */
#ifndef STSDANE_STS_H
#define STSDANE_STS_H

#include <stdint.h>

#include "scheduler.h"
#include "util.h"

struct decide_env;

struct sts {
	struct sched *sched;
	const struct decide_env *env;
	const char *domain;
	const struct stsdane_decision *cached;	/* policy P, or NULL */
	struct lookup txt;
	int txt_valid;
	char txt_id[SD_MAX_ID + 1];
	enum stsdane_problem txt_problem;
	char txt_why[SD_ERRLEN];
	struct lookup pa, paaaa;		/* addresses of mta-sts.DOMAIN */
	char addrs[16][64];
	size_t naddrs;
	int fetch_wanted;
	enum lk_state fetch;
	struct fetch_result fres;
};

void sts_start(struct sts *st, struct sched *s, const struct decide_env *env,
    const char *domain, const struct stsdane_decision *cached, int refresh);
/*
 * Move on: look up the policy host when needed, and start the fetch
 * when may_fetch (DANE does not apply, and the MX RRset is in and not a
 * null MX).
 */
void sts_progress(struct sts *st, int may_fetch);
int sts_fetching(const struct sts *st);
int sts_txt_valid(const struct sts *st);
/*
 * The MTA-STS decision from what the network said; *horizon is set to
 * when the answer must be looked at again.  NULL on ENOMEM.
 */
struct stsdane_decision *sts_decision(struct sts *st, int64_t now,
    int64_t *horizon);
/* Cached policy P still applied after a failure, saying why. */
struct stsdane_decision *sts_keep_cached(const struct stsdane_decision *p,
    enum stsdane_problem problem, const char *why);
void sts_release(struct sts *st);

#endif /* STSDANE_STS_H */
