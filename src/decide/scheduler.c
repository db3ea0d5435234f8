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

int
sched_fetch(struct sched *s, const struct fetch_ops *ops, void *impl,
    const struct fetch_request *req, struct fetch_result *res,
    fetch_done_cb *cb, void *arg, char *err, size_t errlen)
{
	if (ops->start(impl, req, err, errlen) < 0)
		return -1;
	s->fops = ops;
	s->fimpl = impl;
	s->fres = res;
	s->fetch_cb = cb;
	s->fetch_arg = arg;
	s->fetching = 1;
	return 0;
}

static void
fetch_end(struct sched *s)
{
	s->fetching = 0;
	if (s->fetch_cb != NULL)
		s->fetch_cb(s->fetch_arg);
}

static int
wait_dns(const struct sched *s, int timeout_ms)
{
	struct pollfd pfd;
	int fd = s->dns->fd(s->dns_impl);

	if (fd < 0)
		return 0;
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
	int64_t fetch_deadline = 0;

	for (;;) {
		int64_t now = s->mono_ms(s->clock_arg);
		int settled = progress != NULL ? progress(arg) : 0;
		int dns_busy, remaining;

		if (s->fetching && fetch_deadline == 0)
			fetch_deadline = now + s->fetch_timeout_ms + 1000;
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
		if (s->fetching && now >= fetch_deadline) {
			s->fops->abort(s->fimpl);
			s->fres->problem = STSDANE_PROBLEM_TIMEOUT;
			(void)sd_snprintf(s->fres->error,
			    sizeof(s->fres->error),
			    "no answer within fetch_timeout");
			fetch_end(s);
			continue;
		}
		remaining = (int)((dns_busy ? dns_deadline : fetch_deadline)
		    - now);
		if (remaining > 1000)
			remaining = 1000;
		if (s->fetching) {
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
	if (s->fetching)
		s->fops->abort(s->fimpl);
	s->fetching = 0;
}
