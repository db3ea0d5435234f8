/*
 * dns.h - the DNS layer as the decision module sees it
 *
 * An asynchronous interface: query() submits a lookup and returns at
 * once; the answer arrives through the callback during process().  The
 * real implementation (dns_unbound.c) sits on libunbound's async API, so
 * independent lookups are in flight at the same time; unit tests plug in
 * a scripted one.  The caller owns the event loop: it waits on fd() (or,
 * when fd() is -1, simply calls process() again) until pending() is 0 or
 * its deadline passes, and then calls cancel_all().
 */
#ifndef STSDANE_DNS_H
#define STSDANE_DNS_H

#include <stddef.h>
#include <stdint.h>

enum dns_status {
	DNS_OK = 0,		/* answer with at least one record */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* the name exists, no record of that type */
	DNS_TEMPFAIL,		/* SERVFAIL, REFUSED, timeout, resolver error */
	DNS_BOGUS		/* DNSSEC validation failed */
};

/* An answer; valid only during the callback. */
struct dns_answer {
	enum dns_status status;
	int secure;		/* DNSSEC-validated (also for NXDOMAIN/NODATA) */
	uint32_t ttl;		/* of the RRset, or of the negative answer */
	size_t n;		/* RDATA items */
	const unsigned char *const *rdata;
	const size_t *rdlen;
	const char *canonname;	/* after CNAMEs, no final dot; or NULL */
	const char *why;	/* for TEMPFAIL and BOGUS: what went wrong */
};

typedef void dns_cb(void *arg, const struct dns_answer *a);

struct dns_ops {
	/* 0, or -1 with *why set (a constant string) */
	int (*query)(void *impl, const char *name, int rrtype, dns_cb *cb,
	    void *arg, const char **why);
	int (*fd)(void *impl);		/* -1: nothing to wait on */
	int (*process)(void *impl);	/* run callbacks that are ready */
	int (*pending)(void *impl);	/* lookups still outstanding */
	/* deliver DNS_TEMPFAIL with `why' to every outstanding lookup */
	void (*cancel_all)(void *impl, const char *why);
};

#define DNS_T_A 1
#define DNS_T_CNAME 5
#define DNS_T_MX 15
#define DNS_T_TXT 16
#define DNS_T_AAAA 28
#define DNS_T_TLSA 52

/* dns_unbound.c: the real one.  NULL with err set on failure. */
struct settings;
void *dns_unbound_new(const struct settings *s, int lean, char *err,
    size_t errlen);
void dns_unbound_free(void *impl);
extern const struct dns_ops dns_unbound_ops;

#endif /* STSDANE_DNS_H */
