/*
 * NAME
 *	server.c - the event loop: connections, requests, shared lookups
 * SUMMARY
 *	one thread that reads and writes every client connection, and
 *	never waits for a decision: those come back from the worker pool
 * SYNOPSIS
 *	#include "server.h"
 *
 *	int server_run(const struct server_listener *l, int nl,
 *	    const struct pconf *c, const char *config,
 *	    const struct server_hooks *hooks)
 * DESCRIPTION
 *	epoll, level-triggered, over the listeners, the connections, the
 *	pool's eventfd and a signalfd.  Each readable connection gets one
 *	read() per turn, so that a client that floods cannot starve the
 *	others.
 *
 *	A request is a netstring "NAME KEY" (netstring.c).  Its answer is
 *	a slot in the connection's list, answered in request order, as the
 *	protocol requires.  Slots for a domain that is being looked up
 *	already join that lookup (one per domain at a time, in a hash
 *	table); otherwise the event loop's own context is asked for what the
 *	library remembers (STSDANE_QUERY_CACHE_ONLY: no DNS, no HTTPS), and
 *	only a miss becomes a job for the pool.  When a job comes back,
 *	every slot waiting for it gets the answer.  A connection that goes
 *	away leaves its waiting slots orphaned; the lookup frees them.
 *
 *	Bounds, so that memory stays small however many clients connect
 *	and whatever they send:
 *	  - an idle connection owns its struct only, no buffers; a partial
 *	    request gets a buffer of netstring_size(request_max) bytes;
 *	  - at most PIPELINE requests of one connection wait for answers;
 *	    beyond that, and while an answer waits to be written, the
 *	    connection is not read;
 *	  - a request not finished, or an answer not read, within
 *	    request_timeout closes the connection; so does idle_timeout
 *	    between requests;
 *	  - at most max_lookups distinct domains wait or run (TEMP beyond),
 *	    at most max_connections connections (closed at accept beyond).
 *	A malformed or oversize request closes its own connection, and no
 *	other.
 *
 *	The metrics listener speaks just enough HTTP/1.0 for "GET
 *	/metrics": one request, one answer, close.
 * DIAGNOSTICS
 *	Log lines on stderr, lower case, "stsdane-policyd: ...".  With
 *	log_requests, one line per answer:
 *	  stsdane-policyd: enforce.test: OK secure match=... (network, 12.3 ms)
 * SEE ALSO
 *	postfix/pool.c, postfix/answer.c, socketmap_table(5)
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "metrics.h"
#include "netstring.h"
#include "pool.h"
#include "server.h"

#define PIPELINE 16		/* requests of one connection in flight */
#define HTTP_MAX 4096		/* bytes of a metrics request */
#define METRICS_MAX 16384
#define HASH_SIZE 4096u
#define ACCEPT_BURST 64

enum kind { K_LISTEN, K_MAP, K_HTTP, K_POOL, K_SIGNAL };

struct conn;

/* One request's answer, in its connection's order. */
struct slot {
	struct conn *conn;		/* NULL: the connection is gone */
	struct slot *cnext;		/* next request of the connection */
	struct slot *lnext;		/* next waiter of the lookup */
	char *answer;			/* set when done */
	int done;
};

struct conn {
	enum kind kind;
	int fd;
	int metrics;			/* K_LISTEN: of /metrics */
	int is_inet;
	uint32_t events;
	char *in;			/* a partial request */
	size_t inlen;
	char *out;			/* an answer not yet written */
	size_t outlen, outoff;
	int close_after_write;
	int stalled;			/* whole requests wait in 'in' for
					   the pipeline to drain */
	int dead;			/* closed; freed after this turn */
	struct slot *shead, *stail;
	unsigned nslots;
	int64_t idle_since, partial_since, write_since;	/* ms, 0: not */
	struct conn *prev, *next;	/* every client connection */
};

/* One domain being looked up, and who waits for it. */
struct lookup {
	struct lookup *hnext;
	struct pool_job *job;
	struct slot *whead, *wtail;
	unsigned nwait;
	int64_t started;
};

struct server {
	struct pconf c;
	int ep;
	struct pool *pool;
	struct conn *conns;		/* list of client connections */
	struct conn *dead;		/* closed in this turn */
	unsigned nconns;
	struct lookup *table[HASH_SIZE];
	unsigned nlookups;
	struct metrics m;
	int stop;
	char *rbuf;			/* a read of a connection with no
					   partial request */
	size_t rcap;
	const struct server_hooks *hooks;
	const char *config;		/* the library's configuration file */
	stsdane_ctx *fast;		/* the event loop's own context, for
					   cache-only answers; NULL: none */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned
hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % HASH_SIZE;
}

static void
set_events(struct server *s, struct conn *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (c->out != NULL)
		want |= EPOLLOUT;
	else if (c->nslots < PIPELINE && !c->close_after_write)
		want |= EPOLLIN;
	if (want == c->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

static struct conn *
add_fd(struct server *s, int fd, enum kind k)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev;

	if (c == NULL)
		return NULL;
	c->kind = k;
	c->fd = fd;
	c->events = EPOLLIN;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void
close_conn(struct server *s, struct conn *c)
{
	struct slot *sl, *next;

	(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	for (sl = c->shead; sl != NULL; sl = next) {
		next = sl->cnext;
		if (sl->done) {
			free(sl->answer);
			free(sl);
		} else {
			sl->conn = NULL;	/* the lookup frees it */
		}
	}
	free(c->in);
	free(c->out);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nconns--;
	/* an event for it may still be in this turn's list */
	c->in = c->out = NULL;
	c->shead = c->stail = NULL;
	c->dead = 1;
	c->next = s->dead;
	s->dead = c;
}

static void
bury(struct server *s)
{
	while (s->dead != NULL) {
		struct conn *c = s->dead;

		s->dead = c->next;
		free(c);
	}
}

/* Write what is pending; -1 when the connection is to be closed. */
static int
write_out(struct server *s, struct conn *c)
{
	while (c->out != NULL && c->outoff < c->outlen) {
		ssize_t n = write(c->fd, c->out + c->outoff,
		    c->outlen - c->outoff);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->write_since == 0)
				c->write_since = now_ms();
			set_events(s, c);
			return 0;
		}
		if (n <= 0) {
			if (errno != EPIPE && errno != ECONNRESET)
				s->m.errors[MERR_IO]++;
			return -1;
		}
		c->outoff += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	c->write_since = 0;
	if (c->close_after_write)
		return -1;
	set_events(s, c);
	return 0;
}

/* Append bytes to the pending output. */
static int
queue_out(struct conn *c, const char *data, size_t len)
{
	char *p = realloc(c->out, c->outlen + len);

	if (p == NULL)
		return -1;
	memcpy(p + c->outlen, data, len);
	c->out = p;
	c->outlen += len;
	return 0;
}

static int process_input(struct server *s, struct conn *c);

/*
 * Send the answers at the head of c's list that are ready, in order;
 * then read on what was buffered.  -1 when c was closed.
 */
static int
flush_answers(struct server *s, struct conn *c)
{
	char wire[ANSWER_MAX + 32];
	struct slot *sl;

	while ((sl = c->shead) != NULL && sl->done) {
		const char *a = sl->answer != NULL ? sl->answer :
		    "TEMP stsdane-policyd: out of memory";
		long n = netstring_encode(a, strlen(a), wire, sizeof(wire));

		if (n < 0 || queue_out(c, wire, (size_t)n) < 0) {
			close_conn(s, c);
			return -1;
		}
		c->shead = sl->cnext;
		if (c->shead == NULL)
			c->stail = NULL;
		c->nslots--;
		free(sl->answer);
		free(sl);
	}
	if (c->out != NULL && write_out(s, c) < 0) {
		close_conn(s, c);
		return -1;
	}
	if (c->nslots == 0 && c->in == NULL && c->idle_since == 0)
		c->idle_since = now_ms();
	if (c->stalled && c->out == NULL && c->nslots < PIPELINE) {
		c->stalled = 0;
		return process_input(s, c);
	}
	set_events(s, c);
	return 0;
}

static struct slot *
new_slot(struct conn *c)
{
	struct slot *sl = calloc(1, sizeof(*sl));

	if (sl == NULL)
		return NULL;
	sl->conn = c;
	if (c->stail != NULL)
		c->stail->cnext = sl;
	else
		c->shead = sl;
	c->stail = sl;
	c->nslots++;
	c->idle_since = 0;
	return sl;
}

static void
answer_now(struct server *s, struct slot *sl, enum answer_kind k,
    const char *text)
{
	sl->answer = strdup(text);
	sl->done = 1;
	s->m.requests[k]++;
}

/*
 * The event loop's context answers only from what the library remembers
 * (STSDANE_QUERY_CACHE_ONLY: memo, answers file, database; never DNS or
 * HTTPS), so a cached domain is answered without crossing to a worker
 * thread and back.  A context is not thread-safe: this one is the event
 * loop's alone.  NULL when it cannot be made: every request then goes to
 * the workers, as before.
 */
static void
fast_open(struct server *s)
{
	stsdane_ctx *ctx = stsdane_new();

	if (ctx != NULL && s->config != NULL &&
	    stsdane_load_config(ctx, s->config) != STSDANE_OK) {
		stsdane_free(ctx);
		ctx = NULL;
	}
	if (s->fast != NULL)
		stsdane_free(s->fast);
	s->fast = ctx;
}

/* 1 when key was answered from the cache into sl. */
static int
fast_answer(struct server *s, struct slot *sl, const char *key)
{
	char buf[ANSWER_MAX + 1];
	struct stsdane_decision *d = NULL;
	struct answer_opts o;
	enum answer_kind k;

	if (s->fast == NULL || stsdane_query(s->fast, key,
	    STSDANE_QUERY_CACHE_ONLY, &d) != STSDANE_OK)
		return 0;
	o.tlsrpt = s->c.tlsrpt_attributes;
	k = answer_make(STSDANE_OK, d, NULL, &o, buf, sizeof(buf));
	if (s->c.log_requests)
		fprintf(stderr, "stsdane-policyd: %s: %s (cache, event "
		    "loop)\n", key, buf);
	stsdane_decision_free(d);
	s->m.tier_cache++;
	answer_now(s, sl, k, buf);
	return 1;
}

/* A request "NAME KEY" of plen bytes; -1 when it is malformed. */
static int
request(struct server *s, struct conn *c, const char *p, size_t plen)
{
	char key[256], text[320];
	const char *sp = memchr(p, ' ', plen);
	size_t nlen, klen, i;
	struct slot *sl;
	struct lookup *lk;
	unsigned h;

	if (sp == NULL || memchr(p, '\0', plen) != NULL)
		return -1;
	nlen = (size_t)(sp - p);
	klen = plen - nlen - 1;
	if ((sl = new_slot(c)) == NULL)
		return -1;
	if (nlen != strlen(s->c.map_name) ||
	    memcmp(p, s->c.map_name, nlen) != 0) {
		(void)snprintf(text, sizeof(text), "PERM unknown map name "
		    "'%.*s'", (int)(nlen > 64 ? 64 : nlen), p);
		answer_now(s, sl, ANSWER_PERM, text);
		return 0;
	}
	p = sp + 1;
	if (klen > 0 && p[klen - 1] == '.')
		klen--;		/* the root's dot */
	if (!answer_key_is_domain(p, klen)) {
		answer_now(s, sl, ANSWER_NOTFOUND, "NOTFOUND ");
		return 0;
	}
	for (i = 0; i < klen; i++)
		key[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) :
		    p[i];
	key[klen] = '\0';
	h = hash(key);
	for (lk = s->table[h]; lk != NULL; lk = lk->hnext)
		if (strcmp(lk->job->domain, key) == 0)
			break;
	if (lk != NULL) {
		s->m.tier_shared++;
	} else if (fast_answer(s, sl, key)) {
		return 0;
	} else if (s->nlookups >= s->c.max_lookups) {
		s->m.errors[MERR_OVERLOAD]++;
		answer_now(s, sl, ANSWER_TEMP, "TEMP stsdane-policyd: too "
		    "many lookups at once");
		return 0;
	} else {
		if ((lk = calloc(1, sizeof(*lk))) == NULL ||
		    (lk->job = calloc(1, sizeof(*lk->job))) == NULL) {
			free(lk);
			answer_now(s, sl, ANSWER_TEMP, "TEMP stsdane-policyd: "
			    "out of memory");
			return 0;
		}
		memcpy(lk->job->domain, key, klen + 1);
		lk->job->owner = lk;
		lk->started = now_ms();
		lk->hnext = s->table[h];
		s->table[h] = lk;
		s->nlookups++;
		pool_submit(s->pool, lk->job);
	}
	if (lk->wtail != NULL)
		lk->wtail->lnext = sl;
	else
		lk->whead = sl;
	lk->wtail = sl;
	lk->nwait++;
	return 0;
}

/*
 * Serve the whole requests in c->in, or in buf (a fresh read of len
 * bytes) when c->in is NULL; keep what is left.  -1 when c was closed.
 */
static int
consume(struct server *s, struct conn *c, const char *buf, size_t len)
{
	size_t off = 0, dlen, used;
	const char *data;
	int more = 0;

	while (off < len && c->nslots < PIPELINE) {
		enum netstring_status st = netstring_parse(buf + off,
		    len - off, s->c.request_max, &data, &dlen, &used);

		if (st == NETSTRING_MORE) {
			more = 1;
			break;
		}
		if (st != NETSTRING_DONE || request(s, c, data, dlen) < 0) {
			s->m.errors[st == NETSTRING_TOOBIG ? MERR_OVERSIZE :
			    MERR_MALFORMED]++;
			close_conn(s, c);
			return -1;
		}
		off += used;
	}
	if (off == len) {
		free(c->in);
		c->in = NULL;
		c->inlen = 0;
		c->partial_since = 0;
	} else {
		if (c->in == NULL) {
			if ((c->in = malloc(s->rcap)) == NULL) {
				close_conn(s, c);
				return -1;
			}
			memcpy(c->in, buf + off, len - off);
		} else if (off > 0) {
			memmove(c->in, c->in + off, len - off);
		}
		c->inlen = len - off;
		c->stalled = !more;
		/* a request begun: it has request_timeout to finish */
		if (!more)
			c->partial_since = 0;
		else if (off > 0 || c->partial_since == 0)
			c->partial_since = now_ms();
	}
	if (c->in != NULL)
		c->idle_since = 0;
	return flush_answers(s, c);
}

static int
process_input(struct server *s, struct conn *c)
{
	return consume(s, c, c->in, c->inlen);
}

static void
read_map(struct server *s, struct conn *c)
{
	char *dst = c->in != NULL ? c->in + c->inlen : s->rbuf;
	size_t room = c->in != NULL ? s->rcap - c->inlen : s->rcap;
	ssize_t n;

	if (room == 0) {	/* a full buffer without a whole request */
		s->m.errors[MERR_OVERSIZE]++;
		close_conn(s, c);
		return;
	}
	n = read(c->fd, dst, room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_conn(s, c);
		return;
	}
	if (c->in != NULL) {
		c->inlen += (size_t)n;
		(void)consume(s, c, c->in, c->inlen);
	} else {
		(void)consume(s, c, s->rbuf, (size_t)n);
	}
}

static void
read_http(struct server *s, struct conn *c)
{
	static const char notfound[] = "HTTP/1.0 404 Not Found\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 10\r\n"
	    "Connection: close\r\n\r\nnot found\n";
	char body[METRICS_MAX], head[160];
	unsigned q, r;
	size_t blen;
	ssize_t n;
	int hl;

	if (c->in == NULL && (c->in = malloc(HTTP_MAX + 1)) == NULL) {
		close_conn(s, c);
		return;
	}
	if (c->partial_since == 0)
		c->partial_since = now_ms();
	n = read(c->fd, c->in + c->inlen, HTTP_MAX - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_conn(s, c);
		return;
	}
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	if (strstr(c->in, "\r\n\r\n") == NULL &&
	    strstr(c->in, "\n\n") == NULL) {
		if (c->inlen == HTTP_MAX)
			close_conn(s, c);
		return;
	}
	c->close_after_write = 1;
	if (strncmp(c->in, "GET /metrics ", 13) != 0 &&
	    strncmp(c->in, "GET /metrics\r", 13) != 0) {
		if (queue_out(c, notfound, sizeof(notfound) - 1) < 0) {
			close_conn(s, c);
			return;
		}
	} else {
		pool_counts(s->pool, &q, &r);
		s->m.lookups_queued = q;
		s->m.lookups_in_flight = r;
		s->m.connections = s->nconns;
		blen = metrics_render(&s->m, body, sizeof(body));
		hl = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
		    "Content-Type: text/plain; version=0.0.4\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
		if (hl < 0 || (size_t)hl >= sizeof(head) ||
		    queue_out(c, head, (size_t)hl) < 0 ||
		    queue_out(c, body, blen) < 0) {
			close_conn(s, c);
			return;
		}
	}
	if (write_out(s, c) < 0)
		close_conn(s, c);
}

static void
accept_all(struct server *s, struct conn *l)
{
	int i, one = 1;

	for (i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				s->m.errors[MERR_IO]++;
			return;
		}
		if (s->nconns >= s->c.max_connections ||
		    (c = add_fd(s, fd, l->metrics ? K_HTTP : K_MAP)) == NULL) {
			s->m.errors[MERR_OVERLOAD]++;
			close(fd);
			continue;
		}
		if (l->is_inet)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		c->idle_since = now_ms();
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		s->m.connections_total++;
	}
}

static void
log_answer(const struct pool_job *j, const struct lookup *lk)
{
	const char *src = j->source == STSDANE_SOURCE_CACHE ? "cache" :
	    j->source == STSDANE_SOURCE_NETWORK ? "network" : "no decision";

	fprintf(stderr, "stsdane-policyd: %s: %s (%s, %.1f ms%s)\n",
	    j->domain, j->answer != NULL ? j->answer : "(out of memory)", src,
	    (double)j->ns / 1e6, lk->nwait > 1 ? ", shared" : "");
}

static void
lookups_done(struct server *s)
{
	struct pool_job *j, *next;

	for (j = pool_done(s->pool); j != NULL; j = next) {
		struct lookup *lk = j->owner, **pp;
		struct slot *sl, *sn;
		unsigned h = hash(j->domain);

		next = j->next;
		for (pp = &s->table[h]; *pp != NULL; pp = &(*pp)->hnext)
			if (*pp == lk) {
				*pp = lk->hnext;
				break;
			}
		s->nlookups--;
		metrics_lookup(&s->m, j->ns);
		if (j->source == STSDANE_SOURCE_CACHE)
			s->m.tier_cache++;
		else if (j->source == STSDANE_SOURCE_NETWORK)
			s->m.tier_network++;
		if (j->kind == ANSWER_TEMP && j->source < 0)
			s->m.errors[MERR_LIBRARY]++;
		if (s->c.log_requests)
			log_answer(j, lk);
		for (sl = lk->whead; sl != NULL; sl = sn) {
			sn = sl->lnext;
			s->m.requests[j->kind]++;
			if (sl->conn == NULL) {
				free(sl);
				continue;
			}
			sl->answer = j->answer != NULL ? strdup(j->answer) :
			    NULL;
			sl->done = 1;
			(void)flush_answers(s, sl->conn);
		}
		free(j->answer);
		free(j);
		free(lk);
	}
}

/* Close what has waited too long. */
static void
sweep(struct server *s)
{
	int64_t now = now_ms();
	struct conn *c, *next;

	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if ((c->write_since != 0 &&
		    now - c->write_since > s->c.request_timeout_ms) ||
		    (c->partial_since != 0 &&
		    now - c->partial_since > s->c.request_timeout_ms)) {
			s->m.errors[MERR_TIMEOUT]++;
			close_conn(s, c);
		} else if (c->idle_since != 0 &&
		    now - c->idle_since > s->c.idle_timeout_ms) {
			close_conn(s, c);
		}
	}
}

static void
on_signal(struct server *s, int fd)
{
	struct signalfd_siginfo si;
	struct pconf fresh;
	struct answer_opts o;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGHUP) {
			s->stop = 1;
			continue;
		}
		(void)sd_notify(0, "RELOADING=1");
		fresh = s->c;
		if (s->hooks != NULL && s->hooks->reload != NULL &&
		    s->hooks->reload(s->hooks->arg, &fresh) == 0) {
			/* what the buffers and threads were sized by stays */
			fresh.workers = s->c.workers;
			fresh.request_max = s->c.request_max;
			s->c = fresh;
			o.tlsrpt = s->c.tlsrpt_attributes;
			pool_reload(s->pool, &o);
			fast_open(s);
			s->m.reloads++;
			fprintf(stderr, "stsdane-policyd: configuration "
			    "reloaded\n");
		}
		(void)sd_notify(0, "READY=1");
	}
}

static void
free_all(struct server *s, struct conn **fixed, int nfixed)
{
	unsigned i;
	int k;

	while (s->conns != NULL)
		close_conn(s, s->conns);
	bury(s);
	pool_free(s->pool);	/* frees the jobs it still had */
	if (s->fast != NULL)
		stsdane_free(s->fast);
	s->fast = NULL;
	for (i = 0; i < HASH_SIZE; i++) {
		struct lookup *lk, *ln;

		for (lk = s->table[i]; lk != NULL; lk = ln) {
			struct slot *sl, *sn;

			ln = lk->hnext;
			for (sl = lk->whead; sl != NULL; sl = sn) {
				sn = sl->lnext;
				free(sl);
			}
			free(lk);
		}
	}
	for (k = 0; k < nfixed; k++)
		if (fixed[k] != NULL) {
			close(fixed[k]->fd);
			free(fixed[k]);
		}
	free(s->rbuf);
	close(s->ep);
}

int
server_run(const struct server_listener *l, int nl, const struct pconf *c,
    const char *config, const struct server_hooks *hooks)
{
	static struct server srv;
	struct server *s = &srv;
	struct conn *fixed[SERVER_MAX_LISTENERS + 2];
	struct answer_opts o;
	struct epoll_event evs[256];
	char err[256];
	sigset_t set;
	int i, nfixed = 0, sfd;
	int64_t last_sweep = now_ms();

	memset(s, 0, sizeof(*s));
	memset(fixed, 0, sizeof(fixed));
	s->c = *c;
	s->hooks = hooks;
	s->config = config;
	fast_open(s);
	s->rcap = netstring_size(c->request_max);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->rbuf = malloc(s->rcap);
	if (s->ep < 0 || s->rbuf == NULL) {
		fprintf(stderr, "stsdane-policyd: cannot set up the event "
		    "loop: %s\n", strerror(errno));
		return 1;
	}
	o.tlsrpt = c->tlsrpt_attributes;
	s->pool = pool_new(c->workers, config, &o, err, sizeof(err));
	if (s->pool == NULL) {
		fprintf(stderr, "stsdane-policyd: %s\n", err);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	for (i = 0; i < nl; i++) {
		fixed[nfixed] = add_fd(s, l[i].fd, K_LISTEN);
		if (fixed[nfixed] == NULL)
			goto fail;
		fixed[nfixed]->metrics = l[i].metrics;
		fixed[nfixed]->is_inet = l[i].is_inet;
		nfixed++;
	}
	if (sfd < 0 || (fixed[nfixed++] = add_fd(s, sfd, K_SIGNAL)) == NULL ||
	    (fixed[nfixed++] = add_fd(s, dup(pool_fd(s->pool)), K_POOL)) ==
	    NULL)
		goto fail;
	(void)sd_notifyf(0, "READY=1\nSTATUS=serving, %u workers",
	    c->workers);
	fprintf(stderr, "stsdane-policyd: ready, %u workers\n", c->workers);
	while (!s->stop) {
		int n = epoll_wait(s->ep, evs, 256, 1000);
		int64_t now;

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "stsdane-policyd: epoll_wait: %s\n",
			    strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			struct conn *cn = evs[i].data.ptr;

			if (cn->dead)
				continue;
			switch (cn->kind) {
			case K_LISTEN:
				accept_all(s, cn);
				break;
			case K_SIGNAL:
				on_signal(s, cn->fd);
				break;
			case K_POOL:
				lookups_done(s);
				break;
			case K_MAP:
			case K_HTTP:
				if (evs[i].events & EPOLLOUT) {
					if (write_out(s, cn) < 0) {
						close_conn(s, cn);
						break;
					}
					if (cn->kind == K_MAP)
						(void)flush_answers(s, cn);
				} else if (cn->kind == K_MAP) {
					read_map(s, cn);
				} else {
					read_http(s, cn);
				}
				break;
			}
		}
		now = now_ms();
		if (now - last_sweep >= 1000) {
			sweep(s);
			last_sweep = now;
		}
		bury(s);
	}
	(void)sd_notify(0, "STOPPING=1");
	fprintf(stderr, "stsdane-policyd: stopping\n");
	free_all(s, fixed, nfixed);
	return 0;
fail:
	fprintf(stderr, "stsdane-policyd: cannot set up the event loop: %s\n",
	    strerror(errno));
	free_all(s, fixed, nfixed);
	return 1;
}
