/*
 * test_evict.c - the order in which a full store gives records up
 * (cache_bdb.c's eviction with remember.c's rank): expired first, then
 * the least recently written, a still-valid enforce policy last; and
 * never more entries than the bound
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "decision.h"
#include "remember.h"

#define BOUND 8

static char dir[] = "/tmp/stsdane-evict-XXXXXX";
static void *store;

static void
setup(void)
{
	char err[256] = "";

	cr_assert_not_null(mkdtemp(dir));
	store = cache_bdb_open(dir, BOUND, NULL, NULL, err, sizeof(err));
	cr_assert_not_null(store, "open: %s", err);
	cache_bdb_set_rank(store, remember_evict_rank, NULL);
}

static void
teardown(void)
{
	char path[256];

	cache_bdb_close(store);
	(void)snprintf(path, sizeof(path), "%s/stsdane.db", dir);
	unlink(path);
	(void)snprintf(path, sizeof(path), "%s/stsdane.lock", dir);
	unlink(path);
	rmdir(dir);
	(void)snprintf(dir, sizeof(dir), "/tmp/stsdane-evict-XXXXXX");
}

TestSuite(evict, .init = setup, .fini = teardown);

/* kind/domain, an MTA-STS decision in mode, expiring at expires */
static void
put(enum rem_kind k, const char *domain, enum stsdane_mode mode,
    int64_t expires)
{
	struct stsdane_decision *d = decision_new(domain);
	unsigned char *rec = NULL;
	size_t len = 0;
	char key[128];

	cr_assert_not_null(d);
	d->mechanism = STSDANE_MECH_MTASTS;
	d->mode = mode;
	d->require_tls = mode == STSDANE_MODE_ENFORCE;
	d->expires = expires;
	cr_assert_eq(decision_add_mx(d, "mx.a.test"), 0);
	cr_assert_eq(cache_record_encode(d, (int64_t)time(NULL), &rec, &len),
	    STSDANE_OK);
	cr_assert_eq(rem_key(k, domain, key, sizeof(key)), 0);
	cr_assert_eq(cache_bdb_ops.put(store, key, rec, len), STSDANE_OK);
	free(rec);
	stsdane_decision_free(d);
}

static int
has(enum rem_kind k, const char *domain)
{
	unsigned char *v = NULL;
	size_t len = 0;
	char key[128];
	int rc;

	cr_assert_eq(rem_key(k, domain, key, sizeof(key)), 0);
	rc = cache_bdb_ops.get(store, key, &v, &len);
	free(v);
	cr_assert(rc == STSDANE_OK || rc == STSDANE_ERR_NOTFOUND);
	return rc == STSDANE_OK;
}

static int
count_cb(void *arg, const char *key, const unsigned char *val, size_t len)
{
	(void)key;
	(void)val;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

static int
count(void)
{
	int n = 0;

	cr_assert_eq(cache_bdb_ops.foreach(store, count_cb, &n), STSDANE_OK);
	return n;
}

static void
name(char *buf, size_t len, const char *tag, int i)
{
	(void)snprintf(buf, len, "%s%d.test", tag, i);
}

/* The rank itself, record by record. */
Test(evict, rank_of_each_record)
{
	struct stsdane_decision *d = decision_new("a.test");
	unsigned char *rec = NULL;
	size_t len = 0;
	int64_t now = 1700000000;

	cr_assert_not_null(d);
	d->mechanism = STSDANE_MECH_MTASTS;
	d->mode = STSDANE_MODE_ENFORCE;
	d->expires = now + 60;
	cr_assert_eq(cache_record_encode(d, now, &rec, &len), STSDANE_OK);
	cr_expect_eq(remember_evict_rank(NULL, "sts/a.test", rec, len, now),
	    CACHE_RANK_KEEP);
	/* the answer and the markers are ordinary: the policy protects */
	cr_expect_eq(remember_evict_rank(NULL, "ans/a.test", rec, len, now),
	    CACHE_RANK_ORDINARY);
	/* expired, a policy in enforce mode included */
	cr_expect_eq(remember_evict_rank(NULL, "sts/a.test", rec, len, now + 60),
	    CACHE_RANK_DROP);
	/* what does not decode goes first */
	cr_expect_eq(remember_evict_rank(NULL, "sts/a.test", rec, len - 1, now),
	    CACHE_RANK_DROP);
	free(rec);
	d->mode = STSDANE_MODE_TESTING;
	cr_assert_eq(cache_record_encode(d, now, &rec, &len), STSDANE_OK);
	cr_expect_eq(remember_evict_rank(NULL, "sts/a.test", rec, len, now),
	    CACHE_RANK_ORDINARY);
	free(rec);
	stsdane_decision_free(d);
}

/* At the bound, expired entries go before valid ones, however recent. */
Test(evict, expired_first)
{
	int64_t now = (int64_t)time(NULL);
	char dom[64];
	int i;

	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "valid", i);
		put(REM_ANSWER, dom, STSDANE_MODE_TESTING, now + 3600);
	}
	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "expired", i);
		put(REM_ANSWER, dom, STSDANE_MODE_TESTING, now - 1);
	}
	cr_assert_eq(count(), BOUND);
	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "new", i);
		put(REM_ANSWER, dom, STSDANE_MODE_TESTING, now + 3600);
		cr_assert_leq(count(), BOUND);
	}
	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "valid", i);
		cr_expect(has(REM_ANSWER, dom), "%s was evicted", dom);
		name(dom, sizeof(dom), "expired", i);
		cr_expect(!has(REM_ANSWER, dom), "%s was kept", dom);
		name(dom, sizeof(dom), "new", i);
		cr_expect(has(REM_ANSWER, dom), "%s is missing", dom);
	}
}

/* Among valid ordinary entries, the least recently written goes. */
Test(evict, least_recently_written_next)
{
	int64_t now = (int64_t)time(NULL);
	struct timespec tick = { 1, 100 * 1000 * 1000 };
	char dom[64];
	int i;

	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "old", i);
		put(REM_ANSWER, dom, STSDANE_MODE_TESTING, now + 3600);
	}
	nanosleep(&tick, NULL);		/* the store time is in seconds */
	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "recent", i);
		put(REM_ANSWER, dom, STSDANE_MODE_TESTING, now + 3600);
	}
	/* rewriting one of the old ones makes it recent */
	put(REM_ANSWER, "old0.test", STSDANE_MODE_TESTING, now + 3600);
	for (i = 0; i < BOUND / 2 - 1; i++) {
		name(dom, sizeof(dom), "new", i);
		put(REM_ANSWER, dom, STSDANE_MODE_TESTING, now + 3600);
	}
	cr_assert_eq(count(), BOUND);
	cr_expect(has(REM_ANSWER, "old0.test"));
	for (i = 1; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "old", i);
		cr_expect(!has(REM_ANSWER, dom), "%s was kept", dom);
	}
	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "recent", i);
		cr_expect(has(REM_ANSWER, dom), "%s was evicted", dom);
	}
}

/*
 * A still-valid enforce policy goes only after everything else, older
 * than all of them though it is; when nothing else is left, the oldest
 * of them goes, and the bound holds.
 */
Test(evict, enforce_policy_last)
{
	int64_t now = (int64_t)time(NULL);
	struct timespec tick = { 1, 100 * 1000 * 1000 };
	char dom[64];
	int i;

	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "enforce", i);
		put(REM_POLICY, dom, STSDANE_MODE_ENFORCE, now + 86400);
	}
	nanosleep(&tick, NULL);
	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "testing", i);
		put(REM_POLICY, dom, STSDANE_MODE_TESTING, now + 86400);
	}
	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "more", i);
		put(REM_POLICY, dom, STSDANE_MODE_ENFORCE, now + 86400);
		cr_assert_leq(count(), BOUND);
	}
	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "enforce", i);
		cr_expect(has(REM_POLICY, dom), "%s was evicted", dom);
		name(dom, sizeof(dom), "testing", i);
		cr_expect(!has(REM_POLICY, dom), "%s was kept", dom);
	}
	/* only enforce policies now: one more evicts one of them */
	put(REM_POLICY, "last.test", STSDANE_MODE_ENFORCE, now + 86400);
	cr_assert_eq(count(), BOUND);
	cr_expect(has(REM_POLICY, "last.test"));
}

/* Replacing a key at the bound evicts nothing. */
Test(evict, replacing_at_the_bound)
{
	int64_t now = (int64_t)time(NULL);
	char dom[64];
	int i;

	for (i = 0; i < BOUND; i++) {
		name(dom, sizeof(dom), "d", i);
		put(REM_ANSWER, dom, STSDANE_MODE_TESTING, now + 3600);
	}
	for (i = 0; i < BOUND; i++) {
		name(dom, sizeof(dom), "d", i);
		put(REM_ANSWER, dom, STSDANE_MODE_TESTING, now + 7200);
	}
	cr_assert_eq(count(), BOUND);
	for (i = 0; i < BOUND; i++) {
		name(dom, sizeof(dom), "d", i);
		cr_expect(has(REM_ANSWER, dom));
	}
}

/*
 * A record whose domain has an answer in the answers file (decided or
 * read lately) ranks above one whose domain has none: least recently
 * used, without a write per read.
 */
Test(evict, domains_in_the_answers_file_rank_as_recent)
{
	struct remember *r = remember_new(dir, BOUND, NULL, NULL);
	struct stsdane_decision *d = decision_new("used.test");
	int64_t now = (int64_t)time(NULL);
	unsigned char *rec = NULL;
	size_t len = 0;

	cr_assert_not_null(r);
	cr_assert_not_null(d);
	d->mechanism = STSDANE_MECH_MTASTS;
	d->mode = STSDANE_MODE_TESTING;
	d->expires = now + 3600;
	remember_answer_put(r, d, now, 0);
	cr_assert_eq(cache_record_encode(d, now, &rec, &len), STSDANE_OK);
	cr_expect_eq(remember_evict_rank(r, "sts/used.test", rec, len, now),
	    CACHE_RANK_RECENT);
	cr_expect_eq(remember_evict_rank(r, "txt/used.test", rec, len, now),
	    CACHE_RANK_RECENT);
	cr_expect_eq(remember_evict_rank(r, "sts/unused.test", rec, len, now),
	    CACHE_RANK_ORDINARY);
	cr_expect_eq(remember_evict_rank(r, "sts/used.test", rec, len,
	    now + 3600), CACHE_RANK_DROP, "expired goes first all the same");
	free(rec);
	stsdane_decision_free(d);
	remember_free(r);
	{
		char path[300];

		(void)snprintf(path, sizeof(path), "%s/stsdane.answers", dir);
		unlink(path);
	}
}

/*
 * At the bound, entries of domains the answers file names (used lately)
 * outlast older-written and newer-written ones of domains it does not.
 */
Test(evict, used_domains_outlast_unused_ones)
{
	struct remember *r = remember_new(dir, BOUND, NULL, NULL);
	int64_t now = (int64_t)time(NULL);
	struct timespec tick = { 1, 100 * 1000 * 1000 };
	char dom[64], path[300];
	int i;

	cr_assert_not_null(r);
	cache_bdb_set_rank(store, remember_evict_rank, r);
	for (i = 0; i < BOUND; i++) {	/* the used ones are the oldest */
		name(dom, sizeof(dom), i < BOUND / 2 ? "used" : "unused",
		    i % (BOUND / 2));
		put(REM_TXT_SEEN, dom, STSDANE_MODE_TESTING, now + 3600);
		if (i == BOUND / 2 - 1)
			nanosleep(&tick, NULL);
	}
	for (i = 0; i < BOUND / 2; i++) {
		struct stsdane_decision *d;

		name(dom, sizeof(dom), "used", i);
		d = decision_new(dom);
		cr_assert_not_null(d);
		d->expires = now + 3600;
		remember_answer_put(r, d, now, 0);	/* as a delivery does */
		stsdane_decision_free(d);
	}
	nanosleep(&tick, NULL);
	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "new", i);
		put(REM_TXT_SEEN, dom, STSDANE_MODE_TESTING, now + 3600);
		cr_assert_leq(count(), BOUND);
	}
	for (i = 0; i < BOUND / 2; i++) {
		name(dom, sizeof(dom), "used", i);
		cr_expect(has(REM_TXT_SEEN, dom), "%s was evicted", dom);
		name(dom, sizeof(dom), "unused", i);
		cr_expect(!has(REM_TXT_SEEN, dom), "%s was kept", dom);
	}
	cache_bdb_set_rank(store, remember_evict_rank, NULL);
	remember_free(r);
	(void)snprintf(path, sizeof(path), "%s/stsdane.answers", dir);
	unlink(path);
}
