/*
 * dane.h - the DANE half of a decision (RFC 7672)
 *
 * dane_start() looks up the MX RRset; when it is DNSSEC-secure, each MX
 * host's A, AAAA and TLSA records follow through the scheduler, all in
 * flight together.  dane_outcome() is the verdict so far, which the
 * composition hands to the MTA-STS half.  The MX list parsed here is the
 * library's one MX list: the decision carries it, the probe uses it.
 */
#ifndef STSDANE_DANE_H
#define STSDANE_DANE_H

#include <stdint.h>

#include "scheduler.h"
#include "util.h"

enum dane_outcome { DANE_NO, DANE_YES, DANE_TEMPFAIL, DANE_PENDING };

/* What the composition needs to know of the MX lookup. */
enum dane_mx {
	DANE_MX_PENDING,	/* not answered yet */
	DANE_MX_HOSTS,		/* hosts (explicit, or the implicit MX) */
	DANE_MX_NULL,		/* null MX: the domain takes no mail */
	DANE_MX_NXDOMAIN,	/* the domain does not exist */
	DANE_MX_FAILED,		/* TEMPFAIL or BOGUS */
	DANE_MX_NONE		/* no usable host otherwise */
};

struct dane_host {
	char name[SD_MAX_NAME];
	unsigned pref;
	struct lookup a, aaaa;
	struct lookup tlsa, tlsa_canon;	/* at the name, at its CNAME target */
	struct stsdane_tlsa *recs, *recs_canon;
	size_t nrecs, nrecs_canon;
	char why_unusable[160];
	struct dane *owner;
};

struct dane {
	struct sched *sched;
	const char *domain;
	int need;			/* 0: the DANE answer is remembered */
	int failed;			/* resource failure inside a callback */
	char fail_why[160];
	struct lookup mx;
	int null_mx;
	size_t nhosts;
	struct dane_host hosts[SD_MAX_MX_HOSTS];
};

/* Look up the MX RRset; with need, the DANE records of its hosts. */
void dane_start(struct dane *dn, struct sched *s, const char *domain,
    int need);
enum dane_outcome dane_outcome(const struct dane *dn);
enum dane_mx dane_mx(const struct dane *dn);
/* TTL of the MX RRset (or of its negative answer). */
uint32_t dane_mx_ttl(const struct dane *dn);
/* Out of memory inside a callback: 1 with *why set, else 0. */
int dane_failed(const struct dane *dn, const char **why);
/* TTL of the "DANE does not apply" answer: the smallest TTL seen. */
uint32_t dane_ttl(const struct dane *dn);
/* The DANE decision (YES), or the tempfail that replaces every decision. */
struct stsdane_decision *dane_decision(const struct dane *dn,
    enum dane_outcome o, int64_t now);
/* Fill d->dane with every MX host seen, DANE or not: 0, or -1 (ENOMEM). */
int dane_fill_hosts(const struct dane *dn, struct stsdane_decision *d);
void dane_release(struct dane *dn);

#endif /* STSDANE_DANE_H */
