/*
 * NAME
 *	fetch_curl.c - HTTPS policy fetch with libcurl (stsdane-fetch.so)
 * SYNOPSIS
 *	const struct fetch_ops *stsdane_fetch_ops(unsigned abi)
 * DESCRIPTION
 *	Built as its own shared object and loaded by the library on the
 *	first fetch, so that processes served from the cache never map
 *	libcurl.  One transfer at a time per handle, on a curl multi
 *	handle so that the caller's resolver descriptor is watched in the
 *	same poll (curl_multi_poll's extra descriptors).
 *
 *	RFC 8461 section 3.3: https only; the certificate must be valid for
 *	the policy host under the configured CAs (SNI is sent); redirects
 *	are not followed; only 200 counts; the media type must be
 *	text/plain (parameters allowed); the body is capped; HTTP caching is
 *	not used.  Response headers are bounded too: a line over 16 KiB is
 *	STSDANE_PROBLEM_HEADER_TOO_LONG, more than 64 KiB of them in all
 *	STSDANE_PROBLEM_HEADER_FLOOD.
 *	Addresses come from the caller's resolver (CURLOPT_RESOLVE),
 *	so curl never resolves names itself; proxies from the environment
 *	are ignored.
 * DIAGNOSTICS
 *	finish() fills fetch_result.problem with the step that failed and
 *	.error with a line for people.
 */
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"
#include "util.h"

/* Bounds on the response headers; see on_header(). */
#define FETCH_MAX_HEADER_LINE 16384
#define FETCH_MAX_HEADERS 65536

struct fetch_curl {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *resolve;
	struct curl_slist *headers;
	char *body;
	size_t len;
	size_t max;
	int too_large;
	int in_headers;		/* the response's headers are not all in */
	size_t header_bytes;	/* of this response's header lines */
	enum stsdane_problem header_problem;	/* NONE, or why we stopped */
	int done;
	CURLcode result;
	char host[SD_MAX_NAME];
	char errbuf[CURL_ERROR_SIZE];
	/* audit requests: what the TLS session showed */
	int audit;
	int seen_tls;
	char tls_version[32];
	size_t npeers;
	struct fetch_peer peers[FETCH_MAX_PEERS];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_curl *f = arg;
	size_t n = size * nmemb;
	char *p;

	if (n > f->max - f->len) {
		f->too_large = 1;
		return 0;		/* aborts the transfer */
	}
	p = realloc(f->body, f->len + n + 1);
	if (p == NULL)
		return 0;
	memcpy(p + f->len, data, n);
	f->len += n;
	p[f->len] = '\0';
	f->body = p;
	return n;
}

static void
audit_reset(struct fetch_curl *f)
{
	size_t i;

	for (i = 0; i < f->npeers; i++)
		free(f->peers[i].der);
	f->npeers = 0;
	f->seen_tls = 0;
	f->audit = 0;
	f->tls_version[0] = '\0';
}

/*
 * Audit requests: the first header line comes while the TLS session is
 * up, so its version and the server's chain are taken from it then.
 */
static void
audit_capture(struct fetch_curl *f)
{
	struct curl_tlssessioninfo *info = NULL;
	const gnutls_datum_t *peers;
	gnutls_session_t tls;
	unsigned n = 0, i;

	if (!f->audit || f->seen_tls)
		return;
	f->seen_tls = 1;
	if (curl_easy_getinfo(f->easy, CURLINFO_TLS_SSL_PTR, &info) !=
	    CURLE_OK || info == NULL ||
	    info->backend != CURLSSLBACKEND_GNUTLS || info->internals == NULL)
		return;
	tls = info->internals;
	(void)sd_strlcpy(f->tls_version, gnutls_protocol_get_name(
	    gnutls_protocol_get_version(tls)) != NULL ?
	    gnutls_protocol_get_name(gnutls_protocol_get_version(tls)) : "",
	    sizeof(f->tls_version));
	peers = gnutls_certificate_get_peers(tls, &n);
	for (i = 0; peers != NULL && i < n && i < FETCH_MAX_PEERS; i++) {
		f->peers[i].der = malloc(peers[i].size);
		if (f->peers[i].der == NULL)
			break;
		memcpy(f->peers[i].der, peers[i].data, peers[i].size);
		f->peers[i].len = peers[i].size;
		f->npeers++;
	}
}

/*
 * Header lines, counted against our own bounds: a policy host has no
 * business sending kilobytes of headers, and curl's own limits (100 KB
 * a line, 300 KB in all) would report only "out of memory" or a
 * generic receive error.  Returning less than n aborts the transfer.
 */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_curl *f = arg;
	size_t n = size * nmemb;

	audit_capture(f);
	if (n > FETCH_MAX_HEADER_LINE) {
		f->header_problem = STSDANE_PROBLEM_HEADER_TOO_LONG;
		return 0;
	}
	if (n > FETCH_MAX_HEADERS - f->header_bytes) {
		f->header_problem = STSDANE_PROBLEM_HEADER_FLOOD;
		return 0;
	}
	f->header_bytes += n;
	/* the empty line ends one response's headers (a 1xx may follow) */
	if ((n == 2 && data[0] == '\r' && data[1] == '\n') ||
	    (n == 1 && data[0] == '\n'))
		f->in_headers = 0;
	else
		f->in_headers = 1;
	return n;
}

static void
reset(struct fetch_curl *f)
{
	if (f->easy != NULL) {
		curl_multi_remove_handle(f->multi, f->easy);
		curl_easy_cleanup(f->easy);
		f->easy = NULL;
	}
	curl_slist_free_all(f->resolve);
	curl_slist_free_all(f->headers);
	f->resolve = NULL;
	f->headers = NULL;
	free(f->body);
	f->body = NULL;
	f->len = 0;
	f->too_large = 0;
	f->in_headers = 1;
	f->header_bytes = 0;
	f->header_problem = STSDANE_PROBLEM_NONE;
	f->done = 0;
	f->errbuf[0] = '\0';
	audit_reset(f);
}

static void *
fc_new(char *err, size_t errlen)
{
	struct fetch_curl *f;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		(void)sd_snprintf(err, errlen, "curl_global_init: %s",
		    curl_easy_strerror(global_rc));
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		(void)sd_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->multi = curl_multi_init();
	if (f->multi == NULL) {
		(void)sd_snprintf(err, errlen, "curl_multi_init failed");
		free(f);
		return NULL;
	}
	return f;
}

static void
fc_free(void *impl)
{
	struct fetch_curl *f = impl;

	if (f == NULL)
		return;
	reset(f);
	curl_multi_cleanup(f->multi);
	free(f);
}

/* "host:port:addr1,addr2" with IPv6 addresses in brackets */
static int
resolve_entry(const struct fetch_request *req, char *buf, size_t len)
{
	size_t i, off;

	if (sd_snprintf(buf, len, "%s:%u:", req->host, req->port) < 0)
		return -1;
	for (i = 0; i < req->naddrs; i++) {
		const char *a = req->addrs[i];
		int v6 = strchr(a, ':') != NULL;

		off = strlen(buf);
		if (sd_snprintf(buf + off, len - off, "%s%s%s%s",
		    i > 0 ? "," : "", v6 ? "[" : "", a, v6 ? "]" : "") < 0)
			return -1;
	}
	return 0;
}

static int
fc_start(void *impl, const struct fetch_request *req, char *err,
    size_t errlen)
{
	struct fetch_curl *f = impl;
	char url[SD_MAX_NAME + 64];
	char entry[2048];
	CURL *e;

	reset(f);
	if (sd_strlcpy(f->host, req->host, sizeof(f->host)) < 0 ||
	    sd_snprintf(url, sizeof(url),
	    "https://%s:%u/.well-known/mta-sts.txt", req->host,
	    req->port) < 0 ||
	    resolve_entry(req, entry, sizeof(entry)) < 0) {
		(void)sd_snprintf(err, errlen, "request too long");
		return -1;
	}
	f->max = req->max_body;
	f->resolve = curl_slist_append(NULL, entry);
	f->headers = curl_slist_append(NULL, "Cache-Control: no-cache");
	e = curl_easy_init();
	if (f->resolve == NULL || f->headers == NULL || e == NULL) {
		if (e != NULL)
			curl_easy_cleanup(e);
		(void)sd_snprintf(err, errlen, "out of memory");
		return -1;
	}
	f->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* one fetch per policy: no connection kept for a forked child to
	   share with its parent */
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_RESOLVE, f->resolve);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
	if (req->audit) {
		/* the audit verifies the chain it is handed back */
		f->audit = 1;
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
	} else {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (req->ca_file != NULL) {
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
		/* only these CAs; and no reading of /etc/ssl/certs per fetch */
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)req->max_body);
	curl_easy_setopt(e, CURLOPT_USERAGENT,
	    "stsdane/" STSDANE_VERSION_STRING);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
		(void)sd_snprintf(err, errlen, "curl_multi_add_handle failed");
		return -1;
	}
	return 0;
}

static void
check_done(struct fetch_curl *f)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(f->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == f->easy) {
			f->done = 1;
			f->result = m->data.result;
		}
}

static int
fc_step(void *impl, int extra_fd, int timeout_ms)
{
	struct fetch_curl *f = impl;
	struct curl_waitfd wfd;
	int running;

	if (f->easy == NULL)
		return 1;
	curl_multi_perform(f->multi, &running);
	check_done(f);
	if (f->done)
		return 1;
	wfd.fd = extra_fd;
	wfd.events = CURL_WAIT_POLLIN;
	wfd.revents = 0;
	curl_multi_poll(f->multi, extra_fd >= 0 ? &wfd : NULL,
	    extra_fd >= 0 ? 1 : 0, timeout_ms, NULL);
	curl_multi_perform(f->multi, &running);
	check_done(f);
	return f->done;
}

/* "text/plain", any case, optionally followed by ";" parameters */
static int
is_text_plain(const char *ct)
{
	size_t n = strlen("text/plain");

	if (ct == NULL || strncasecmp(ct, "text/plain", n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static void
classify_error(struct fetch_curl *f, struct fetch_result *res)
{
	const char *detail = f->errbuf[0] ? f->errbuf :
	    curl_easy_strerror(f->result);

	/*
	 * A header line past curl's own 100 KB limit never reaches
	 * on_header(): curl stops with CURLE_OUT_OF_MEMORY while the
	 * headers are still coming.  That is the server sending too much,
	 * not this process running out of memory.
	 */
	if (f->header_problem == STSDANE_PROBLEM_NONE &&
	    f->result == CURLE_OUT_OF_MEMORY && f->in_headers)
		f->header_problem = STSDANE_PROBLEM_HEADER_TOO_LONG;
	if (f->header_problem == STSDANE_PROBLEM_HEADER_TOO_LONG) {
		res->problem = f->header_problem;
		(void)sd_snprintf(res->error, sizeof(res->error), "the policy "
		    "server sent an HTTP header line longer than %d bytes",
		    FETCH_MAX_HEADER_LINE);
		return;
	}
	if (f->header_problem == STSDANE_PROBLEM_HEADER_FLOOD) {
		res->problem = f->header_problem;
		(void)sd_snprintf(res->error, sizeof(res->error), "the policy "
		    "server sent more than %d bytes of HTTP headers (a header "
		    "flood)", FETCH_MAX_HEADERS);
		return;
	}

	switch (f->result) {
	case CURLE_OPERATION_TIMEDOUT:
		res->problem = STSDANE_PROBLEM_TIMEOUT;
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		res->problem = STSDANE_PROBLEM_CONNECT;
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		res->problem = STSDANE_PROBLEM_TLS;
		break;
	case CURLE_FILESIZE_EXCEEDED:
		res->problem = STSDANE_PROBLEM_TOO_LARGE;
		break;
	case CURLE_WRITE_ERROR:
		if (f->too_large) {
			res->problem = STSDANE_PROBLEM_TOO_LARGE;
			(void)sd_snprintf(res->error, sizeof(res->error),
			    "policy body larger than %zu bytes", f->max);
			return;
		}
		res->problem = STSDANE_PROBLEM_FETCH_OTHER;
		break;
	default:
		res->problem = STSDANE_PROBLEM_FETCH_OTHER;
		break;
	}
	if (res->problem == STSDANE_PROBLEM_TOO_LARGE)
		(void)sd_snprintf(res->error, sizeof(res->error),
		    "policy body larger than %zu bytes", f->max);
	else
		(void)sd_snprintf(res->error, sizeof(res->error), "%s",
		    detail);
}

/* Hand what an audit request saw to the result. */
static void
audit_take(struct fetch_curl *f, struct fetch_result *res)
{
	size_t i;

	(void)sd_strlcpy(res->tls_version, f->tls_version,
	    sizeof(res->tls_version));
	for (i = 0; i < f->npeers; i++)
		res->peers[i] = f->peers[i];
	res->npeers = f->npeers;
	f->npeers = 0;
}

static void
fc_finish(void *impl, struct fetch_result *res)
{
	struct fetch_curl *f = impl;
	char *ct = NULL;
	char *loc = NULL;
	long status = 0;

	memset(res, 0, sizeof(*res));
	if (!f->done) {
		res->problem = STSDANE_PROBLEM_TIMEOUT;
		(void)sd_snprintf(res->error, sizeof(res->error),
		    "fetch did not finish in time");
		reset(f);
		return;
	}
	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(f->easy, CURLINFO_CONTENT_TYPE, &ct);
	res->http_status = status;
	if (ct != NULL)
		(void)sd_strlcpy(res->content_type, ct,
		    sizeof(res->content_type));
	if (f->result != CURLE_OK) {
		classify_error(f, res);
	} else if (status >= 300 && status < 400) {
		curl_easy_getinfo(f->easy, CURLINFO_REDIRECT_URL, &loc);
		res->problem = STSDANE_PROBLEM_HTTP_REDIRECT;
		if (loc != NULL)
			(void)sd_strlcpy(res->redirect, loc,
			    sizeof(res->redirect));
		(void)sd_snprintf(res->error, sizeof(res->error),
		    "HTTP %ld redirect to '%s': redirects are not followed",
		    status, loc != NULL ? loc : "?");
	} else if (status != 200) {
		res->problem = STSDANE_PROBLEM_HTTP_STATUS;
		(void)sd_snprintf(res->error, sizeof(res->error),
		    "HTTP status %ld, not 200", status);
	} else if (!is_text_plain(ct)) {
		res->problem = STSDANE_PROBLEM_MEDIA_TYPE;
		(void)sd_snprintf(res->error, sizeof(res->error),
		    "media type '%s', not text/plain",
		    ct != NULL ? ct : "(none)");
	} else {
		res->problem = STSDANE_PROBLEM_NONE;
		res->body = f->body != NULL ? f->body : sd_strdup("");
		res->len = f->len;
		f->body = NULL;
		if (res->body == NULL) {
			res->problem = STSDANE_PROBLEM_INTERNAL;
			(void)sd_snprintf(res->error, sizeof(res->error),
			    "out of memory");
		}
	}
	audit_take(f, res);
	reset(f);
}

static void
fc_abort(void *impl)
{
	reset(impl);
}

static const struct fetch_ops fetch_curl_ops = {
	FETCH_ABI, fc_new, fc_free, fc_start, fc_step, fc_finish, fc_abort,
};

const struct fetch_ops *stsdane_fetch_ops(unsigned abi);

SD_EXPORT const struct fetch_ops *
stsdane_fetch_ops(unsigned abi)
{
	return abi == FETCH_ABI ? &fetch_curl_ops : NULL;
}

/*
 * One blocking HTTPS POST, for TLS-RPT reports (RFC 8460 5.4): https
 * only, the peer verified under ca_file, no redirects, no proxy, a
 * deadline; the names are resolved by the caller ("HOST:PORT:ADDR"
 * entries, as CURLOPT_RESOLVE takes them).  The HTTP status, or -1 with
 * err set.
 */
static size_t
on_discard(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

long stsdane_fetch_post(const struct fetch_post *p, char *err,
    size_t errlen);

SD_EXPORT long
stsdane_fetch_post(const struct fetch_post *p, char *err, size_t errlen)
{
	struct curl_slist *resolve = NULL, *headers = NULL, *t;
	char ebuf[CURL_ERROR_SIZE], ct[160];
	long status = -1;
	CURLcode rc;
	CURL *e;
	size_t i;

	(void)pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK || (e = curl_easy_init()) == NULL) {
		(void)sd_snprintf(err, errlen, "libcurl cannot be set up");
		return -1;
	}
	for (i = 0; i < p->nresolve; i++) {
		t = curl_slist_append(resolve, p->resolve[i]);
		if (t == NULL)
			goto out;
		resolve = t;
	}
	(void)sd_snprintf(ct, sizeof(ct), "Content-Type: %s",
	    p->content_type);
	t = curl_slist_append(headers, ct);
	if (t == NULL)
		goto out;
	headers = t;
	ebuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, p->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (p->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, p->ca_file);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)p->len);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "stsdane-tlsrpt/"
	    STSDANE_VERSION_STRING);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_discard);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf);
	rc = curl_easy_perform(e);
	if (rc != CURLE_OK) {
		(void)sd_snprintf(err, errlen, "%s", ebuf[0] ? ebuf :
		    curl_easy_strerror(rc));
		goto out;
	}
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
out:
	if (status < 0 && err != NULL && err[0] == '\0')
		(void)sd_snprintf(err, errlen, "out of memory");
	curl_slist_free_all(resolve);
	curl_slist_free_all(headers);
	curl_easy_cleanup(e);
	return status;
}
