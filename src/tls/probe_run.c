/*
 * NAME
 *	probe_run.c - connect to a domain's MX hosts the way a sending MTA
 *	would
 * SUMMARY
 *	decide, then for each MX host of the decision: ask stsdane_host_check(),
 *	resolve, connect, and hand the socket to probe_session()
 * SYNOPSIS
 *	#include <stsdane.h>
 *
 *	int stsdane_probe(stsdane_ctx *ctx, const char *domain,
 *	    unsigned flags, struct stsdane_probe **out);
 *	void stsdane_probe_free(struct stsdane_probe *p);
 * DESCRIPTION
 *	stsdane_probe() asks for a fresh decision (nothing remembered is
 *	read or written) and probes its MX hosts, the list decide() made
 *	(d->dane: every MX host it saw, in preference order), one after
 *	another.  stsdane_host_check() says whether a host may be
 *	connected to: one it refuses is reported "not-allowed" and not
 *	connected to, as an MTA would not; a host an MTA-STS testing
 *	policy does not list is probed, and reported not allowed.  Each
 *	host gets A and AAAA lookups on the decision's scheduler (scheduler.c,
 *	through the context's DNS layer, so tests can fake it), then
 *	connections to its addresses (IPv4 first) on the smtp_port setting
 *	until one succeeds.
 *
 *	The result belongs to the caller and is released with
 *	stsdane_probe_free(), which also frees the decision inside it.
 * DIAGNOSTICS
 *	stsdane_probe() returns STSDANE_OK whenever a decision was made,
 *	whatever happened on the network (that is in each host's verdict
 *	and reason); otherwise the error of stsdane_query(), or
 *	STSDANE_ERR_NOMEM, STSDANE_ERR_INVAL, STSDANE_ERR_RESOLVER.
 * SEE ALSO
 *	probe.c, host_rules.c, verify.c
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "ctx.h"
#include "decide.h"
#include "scheduler.h"
#include "smtp.h"

#define PROBE_MAX_ADDRS 8	/* addresses tried per host */

struct addr_list {
	size_t n;
	unsigned port;
	struct sockaddr_storage sa[PROBE_MAX_ADDRS];
	socklen_t salen[PROBE_MAX_ADDRS];
	char text[PROBE_MAX_ADDRS][64];
};

static void
add_addr(struct addr_list *l, int rrtype, const unsigned char *rd,
    size_t len)
{
	struct sockaddr_in *s4;
	struct sockaddr_in6 *s6;

	if (l->n >= PROBE_MAX_ADDRS)
		return;
	memset(&l->sa[l->n], 0, sizeof(l->sa[l->n]));
	if (rrtype == DNS_T_A && len == 4) {
		s4 = (struct sockaddr_in *)&l->sa[l->n];
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)l->port);
		memcpy(&s4->sin_addr, rd, 4);
		l->salen[l->n] = sizeof(*s4);
	} else if (rrtype == DNS_T_AAAA && len == 16) {
		s6 = (struct sockaddr_in6 *)&l->sa[l->n];
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)l->port);
		memcpy(&s6->sin6_addr, rd, 16);
		l->salen[l->n] = sizeof(*s6);
	} else {
		return;
	}
	if (inet_ntop(rrtype == DNS_T_A ? AF_INET : AF_INET6, rd,
	    l->text[l->n], sizeof(l->text[l->n])) == NULL)
		return;
	l->n++;
}

static void
on_a(void *arg, struct lookup *l, const struct dns_answer *a)
{
	size_t i;

	for (i = 0; a->status == DNS_OK && i < a->n; i++)
		add_addr(arg, DNS_T_A, a->rdata[i], a->rdlen[i]);
}

static void
on_aaaa(void *arg, struct lookup *l, const struct dns_answer *a)
{
	size_t i;

	for (i = 0; a->status == DNS_OK && i < a->n; i++)
		add_addr(arg, DNS_T_AAAA, a->rdata[i], a->rdlen[i]);
}

static const char *
dns_status_word(enum dns_status s)
{
	switch (s) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "no such name";
	case DNS_NODATA: return "no records";
	case DNS_TEMPFAIL: return "temporary failure";
	case DNS_BOGUS: return "DNSSEC bogus";
	}
	return "unknown";
}

/*
 * A and AAAA of h->name into addrs, on the scheduler.  0, or -1 with
 * the verdict set.
 */
static int
resolve(struct decide_env *env, struct stsdane_probe_host *h,
    struct addr_list *addrs)
{
	const struct dns_ops *dns;
	void *impl;
	struct sched s;
	struct lookup la, laaaa;
	char err[SD_ERRLEN];
	int timed_out;

	if (env->get_dns(env->get_arg, &dns, &impl, err, sizeof(err)) < 0) {
		set_verdict(h, "no-address", "%s", err);
		return -1;
	}
	memset(&la, 0, sizeof(la));
	memset(&laaaa, 0, sizeof(laaaa));
	sched_init(&s, env, dns, impl);
	if (env->settings->dns_timeout_ms == 0)
		sched_set_dns_timeout(&s, PROBE_STEP_MS);
	sched_lookup(&s, &la, h->name, DNS_T_A, on_a, addrs);
	sched_lookup(&s, &laaaa, h->name, DNS_T_AAAA, on_aaaa, addrs);
	timed_out = sched_run(&s, NULL, NULL);
	sched_release(&s);
	if (addrs->n > 0)
		return 0;
	if (timed_out)
		set_verdict(h, "timeout", "address lookup for '%s' timed out",
		    h->name);
	else if (lookup_failed(&la))
		set_verdict(h, "no-address", "A lookup for '%s': %s%s%s",
		    h->name, dns_status_word(la.status),
		    la.why[0] ? ": " : "", la.why);
	else
		set_verdict(h, "no-address", "no A or AAAA records for '%s' "
		    "(%s, %s)", h->name, dns_status_word(la.status),
		    dns_status_word(laaaa.status));
	return -1;
}

/* Connect to one address within the deadline: fd, or -1 with err. */
static int
connect_one(const struct sockaddr_storage *sa, socklen_t salen,
    int64_t deadline, int *timed_out, char *err, size_t errlen)
{
	socklen_t optlen = sizeof(int);
	int fd, soerr = 0;

	*timed_out = 0;
	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		sd_snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sa, salen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		sd_snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!wait_fd(fd, POLLOUT, deadline)) {
		*timed_out = 1;
		sd_snprintf(err, errlen, "timed out");
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &optlen) < 0)
		soerr = errno;
	if (soerr != 0) {
		sd_snprintf(err, errlen, "%s", strerror(soerr));
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect to the first address that answers, IPv4 first: fd or -1. */
static int
connect_any(const struct addr_list *addrs, int64_t host_deadline,
    struct stsdane_probe_host *h)
{
	static const int family[2] = { AF_INET, AF_INET6 };
	char why[SD_ERRLEN], msg[SD_ERRLEN] = "";
	int64_t step;
	size_t i, f;
	int fd, to, all_timeouts = 1;

	/* Answers arrive in any order: try IPv4 first, then IPv6. */
	for (f = 0; f < 2; f++)
		for (i = 0; i < addrs->n; i++) {
			if (addrs->sa[i].ss_family != family[f])
				continue;
			step = sd_mono_ms() + PROBE_STEP_MS;
			if (step > host_deadline)
				step = host_deadline;
			fd = connect_one(&addrs->sa[i], addrs->salen[i], step,
			    &to, why, sizeof(why));
			if (fd >= 0) {
				(void)set_str(&h->address, addrs->text[i]);
				return fd;
			}
			all_timeouts &= to;
			(void)sd_snprintf(msg, sizeof(msg), "connect to %s "
			    "port %u: %s", addrs->text[i], addrs->port, why);
		}
	set_verdict(h, all_timeouts ? "timeout" : "connect-failed", "%s", msg);
	return -1;
}

static const char *
refusal_text(enum stsdane_refusal r)
{
	switch (r) {
	case STSDANE_REFUSE_TEMPFAIL: return "the decision is to defer";
	case STSDANE_REFUSE_NO_MAIL: return "the domain takes no mail";
	case STSDANE_REFUSE_NOT_IN_POLICY:
		return "is not allowed by the MTA-STS policy";
	case STSDANE_REFUSE_NOT_IN_MX:
		return "is not in the validated MX RRset";
	case STSDANE_REFUSE_NONE: break;
	}
	return "refused";
}

static void
probe_host(stsdane_ctx *ctx, struct decide_env *env,
    const struct stsdane_decision *d, const char *ehlo,
    struct stsdane_probe_host *h)
{
	struct stsdane_host_rules rules;
	struct addr_list *addrs;
	int64_t host_deadline = sd_mono_ms() + PROBE_HOST_MS;
	unsigned port = env->settings->smtp_port > 0 ?
	    env->settings->smtp_port : 25;
	int fd;

	(void)stsdane_host_check(d, h->name, &rules);
	h->allowed = rules.connect && rules.refusal == STSDANE_REFUSE_NONE;
	if (!rules.connect) {
		if (rules.refusal == STSDANE_REFUSE_NOT_IN_POLICY)
			set_verdict(h, "not-allowed", "MX host '%s' is not "
			    "allowed by the MTA-STS policy: not connected",
			    h->name);
		else
			set_verdict(h, "not-allowed", "MX host '%s': %s: not "
			    "connected", h->name, refusal_text(rules.refusal));
		return;
	}
	if (sd_is_ip_literal(h->name)) {
		set_verdict(h, "no-address", "MX host '%s' is an address "
		    "literal, not a host name", h->name);
		return;
	}
	addrs = calloc(1, sizeof(*addrs));
	if (addrs == NULL) {
		set_verdict(h, "no-address", "out of memory");
		return;
	}
	addrs->port = port;
	fd = resolve(env, h, addrs) < 0 ? -1 :
	    connect_any(addrs, host_deadline, h);
	free(addrs);
	if (fd < 0)
		return;
	h->connected = 1;
	/* the session gets what the connect attempts left of the budget */
	probe_session(ctx, d, h->name, fd, ehlo, PROBE_STEP_MS,
	    (unsigned)ms_left(host_deadline), h);
	close(fd);
}

/* The name this side gives in EHLO. */
static void
ehlo_name(char *buf, size_t len)
{
	char host[256];

	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (sd_hostname_normalize(host, buf, len, 0) == 0)
			return;
	}
	(void)sd_strlcpy(buf, "localhost", len);
}

void
probe_ehlo_name(char *buf, size_t len)
{
	ehlo_name(buf, len);
}

int
probe_connect(const char *addr, unsigned port, int64_t deadline,
    int *timed_out, char *err, size_t errlen)
{
	struct addr_list *l;
	unsigned char bin[16];
	int fd = -1, v6 = strchr(addr, ':') != NULL;

	*timed_out = 0;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1) {
		sd_snprintf(err, errlen, "'%s' is not an IP address", addr);
		return -1;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		sd_snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->port = port;
	add_addr(l, v6 ? DNS_T_AAAA : DNS_T_A, bin, v6 ? 16 : 4);
	if (l->n == 1)
		fd = connect_one(&l->sa[0], l->salen[0], deadline, timed_out,
		    err, errlen);
	free(l);
	return fd;
}

int
take_hosts(struct stsdane_probe *p)
{
	const struct stsdane_decision *d = p->decision;
	size_t i;

	if (d->no_mail)
		return STSDANE_OK;
	for (i = 0; i < d->ndane && p->nhosts < SD_MAX_MX_HOSTS; i++) {
		struct stsdane_probe_host *h = &p->hosts[p->nhosts];

		if (d->dane[i].name == NULL)
			continue;
		memset(h, 0, sizeof(*h));
		h->name = sd_strdup(d->dane[i].name);
		if (h->name == NULL)
			return STSDANE_ERR_NOMEM;
		h->preference = d->dane[i].preference;
		p->nhosts++;
	}
	return STSDANE_OK;
}

void
probe_hosts(stsdane_ctx *ctx, struct decide_env *env, struct stsdane_probe *p)
{
	char ehlo[SD_MAX_NAME];
	size_t i;

	ehlo_name(ehlo, sizeof(ehlo));
	for (i = 0; i < p->nhosts; i++)
		probe_host(ctx, env, p->decision, ehlo, &p->hosts[i]);
}

SD_EXPORT int
stsdane_probe(stsdane_ctx *ctx, const char *domain, unsigned flags,
    struct stsdane_probe **out)
{
	struct stsdane_probe *p;
	struct decide_env env;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || domain == NULL || out == NULL)
		return STSDANE_ERR_INVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return STSDANE_ERR_NOMEM;
	p->hosts = calloc(SD_MAX_MX_HOSTS, sizeof(*p->hosts));
	if (p->hosts == NULL) {
		free(p);
		return STSDANE_ERR_NOMEM;
	}
	rc = stsdane_query(ctx, domain, flags | STSDANE_QUERY_NO_CACHE,
	    &p->decision);
	if (rc == STSDANE_OK)
		rc = take_hosts(p);
	if (rc != STSDANE_OK) {
		stsdane_probe_free(p);
		return rc;
	}
	ctx_decide_env(ctx, STSDANE_QUERY_NO_CACHE, &env);
	probe_hosts(ctx, &env, p);
	*out = p;
	return STSDANE_OK;
}

SD_EXPORT void
stsdane_probe_free(struct stsdane_probe *p)
{
	struct stsdane_probe_host *h;
	size_t i, k;

	if (p == NULL)
		return;
	for (i = 0; p->hosts != NULL && i < p->nhosts; i++) {
		h = &p->hosts[i];
		free(h->name);
		free(h->address);
		free(h->tls_version);
		free(h->cipher);
		free(h->subject);
		for (k = 0; k < h->ndns_names; k++)
			free(h->dns_names[k]);
		free(h->dns_names);
		free(h->verdict);
		free(h->reason);
	}
	free(p->hosts);
	stsdane_decision_free(p->decision);
	free(p);
}
