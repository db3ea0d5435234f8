/*
 * NAME
 *	cache_redis.c - the fleet's shared cache tier, on Redis
 * SYNOPSIS
 *	#include "cache.h"
 *
 *	void *cache_redis_new(const struct settings *s, cache_log_fn *log,
 *	    void *logarg, char *err, size_t errlen)
 *	void cache_redis_close(void *impl)
 *	extern const struct cache_ops cache_redis_ops;
 *
 *	int redis_record_seal(const char *key, const unsigned char *rec,
 *	    size_t len, int64_t fetched, int64_t expires,
 *	    const unsigned char *secret, size_t slen,
 *	    unsigned char **out, size_t *outlen)
 *	int redis_record_open(const char *key, const unsigned char *val,
 *	    size_t len, const unsigned char *secret, size_t slen,
 *	    const unsigned char **rec, size_t *reclen, int64_t *fetched)
 * DESCRIPTION
 *	Several MTAs of one site share what they learn through one Redis
 *	(or Valkey, or a proxy in front of replicas).  remember.c asks this
 *	tier after the local ones and before the network, and writes to it
 *	what the network taught; nothing else knows it exists.
 *
 *	Values are the local cache's records (cache_record_encode(), which
 *	carries its own version and CRC) inside an envelope of 28 bytes,
 *	big-endian:
 *	    0   4  magic "SDRS"
 *	    4   1  envelope version (1)
 *	    5   1  flags: 1 = an HMAC follows the envelope
 *	    6   2  reserved, 0
 *	    8   8  fetched-at: when the record was learned
 *	    16  8  expires, as in the record
 *	    24  4  length of the record
 *	then, with flag 1, HMAC-SHA256 (32 bytes) under shared_cache_key of
 *	the Redis key's name, the envelope and the record (so a record
 *	cannot be replayed under another domain's key), then the record.
 *	With a key set, a value without a valid HMAC is not believed.
 *
 *	Every key is written with SET ... PX: its TTL is the record's own
 *	expiry, so no key of ours lives without a TTL.  A write goes
 *	through a short Lua script (EVAL) that keeps the value already there
 *	when that one was fetched later (RFC 8461 5.1 across the fleet:
 *	a newer fetch replaces the fleet's copy, never the reverse).
 *
 *	Every round trip is bounded by shared_cache_timeout (connect and
 *	command time-outs, TCP or unix socket).  The connection is made on
 *	first use (hiredis itself is loaded then, with dlopen(), so that a
 *	process that never gets past the local tiers does not map it),
 *	made again after fork() and after any error.  After a
 *	failure the tier is left alone for RETRY_MS, so that one decision
 *	pays the time-out at most once.
 * DIAGNOSTICS
 *	get returns STSDANE_ERR_NOTFOUND for a value that is absent, of the
 *	wrong type, damaged, of another version, or with a bad HMAC (a
 *	value that cannot be believed is deleted), STSDANE_ERR_CACHE when
 *	Redis cannot be reached in time.  Failures are logged at most once
 *	a minute per process, naming the server, never its password.
 * SEE ALSO
 *	remember.c, cache_record.c, docs/cache.md ("A fleet")
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <hiredis/hiredis.h>

#include "cache.h"
#include "config.h"
#include "util.h"

#define ENV_LEN 28
#define MAC_LEN 32
#define ENV_VERSION 1
#define FLAG_MAC 1
#define RETRY_MS 2000		/* after a failure, leave Redis alone */
#define LOG_EVERY_MS 60000	/* at most one failure line a minute */
#define DEFAULT_PREFIX "stsdane:"
#define KEY_MAX 320
#define HIREDIS_LIB "libhiredis.so.0.14"

/*
 * hiredis, loaded on first connection: an MTA process that never gets
 * past its local tiers (nearly all of them) does not map it.
 */
struct hiredis {
	void *h;
	redisContext *(*connect)(const char *ip, int port,
	    const struct timeval tv);
	redisContext *(*connect_unix)(const char *path,
	    const struct timeval tv);
	int (*set_timeout)(redisContext *c, const struct timeval tv);
	void *(*command)(redisContext *c, const char *format, ...);
	void (*free_reply)(void *reply);
	void (*free_ctx)(redisContext *c);
};

struct redis_tier {
	struct shared_url url;
	char where[300];		/* for messages: no password */
	char prefix[72];
	unsigned char *secret;		/* NULL: no HMAC */
	size_t slen;
	struct timeval tv;
	unsigned timeout_ms;
	cache_log_fn *log;
	void *logarg;

	struct hiredis hi;
	redisContext *c;
	pid_t pid;			/* the process c belongs to */
	int64_t down_until;		/* monotonic ms */
	int64_t last_log;		/* monotonic ms; 0: never */
	unsigned failures;		/* since the last line logged */
};

/* ---- the envelope (pure) ---------------------------------------------------- */

static void
put_be64(unsigned char *p, int64_t v)
{
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
}

static int64_t
get_be64(const unsigned char *p)
{
	uint64_t u = 0;
	int i;

	for (i = 0; i < 8; i++)
		u = (u << 8) | p[i];
	return (int64_t)u;
}

/* HMAC-SHA256 of key, env and rec into mac.  0 or -1. */
static int
seal_mac(const char *key, const unsigned char *env, const unsigned char *rec,
    size_t len, const unsigned char *secret, size_t slen, unsigned char *mac)
{
	size_t klen = strlen(key);
	unsigned char *buf = malloc(klen + ENV_LEN + len);
	int rc;

	if (buf == NULL)
		return -1;
	memcpy(buf, key, klen);
	memcpy(buf + klen, env, ENV_LEN);
	memcpy(buf + klen + ENV_LEN, rec, len);
	rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, slen, buf,
	    klen + ENV_LEN + len, mac);
	free(buf);
	return rc < 0 ? -1 : 0;
}

int
redis_record_seal(const char *key, const unsigned char *rec, size_t len,
    int64_t fetched, int64_t expires, const unsigned char *secret,
    size_t slen, unsigned char **out, size_t *outlen)
{
	size_t mlen = secret != NULL ? MAC_LEN : 0;
	unsigned char *v;

	*out = NULL;
	*outlen = 0;
	if (len > UINT32_MAX - ENV_LEN - MAC_LEN)
		return STSDANE_ERR_INVAL;
	v = calloc(1, ENV_LEN + mlen + len);
	if (v == NULL)
		return STSDANE_ERR_NOMEM;
	memcpy(v, "SDRS", 4);
	v[4] = ENV_VERSION;
	v[5] = secret != NULL ? FLAG_MAC : 0;
	put_be64(v + 8, fetched);
	put_be64(v + 16, expires);
	v[24] = (unsigned char)(len >> 24);
	v[25] = (unsigned char)(len >> 16);
	v[26] = (unsigned char)(len >> 8);
	v[27] = (unsigned char)len;
	memcpy(v + ENV_LEN + mlen, rec, len);
	if (secret != NULL && seal_mac(key, v, rec, len, secret, slen,
	    v + ENV_LEN) < 0) {
		free(v);
		return STSDANE_ERR_NOMEM;
	}
	*out = v;
	*outlen = ENV_LEN + mlen + len;
	return STSDANE_OK;
}

int
redis_record_open(const char *key, const unsigned char *val, size_t len,
    const unsigned char *secret, size_t slen, const unsigned char **rec,
    size_t *reclen, int64_t *fetched)
{
	unsigned char mac[MAC_LEN], diff = 0;
	size_t mlen, rlen, i;

	*rec = NULL;
	*reclen = 0;
	if (len < ENV_LEN || memcmp(val, "SDRS", 4) != 0 ||
	    val[4] != ENV_VERSION || (val[5] & ~FLAG_MAC) != 0 ||
	    val[6] != 0 || val[7] != 0)
		return STSDANE_ERR_NOTFOUND;
	mlen = (val[5] & FLAG_MAC) ? MAC_LEN : 0;
	rlen = ((size_t)val[24] << 24) | ((size_t)val[25] << 16) |
	    ((size_t)val[26] << 8) | val[27];
	if (len != ENV_LEN + mlen + rlen)
		return STSDANE_ERR_NOTFOUND;
	if (secret != NULL) {
		if (mlen == 0 || seal_mac(key, val, val + ENV_LEN + mlen, rlen,
		    secret, slen, mac) < 0)
			return STSDANE_ERR_NOTFOUND;
		for (i = 0; i < MAC_LEN; i++)	/* in constant time */
			diff |= (unsigned char)(mac[i] ^ val[ENV_LEN + i]);
		if (diff != 0)
			return STSDANE_ERR_NOTFOUND;
	}
	*fetched = get_be64(val + 8);
	*rec = val + ENV_LEN + mlen;
	*reclen = rlen;
	return STSDANE_OK;
}

/* ---- the connection ------------------------------------------------------- */

/* One line a minute at most, whatever went wrong. */
static void
tier_report(struct redis_tier *t, const char *what)
{
	int64_t now = sd_mono_ms();
	char msg[SD_ERRLEN];

	t->failures++;
	if (t->last_log != 0 && now - t->last_log < LOG_EVERY_MS)
		return;
	(void)sd_snprintf(msg, sizeof(msg), "shared cache '%s': %s (%u "
	    "failure%s since the last report)", t->where, what, t->failures,
	    t->failures == 1 ? "" : "s");
	t->last_log = now;
	t->failures = 0;
	if (t->log != NULL)
		t->log(t->logarg, 1, msg);
}

/* Redis cannot be used: drop the connection, leave it alone a while. */
static void
tier_fail(struct redis_tier *t, const char *what)
{
	t->down_until = sd_mono_ms() + RETRY_MS;
	if (t->c != NULL) {
		t->hi.free_ctx(t->c);
		t->c = NULL;
	}
	tier_report(t, what);
}

/* A reply that is an error, or none: the tier failed. */
static int
reply_failed(struct redis_tier *t, redisReply *rep, const char *cmd)
{
	char what[SD_ERRLEN];

	if (rep == NULL && t->c != NULL && t->c->err == REDIS_ERR_IO &&
	    (errno == EAGAIN || errno == EWOULDBLOCK)) {
		/* SO_RCVTIMEO ran out */
		(void)sd_snprintf(what, sizeof(what), "not used for now, "
		    "deciding without it: %s: no answer within %u ms", cmd,
		    t->timeout_ms);
		tier_fail(t, what);
		return 1;
	}
	if (rep == NULL) {
		(void)sd_snprintf(what, sizeof(what), "not used for now, "
		    "deciding without it: %s: %s", cmd,
		    t->c != NULL && t->c->errstr[0] != '\0' ?
		    t->c->errstr : "no reply");
		tier_fail(t, what);
		return 1;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		(void)sd_snprintf(what, sizeof(what), "not used for now, "
		    "deciding without it: %s: %.*s", cmd,
		    (int)(rep->len < 200 ? rep->len : 200), rep->str);
		t->hi.free_reply(rep);
		tier_fail(t, what);
		return 1;
	}
	return 0;
}

static int
load_hiredis(struct redis_tier *t)
{
	struct hiredis *hi = &t->hi;
	char what[SD_ERRLEN];
	const char *e;

	hi->h = dlopen(HIREDIS_LIB, RTLD_NOW | RTLD_LOCAL);
	if (hi->h == NULL) {
		e = dlerror();
		(void)sd_snprintf(what, sizeof(what), "not used: cannot load "
		    "'%s': %s", HIREDIS_LIB, e != NULL ? e : "?");
		tier_fail(t, what);
		return -1;
	}
	*(void **)&hi->connect = dlsym(hi->h, "redisConnectWithTimeout");
	*(void **)&hi->connect_unix = dlsym(hi->h,
	    "redisConnectUnixWithTimeout");
	*(void **)&hi->set_timeout = dlsym(hi->h, "redisSetTimeout");
	*(void **)&hi->command = dlsym(hi->h, "redisCommand");
	*(void **)&hi->free_reply = dlsym(hi->h, "freeReplyObject");
	*(void **)&hi->free_ctx = dlsym(hi->h, "redisFree");
	if (hi->connect == NULL || hi->connect_unix == NULL ||
	    hi->set_timeout == NULL || hi->command == NULL ||
	    hi->free_reply == NULL || hi->free_ctx == NULL) {
		(void)dlclose(hi->h);
		memset(hi, 0, sizeof(*hi));
		(void)sd_snprintf(what, sizeof(what), "not used: '%s' lacks "
		    "a function stsdane needs", HIREDIS_LIB);
		tier_fail(t, what);
		return -1;
	}
	return 0;
}

/* The connection, made now if need be; NULL when Redis is not usable. */
static redisContext *
tier_conn(struct redis_tier *t)
{
	redisReply *rep;
	char db[16], what[SD_ERRLEN];

	if (t->c != NULL && t->pid != getpid()) {
		/* inherited over fork(): the parent's, not ours */
		t->hi.free_ctx(t->c);
		t->c = NULL;
	}
	if (t->c != NULL)
		return t->c;
	if (sd_mono_ms() < t->down_until)
		return NULL;
	if (t->hi.h == NULL && load_hiredis(t) < 0)
		return NULL;
	if (t->url.is_unix)
		t->c = t->hi.connect_unix(t->url.path, t->tv);
	else
		t->c = t->hi.connect(t->url.host, (int)t->url.port,
		    t->tv);
	if (t->c == NULL || t->c->err) {
		(void)sd_snprintf(what, sizeof(what), "not used for now, "
		    "deciding without it: cannot connect: %s",
		    t->c != NULL ? t->c->errstr : "out of memory");
		tier_fail(t, what);
		return NULL;
	}
	t->pid = getpid();
	if (t->hi.set_timeout(t->c, t->tv) != REDIS_OK) {
		tier_fail(t, "cannot set the time-out");
		return NULL;
	}
	if (t->url.password[0] != '\0') {
		if (t->url.user[0] != '\0')
			rep = t->hi.command(t->c, "AUTH %s %s", t->url.user,
			    t->url.password);
		else
			rep = t->hi.command(t->c, "AUTH %s", t->url.password);
		if (reply_failed(t, rep, "AUTH"))
			return NULL;
		t->hi.free_reply(rep);
	}
	if (t->url.db != 0) {
		(void)sd_snprintf(db, sizeof(db), "%u", t->url.db);
		rep = t->hi.command(t->c, "SELECT %s", db);
		if (reply_failed(t, rep, "SELECT"))
			return NULL;
		t->hi.free_reply(rep);
	}
	return t->c;
}

static int
full_key(struct redis_tier *t, const char *key, char *buf, size_t len)
{
	return sd_snprintf(buf, len, "%s%s", t->prefix, key);
}

/* ---- struct cache_ops ------------------------------------------------------- */

static int
redis_del(void *impl, const char *key)
{
	struct redis_tier *t = impl;
	redisContext *c = tier_conn(t);
	redisReply *rep;
	char k[KEY_MAX];

	if (c == NULL || full_key(t, key, k, sizeof(k)) < 0)
		return STSDANE_ERR_CACHE;
	rep = t->hi.command(c, "DEL %s", k);
	if (reply_failed(t, rep, "DEL"))
		return STSDANE_ERR_CACHE;
	t->hi.free_reply(rep);
	return STSDANE_OK;
}

static int
redis_get(void *impl, const char *key, unsigned char **val, size_t *len)
{
	struct redis_tier *t = impl;
	redisContext *c = tier_conn(t);
	redisReply *rep;
	const unsigned char *rec;
	size_t reclen;
	int64_t fetched;
	char k[KEY_MAX], msg[SD_ERRLEN];

	*val = NULL;
	*len = 0;
	if (c == NULL || full_key(t, key, k, sizeof(k)) < 0)
		return STSDANE_ERR_CACHE;
	rep = t->hi.command(c, "GET %s", k);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "WRONGTYPE", 9) == 0) {
		/* not ours: not believed, and out of the way */
		t->hi.free_reply(rep);
		(void)sd_snprintf(msg, sizeof(msg), "'%s' is not a string: "
		    "not believed, deleted", k);
		tier_report(t, msg);
		(void)redis_del(t, key);
		return STSDANE_ERR_NOTFOUND;
	}
	if (reply_failed(t, rep, "GET"))
		return STSDANE_ERR_CACHE;
	if (rep->type != REDIS_REPLY_STRING) {
		t->hi.free_reply(rep);
		return STSDANE_ERR_NOTFOUND;
	}
	if (redis_record_open(k, (const unsigned char *)rep->str,
	    (size_t)rep->len, t->secret, t->slen, &rec, &reclen,
	    &fetched) != STSDANE_OK) {
		t->hi.free_reply(rep);
		(void)sd_snprintf(msg, sizeof(msg), "'%s' %s: not believed, "
		    "deleted", k, t->secret != NULL ? "has no valid HMAC or "
		    "is damaged" : "is damaged");
		tier_report(t, msg);
		(void)redis_del(t, key);
		return STSDANE_ERR_NOTFOUND;
	}
	*val = malloc(reclen > 0 ? reclen : 1);
	if (*val == NULL) {
		t->hi.free_reply(rep);
		return STSDANE_ERR_CACHE;
	}
	memcpy(*val, rec, reclen);
	*len = reclen;
	t->hi.free_reply(rep);
	return STSDANE_OK;
}

/*
 * KEYS[1] the key; ARGV[1] the value, ARGV[2] its fetched-at, ARGV[3]
 * the TTL in ms.  A value of ours fetched later stays.
 */
static const char PUT_SCRIPT[] =
    "local cur = redis.pcall('GET', KEYS[1]) "
    "if type(cur) == 'string' and #cur >= 16 and "
    "string.sub(cur, 1, 5) == 'SDRS\\1' then "
    "local t = 0 "
    "for i = 9, 16 do t = t * 256 + string.byte(cur, i) end "
    "if t > tonumber(ARGV[2]) then return 0 end "
    "end "
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) "
    "return 1";

static int
redis_put(void *impl, const char *key, const unsigned char *val, size_t len)
{
	struct redis_tier *t = impl;
	struct stsdane_decision *d = NULL;
	redisContext *c;
	redisReply *rep;
	unsigned char *v = NULL;
	size_t vlen = 0;
	int64_t learned = 0, now = (int64_t)time(NULL), ttl_ms;
	char k[KEY_MAX], fetched[24], ttl[24];
	int rc;

	/* the expiry and fetched-at come from the record itself */
	if (cache_record_decode(val, len, &d, &learned) != STSDANE_OK ||
	    d == NULL)
		return STSDANE_ERR_INVAL;
	ttl_ms = (d->expires - now) * 1000;
	if (ttl_ms <= 0 || full_key(t, key, k, sizeof(k)) < 0) {
		/* nothing to share: already expired, or no room for the key */
		stsdane_decision_free(d);
		return ttl_ms <= 0 ? STSDANE_OK : STSDANE_ERR_CACHE;
	}
	rc = redis_record_seal(k, val, len, learned, d->expires, t->secret,
	    t->slen, &v, &vlen);
	stsdane_decision_free(d);
	if (rc != STSDANE_OK)
		return rc;
	(void)sd_snprintf(fetched, sizeof(fetched), "%lld", (long long)learned);
	(void)sd_snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);
	c = tier_conn(t);
	if (c == NULL) {
		free(v);
		return STSDANE_ERR_CACHE;
	}
	rep = t->hi.command(c, "EVAL %s 1 %s %b %s %s", PUT_SCRIPT, k,
	    v, vlen, fetched, ttl);
	free(v);
	if (reply_failed(t, rep, "SET"))
		return STSDANE_ERR_CACHE;
	t->hi.free_reply(rep);
	return STSDANE_OK;
}

/* The fleet's keys are not walked: listing and refresh are per host. */
static int
redis_foreach(void *impl, int (*fn)(void *arg, const char *key,
    const unsigned char *val, size_t len), void *arg)
{
	(void)impl;
	(void)fn;
	(void)arg;
	return STSDANE_OK;
}

const struct cache_ops cache_redis_ops = {
	redis_get, redis_put, redis_del, redis_foreach
};

/* ---- setting up -------------------------------------------------------------- */

void *
cache_redis_new(const struct settings *s, cache_log_fn *log, void *logarg,
    char *err, size_t errlen)
{
	struct redis_tier *t;
	const char *prefix = s->shared_cache_prefix != NULL ?
	    s->shared_cache_prefix : DEFAULT_PREFIX;

	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		(void)sd_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (shared_url_parse(s->shared_cache, &t->url, err, errlen) < 0 ||
	    sd_strlcpy(t->prefix, prefix, sizeof(t->prefix)) < 0) {
		free(t);
		return NULL;
	}
	if (t->url.is_unix)
		(void)sd_snprintf(t->where, sizeof(t->where), "unix:%s",
		    t->url.path);
	else if (strchr(t->url.host, ':') != NULL)
		(void)sd_snprintf(t->where, sizeof(t->where), "redis://[%s]:%u",
		    t->url.host, t->url.port);
	else
		(void)sd_snprintf(t->where, sizeof(t->where), "redis://%s:%u",
		    t->url.host, t->url.port);
	if (s->shared_cache_key != NULL) {
		t->slen = strlen(s->shared_cache_key);
		t->secret = malloc(t->slen);
		if (t->secret == NULL) {
			free(t);
			(void)sd_snprintf(err, errlen, "out of memory");
			return NULL;
		}
		memcpy(t->secret, s->shared_cache_key, t->slen);
	}
	t->timeout_ms = s->shared_cache_timeout_ms;
	t->tv.tv_sec = (time_t)(s->shared_cache_timeout_ms / 1000);
	t->tv.tv_usec = (suseconds_t)(s->shared_cache_timeout_ms % 1000) * 1000;
	t->log = log;
	t->logarg = logarg;
	return t;
}

void
cache_redis_close(void *impl)
{
	struct redis_tier *t = impl;

	if (t == NULL)
		return;
	if (t->c != NULL)
		t->hi.free_ctx(t->c);	/* after fork(): our copy of the fd */
	if (t->hi.h != NULL)
		(void)dlclose(t->hi.h);	/* hiredis keeps no global state */
	if (t->secret != NULL) {
		gnutls_memset(t->secret, 0, t->slen);
		free(t->secret);
	}
	free(t);
}
