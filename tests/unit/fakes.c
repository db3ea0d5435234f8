/*
 * NAME
 *	fakes.c - scripted DNS, fetch, cache and clock for unit tests
 * SYNOPSIS
 *	#include "fakes.h"
 * DESCRIPTION
 *	Stand-ins for the layers that struct decide_env reaches, each doing
 *	exactly what a test scripted and counting what it was asked.
 *
 *	The DNS fake keeps one scripted answer per (name, type).  In
 *	FAKE_DNS_ASYNC mode a query is queued and answered by the next
 *	process(), as dns.h describes; in FAKE_DNS_SYNC mode the callback
 *	runs inside query(), which the decision module must survive too.
 *	A query scripted to hang stays queued until cancel_all().  Every
 *	process() moves the fake clock on, so that a resolver that never
 *	answers runs into the caller's deadline instead of spinning.
 *
 *	The fetch fake hands back one scripted fetch_result; a hanging
 *	transfer moves the clock on by the step's timeout.
 *
 *	The cache fake is a small array of keys and byte strings; values
 *	are copied in and out, as a real store would.
 * DIAGNOSTICS
 *	Scripting functions return -1 on input they cannot encode; the test
 *	is expected to check that.  Nothing here calls exit().
 * SEE ALSO
 *	fakes.h, src/decide.h, src/rdata.c
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fakes.h"

/* ---- clock -------------------------------------------------------------- */

int64_t
fake_clock_now(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

int64_t
fake_clock_mono_ms(void *arg)
{
	return ((struct fake_clock *)arg)->mono;
}

/* ---- record data -------------------------------------------------------- */

static int
wire_name(const char *text, unsigned char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = text;

	while (*p == ' ')
		p++;
	if (strcmp(p, ".") == 0 || *p == '\0') {
		if (outlen < 1)
			return -1;
		out[0] = 0;
		return 1;
	}
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (n == 0 || n > 63 || o + 1 + n >= outlen)
			return -1;
		out[o++] = (unsigned char)n;
		memcpy(out + o, p, n);
		o += n;
		p += n;
		if (*p == '.')
			p++;
	}
	out[o++] = 0;
	return (int)o;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex digits, blanks allowed between them. */
static int
hex_bytes(const char *p, unsigned char *out, size_t outlen)
{
	size_t o = 0;

	for (;;) {
		int hi, lo;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return (int)o;
		hi = hexval((unsigned char)p[0]);
		lo = hexval((unsigned char)p[1]);
		if (hi < 0 || lo < 0 || o >= outlen)
			return -1;
		out[o++] = (unsigned char)(hi << 4 | lo);
		p += 2;
	}
}

/* A decimal number 0..max, then a blank; *pp moves past both. */
static int
number(const char **pp, unsigned long max, unsigned long *v)
{
	const char *p = *pp;
	char *end;

	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	*v = strtoul(p, &end, 10);
	if (end == p || *v > max || (*end != ' ' && *end != '\0'))
		return -1;
	*pp = end;
	return 0;
}

int
fake_rdata(int type, const char *text, unsigned char *out, size_t outlen)
{
	unsigned long v[3];
	const char *p = text;
	size_t len, o;
	int n, i;

	if (strncmp(text, "\\#", 2) == 0)
		return hex_bytes(text + 2, out, outlen);
	switch (type) {
	case DNS_T_A:
		return outlen >= 4 && inet_pton(AF_INET, text, out) == 1 ?
		    4 : -1;
	case DNS_T_AAAA:
		return outlen >= 16 && inet_pton(AF_INET6, text, out) == 1 ?
		    16 : -1;
	case DNS_T_CNAME:
		return wire_name(text, out, outlen);
	case DNS_T_MX:
		if (number(&p, 65535, &v[0]) < 0 || outlen < 3)
			return -1;
		out[0] = (unsigned char)(v[0] >> 8);
		out[1] = (unsigned char)(v[0] & 0xff);
		n = wire_name(p, out + 2, outlen - 2);
		return n < 0 ? -1 : n + 2;
	case DNS_T_TXT:
		/* one record: character-strings of at most 255 bytes */
		len = strlen(text);
		o = 0;
		do {
			size_t chunk = len > 255 ? 255 : len;

			if (o + 1 + chunk > outlen)
				return -1;
			out[o++] = (unsigned char)chunk;
			memcpy(out + o, text, chunk);
			o += chunk;
			text += chunk;
			len -= chunk;
		} while (len > 0);
		return (int)o;
	case DNS_T_TLSA:
		for (i = 0; i < 3; i++)
			if (number(&p, 255, &v[i]) < 0)
				return -1;
		if (outlen < 3)
			return -1;
		out[0] = (unsigned char)v[0];
		out[1] = (unsigned char)v[1];
		out[2] = (unsigned char)v[2];
		n = hex_bytes(p, out + 3, outlen - 3);
		return n < 0 ? -1 : n + 3;
	default:
		return -1;
	}
}

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

/* ---- fetch -------------------------------------------------------------- */

void
fake_fetch_init(struct fake_fetch *f)
{
	memset(f, 0, sizeof(*f));
	/* unscripted: nothing published there */
	fake_fetch_fail(f, STSDANE_PROBLEM_HTTP_STATUS);
}

void
fake_fetch_body(struct fake_fetch *f, const char *body)
{
	size_t n = strlen(body);

	if (n >= sizeof(f->body))
		n = sizeof(f->body) - 1;
	f->problem = STSDANE_PROBLEM_NONE;
	f->http_status = 200;
	(void)sd_strlcpy(f->content_type, "text/plain",
	    sizeof(f->content_type));
	memcpy(f->body, body, n);
	f->body[n] = '\0';
	f->len = n;
}

void
fake_fetch_fail(struct fake_fetch *f, enum stsdane_problem problem)
{
	f->problem = problem;
	f->http_status = problem == STSDANE_PROBLEM_HTTP_STATUS ? 404 :
	    problem == STSDANE_PROBLEM_MEDIA_TYPE ? 200 : 0;
	(void)sd_strlcpy(f->content_type, problem ==
	    STSDANE_PROBLEM_MEDIA_TYPE ? "text/html" : "",
	    sizeof(f->content_type));
	f->body[0] = '\0';
	f->len = 0;
}

void
fake_fetch_reset_counts(struct fake_fetch *f)
{
	f->nstart = f->nstep = f->nfinish = f->nabort = 0;
	f->host[0] = '\0';
	f->naddrs = 0;
	f->addr0[0] = '\0';
}

static void *
ff_new(char *err, size_t errlen)
{
	(void)sd_snprintf(err, errlen, "the fake fetch comes from the test");
	return NULL;
}

static void
ff_free(void *impl)
{
}

static int
ff_start(void *impl, const struct fetch_request *req, char *err,
    size_t errlen)
{
	struct fake_fetch *f = impl;

	f->nstart++;
	(void)sd_strlcpy(f->host, req->host != NULL ? req->host : "",
	    sizeof(f->host));
	f->naddrs = req->naddrs;
	(void)sd_strlcpy(f->addr0, req->naddrs > 0 ? req->addrs[0] : "",
	    sizeof(f->addr0));
	f->timeout_ms = req->timeout_ms;
	f->max_body = req->max_body;
	if (f->start_fails) {
		(void)sd_snprintf(err, errlen, "start refused by the test");
		return -1;
	}
	f->running = 1;
	return 0;
}

static int
ff_step(void *impl, int extra_fd, int timeout_ms)
{
	struct fake_fetch *f = impl;

	f->nstep++;
	if (!f->hang)
		return 1;
	if (f->clock != NULL)
		f->clock->mono += timeout_ms > 0 ? timeout_ms : 1;
	return 0;
}

static void
ff_finish(void *impl, struct fetch_result *res)
{
	struct fake_fetch *f = impl;

	f->nfinish++;
	f->running = 0;
	memset(res, 0, sizeof(*res));
	res->problem = f->problem;
	res->http_status = f->http_status;
	(void)sd_strlcpy(res->content_type, f->content_type,
	    sizeof(res->content_type));
	if (f->problem == STSDANE_PROBLEM_NONE) {
		res->body = malloc(f->len + 1);
		if (res->body != NULL) {
			memcpy(res->body, f->body, f->len + 1);
			res->len = f->len;
		}
	} else {
		(void)sd_snprintf(res->error, sizeof(res->error),
		    "scripted failure '%s'",
		    stsdane_problem_name(f->problem));
	}
}

static void
ff_abort(void *impl)
{
	struct fake_fetch *f = impl;

	f->nabort++;
	f->running = 0;
}

const struct fetch_ops fake_fetch_ops = {
	FETCH_ABI, ff_new, ff_free, ff_start, ff_step, ff_finish, ff_abort
};

/* ---- cache -------------------------------------------------------------- */

void
fake_cache_init(struct fake_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void
fake_cache_release(struct fake_cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->e[i].val);
	c->n = 0;
}

static struct fake_cache_entry *
cache_find(const struct fake_cache *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0)
			return (struct fake_cache_entry *)&c->e[i];
	return NULL;
}

static int
fc_get(void *impl, const char *key, unsigned char **val, size_t *len)
{
	struct fake_cache *c = impl;
	struct fake_cache_entry *e;

	c->nget++;
	if (c->fail)
		return STSDANE_ERR_CACHE;
	e = cache_find(c, key);
	if (e == NULL)
		return STSDANE_ERR_NOTFOUND;
	*val = malloc(e->len ? e->len : 1);
	if (*val == NULL)
		return STSDANE_ERR_CACHE;
	memcpy(*val, e->val, e->len);
	*len = e->len;
	return STSDANE_OK;
}

static int
fc_put(void *impl, const char *key, const unsigned char *val, size_t len)
{
	struct fake_cache *c = impl;
	struct fake_cache_entry *e;
	unsigned char *copy;

	c->nput++;
	if (c->fail || strlen(key) >= sizeof(c->e[0].key))
		return STSDANE_ERR_CACHE;
	copy = malloc(len ? len : 1);
	if (copy == NULL)
		return STSDANE_ERR_CACHE;
	memcpy(copy, val, len);
	e = cache_find(c, key);
	if (e == NULL) {
		if (c->n >= FAKE_CACHE_MAX) {
			free(copy);
			return STSDANE_ERR_CACHE;
		}
		e = &c->e[c->n++];
		memcpy(e->key, key, strlen(key) + 1);
	} else {
		free(e->val);
	}
	e->val = copy;
	e->len = len;
	return STSDANE_OK;
}

static int
fc_del(void *impl, const char *key)
{
	struct fake_cache *c = impl;
	struct fake_cache_entry *e;

	c->ndel++;
	if (c->fail)
		return STSDANE_ERR_CACHE;
	e = cache_find(c, key);
	if (e == NULL)
		return STSDANE_ERR_NOTFOUND;
	free(e->val);
	*e = c->e[--c->n];
	return STSDANE_OK;
}

static int
fc_foreach(void *impl, int (*fn)(void *arg, const char *key,
    const unsigned char *val, size_t len), void *arg)
{
	struct fake_cache *c = impl;
	size_t i;

	if (c->fail)
		return STSDANE_ERR_CACHE;
	for (i = 0; i < c->n; i++)
		if (fn(arg, c->e[i].key, c->e[i].val, c->e[i].len) != 0)
			break;
	return STSDANE_OK;
}

const struct cache_ops fake_cache_ops = {
	fc_get, fc_put, fc_del, fc_foreach
};

struct stsdane_decision *
fake_cache_peek(const struct fake_cache *c, const char *key,
    int64_t *learned)
{
	struct fake_cache_entry *e = cache_find(c, key);
	struct stsdane_decision *d = NULL;
	int64_t when = 0;

	if (e == NULL ||
	    cache_record_decode(e->val, e->len, &d, &when) != STSDANE_OK)
		return NULL;
	if (learned != NULL)
		*learned = when;
	return d;
}

int
fake_cache_has(const struct fake_cache *c, const char *key)
{
	return cache_find(c, key) != NULL;
}

/* ---- the environment ---------------------------------------------------- */

static int
env_get_dns(void *arg, const struct dns_ops **ops, void **impl, char *err,
    size_t errlen)
{
	struct fake_env *w = arg;

	w->nget_dns++;
	if (w->get_dns_fails) {
		(void)sd_snprintf(err, errlen, "resolver refused by the test");
		return -1;
	}
	*ops = &fake_dns_ops;
	*impl = &w->dns;
	return 0;
}

static int
env_get_fetch(void *arg, const struct fetch_ops **ops, void **impl,
    char *err, size_t errlen)
{
	struct fake_env *w = arg;

	w->nget_fetch++;
	if (w->get_fetch_fails) {
		(void)sd_snprintf(err, errlen, "fetch module refused by the "
		    "test");
		return -1;
	}
	*ops = &fake_fetch_ops;
	*impl = &w->fetch;
	return 0;
}

void
fake_env_init(struct fake_env *w, int with_cache)
{
	memset(w, 0, sizeof(*w));
	settings_init(&w->settings);
	w->settings.dns_timeout_ms = 5000;
	w->settings.fetch_timeout_ms = 5000;
	w->settings.negative_ttl = 3600;
	w->clock.now = 1700000000;
	w->clock.mono = 1000000;
	fake_dns_init(&w->dns);
	w->dns.clock = &w->clock;
	w->dns.process_advance_ms = 100;
	fake_fetch_init(&w->fetch);
	w->fetch.clock = &w->clock;
	fake_cache_init(&w->cache);

	w->env.settings = &w->settings;
	w->env.get_dns = env_get_dns;
	w->env.get_fetch = env_get_fetch;
	w->env.get_arg = w;
	if (with_cache) {
		w->env.cache = &fake_cache_ops;
		w->env.cache_impl = &w->cache;
	}
	w->env.now = fake_clock_now;
	w->env.mono_ms = fake_clock_mono_ms;
	w->env.clock_arg = &w->clock;
}

void
fake_env_release(struct fake_env *w)
{
	fake_cache_release(&w->cache);
	settings_release(&w->settings);
}
