/*
 * fetch.h - the HTTPS policy fetch as the decision module sees it
 *
 * One fetch at a time per handle, driven step by step so that the caller
 * can keep DNS lookups moving in the same loop: step() waits at most
 * timeout_ms for the transfer or for extra_fd (the resolver's descriptor)
 * and returns.  The real implementation (fetch_curl.c) lives in a separate
 * shared object, stsdane-fetch.so, loaded on first use, so that processes
 * served from the cache never map libcurl.
 */
#ifndef STSDANE_FETCH_H
#define STSDANE_FETCH_H

#include <stddef.h>

#include "stsdane.h"

struct fetch_request {
	const char *host;		/* mta-sts.DOMAIN */
	unsigned port;			/* 443 */
	const char *const *addrs;	/* addresses already resolved */
	size_t naddrs;
	const char *ca_file;		/* NULL: system default */
	long timeout_ms;		/* overall deadline */
	size_t max_body;		/* bytes; larger is TOO_LARGE */
	/* FETCH_ABI 2 */
	int audit;			/* 1: for stsdane_audit() only: no
					   verification in the handshake (the
					   caller verifies the chain it gets
					   back in the result), and keep what
					   the TLS session showed.  Never for a
					   policy that decides anything. */
};

#define FETCH_MAX_PEERS 8

/* One certificate the server sent, DER, malloc'd. */
struct fetch_peer {
	unsigned char *der;
	size_t len;
};

struct fetch_result {
	enum stsdane_problem problem;	/* NONE: 200, text/plain, body */
	long http_status;
	char content_type[128];
	char *body;			/* malloc'd, NUL-terminated */
	size_t len;
	char error[256];		/* for people, when problem != NONE */
	/* FETCH_ABI 2, filled for audit requests */
	char tls_version[32];		/* e.g. "TLS1.3"; "" if unknown */
	char redirect[256];		/* Location of a 3xx, or "" */
	size_t npeers;			/* the server's chain, leaf first; */
	struct fetch_peer peers[FETCH_MAX_PEERS];	/* caller frees each */
};

#define FETCH_ABI 2	/* 2: audit fields appended */

struct fetch_ops {
	unsigned abi;
	void *(*new)(char *err, size_t errlen);
	void (*free)(void *impl);
	/* 0, or -1 with err */
	int (*start)(void *impl, const struct fetch_request *req, char *err,
	    size_t errlen);
	/* 1 when the transfer is finished, 0 while it runs */
	int (*step)(void *impl, int extra_fd, int timeout_ms);
	/* after step() returned 1: fill res (caller frees res->body) */
	void (*finish)(void *impl, struct fetch_result *res);
	/* abandon a running transfer */
	void (*abort)(void *impl);
};

/* One blocking POST (TLS-RPT reports), stsdane_fetch_post(). */
struct fetch_post {
	const char *url;		/* https://... */
	const char *const *resolve;	/* "HOST:PORT:ADDR", CURLOPT_RESOLVE */
	size_t nresolve;
	const char *ca_file;		/* NULL: system default */
	const char *content_type;
	const void *body;
	size_t len;
	long timeout_ms;
};
/* The HTTP status, or -1 with err. */
typedef long fetch_post_fn(const struct fetch_post *p, char *err,
    size_t errlen);
#define FETCH_POST_SYMBOL "stsdane_fetch_post"
/* fetch_load.c: another function of stsdane-fetch.so (FETCH_POST_SYMBOL,
   REPORT_JSON_SYMBOL); NULL with err. */
void *fetch_sym_load(const char *symbol, char *err, size_t errlen);

/* Exported by stsdane-fetch.so. */
typedef const struct fetch_ops *fetch_ops_fn(unsigned abi);
#define FETCH_OPS_SYMBOL "stsdane_fetch_ops"

/*
 * fetch_load.c: load stsdane-fetch.so from the directory this library
 * was loaded from (or $STSDANE_FETCH_MODULE).  NULL with err set.
 */
const struct fetch_ops *fetch_load(char *err, size_t errlen);

#endif /* STSDANE_FETCH_H */
