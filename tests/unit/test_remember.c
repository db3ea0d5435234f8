/*
 * test_remember.c - what is remembered: the tier order, lifetimes, keys
 * and the typed records (src/cache/remember.c, memo.c)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decision.h"
#include "fakes.h"
#include "remember.h"

#define NOW 1700000000

static char dir[] = "/tmp/stsdane-rem-XXXXXX";

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/stsdane.answers", dir);
	unlink(path);
	rmdir(dir);
	(void)snprintf(dir, sizeof(dir), "/tmp/stsdane-rem-XXXXXX");
}

static struct stsdane_decision *
answer(const char *domain, int64_t expires)
{
	struct stsdane_decision *d = decision_new(domain);

	cr_assert_not_null(d);
	d->mechanism = STSDANE_MECH_MTASTS;
	d->mode = STSDANE_MODE_ENFORCE;
	d->require_tls = 1;
	d->expires = expires;
	cr_assert_eq(decision_add_mx(d, "mx.a.test"), 0);
	return d;
}

TestSuite(remember, .init = setup, .fini = teardown);

/* memo, then answers file, then store; a lower hit fills the tiers above */
Test(remember, tier_order)
{
	struct fake_cache store;
	struct remember *r;
	struct stsdane_decision *d = answer("a.test", NOW + 600), *got;
	int gets;

	fake_cache_init(&store);
	r = remember_new_store(&fake_cache_ops, &store, 4, dir);
	cr_assert_not_null(r);
	remember_answer_put(r, d, NOW, 1);
	cr_expect(fake_cache_has(&store, "ans/a.test"));

	/* the memo answers: the store is not asked */
	gets = store.nget;
	got = remember_answer_get(r, "a.test", NOW + 1);
	cr_assert_not_null(got);
	cr_expect_eq(got->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(store.nget, gets, "memo hit read the store");
	stsdane_decision_free(got);
	remember_free(r);

	/* a new process: the answers file answers, still not the store */
	r = remember_new_store(&fake_cache_ops, &store, 4, dir);
	got = remember_answer_get(r, "a.test", NOW + 2);
	cr_assert_not_null(got);
	cr_expect_eq(store.nget, gets, "answers file hit read the store");
	stsdane_decision_free(got);
	remember_free(r);

	/* no answers file: the store answers, and fills the memo */
	r = remember_new_store(&fake_cache_ops, &store, 4, NULL);
	got = remember_answer_get(r, "a.test", NOW + 3);
	cr_assert_not_null(got);
	cr_expect_eq(store.nget, gets + 1);
	stsdane_decision_free(got);
	got = remember_answer_get(r, "a.test", NOW + 3);
	cr_assert_not_null(got);
	cr_expect_eq(store.nget, gets + 1, "store hit did not fill the memo");
	stsdane_decision_free(got);
	remember_free(r);

	stsdane_decision_free(d);
	fake_cache_release(&store);
}

/* a store hit fills the answers file: the next process never asks it */
Test(remember, store_hit_fills_answers_file)
{
	struct fake_cache store;
	struct remember *r;
	struct stsdane_decision *d = answer("b.test", NOW + 600), *got;

	fake_cache_init(&store);
	r = remember_new_store(&fake_cache_ops, &store, 0, NULL);
	remember_answer_put(r, d, NOW, 1);
	remember_free(r);

	r = remember_new_store(&fake_cache_ops, &store, 0, dir);
	got = remember_answer_get(r, "b.test", NOW + 1);
	cr_assert_not_null(got, "store did not answer");
	stsdane_decision_free(got);
	remember_free(r);

	store.fail = 1;		/* from now on the store cannot answer */
	r = remember_new_store(&fake_cache_ops, &store, 0, dir);
	got = remember_answer_get(r, "b.test", NOW + 2);
	cr_expect_not_null(got, "answers file was not filled");
	stsdane_decision_free(got);
	remember_free(r);
	stsdane_decision_free(d);
	fake_cache_release(&store);
}

/* a tempfail stays 30 s in the memo and never reaches a shared tier */
Test(remember, tempfail_short_hold)
{
	struct fake_cache store;
	struct remember *r;
	struct stsdane_decision *d = decision_tempfail("c.test",
	    STSDANE_PROBLEM_DNS_TEMPFAIL, "SERVFAIL"), *got;

	fake_cache_init(&store);
	r = remember_new_store(&fake_cache_ops, &store, 4, dir);
	remember_answer_put(r, d, NOW, 1);
	cr_expect(!fake_cache_has(&store, "ans/c.test"));
	got = remember_answer_get(r, "c.test", NOW + REM_SHORT_HOLD - 1);
	cr_assert_not_null(got);
	cr_expect(got->tempfail);
	stsdane_decision_free(got);
	got = remember_answer_get(r, "c.test", NOW + REM_SHORT_HOLD);
	cr_expect_null(got, "tempfail outlived its hold");
	stsdane_decision_free(got);
	remember_free(r);
	stsdane_decision_free(d);
	fake_cache_release(&store);
}

/* an answer is never served past its expiry, from any tier */
Test(remember, expired_never_served)
{
	struct fake_cache store;
	struct remember *r;
	struct stsdane_decision *d = answer("d.test", NOW + 10), *got;

	fake_cache_init(&store);
	r = remember_new_store(&fake_cache_ops, &store, 4, dir);
	remember_answer_put(r, d, NOW, 1);
	got = remember_answer_get(r, "d.test", NOW + 10);
	cr_expect_null(got);
	stsdane_decision_free(got);
	cr_expect(!fake_cache_has(&store, "ans/d.test"),
	    "expired record left in the store");
	remember_free(r);
	stsdane_decision_free(d);
	fake_cache_release(&store);
}

Test(remember, keys)
{
	char key[64];
	enum rem_kind k;
	const char *domain;

	cr_expect_eq(rem_key(REM_TXT_SEEN, "a.test", key, sizeof(key)), 0);
	cr_expect_str_eq(key, "txt/a.test");
	cr_expect_eq(rem_key_parse("dane/b.test", &k, &domain), 0);
	cr_expect_eq(k, REM_DANE);
	cr_expect_str_eq(domain, "b.test");
	cr_expect_eq(rem_key_parse("zzz/b.test", &k, &domain), -1);
	cr_expect_eq(rem_key_parse("nodelimiter", &k, &domain), -1);
	cr_expect_eq(rem_key(REM_ANSWER, "a.test", key, 6), -1);
}

static int
count_kind(void *arg, const char *kind, const struct stsdane_decision *d,
    int64_t learned)
{
	int *n = arg;

	cr_expect(strcmp(kind, "txt") != 0 && strcmp(kind, "neg") != 0,
	    "marker '%s' listed as a decision", kind);
	(*n)++;
	return 0;
}

/* markers come back typed, and are not listed as decisions */
Test(remember, typed_markers)
{
	struct fake_cache store;
	struct remember *r;
	struct stsdane_decision *d = answer("e.test", NOW + 600), *dane;
	struct rem_txt t;
	struct rem_neg n, n2;
	int64_t until;
	int listed = 0;

	fake_cache_init(&store);
	r = remember_new_store(&fake_cache_ops, &store, 0, NULL);
	remember_txt_put(r, "e.test", "id1", NOW, NOW + 300);
	cr_assert_eq(remember_txt_get(r, "e.test", NOW + 1, &t), 1);
	cr_expect_str_eq(t.id, "id1");
	cr_expect_eq(t.expires, NOW + 300);
	cr_expect_eq(remember_txt_get(r, "e.test", NOW + 300, &t), 0);

	memset(&n, 0, sizeof(n));
	n.problem = STSDANE_PROBLEM_CONNECT;
	n.expires = NOW + 60;
	(void)snprintf(n.reason, sizeof(n.reason), "connection refused");
	remember_neg_put(r, "e.test", &n, NOW);
	cr_assert_eq(remember_neg_get(r, "e.test", NOW, &n2), 1);
	cr_expect_eq(n2.problem, STSDANE_PROBLEM_CONNECT);
	cr_expect_str_eq(n2.reason, "connection refused");
	remember_neg_forget(r, "e.test");
	cr_expect_eq(remember_neg_get(r, "e.test", NOW, &n2), 0);

	remember_dane_none_put(r, "e.test", NOW, NOW + 100);
	cr_assert_eq(remember_dane_get(r, "e.test", NOW, &dane, &until), 1);
	cr_expect_null(dane);
	cr_expect_eq(until, NOW + 100);

	remember_txt_put(r, "e.test", "id1", NOW, NOW + 300);
	remember_neg_put(r, "e.test", &n, NOW);
	remember_policy_put(r, d, NOW);
	cr_expect_eq(remember_list(r, count_kind, &listed), STSDANE_OK);
	cr_expect_eq(listed, 1, "only the policy is a decision");
	cr_expect_eq(remember_flush(r, "e.test"), STSDANE_OK);
	cr_expect_eq(store.n, 0);

	remember_free(r);
	stsdane_decision_free(d);
	fake_cache_release(&store);
}

/* NULL means "remember nothing", everywhere */
Test(remember, null_is_nothing)
{
	struct stsdane_decision *d = answer("f.test", NOW + 60), *dane;
	struct rem_txt t;
	int64_t until;

	remember_answer_put(NULL, d, NOW, 1);
	cr_expect_null(remember_answer_get(NULL, "f.test", NOW));
	cr_expect_eq(remember_txt_get(NULL, "f.test", NOW, &t), 0);
	cr_expect_eq(remember_dane_get(NULL, "f.test", NOW, &dane, &until),
	    0);
	cr_expect_eq(remember_have_store(NULL), 0);
	stsdane_decision_free(d);
}

/* ---- the fleet's tier ------------------------------------------------------ */

/* A shared tier that cannot be reached. */
static int
down_get(void *impl, const char *key, unsigned char **val, size_t *len)
{
	(*(int *)impl)++;
	return STSDANE_ERR_CACHE;
}

static int
down_put(void *impl, const char *key, const unsigned char *val, size_t len)
{
	(*(int *)impl)++;
	return STSDANE_ERR_CACHE;
}

static int
down_del(void *impl, const char *key)
{
	return STSDANE_ERR_CACHE;
}

static int
down_foreach(void *impl, int (*fn)(void *arg, const char *key,
    const unsigned char *val, size_t len), void *arg)
{
	return STSDANE_ERR_CACHE;
}

static const struct cache_ops down_ops = {
	down_get, down_put, down_del, down_foreach
};

/* store, then shared; a shared hit is "shared" and fills the store */
Test(remember, shared_after_store)
{
	struct fake_cache store, shared;
	struct remember *r;
	struct stsdane_decision *d = answer("a.test", NOW + 600), *got;
	int gets;

	fake_cache_init(&store);
	fake_cache_init(&shared);
	/* another host learned it */
	r = remember_new_store(&fake_cache_ops, &shared, 0, NULL);
	remember_answer_put(r, d, NOW, 1);
	remember_free(r);

	r = remember_new_store(&fake_cache_ops, &store, 4, NULL);
	remember_add_shared(r, &fake_cache_ops, &shared, NULL);
	got = remember_answer_get(r, "a.test", NOW + 1);
	cr_assert_not_null(got);
	cr_expect_eq(got->source, STSDANE_SOURCE_SHARED);
	cr_expect_eq(got->mode, STSDANE_MODE_ENFORCE);
	cr_expect(fake_cache_has(&store, "ans/a.test"), "not kept locally");
	stsdane_decision_free(got);
	remember_free(r);

	/* the next process: the store answers, the fleet is not asked */
	r = remember_new_store(&fake_cache_ops, &store, 4, NULL);
	remember_add_shared(r, &fake_cache_ops, &shared, NULL);
	gets = shared.nget;
	got = remember_answer_get(r, "a.test", NOW + 2);
	cr_assert_not_null(got);
	cr_expect_eq(got->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(shared.nget, gets, "a local hit asked the fleet");
	stsdane_decision_free(got);
	remember_free(r);
	stsdane_decision_free(d);
	fake_cache_release(&store);
	fake_cache_release(&shared);
}

/* the network's answer goes to both; a kept cached policy stays local */
Test(remember, shared_gets_what_the_network_taught)
{
	struct fake_cache store, shared;
	struct remember *r;
	struct stsdane_decision *d = answer("a.test", NOW + 600);
	struct stsdane_decision *kept = answer("b.test", NOW + 600);

	fake_cache_init(&store);
	fake_cache_init(&shared);
	r = remember_new_store(&fake_cache_ops, &store, 4, NULL);
	remember_add_shared(r, &fake_cache_ops, &shared, NULL);
	remember_answer_put(r, d, NOW, 1);
	remember_policy_put(r, d, NOW);
	remember_txt_put(r, "a.test", "id1", NOW, NOW + 300);
	cr_expect(fake_cache_has(&shared, "ans/a.test"));
	cr_expect(fake_cache_has(&shared, "sts/a.test"));
	cr_expect(fake_cache_has(&shared, "txt/a.test"));
	cr_expect(fake_cache_has(&store, "sts/a.test"));

	kept->source = STSDANE_SOURCE_CACHE;	/* sts_keep_cached() */
	remember_answer_put(r, kept, NOW, 1);
	cr_expect(fake_cache_has(&store, "ans/b.test"));
	cr_expect(!fake_cache_has(&shared, "ans/b.test"),
	    "a host that failed to fetch spoke for the fleet");
	remember_free(r);
	stsdane_decision_free(d);
	stsdane_decision_free(kept);
	fake_cache_release(&store);
	fake_cache_release(&shared);
}

/* a record of another domain under our key is not believed */
Test(remember, shared_record_of_another_domain)
{
	struct fake_cache store, shared;
	struct remember *r;
	struct stsdane_decision *d = answer("evil.test", NOW + 600);
	unsigned char *val;
	size_t len;

	fake_cache_init(&store);
	fake_cache_init(&shared);
	cr_assert_eq(cache_record_encode(d, NOW, &val, &len), STSDANE_OK);
	cr_assert_eq(fake_cache_ops.put(&shared, "ans/a.test", val, len),
	    STSDANE_OK);
	free(val);
	r = remember_new_store(&fake_cache_ops, &store, 4, NULL);
	remember_add_shared(r, &fake_cache_ops, &shared, NULL);
	cr_expect_null(remember_answer_get(r, "a.test", NOW + 1));
	cr_expect(!fake_cache_has(&shared, "ans/a.test"), "not deleted");
	cr_expect(!fake_cache_has(&store, "ans/a.test"));
	remember_free(r);
	stsdane_decision_free(d);
	fake_cache_release(&store);
	fake_cache_release(&shared);
}

/* typed records come from the fleet too, and an unreachable fleet is
   a miss */
Test(remember, shared_typed_records_and_down)
{
	struct fake_cache store, shared;
	struct remember *r;
	struct stsdane_decision *d = answer("a.test", NOW + 600), *got;
	struct rem_txt t;
	int calls = 0;

	fake_cache_init(&store);
	fake_cache_init(&shared);
	r = remember_new_store(&fake_cache_ops, &shared, 0, NULL);
	remember_policy_put(r, d, NOW);
	remember_txt_put(r, "a.test", "id1", NOW, NOW + 300);
	remember_free(r);

	r = remember_new_store(&fake_cache_ops, &store, 0, NULL);
	remember_add_shared(r, &fake_cache_ops, &shared, NULL);
	got = remember_policy_get(r, "a.test", NOW + 1);
	cr_assert_not_null(got);
	cr_expect_eq(got->mode, STSDANE_MODE_ENFORCE);
	stsdane_decision_free(got);
	cr_expect(remember_txt_get(r, "a.test", NOW + 1, &t));
	cr_expect_str_eq(t.id, "id1");
	cr_expect(fake_cache_has(&store, "sts/a.test"));
	cr_expect(fake_cache_has(&store, "txt/a.test"));
	remember_free(r);

	fake_cache_release(&store);
	fake_cache_init(&store);
	r = remember_new_store(&fake_cache_ops, &store, 0, NULL);
	remember_add_shared(r, &down_ops, &calls, NULL);
	cr_expect_null(remember_answer_get(r, "b.test", NOW));
	cr_expect_null(remember_policy_get(r, "b.test", NOW));
	remember_answer_put(r, d, NOW, 1);
	cr_expect(fake_cache_has(&store, "ans/a.test"),
	    "a down fleet stopped the local write");
	cr_expect_eq(calls, 3);
	remember_free(r);
	stsdane_decision_free(d);
	fake_cache_release(&store);
	fake_cache_release(&shared);
}
