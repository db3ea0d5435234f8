/*
 * NAME
 *	bench_sockmap.c - Postfix socketmap client and server, for timing
 *	cached answers over loopback TCP
 * SUMMARY
 *	The like-for-like half of the comparison with the MTA-STS resolver
 *	Postfix users run today: the same client asks it and a server of
 *	ours the same questions, over the same protocol, in turn.
 * SYNOPSIS
 *	bench-sockmap client ROUNDS PER_ROUND NAME=WHERE... -- DOMAIN...
 *	bench-sockmap server CONFIG ADDR PORT
 * DESCRIPTION
 *	The socketmap protocol (Postfix socketmap_table(5)): a request is
 *	the netstring "NAME KEY", an answer the netstring "OK DATA",
 *	"NOTFOUND ", "TEMP REASON" or "PERM REASON".  Postfix keeps the
 *	connection open between requests, and so does the client here.
 *
 *	client opens one connection to each server named by WHERE
 *	ADDR:PORT.  WHERE can also be @warm:CONFIG or @fresh:CONFIG: no
 *	server, the same answer made in the client's own process, through
 *	the library, from one context kept for the run (warm) or from a
 *	new context per request (fresh, what a fresh MTA process pays).
 *	Every round sends
 *	PER_ROUND requests to each server in turn, one at a time, the
 *	domains in rotation, and times each from write to the end of the
 *	answer; the order of the servers alternates from round to round.
 *	It prints, per server, the median and 99th percentile latency, the
 *	rate (requests over the time spent waiting for them), the counts
 *	of OK, NOTFOUND and other answers, and the first answer for each
 *	domain.  The request name is "postfix".
 *
 *	server answers from one stsdane context, kept for its life, the
 *	way a long-running policy daemon would: "OK secure match=MX:MX
 *	servername=hostname" for MTA-STS enforce, "OK dane-only" for DANE,
 *	"TEMP" for a tempfail, "NOTFOUND " otherwise.  One thread, poll(),
 *	any number of connections; it prints "ready" once it listens and
 *	runs until killed.
 * DIAGNOSTICS
 *	Exit 0 when the run completed, 1 when a server could not be
 *	reached or answered out of protocol, 2 on bad usage.
 * SEE ALSO
 *	tests/bench/run.sh, docs/performance.md
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include "stsdane.h"

#define MAX_SERVERS 4
#define MAX_DOMAINS 64
#define MAX_CONNS 64
#define NS_MAX 4096		/* longest netstring payload */
#define MAX_SAMPLES (2u * 1024 * 1024)

/* "ADDR:PORT" into a sockaddr; 0 or -1. */
static int
parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host) ||
	    parse_long(colon + 1, 1, 65535, &port) < 0)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

/* Netstring "LEN:DATA," of data into out; its length, or -1. */
static int
ns_encode(const char *data, size_t len, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%zu:", len);

	if (n < 0 || (size_t)n + len + 1 >= outlen)
		return -1;
	memcpy(out + n, data, len);
	out[n + len] = ',';
	return n + (int)len + 1;
}

/*
 * A whole netstring at the start of buf (len bytes)?  1 with *data,
 * *dlen and *used set; 0 when more bytes are needed; -1 when malformed.
 */
static int
ns_decode(const char *buf, size_t len, const char **data, size_t *dlen,
    size_t *used)
{
	size_t i, n = 0;

	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		n = n * 10 + (size_t)(buf[i] - '0');
		if (n > NS_MAX)
			return -1;
	}
	if (i == len)
		return i > 6 ? -1 : 0;
	if (i == 0 || buf[i] != ':')
		return -1;
	if (len < i + 1 + n + 1)
		return 0;
	if (buf[i + 1 + n] != ',')
		return -1;
	*data = buf + i + 1;
	*dlen = n;
	*used = i + 1 + n + 1;
	return 1;
}

/* ---------------------------------------------------------------- client */

enum where { W_TCP, W_WARM, W_FRESH };

struct server {
	const char *name;
	enum where where;
	const char *config;
	stsdane_ctx *ctx;		/* W_WARM */
	struct sockaddr_in addr;
	int fd;
	uint32_t *lat;
	size_t n;
	uint64_t busy_ns;
	unsigned long ok, notfound, other;
	char first[MAX_DOMAINS][160];
};

static int
connect_to(struct server *s)
{
	int one = 1;

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -1;
	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->fd, (struct sockaddr *)&s->addr, sizeof(s->addr)) < 0) {
		fprintf(stderr, "bench-sockmap: connect to '%s': %s\n",
		    s->name, strerror(errno));
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	return 0;
}

static void answer(stsdane_ctx *ctx, const char *domain, char *out,
    size_t outlen);

static stsdane_ctx *
open_ctx(const char *config)
{
	stsdane_ctx *ctx = stsdane_new();

	if (ctx != NULL && stsdane_load_config(ctx, config) != STSDANE_OK) {
		fprintf(stderr, "bench-sockmap: configuration '%s': %s\n",
		    config, stsdane_error(ctx));
		stsdane_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* One request, one answer into ans; 0 or -1. */
static int
ask(struct server *s, const char *domain, char *ans, size_t anslen)
{
	char req[512], raw[NS_MAX + 16], key[300];
	size_t have = 0, dlen, used;
	const char *data;
	stsdane_ctx *ctx;
	int n, rc;

	if (s->where == W_WARM) {
		answer(s->ctx, domain, ans, anslen);
		return 0;
	}
	if (s->where == W_FRESH) {
		if ((ctx = open_ctx(s->config)) == NULL)
			return -1;
		answer(ctx, domain, ans, anslen);
		stsdane_free(ctx);
		return 0;
	}
	n = snprintf(key, sizeof(key), "postfix %s", domain);
	if (n < 0 || (size_t)n >= sizeof(key))
		return -1;
	n = ns_encode(key, (size_t)n, req, sizeof(req));
	if (n < 0 || write(s->fd, req, (size_t)n) != n)
		return -1;
	for (;;) {
		ssize_t r = read(s->fd, raw + have, sizeof(raw) - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		have += (size_t)r;
		rc = ns_decode(raw, have, &data, &dlen, &used);
		if (rc < 0)
			return -1;
		if (rc > 0)
			break;
		if (have == sizeof(raw))
			return -1;
	}
	if (dlen >= anslen)
		dlen = anslen - 1;
	memcpy(ans, data, dlen);
	ans[dlen] = '\0';
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const uint32_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	return (double)v[(size_t)(p * (double)(n - 1) + 0.5)];
}

static int
cmd_client(long rounds, long per, int nserv, char **servs, int ndom,
    char **domains)
{
	static struct server sv[MAX_SERVERS];
	char ans[NS_MAX + 1];
	long r, q;
	int i, d = 0;

	for (i = 0; i < nserv; i++) {
		char *eq = strchr(servs[i], '=');

		if (eq != NULL && strncmp(eq + 1, "@warm:", 6) == 0) {
			sv[i].where = W_WARM;
			sv[i].config = eq + 7;
		} else if (eq != NULL && strncmp(eq + 1, "@fresh:", 7) == 0) {
			sv[i].where = W_FRESH;
			sv[i].config = eq + 8;
		} else if (eq == NULL ||
		    parse_addr(eq + 1, &sv[i].addr) < 0) {
			fprintf(stderr, "bench-sockmap: bad server '%s'\n",
			    servs[i]);
			return 2;
		}
		*eq = '\0';
		sv[i].name = servs[i];
		sv[i].lat = malloc(MAX_SAMPLES * sizeof(uint32_t));
		if (sv[i].lat == NULL)
			return 1;
		if (sv[i].where == W_WARM &&
		    (sv[i].ctx = open_ctx(sv[i].config)) == NULL)
			return 1;
		if (sv[i].where == W_TCP && connect_to(&sv[i]) < 0)
			return 1;
	}
	for (r = 0; r < rounds; r++) {
		int k;

		for (k = 0; k < nserv; k++) {
			struct server *s = &sv[r % 2 ? nserv - 1 - k : k];
			uint64_t t0 = now_ns(), t1;

			for (q = 0; q < per && s->n < MAX_SAMPLES; q++) {
				if (ask(s, domains[d], ans, sizeof(ans)) < 0) {
					fprintf(stderr, "bench-sockmap: '%s' "
					    "did not answer '%s'\n", s->name,
					    domains[d]);
					return 1;
				}
				t1 = now_ns();
				s->lat[s->n++] = (uint32_t)(t1 - t0 > UINT32_MAX ?
				    UINT32_MAX : t1 - t0);
				s->busy_ns += t1 - t0;
				t0 = t1;
				if (strncmp(ans, "OK ", 3) == 0)
					s->ok++;
				else if (strncmp(ans, "NOTFOUND", 8) == 0)
					s->notfound++;
				else
					s->other++;
				if (s->first[d][0] == '\0')
					(void)snprintf(s->first[d],
					    sizeof(s->first[d]), "%.150s", ans);
				if (++d == ndom)
					d = 0;
			}
		}
	}
	for (i = 0; i < nserv; i++) {
		struct server *s = &sv[i];
		int j;

		qsort(s->lat, s->n, sizeof(uint32_t), cmp_u32);
		printf("sockmap name=%s n=%zu rate=%.0f p50_us=%.1f "
		    "p99_us=%.1f ok=%lu notfound=%lu other=%lu\n", s->name,
		    s->n, s->busy_ns ? (double)s->n * 1e9 /
		    (double)s->busy_ns : 0, pct(s->lat, s->n, 0.5) / 1e3,
		    pct(s->lat, s->n, 0.99) / 1e3, s->ok, s->notfound,
		    s->other);
		for (j = 0; j < ndom; j++)
			printf("answer name=%s domain=%s: %s\n", s->name,
			    domains[j], s->first[j]);
		if (s->where == W_TCP)
			close(s->fd);
		stsdane_free(s->ctx);
		free(s->lat);
	}
	return 0;
}

/* ---------------------------------------------------------------- server */

struct conn {
	int fd;
	size_t have;
	char buf[NS_MAX + 16];
};

/* The socketmap answer for one domain, into out. */
static void
answer(stsdane_ctx *ctx, const char *domain, char *out, size_t outlen)
{
	struct stsdane_decision *d = NULL;
	size_t i, len;

	if (stsdane_query(ctx, domain, 0, &d) != STSDANE_OK) {
		(void)snprintf(out, outlen, "NOTFOUND ");
		return;
	}
	if (d->tempfail) {
		(void)snprintf(out, outlen, "TEMP %s", stsdane_problem_name(
		    d->problem));
	} else if (d->mechanism == STSDANE_MECH_DANE) {
		(void)snprintf(out, outlen, "OK dane-only");
	} else if (d->mechanism == STSDANE_MECH_MTASTS &&
	    d->mode == STSDANE_MODE_ENFORCE && d->nmx > 0) {
		(void)snprintf(out, outlen, "OK secure match=");
		for (i = 0; i < d->nmx; i++) {
			const char *mx = d->mx[i];

			/* "*.example.com" is Postfix's ".example.com" */
			if (mx[0] == '*')
				mx++;
			len = strlen(out);
			(void)snprintf(out + len, outlen - len, "%s%s",
			    i > 0 ? ":" : "", mx);
		}
		len = strlen(out);
		(void)snprintf(out + len, outlen - len,
		    " servername=hostname");
	} else {
		(void)snprintf(out, outlen, "NOTFOUND ");
	}
	stsdane_decision_free(d);
}

/* Serve what c has buffered; -1 to drop the connection. */
static int
serve(stsdane_ctx *ctx, struct conn *c)
{
	char key[NS_MAX + 1], ans[NS_MAX], wire[NS_MAX + 16];
	const char *data, *sp;
	size_t dlen, used;
	int rc, n;

	while ((rc = ns_decode(c->buf, c->have, &data, &dlen, &used)) > 0) {
		memcpy(key, data, dlen);
		key[dlen] = '\0';
		sp = strchr(key, ' ');
		answer(ctx, sp != NULL ? sp + 1 : key, ans, sizeof(ans));
		n = ns_encode(ans, strlen(ans), wire, sizeof(wire));
		if (n < 0 || write(c->fd, wire, (size_t)n) != n)
			return -1;
		memmove(c->buf, c->buf + used, c->have - used);
		c->have -= used;
	}
	return rc < 0 ? -1 : 0;
}

static int
cmd_server(const char *config, const char *addr, const char *port)
{
	static struct conn conns[MAX_CONNS];
	struct pollfd pfd[MAX_CONNS + 1];
	struct sockaddr_in sin;
	char spec[128];
	stsdane_ctx *ctx;
	int lfd, one = 1, i;

	if (snprintf(spec, sizeof(spec), "%s:%s", addr, port) >=
	    (int)sizeof(spec) || parse_addr(spec, &sin) < 0) {
		fprintf(stderr, "bench-sockmap: bad address '%s'\n", spec);
		return 2;
	}
	ctx = stsdane_new();
	if (ctx == NULL || stsdane_load_config(ctx, config) != STSDANE_OK) {
		fprintf(stderr, "bench-sockmap: configuration '%s': %s\n",
		    config, stsdane_error(ctx));
		return 1;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 64) < 0) {
		fprintf(stderr, "bench-sockmap: listen on '%s': %s\n", spec,
		    strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int n = 0;

		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		for (i = 0; i < MAX_CONNS; i++) {
			pfd[n].fd = conns[i].fd;	/* -1 is ignored */
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			for (i = 0; fd >= 0 && i < MAX_CONNS; i++)
				if (conns[i].fd < 0) {
					conns[i].fd = fd;
					conns[i].have = 0;
					(void)setsockopt(fd, IPPROTO_TCP,
					    TCP_NODELAY, &one, sizeof(one));
					fd = -1;
				}
			if (fd >= 0)
				close(fd);
		}
		for (i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			ssize_t r;

			if (c->fd < 0 || !(pfd[i + 1].revents &
			    (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(c->fd, c->buf + c->have,
			    sizeof(c->buf) - c->have);
			if (r > 0) {
				c->have += (size_t)r;
				if (serve(ctx, c) == 0 &&
				    c->have < sizeof(c->buf))
					continue;
			} else if (r < 0 && errno == EINTR) {
				continue;
			}
			close(c->fd);
			c->fd = -1;
		}
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench-sockmap client ROUNDS PER_ROUND NAME=WHERE... "
	    "-- DOMAIN...\n"
	    "       bench-sockmap server CONFIG ADDR PORT\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long rounds, per;
	int i, dash = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "server") == 0)
		return cmd_server(argv[2], argv[3], argv[4]);
	if (argc < 7 || strcmp(argv[1], "client") != 0 ||
	    parse_long(argv[2], 1, 1000, &rounds) < 0 ||
	    parse_long(argv[3], 1, 1000000, &per) < 0)
		usage();
	for (i = 4; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dash = i;
			break;
		}
	if (dash < 5 || dash - 4 > MAX_SERVERS || argc - dash - 1 < 1 ||
	    argc - dash - 1 > MAX_DOMAINS)
		usage();
	return cmd_client(rounds, per, dash - 4, argv + 4, argc - dash - 1,
	    argv + dash + 1);
}
