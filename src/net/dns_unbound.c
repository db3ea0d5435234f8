/*
 * NAME
 *	dns_unbound.c - the DNS layer on libunbound's asynchronous interface
 * SYNOPSIS
 *	void *dns_unbound_new(const struct settings *s, int lean, char *err,
 *	    size_t len)
 *	void dns_unbound_free(void *impl)
 *	const struct dns_ops dns_unbound_ops
 * DESCRIPTION
 *	One libunbound context per stsdane context, configured once from
 *	the settings: unbound_config is handed to ub_ctx_config() as is;
 *	resolver lists forwarders (none: full recursion from the root);
 *	resolv_conf, when set, takes forwarders from that file; nothing
 *	reads /etc/resolv.conf or /etc/hosts otherwise.  Trust anchor:
 *	trust_anchor_file, else Debian's root key when present.
 *
 *	Lookups run in libunbound's worker thread (ub_ctx_async(ctx, 1)),
 *	never in a forked process, because the caller may be an MTA's
 *	delivery process.  Many lookups are in flight at once; their
 *	answers are delivered by process() in the caller's thread.
 *
 *	A lean resolver (one of many a refresh runs at once, each deciding
 *	domain after domain that share nothing but the zones above them)
 *	has small caches: 256 KiB of messages, 512 KiB of RRsets, 256 KiB
 *	of keys, instead of libunbound's 4 MiB each, which 64 workers would
 *	otherwise fill in a long refresh.  Set after unbound_config, so
 *	they win over it.
 *
 *	A lookup the caller gave up on (cancel_all) is cancelled in
 *	libunbound; if its answer was already on its way, the answer is
 *	dropped when it arrives, never handed to a stale callback.
 * DIAGNOSTICS
 *	dns_unbound_new() returns NULL with a message naming the setting
 *	that libunbound refused.
 */
#include <stdlib.h>
#include <string.h>
#include <unbound.h>
#include <unistd.h>

#include "dns.h"
#include "util.h"
#include "config.h"

#define DEBIAN_ROOT_KEY "/usr/share/dns/root.key"

struct uq {
	struct dns_unbound *d;
	int id;
	int cancelled;		/* caller gone: drop the answer */
	dns_cb *cb;
	void *arg;
	struct uq *next;
};

struct dns_unbound {
	struct ub_ctx *ub;
	struct uq *queries;	/* submitted, answer not yet processed */
	int pending;		/* of those, not cancelled */
};

static int
fail(char *err, size_t errlen, const char *what, const char *arg, int rc)
{
	(void)sd_snprintf(err, errlen, "%s '%s': %s", what, arg,
	    ub_strerror(rc));
	return -1;
}

/* Split a resolver list at spaces and commas; hand each to libunbound. */
static int
set_forwarders(struct ub_ctx *ub, const char *list, char *err,
    size_t errlen)
{
	char addr[128];
	const char *p = list;
	int rc;

	while (*p != '\0') {
		size_t n = strcspn(p, " \t,");

		if (n > 0) {
			if (n >= sizeof(addr))
				return fail(err, errlen, "resolver", p, 0);
			memcpy(addr, p, n);
			addr[n] = '\0';
			rc = ub_ctx_set_fwd(ub, addr);
			if (rc != 0)
				return fail(err, errlen, "resolver", addr, rc);
		}
		p += n;
		p += strspn(p, " \t,");
	}
	return 0;
}

static int
configure(struct ub_ctx *ub, const struct settings *s, char *err,
    size_t errlen)
{
	int rc;

	if (s->unbound_config != NULL && s->unbound_config[0] != '\0') {
		rc = ub_ctx_config(ub, s->unbound_config);
		if (rc != 0)
			return fail(err, errlen, "unbound_config",
			    s->unbound_config, rc);
	}
	if (s->resolv_conf != NULL && s->resolv_conf[0] != '\0') {
		rc = ub_ctx_resolvconf(ub, s->resolv_conf);
		if (rc != 0)
			return fail(err, errlen, "resolv_conf", s->resolv_conf,
			    rc);
	}
	if (s->resolver != NULL &&
	    set_forwarders(ub, s->resolver, err, errlen) < 0)
		return -1;
	if (s->trust_anchor_file != NULL && s->trust_anchor_file[0] != '\0') {
		rc = ub_ctx_add_ta_file(ub, s->trust_anchor_file);
		if (rc != 0)
			return fail(err, errlen, "trust_anchor_file",
			    s->trust_anchor_file, rc);
	} else if (s->unbound_config == NULL &&
	    access(DEBIAN_ROOT_KEY, R_OK) == 0) {
		rc = ub_ctx_add_ta_file(ub, DEBIAN_ROOT_KEY);
		if (rc != 0)
			return fail(err, errlen, "trust anchor",
			    DEBIAN_ROOT_KEY, rc);
	}
	/*
	 * No RFC 8145 key tag signalling: it costs a query per validation
	 * start and tells resolvers which anchors this host has.
	 */
	rc = ub_ctx_set_option(ub, "trust-anchor-signaling:", "no");
	if (rc != 0)
		return fail(err, errlen, "option", "trust-anchor-signaling", rc);
	/* worker thread, not a forked process */
	rc = ub_ctx_async(ub, 1);
	if (rc != 0)
		return fail(err, errlen, "async", "thread", rc);
	return 0;
}

static int
set_lean(struct ub_ctx *ub, char *err, size_t errlen)
{
	static const char *const opt[][2] = {
		{"msg-cache-size:", "256k"},
		{"rrset-cache-size:", "512k"},
		{"key-cache-size:", "256k"},
		{"neg-cache-size:", "128k"},
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		if ((rc = ub_ctx_set_option(ub, opt[i][0], opt[i][1])) != 0)
			return fail(err, errlen, "option", opt[i][0], rc);
	return 0;
}

void *
dns_unbound_new(const struct settings *s, int lean, char *err,
    size_t errlen)
{
	struct dns_unbound *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		(void)sd_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->ub = ub_ctx_create();
	if (d->ub == NULL) {
		(void)sd_snprintf(err, errlen, "cannot create resolver");
		free(d);
		return NULL;
	}
	if (configure(d->ub, s, err, errlen) < 0 ||
	    (lean && set_lean(d->ub, err, errlen) < 0)) {
		ub_ctx_delete(d->ub);
		free(d);
		return NULL;
	}
	return d;
}

static void
unlink_query(struct dns_unbound *d, struct uq *q)
{
	struct uq **pp;

	for (pp = &d->queries; *pp != NULL; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return;
		}
}

void
dns_unbound_free(void *impl)
{
	struct dns_unbound *d = impl;
	struct uq *q, *next;

	if (d == NULL)
		return;
	ub_ctx_delete(d->ub);
	for (q = d->queries; q != NULL; q = next) {
		next = q->next;
		free(q);
	}
	free(d);
}

static void
strip_dot(char *s)
{
	size_t n = strlen(s);

	if (n > 1 && s[n - 1] == '.')
		s[n - 1] = '\0';
}

static void
deliver(struct uq *q, int err, struct ub_result *r)
{
	struct dns_answer a;
	size_t stack_lens[64], *lens = stack_lens;
	const unsigned char *stack_rdata[64], **rdata = stack_rdata;
	char canon[SD_MAX_NAME];
	size_t i, n = 0;

	memset(&a, 0, sizeof(a));
	/*
	 * Every record is handed on: a cap here would silently drop part of
	 * an RRset (a second v=STSv1 TXT record, say).  The message size
	 * already bounds the count; past 64 the arrays come from the heap.
	 */
	if (r != NULL && err == 0 && r->data != NULL)
		while (r->data[n] != NULL)
			n++;
	if (n > 64) {
		lens = calloc(n, sizeof(*lens));
		rdata = calloc(n, sizeof(*rdata));
		if (lens == NULL || rdata == NULL) {
			free(lens);
			free(rdata);
			lens = stack_lens;
			rdata = stack_rdata;
			n = 0;
			err = UB_NOMEM;
		}
	}
	a.rdata = rdata;
	a.rdlen = lens;
	if (err != 0 || r == NULL) {
		a.status = DNS_TEMPFAIL;
		a.why = ub_strerror(err);
	} else if (r->bogus) {
		a.status = DNS_BOGUS;
		a.why = r->why_bogus != NULL ? r->why_bogus :
		    "DNSSEC validation failed";
	} else if (r->rcode == 3) {
		a.status = DNS_NXDOMAIN;
	} else if (r->rcode != 0) {
		a.status = DNS_TEMPFAIL;
		a.why = r->rcode == 2 ? "server failure (SERVFAIL)" :
		    r->rcode == 5 ? "query refused (REFUSED)" :
		    "unexpected response code";
	} else if (!r->havedata) {
		a.status = DNS_NODATA;
	} else {
		a.status = DNS_OK;
	}
	if (r != NULL && err == 0) {
		a.secure = r->secure && !r->bogus;
		a.ttl = r->ttl > 0 ? (uint32_t)r->ttl : 0;
		if (a.status == DNS_OK)
			for (i = 0; i < n; i++) {
				rdata[i] = (const unsigned char *)r->data[i];
				lens[i] = r->len[i] > 0 ? (size_t)r->len[i] : 0;
				a.n = i + 1;
			}
		if (r->canonname != NULL &&
		    sd_strlcpy(canon, r->canonname, sizeof(canon)) == 0) {
			strip_dot(canon);
			a.canonname = canon;
		}
	}
	q->cb(q->arg, &a);
	if (lens != stack_lens)
		free(lens);
	if (rdata != stack_rdata)
		free(rdata);
}

static void
ub_done(void *mydata, int err, struct ub_result *r)
{
	struct uq *q = mydata;
	struct dns_unbound *d = q->d;

	unlink_query(d, q);
	if (!q->cancelled) {
		d->pending--;
		deliver(q, err, r);
	}
	if (r != NULL)
		ub_resolve_free(r);
	free(q);
}

static int
du_query(void *impl, const char *name, int rrtype, dns_cb *cb, void *arg,
    const char **why)
{
	struct dns_unbound *d = impl;
	struct uq *q = calloc(1, sizeof(*q));
	int rc;

	if (q == NULL) {
		*why = "out of memory";
		return -1;
	}
	q->d = d;
	q->cb = cb;
	q->arg = arg;
	rc = ub_resolve_async(d->ub, name, rrtype, 1, q, ub_done, &q->id);
	if (rc != 0) {
		*why = ub_strerror(rc);
		free(q);
		return -1;
	}
	q->next = d->queries;
	d->queries = q;
	d->pending++;
	return 0;
}

static int
du_fd(void *impl)
{
	struct dns_unbound *d = impl;

	return ub_fd(d->ub);
}

static int
du_process(void *impl)
{
	struct dns_unbound *d = impl;

	return ub_process(d->ub) == 0 ? 0 : -1;
}

static int
du_pending(void *impl)
{
	struct dns_unbound *d = impl;

	return d->pending;
}

static void
du_cancel_all(void *impl, const char *why)
{
	struct dns_unbound *d = impl;
	struct uq *q, *next;
	struct dns_answer a;

	memset(&a, 0, sizeof(a));
	a.status = DNS_TEMPFAIL;
	a.why = why;
	for (q = d->queries; q != NULL; q = next) {
		next = q->next;
		if (q->cancelled)
			continue;
		q->cancelled = 1;
		d->pending--;
		q->cb(q->arg, &a);
		if (ub_cancel(d->ub, q->id) == 0) {
			unlink_query(d, q);
			free(q);
		}
	}
}

const struct dns_ops dns_unbound_ops = {
	du_query, du_fd, du_process, du_pending, du_cancel_all,
};
