/*
 * NAME
 *	scheduler.c - the lookup scheduler: every DNS lookup and the one fetch
 *	of a decision (or a probe) in one event loop
 * SYNOPSIS
 *	#include "scheduler.h"
 *
 *	sched_init(&s, env, dns, dns_impl);
 *	sched_lookup(&s, &l, "example.test", DNS_T_MX, on_mx, arg);
 *	sched_run(&s, progress, arg);
 *	sched_release(&s);
 * DESCRIPTION
 *	Lookups are submitted at once and answered in any order through
 *	their own callbacks, which may submit more.  The loop waits on the
 *	resolver's descriptor, or steps the fetch (which also watches that
 *	descriptor), never longer than a second at a time, and stops:
 *	when nothing the caller waits for is in flight; when the caller's
 *	progress function says the outcome is settled (what is still in
 *	flight is then cancelled as "not needed"); or at the DNS deadline,
 *	after which every outstanding and every later lookup is answered
 *	DNS_TEMPFAIL "timed out (dns_timeout)".  The fetch has its own
 *	deadline, fetch_timeout plus a second for the transfer's own timer
 *	to fire first.
 *
 *	Background lookups (the DNSSEC chain asked for ahead) are never
 *	waited for.
 *
 *	In --refresh's workers (env->host_limits) a fetch first asks
 *	hostlimit.c for a slot for the first address it will connect to;
 *	told to wait, it stays pending while the loop keeps answering DNS
 *	and polls the resolver's descriptor until the time it was given,
 *	then asks again.  Its deadline starts when it really starts, and
 *	its slot is given back however it ends: finished, timed out, or
 *	abandoned by sched_release().
 * DIAGNOSTICS
 *	A lookup that cannot be submitted is answered DNS_TEMPFAIL at once,
 *	with the resolver's reason.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "decide.h"
#include "scheduler.h"

#define DNS_T_DS 43
#define DNS_T_DNSKEY 48

void
sched_init(struct sched *s, const struct decide_env *env,
    const struct dns_ops *dns, void *dns_impl)
{
	memset(s, 0, sizeof(*s));
	s->dns = dns;
	s->dns_impl = dns_impl;
	s->mono_ms = env->mono_ms;
	s->clock_arg = env->clock_arg;
	s->dns_timeout_ms = env->settings->dns_timeout_ms;
	s->fetch_timeout_ms = env->settings->fetch_timeout_ms;
	if (env->host_limits) {
		s->host_conc = env->settings->refresh_host_concurrency;
		s->host_rate = env->settings->refresh_host_rate;
	}
}

void
sched_set_dns_timeout(struct sched *s, unsigned ms)
{
	s->dns_timeout_ms = ms;
}

int
lookup_failed(const struct lookup *l)
{
	return l->state == LK_DONE &&
	    (l->status == DNS_TEMPFAIL || l->status == DNS_BOGUS);
}

static void
on_answer(void *arg, const struct dns_answer *a)
{
	struct lookup *l = arg;

	l->state = LK_DONE;
	l->status = a->status;
	l->secure = a->secure;
	l->ttl = a->ttl;
	(void)sd_strlcpy(l->why, a->why != NULL ? a->why : "", sizeof(l->why));
	if (a->canonname == NULL ||
	    sd_hostname_normalize(a->canonname, l->canon, sizeof(l->canon),
	    1) < 0)
		l->canon[0] = '\0';
	if (l->background)
		l->sched->background--;
	if (l->cb != NULL)
		l->cb(l->arg, l, a);
}

static void
submit(struct sched *s, struct lookup *l, const char *name, int type,
    lookup_cb *cb, void *arg, int background)
{
	const char *why = NULL;
	struct dns_answer a;

	l->state = LK_WAIT;
	l->sched = s;
	l->cb = cb;
	l->arg = arg;
	l->background = background;
	if (background)
		s->background++;
	if (s->stopping)
		why = "timed out (dns_timeout)";
	else if (s->dns->query(s->dns_impl, name, type, on_answer, l,
	    &why) == 0)
		return;
	memset(&a, 0, sizeof(a));
	a.status = DNS_TEMPFAIL;
	a.why = why != NULL ? why : "resolver refused the query";
	on_answer(l, &a);
}

void
sched_lookup(struct sched *s, struct lookup *l, const char *name, int type,
    lookup_cb *cb, void *arg)
{
	submit(s, l, name, type, cb, arg, 0);
}

/*
 * The DNSKEY and DS RRsets along the domain's name (the root and the
 * last three labels' suffixes), asked for at the same time as the first
 * lookups.  Validating those answers needs them anyway, and libunbound
 * would otherwise fetch them one zone after the other, a round trip
 * each; asked for ahead, they come in parallel and the validator finds
 * them in its cache.  Nobody waits for these answers.
 */
void
sched_prime(struct sched *s, struct lookup *ls, const char *domain)
{
	const char *suffix[4];
	size_t n = 0, i, k = 0;
	const char *p = domain + strlen(domain);

	/* the last three suffixes: "test", "enforce.test", ... */
	while (p > domain && n < 3) {
		do
			p--;
		while (p > domain && p[-1] != '.');
		suffix[n++] = p;
	}
	for (i = 0; i <= n && k + 2 <= SCHED_PRIME_MAX; i++) {
		const char *name = i == 0 ? "." : suffix[i - 1];

		submit(s, &ls[k++], name, DNS_T_DNSKEY, NULL, NULL, 1);
		if (i > 0)
			submit(s, &ls[k++], name, DNS_T_DS, NULL, NULL, 1);
	}
}

/* May the fetch to req->addrs[0] start at now?  1 yes, 0 wait. */
static int
take_slot(struct sched *s, const struct fetch_request *req, int64_t now)
{
	enum hostlimit_grant g;

	if ((s->host_conc == 0 && s->host_rate == 0) || req->naddrs == 0)
		return 1;
	g = hostlimit_acquire(req->addrs[0], s->host_conc, s->host_rate, now,
	    &s->retry_at);
	if (g == HOSTLIMIT_WAIT)
		return 0;
	if (g == HOSTLIMIT_HELD) {
		s->slot_held = 1;
		(void)sd_strlcpy(s->slot_addr, req->addrs[0],
		    sizeof(s->slot_addr));
	}
	return 1;
}

static void
drop_slot(struct sched *s)
{
	if (s->slot_held)
		hostlimit_release(s->slot_addr);
	s->slot_held = 0;
}

/* The wait for a slot is over, one way or the other. */
static void
end_wait(struct sched *s, int64_t now)
{
	if (!s->fetch_waiting)
		return;
	s->fetch_waiting = 0;
	hostlimit_add_waited(now - s->wait_since);
}

static int
start_now(struct sched *s, const struct fetch_request *req, int64_t now,
    char *err, size_t errlen)
{
	if (s->fops->start(s->fimpl, req, err, errlen) < 0) {
		drop_slot(s);
		return -1;
	}
	s->fetch_deadline = now + s->fetch_timeout_ms + 1000;
	return 0;
}

int
sched_fetch(struct sched *s, const struct fetch_ops *ops, void *impl,
    const struct fetch_request *req, struct fetch_result *res,
    fetch_done_cb *cb, void *arg, char *err, size_t errlen)
{
	int64_t now = s->mono_ms(s->clock_arg);
	size_t i, n = req->naddrs;

	s->fops = ops;
	s->fimpl = impl;
	s->fres = res;
	s->fetch_cb = cb;
	s->fetch_arg = arg;
	if (take_slot(s, req, now)) {
		if (start_now(s, req, now, err, errlen) < 0)
			return -1;
		s->fetching = 1;
		return 0;
	}
	/* pending: keep what the request points to that may not last */
	if (n > sizeof(s->req_addrs) / sizeof(s->req_addrs[0]))
		n = sizeof(s->req_addrs) / sizeof(s->req_addrs[0]);
	for (i = 0; i < n; i++)
		s->req_addrs[i] = req->addrs[i];
	s->req = *req;
	s->req.addrs = s->req_addrs;
	s->req.naddrs = n;
	if (sd_strlcpy(s->req_host, req->host, sizeof(s->req_host)) < 0) {
		(void)sd_snprintf(err, errlen, "policy host name too long");
		return -1;
	}
	s->req.host = s->req_host;
	s->fetch_waiting = 1;
	s->wait_since = now;
	s->fetching = 1;
	return 0;
}

static void
fetch_end(struct sched *s)
{
	drop_slot(s);
	s->fetching = 0;
	if (s->fetch_cb != NULL)
		s->fetch_cb(s->fetch_arg);
}

/* A pending fetch asks for its slot again: started, failed, or waits. */
static void
retry_fetch(struct sched *s, int64_t now)
{
	char err[sizeof(s->fres->error)];

	if (!take_slot(s, &s->req, now))
		return;
	end_wait(s, now);
	if (start_now(s, &s->req, now, err, sizeof(err)) == 0)
		return;
	s->fres->problem = STSDANE_PROBLEM_INTERNAL;
	(void)sd_snprintf(s->fres->error, sizeof(s->fres->error), "%s", err);
	fetch_end(s);
}

static int
wait_dns(const struct sched *s, int timeout_ms)
{
	struct pollfd pfd;
	int fd = s->dns->fd(s->dns_impl);

	if (fd < 0) {
		/* nothing to watch: only a fetch waiting for its slot
		   sleeps, instead of spinning */
		if (s->fetch_waiting && poll(NULL, 0, timeout_ms) < 0 &&
		    errno != EINTR)
			return -1;
		return 0;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
		return -1;
	return 0;
}

static void
stop(struct sched *s, const char *why)
{
	s->stopping = 1;
	s->dns->cancel_all(s->dns_impl, why);
}

int
sched_run(struct sched *s, int (*progress)(void *arg), void *arg)
{
	int64_t start = s->mono_ms(s->clock_arg);
	int64_t dns_deadline = start + s->dns_timeout_ms;

	for (;;) {
		int64_t now = s->mono_ms(s->clock_arg), until;
		int settled = progress != NULL ? progress(arg) : 0;
		int dns_busy, remaining, running;

		dns_busy = s->dns->pending(s->dns_impl) > s->background;
		if (!dns_busy && !s->fetching) {
			if (s->background > 0)
				stop(s, "not needed");
			break;
		}
		if (!s->fetching && settled) {
			/* decided: what is still in flight does not matter */
			stop(s, "not needed");
			break;
		}
		if (dns_busy && now >= dns_deadline) {
			s->timed_out = 1;
			stop(s, "timed out (dns_timeout)");
			continue;
		}
		if (s->fetch_waiting && now >= s->retry_at) {
			retry_fetch(s, now);
			continue;
		}
		running = s->fetching && !s->fetch_waiting;
		if (running && now >= s->fetch_deadline) {
			s->fops->abort(s->fimpl);
			s->fres->problem = STSDANE_PROBLEM_TIMEOUT;
			(void)sd_snprintf(s->fres->error,
			    sizeof(s->fres->error),
			    "no answer within fetch_timeout");
			fetch_end(s);
			continue;
		}
		until = dns_busy ? dns_deadline : INT64_MAX;
		if (s->fetching && (s->fetch_waiting ? s->retry_at :
		    s->fetch_deadline) < until)
			until = s->fetch_waiting ? s->retry_at :
			    s->fetch_deadline;
		remaining = until - now > 1000 ? 1000 : (int)(until - now);
		if (running) {
			if (s->fops->step(s->fimpl, s->dns->fd(s->dns_impl),
			    remaining)) {
				s->fops->finish(s->fimpl, s->fres);
				fetch_end(s);
			}
		} else if (wait_dns(s, remaining) < 0) {
			s->dns->cancel_all(s->dns_impl, "poll failed");
			continue;
		}
		s->dns->process(s->dns_impl);
	}
	s->stopping = 1;
	return s->timed_out;
}

void
sched_release(struct sched *s)
{
	if (s->fetching && !s->fetch_waiting)
		s->fops->abort(s->fimpl);
	if (s->fetch_waiting)
		end_wait(s, s->mono_ms(s->clock_arg));
	drop_slot(s);
	s->fetching = 0;
}
