/*
 * NAME
 *	fake_dns.c - scripted DNS layer (struct dns_ops) for unit tests
 * SYNOPSIS
 *	#include "fakes.h"
 * DESCRIPTION
 *	The DNS fake keeps one scripted answer per (name, type).  In
 *	FAKE_DNS_ASYNC mode a query is queued and answered by the next
 *	process(), as dns.h describes; in FAKE_DNS_SYNC mode the callback
 *	runs inside query(), which the decision module must survive too.
 *	A query scripted to hang stays queued until cancel_all().  Every
 *	process() moves the fake clock on, so that a resolver that never
 *	answers runs into the caller's deadline instead of spinning.
 * DIAGNOSTICS
 *	Scripting functions return -1 on input they cannot encode; the test
 *	is expected to check that.  Nothing here calls exit().
 * SEE ALSO
 *	fakes.h, src/decide/decide.h
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fakes.h"

/* ---- DNS ---------------------------------------------------------------- */

void
fake_dns_init(struct fake_dns *f)
{
	memset(f, 0, sizeof(*f));
	f->mode = FAKE_DNS_ASYNC;
	f->default_ttl = 3600;
}

static struct fake_rrset *
find_set(struct fake_dns *f, const char *name, int type)
{
	size_t i;

	for (i = 0; i < f->nsets; i++)
		if (f->sets[i].type == type &&
		    strcasecmp(f->sets[i].name, name) == 0)
			return &f->sets[i];
	return NULL;
}

/* The set for (name, type), emptied; NULL when the table is full. */
static struct fake_rrset *
fresh_set(struct fake_dns *f, const char *name, int type)
{
	struct fake_rrset *s = find_set(f, name, type);

	if (s == NULL) {
		if (f->nsets >= FAKE_MAX_SETS ||
		    strlen(name) >= sizeof(s->name))
			return NULL;
		s = &f->sets[f->nsets++];
	}
	memset(s, 0, sizeof(*s));
	memcpy(s->name, name, strlen(name) + 1);
	s->type = type;
	return s;
}

int
fake_dns_answer(struct fake_dns *f, const char *name, int type, int secure,
    uint32_t ttl, ...)
{
	struct fake_rrset *s = fresh_set(f, name, type);
	const char *rr;
	va_list ap;
	int rc = 0;

	if (s == NULL)
		return -1;
	s->status = DNS_OK;
	s->secure = secure;
	s->ttl = ttl;
	va_start(ap, ttl);
	while ((rr = va_arg(ap, const char *)) != NULL) {
		int n;

		if (s->n >= FAKE_MAX_RR) {
			rc = -1;
			break;
		}
		n = fake_rdata(type, rr, s->rdata[s->n], sizeof(s->rdata[0]));
		if (n < 0) {
			rc = -1;
			break;
		}
		s->rdlen[s->n++] = (size_t)n;
	}
	va_end(ap);
	return rc;
}

int
fake_dns_answer_v(struct fake_dns *f, const char *name, int type,
    int secure, uint32_t ttl, const char *const *rrs)
{
	struct fake_rrset *s = fresh_set(f, name, type);
	size_t i;

	if (s == NULL)
		return -1;
	s->status = DNS_OK;
	s->secure = secure;
	s->ttl = ttl;
	for (i = 0; rrs[i] != NULL; i++) {
		int n;

		if (s->n >= FAKE_MAX_RR)
			return -1;
		n = fake_rdata(type, rrs[i], s->rdata[s->n],
		    sizeof(s->rdata[0]));
		if (n < 0)
			return -1;
		s->rdlen[s->n++] = (size_t)n;
	}
	return 0;
}

int
fake_dns_status(struct fake_dns *f, const char *name, int type,
    enum dns_status status, int secure, uint32_t ttl)
{
	struct fake_rrset *s = fresh_set(f, name, type);

	if (s == NULL)
		return -1;
	s->status = status;
	s->secure = secure;
	s->ttl = ttl;
	return 0;
}

int
fake_dns_canon(struct fake_dns *f, const char *name, int type,
    const char *canon)
{
	struct fake_rrset *s = find_set(f, name, type);

	if (s == NULL || strlen(canon) >= sizeof(s->canon))
		return -1;
	memcpy(s->canon, canon, strlen(canon) + 1);
	return 0;
}

int
fake_dns_hang(struct fake_dns *f, const char *name, int type)
{
	struct fake_rrset *s = fresh_set(f, name, type);

	if (s == NULL)
		return -1;
	s->status = DNS_TEMPFAIL;
	s->hang = 1;
	return 0;
}

void
fake_dns_remove(struct fake_dns *f, const char *name, int type)
{
	struct fake_rrset *s = find_set(f, name, type);
	size_t i;

	if (s == NULL)
		return;
	i = (size_t)(s - f->sets);
	memmove(&f->sets[i], &f->sets[i + 1],
	    (f->nsets - i - 1) * sizeof(f->sets[0]));
	f->nsets--;
}

int
fake_dns_asked(const struct fake_dns *f, const char *name, int type)
{
	size_t i;
	int n = 0;

	for (i = 0; i < f->nasked && i < FAKE_MAX_ASKED; i++)
		if ((type == 0 || f->asked[i].type == type) &&
		    strcasecmp(f->asked[i].name, name) == 0)
			n++;
	return n;
}

void
fake_dns_reset_counts(struct fake_dns *f)
{
	f->nasked = 0;
	f->nprocess = 0;
	f->ncancel = 0;
}

static void
deliver(struct fake_dns *f, const struct fake_query *q,
    enum dns_status force, const char *why)
{
	const unsigned char *rd[FAKE_MAX_RR];
	struct dns_answer a;
	size_t i;

	memset(&a, 0, sizeof(a));
	if (why != NULL) {
		a.status = force;
		a.why = why;
	} else if (q->set == NULL) {
		a.status = DNS_NXDOMAIN;
		a.ttl = f->default_ttl;
	} else {
		a.status = q->set->status;
		a.secure = q->set->secure;
		a.ttl = q->set->ttl;
		if (a.status == DNS_OK) {
			for (i = 0; i < q->set->n; i++)
				rd[i] = q->set->rdata[i];
			a.n = q->set->n;
			a.rdata = rd;
			a.rdlen = q->set->rdlen;
		}
		if (q->set->canon[0] != '\0')
			a.canonname = q->set->canon;
		if (a.status == DNS_TEMPFAIL)
			a.why = "scripted SERVFAIL";
		else if (a.status == DNS_BOGUS)
			a.why = "scripted validation failure";
	}
	q->cb(q->arg, &a);
}

static int
fk_query(void *impl, const char *name, int rrtype, dns_cb *cb, void *arg,
    const char **why)
{
	struct fake_dns *f = impl;
	struct fake_query q;

	if (f->nasked < FAKE_MAX_ASKED) {
		struct fake_asked *k = &f->asked[f->nasked];

		(void)sd_strlcpy(k->name, name, sizeof(k->name));
		k->type = rrtype;
	}
	f->nasked++;
	if (f->refuse) {
		*why = "refused by the test";
		return -1;
	}
	q.set = find_set(f, name, rrtype);
	q.hang = q.set != NULL && q.set->hang;
	q.cb = cb;
	q.arg = arg;
	if (f->mode == FAKE_DNS_SYNC && !q.hang) {
		deliver(f, &q, DNS_OK, NULL);
		return 0;
	}
	if (f->nqueue >= FAKE_MAX_QUEUE) {
		*why = "fake queue full";
		return -1;
	}
	f->queue[f->nqueue++] = q;
	return 0;
}

static int
fk_fd(void *impl)
{
	return -1;
}

static int
fk_process(void *impl)
{
	struct fake_dns *f = impl;
	struct fake_query batch[FAKE_MAX_QUEUE];
	size_t nb = f->nqueue, i;
	int done = 0;

	f->nprocess++;
	memcpy(batch, f->queue, nb * sizeof(batch[0]));
	f->nqueue = 0;
	for (i = 0; i < nb; i++)
		if (batch[i].hang)
			f->queue[f->nqueue++] = batch[i];
	/* callbacks may queue more: those wait for the next process() */
	for (i = 0; i < nb; i++) {
		if (batch[i].hang)
			continue;
		deliver(f, &batch[i], DNS_OK, NULL);
		done++;
	}
	if (f->clock != NULL)
		f->clock->mono += f->process_advance_ms;
	return done;
}

static int
fk_pending(void *impl)
{
	return (int)((struct fake_dns *)impl)->nqueue;
}

static void
fk_cancel_all(void *impl, const char *why)
{
	struct fake_dns *f = impl;
	struct fake_query batch[FAKE_MAX_QUEUE];
	size_t nb = f->nqueue, i;

	f->ncancel++;
	memcpy(batch, f->queue, nb * sizeof(batch[0]));
	f->nqueue = 0;
	for (i = 0; i < nb; i++)
		deliver(f, &batch[i], DNS_TEMPFAIL, why != NULL ? why :
		    "cancelled");
}

const struct dns_ops fake_dns_ops = {
	fk_query, fk_fd, fk_process, fk_pending, fk_cancel_all
};

