/*
 * NAME
 *	remember.c - the one owner of what stsdane remembers
 * SYNOPSIS
 *	#include "remember.h"
 * DESCRIPTION
 *	Owns the key schema ("sts/", "txt/", "neg/", "dane/", "ans/"), the
 *	typed records the decision module reads and writes, and the order
 *	of the tiers: the memo of this process, then the answers file, then
 *	the store of the MTA's processes, then, when one is set up, the
 *	fleet's shared tier (cache_redis.c).  What the shared tier answers
 *	is copied into the local tiers (an answer from it has source
 *	STSDANE_SOURCE_SHARED); what the network teaches is written to it
 *	as well, except a kept cached policy, so that a host that failed
 *	to fetch never speaks for the fleet.  The decision module reaches it only through
 *	struct decide_env; the context creates it, and the cache
 *	administration functions walk it.
 *
 *	Laziness is part of the contract: the answers file is opened on the
 *	first answer lookup, the store only when the answers file did not
 *	answer, so that a process served from the memo or the answers file
 *	never starts Berkeley DB.
 *
 *	The markers (TXT id seen, negative answer, "no DANE") are stored in
 *	the same versioned encoding as decisions, so that the files written
 *	by earlier versions stay valid, but they reach callers only as the
 *	typed records of remember.h.
 * DIAGNOSTICS
 *	Reads that fail are misses; writes that fail are skipped: a cache
 *	that cannot be used costs lookups, never a wrong decision.  A store
 *	that cannot be opened is logged once through the log callback.
 * SEE ALSO
 *	remember.h, cache_record.c, cache_ans.c, cache_bdb.c
 */
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "memo.h"
#include "remember.h"

struct remember {
	const char *dir;		/* NULL: no files; not owned */
	unsigned max_entries;
	cache_log_fn *log;
	void *logarg;

	const struct cache_ops *ops;	/* the store; NULL until opened */
	void *impl;
	int own_store;			/* opened here: close it here */
	int store_tried;
	struct ans_file *ans;
	int ans_tried;

	const struct cache_ops *sh_ops;	/* the fleet's tier; NULL: none */
	void *sh_impl;
	void (*sh_close)(void *impl);

	struct memo *memo;		/* NULL: no memo */

	void (*gate)(void *arg, int enter);	/* around store writes */
	void *gate_arg;
};

static const char *const PREFIX[REM_NKINDS] = {
	"sts", "txt", "neg", "dane", "ans", "rpt"
};

const char *
rem_kind_name(enum rem_kind k)
{
	return k < REM_NKINDS ? PREFIX[k] : "?";
}

int
rem_key(enum rem_kind k, const char *domain, char *key, size_t len)
{
	if (k >= REM_NKINDS)
		return -1;
	return sd_snprintf(key, len, "%s/%s", PREFIX[k], domain);
}

int
rem_key_parse(const char *key, enum rem_kind *k, const char **domain)
{
	const char *slash = strchr(key, '/');
	size_t i, n;

	if (slash == NULL)
		return -1;
	n = (size_t)(slash - key);
	for (i = 0; i < REM_NKINDS; i++)
		if (strlen(PREFIX[i]) == n && memcmp(key, PREFIX[i], n) == 0) {
			*k = (enum rem_kind)i;
			*domain = slash + 1;
			return 0;
		}
	return -1;
}

/* ---- setting up ---------------------------------------------------------- */

/* One allocation: the struct, then its memo. */
static struct remember *
alloc_remember(unsigned memo_slots)
{
	size_t head = (sizeof(struct remember) + 15) & ~(size_t)15;
	struct remember *r = calloc(1, head + (memo_slots > 0 ?
	    memo_size(memo_slots) : 0));

	if (r == NULL)
		return NULL;
	if (memo_slots > 0)
		r->memo = memo_init((char *)r + head, memo_slots,
		    REM_SHORT_HOLD);
	return r;
}

struct remember *
remember_new(const char *dir, unsigned max_entries, cache_log_fn *log,
    void *logarg)
{
	struct remember *r = alloc_remember(REM_MEMO_SLOTS);

	if (r == NULL)
		return NULL;
	if (dir != NULL && dir[0] != '\0')
		r->dir = dir;
	r->max_entries = max_entries;
	r->log = log;
	r->logarg = logarg;
	return r;
}

struct remember *
remember_new_store(const struct cache_ops *ops, void *impl,
    unsigned memo_slots, const char *ans_dir)
{
	struct remember *r = alloc_remember(memo_slots);

	if (r == NULL)
		return NULL;
	r->ops = ops;
	r->impl = impl;
	r->store_tried = 1;
	r->dir = ans_dir;
	return r;
}

void
remember_free(struct remember *r)
{
	if (r == NULL)
		return;
	memo_release(r->memo);
	if (r->own_store && r->impl != NULL)
		cache_bdb_close(r->impl);
	if (r->sh_close != NULL)
		r->sh_close(r->sh_impl);
	ans_close(r->ans);
	free(r);
}

static void
log_msg(struct remember *r, int level, const char *msg)
{
	if (r->log != NULL)
		r->log(r->logarg, level, msg);
}

/* What the answers file and the database say, as "cache: ..." lines. */
static void
tier_log(void *arg, int level, const char *msg)
{
	char line[SD_ERRLEN + 16];

	(void)sd_snprintf(line, sizeof(line), "cache: %s", msg);
	log_msg(arg, level, line);
}

/* The answers file, without opening the database. */
static struct ans_file *
get_ans(struct remember *r)
{
	if (r->ans == NULL && !r->ans_tried && r->dir != NULL) {
		r->ans_tried = 1;
		r->ans = ans_open(r->dir, tier_log, r);
	}
	return r->ans;
}

/*
 * Which records a full store gives up first: expired or undecodable
 * ones, then any other whose domain the answers file does not name, then
 * those whose domain it does (decided or read lately: "least recently
 * used" without a write per read, which would put the lock and an fsync
 * on the delivery path), and last a still-valid MTA-STS policy in
 * enforce mode: evicting that reopens the window RFC 8461 section 5.1's
 * caching closes (a policy already seen protects against a stripped
 * TXT record).
 */
int
remember_evict_rank(void *arg, const char *key, const unsigned char *val,
    size_t len, int64_t now)
{
	struct remember *r = arg;
	struct record_peek p;
	enum rem_kind k;
	const char *domain;

	if (cache_record_peek(val, len, &p) != STSDANE_OK)
		return CACHE_RANK_DROP;
	if (p.expires <= now)
		return CACHE_RANK_DROP;
	if (rem_key_parse(key, &k, &domain) < 0)
		return CACHE_RANK_ORDINARY;
	if (k == REM_POLICY && p.mechanism == STSDANE_MECH_MTASTS &&
	    p.mode == STSDANE_MODE_ENFORCE)
		return CACHE_RANK_KEEP;
	return r != NULL && ans_holds(r->ans, domain) ? CACHE_RANK_RECENT :
	    CACHE_RANK_ORDINARY;
}

/* The store, opened on first need; a failure is logged once. */
static const struct cache_ops *
get_store(struct remember *r)
{
	char err[SD_ERRLEN], msg[SD_ERRLEN + 64];

	if (r == NULL)
		return NULL;
	if (r->store_tried)
		return r->ops;
	r->store_tried = 1;
	if (r->dir == NULL)
		return NULL;
	r->impl = cache_bdb_open(r->dir, r->max_entries, tier_log, r,
	    err, sizeof(err));
	if (r->impl == NULL) {
		(void)sd_snprintf(msg, sizeof(msg), "cache '%s' not used, "
		    "deciding uncached: %s", r->dir, err);
		log_msg(r, 0, msg);
		return NULL;
	}
	r->ops = &cache_bdb_ops;
	r->own_store = 1;
	cache_bdb_set_rank(r->impl, remember_evict_rank, r);
	cache_bdb_set_lazy_sync(r->impl, r->gate != NULL);
	if (r->ans == NULL) {		/* the directory exists now */
		r->ans_tried = 1;
		r->ans = ans_open(r->dir, tier_log, r);
	}
	return r->ops;
}

void
remember_add_shared(struct remember *r, const struct cache_ops *ops,
    void *impl, void (*close)(void *impl))
{
	if (r == NULL)
		return;
	r->sh_ops = ops;
	r->sh_impl = impl;
	r->sh_close = close;
}

int
remember_have_store(struct remember *r)
{
	return get_store(r) != NULL;
}

/* ---- the store, by kind ---------------------------------------------------- */

void
remember_set_background(struct remember *r, void (*gate)(void *arg,
    int enter), void *arg)
{
	if (r == NULL)
		return;
	r->gate = gate;
	r->gate_arg = arg;
	if (r->own_store)
		cache_bdb_set_lazy_sync(r->impl, gate != NULL);
}

/* A write to the store, through the gate when there is one. */
static void
store_write(struct remember *r, const struct cache_ops *ops, const char *key,
    const unsigned char *val, size_t len)
{
	if (r->gate != NULL)
		r->gate(r->gate_arg, 1);
	if (val != NULL)
		(void)ops->put(r->impl, key, val, len);
	else
		(void)ops->del(r->impl, key);
	if (r->gate != NULL)
		r->gate(r->gate_arg, 0);
}

/* A record of kind k for domain from one tier, valid now, or NULL. */
static struct stsdane_decision *
tier_load(const struct cache_ops *ops, void *impl, const char *key,
    const char *domain, int64_t now, unsigned char **raw, size_t *rawlen)
{
	unsigned char *val = NULL;
	size_t len = 0;
	struct stsdane_decision *d = NULL;
	int64_t when = 0;

	if (ops->get(impl, key, &val, &len) != STSDANE_OK)
		return NULL;
	if (cache_record_decode(val, len, &d, &when) != STSDANE_OK ||
	    d == NULL || d->expires <= now || d->domain == NULL ||
	    !sd_host_eq(d->domain, domain)) {
		(void)ops->del(impl, key);
		stsdane_decision_free(d);
		free(val);
		return NULL;
	}
	if (raw != NULL) {
		*raw = val;
		*rawlen = len;
	} else {
		free(val);
	}
	return d;
}

/*
 * The store, then the fleet's tier; what the latter answers is kept in
 * the store, as it was written (its learned time with it).
 */
static struct stsdane_decision *
store_load(struct remember *r, enum rem_kind k, const char *domain,
    int64_t now, int *shared)
{
	const struct cache_ops *ops = get_store(r);
	char key[SD_MAX_NAME + 8];
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	struct stsdane_decision *d = NULL;

	if (shared != NULL)
		*shared = 0;
	if (rem_key(k, domain, key, sizeof(key)) < 0)
		return NULL;
	if (ops != NULL)
		d = tier_load(ops, r->impl, key, domain, now, NULL, NULL);
	if (d != NULL || r->sh_ops == NULL)
		return d;
	d = tier_load(r->sh_ops, r->sh_impl, key, domain, now, &raw, &rawlen);
	if (d == NULL)
		return NULL;
	if (ops != NULL)
		(void)ops->put(r->impl, key, raw, rawlen);
	free(raw);
	d->source = STSDANE_SOURCE_SHARED;
	if (shared != NULL)
		*shared = 1;
	return d;
}

/* In the store and, with to_shared, in the fleet's tier. */
static void
save_to(struct remember *r, enum rem_kind k, const char *domain,
    const struct stsdane_decision *d, int64_t learned, int to_shared)
{
	const struct cache_ops *ops = get_store(r);
	const struct cache_ops *shared = to_shared ? r->sh_ops : NULL;
	char key[SD_MAX_NAME + 8];
	unsigned char *val = NULL;
	size_t len = 0;

	if ((ops == NULL && shared == NULL) ||
	    rem_key(k, domain, key, sizeof(key)) < 0)
		return;
	if (cache_record_encode(d, learned, &val, &len) != STSDANE_OK)
		return;
	if (ops != NULL)
		store_write(r, ops, key, val, len);
	if (shared != NULL)
		(void)shared->put(r->sh_impl, key, val, len);
	free(val);
}

/* What the network taught: for this host and the fleet. */
static void
store_save(struct remember *r, enum rem_kind k, const char *domain,
    const struct stsdane_decision *d, int64_t learned)
{
	save_to(r, k, domain, d, learned, 1);
}

static void
store_forget(struct remember *r, enum rem_kind k, const char *domain)
{
	const struct cache_ops *ops = get_store(r);
	char key[SD_MAX_NAME + 8];

	if (rem_key(k, domain, key, sizeof(key)) < 0)
		return;
	if (ops != NULL)
		store_write(r, ops, key, NULL, 0);
	if (r->sh_ops != NULL)
		(void)r->sh_ops->del(r->sh_impl, key);
}

/* A marker: mechanism none, valid until `expires'. */
static void
store_mark(struct remember *r, enum rem_kind k, const char *domain,
    const char *id, int64_t now, int64_t expires,
    enum stsdane_problem problem, const char *reason)
{
	struct stsdane_decision *m;

	if (get_store(r) == NULL && r->sh_ops == NULL)
		return;
	m = decision_new(domain);
	if (m == NULL)
		return;
	m->expires = expires;
	m->problem = problem;
	m->policy_id = id != NULL && id[0] != '\0' ? sd_strdup(id) : NULL;
	(void)decision_set_reason(m, "%s", reason);
	store_save(r, k, domain, m, now);
	stsdane_decision_free(m);
}

/* ---- the TLS-RPT record (RFC 8460) --------------------------------------- */

struct stsdane_decision *
remember_tlsrpt_get(struct remember *r, const char *domain, int64_t now)
{
	return r != NULL ? store_load(r, REM_TLSRPT, domain, now, NULL) : NULL;
}

void
remember_tlsrpt_put(struct remember *r, const char *domain,
    const char *const *recs, const size_t *lens, size_t n, int64_t now,
    int64_t expires)
{
	struct stsdane_decision *m;
	size_t i;

	if (get_store(r) == NULL || n > SD_MAX_POLICY_MX)
		return;
	for (i = 0; i < n; i++)
		if (memchr(recs[i], '\0', lens[i]) != NULL)
			return;
	m = decision_new(domain);
	if (m == NULL)
		return;
	m->expires = expires;
	m->mx = n > 0 ? calloc(n, sizeof(*m->mx)) : NULL;
	for (i = 0; i < n && m->mx != NULL; i++) {
		m->mx[i] = sd_strndup(recs[i], lens[i]);
		if (m->mx[i] == NULL)
			break;
		m->nmx = i + 1;
	}
	if (m->nmx == n)
		store_save(r, REM_TLSRPT, domain, m, now);
	stsdane_decision_free(m);
}

/* ---- the answer ------------------------------------------------------------ */

struct stsdane_decision *
remember_answer_get(struct remember *r, const char *domain, int64_t now)
{
	struct stsdane_decision *d;
	int shared = 0;

	if (r == NULL)
		return NULL;
	d = memo_get(r->memo, domain, now);
	if (d != NULL)
		return d;
	d = ans_get(get_ans(r), domain, now);
	if (d == NULL) {
		d = store_load(r, REM_ANSWER, domain, now, &shared);
		if (d != NULL)
			ans_put(get_ans(r), d, now);
	}
	if (d != NULL) {
		d->source = shared ? STSDANE_SOURCE_SHARED :
		    STSDANE_SOURCE_CACHE;
		memo_put(r->memo, d, now);
	}
	return d;
}

void
remember_answer_put(struct remember *r, const struct stsdane_decision *d,
    int64_t now, int shared)
{
	if (r == NULL)
		return;
	if (shared && d->tempfail)
		store_forget(r, REM_ANSWER, d->domain);
	else if (shared && d->source == STSDANE_SOURCE_NETWORK)
		store_save(r, REM_ANSWER, d->domain, d, now);
	else if (shared)	/* a kept cached policy: this host only */
		save_to(r, REM_ANSWER, d->domain, d, now, 0);
	memo_put(r->memo, d, now);
	if (r->gate != NULL)
		ans_update(get_ans(r), d, now);
	else
		ans_put(get_ans(r), d, now);
}

/* ---- typed records ---------------------------------------------------------- */

struct stsdane_decision *
remember_policy_get(struct remember *r, const char *domain, int64_t now)
{
	return r != NULL ? store_load(r, REM_POLICY, domain, now, NULL) : NULL;
}

void
remember_policy_put(struct remember *r, const struct stsdane_decision *d,
    int64_t now)
{
	if (r != NULL)
		store_save(r, REM_POLICY, d->domain, d, now);
}

int
remember_txt_get(struct remember *r, const char *domain, int64_t now,
    struct rem_txt *t)
{
	struct stsdane_decision *m;
	int found = 0;

	if (r == NULL)
		return 0;
	m = store_load(r, REM_TXT_SEEN, domain, now, NULL);
	if (m != NULL && m->policy_id != NULL &&
	    sd_strlcpy(t->id, m->policy_id, sizeof(t->id)) == 0) {
		t->expires = m->expires;
		found = 1;
	}
	stsdane_decision_free(m);
	return found;
}

void
remember_txt_put(struct remember *r, const char *domain, const char *id,
    int64_t now, int64_t expires)
{
	if (r != NULL)
		store_mark(r, REM_TXT_SEEN, domain, id, now, expires,
		    STSDANE_PROBLEM_NONE, "TXT id last seen");
}

int
remember_neg_get(struct remember *r, const char *domain, int64_t now,
    struct rem_neg *n)
{
	struct stsdane_decision *m;

	if (r == NULL)
		return 0;
	m = store_load(r, REM_NEGATIVE, domain, now, NULL);
	if (m == NULL)
		return 0;
	memset(n, 0, sizeof(*n));
	n->problem = m->problem;
	n->expires = m->expires;
	if (m->reason != NULL)
		(void)sd_strlcpy(n->reason, m->reason, sizeof(n->reason));
	if (m->policy_id != NULL)
		(void)sd_strlcpy(n->id, m->policy_id, sizeof(n->id));
	stsdane_decision_free(m);
	return 1;
}

void
remember_neg_put(struct remember *r, const char *domain,
    const struct rem_neg *n, int64_t now)
{
	if (r != NULL)
		store_mark(r, REM_NEGATIVE, domain, n->id, now, n->expires,
		    n->problem, n->reason);
}

void
remember_neg_forget(struct remember *r, const char *domain)
{
	if (r != NULL)
		store_forget(r, REM_NEGATIVE, domain);
}

int
remember_dane_get(struct remember *r, const char *domain, int64_t now,
    struct stsdane_decision **d, int64_t *until)
{
	struct stsdane_decision *m;

	*d = NULL;
	*until = 0;
	if (r == NULL)
		return 0;
	m = store_load(r, REM_DANE, domain, now, NULL);
	if (m == NULL)
		return 0;
	*until = m->expires;
	if (m->mechanism == STSDANE_MECH_DANE)
		*d = m;
	else
		stsdane_decision_free(m);
	return 1;
}

void
remember_dane_put(struct remember *r, const struct stsdane_decision *d,
    int64_t now)
{
	if (r != NULL)
		store_save(r, REM_DANE, d->domain, d, now);
}

void
remember_dane_none_put(struct remember *r, const char *domain, int64_t now,
    int64_t until)
{
	if (r != NULL)
		store_mark(r, REM_DANE, domain, NULL, now, until,
		    STSDANE_PROBLEM_NONE, "no DANE");
}

/* ---- administration ---------------------------------------------------------- */

struct list_state {
	int (*fn)(void *arg, const char *kind,
	    const struct stsdane_decision *d, int64_t learned);
	void *arg;
};

static int
list_one(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct list_state *st = arg;
	struct stsdane_decision *d = NULL;
	enum rem_kind k;
	const char *domain;
	int64_t learned = 0;
	int stop = 0;

	if (rem_key_parse(key, &k, &domain) < 0 ||
	    cache_record_decode(val, len, &d, &learned) != STSDANE_OK)
		return 0;
	/* markers are not decisions */
	if (k == REM_POLICY || k == REM_ANSWER ||
	    (k == REM_DANE && d->mechanism == STSDANE_MECH_DANE)) {
		d->source = STSDANE_SOURCE_CACHE;
		stop = st->fn(st->arg, PREFIX[k], d, learned);
	}
	stsdane_decision_free(d);
	return stop;
}

int
remember_list(struct remember *r, int (*fn)(void *arg, const char *kind,
    const struct stsdane_decision *d, int64_t learned), void *arg)
{
	struct list_state st = { fn, arg };
	const struct cache_ops *ops = get_store(r);

	if (ops == NULL)
		return STSDANE_ERR_CACHE;
	return ops->foreach(r->impl, list_one, &st);
}

/* Keys collected while walking, acted on afterwards. */
struct keys {
	char **v;
	size_t n, cap;
	const char *domain;	/* only this domain, or all when NULL */
	int64_t before;		/* expiring: before this */
};

static int
keys_add(struct keys *k, const char *s)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->v[i], s) == 0)
			return 0;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;
		char **v = realloc(k->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n] = sd_strdup(s);
	if (k->v[k->n] == NULL)
		return -1;
	k->n++;
	return 0;
}

static void
keys_release(struct keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
}

static int
collect_flush(void *arg, const char *key, const unsigned char *val,
    size_t len)
{
	struct keys *k = arg;
	enum rem_kind kind;
	const char *domain;

	if (k->domain != NULL && (rem_key_parse(key, &kind, &domain) < 0 ||
	    strcmp(domain, k->domain) != 0))
		return 0;
	return keys_add(k, key) < 0;
}

int
remember_flush(struct remember *r, const char *domain)
{
	const struct cache_ops *ops = get_store(r);
	struct keys k;
	size_t i;
	int rc;

	if (ops == NULL)
		return STSDANE_ERR_CACHE;
	memset(&k, 0, sizeof(k));
	k.domain = domain;
	memo_clear(r->memo, domain);
	if (domain != NULL)
		ans_del(get_ans(r), domain);
	else
		ans_clear(get_ans(r));
	rc = ops->foreach(r->impl, collect_flush, &k);
	for (i = 0; i < k.n && rc == STSDANE_OK; i++) {
		int e = ops->del(r->impl, k.v[i]);

		if (e != STSDANE_OK && e != STSDANE_ERR_NOTFOUND)
			rc = e;
	}
	keys_release(&k);
	return rc;
}

static int
collect_expiring(void *arg, const char *key, const unsigned char *val,
    size_t len)
{
	struct keys *k = arg;
	struct stsdane_decision *d = NULL;
	enum rem_kind kind;
	const char *domain;
	int64_t learned;
	int rc = 0;

	if (rem_key_parse(key, &kind, &domain) < 0 ||
	    (kind != REM_POLICY && kind != REM_DANE))
		return 0;
	if (cache_record_decode(val, len, &d, &learned) != STSDANE_OK)
		return 0;
	/* "no DANE" markers are refreshed with their domain's policy; a
	   DANE result or a policy close to expiry is refreshed */
	if (d->expires < k->before &&
	    (kind == REM_POLICY || d->mechanism == STSDANE_MECH_DANE))
		rc = keys_add(k, domain) < 0;
	stsdane_decision_free(d);
	return rc;
}

int
remember_expiring(struct remember *r, int64_t before,
    int (*fn)(void *arg, const char *domain), void *arg)
{
	const struct cache_ops *ops = get_store(r);
	struct keys k;
	size_t i;
	int rc;

	if (ops == NULL)
		return STSDANE_ERR_CACHE;
	memset(&k, 0, sizeof(k));
	k.before = before;
	rc = ops->foreach(r->impl, collect_expiring, &k);
	for (i = 0; i < k.n && rc == STSDANE_OK; i++)
		if (fn(arg, k.v[i]) != 0)
			break;
	keys_release(&k);
	return rc;
}
