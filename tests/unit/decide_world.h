/*
 * decide_world.h - worlds built from the fakes, for the decide() tests
 *
 * Shared by test_decide_sts.c, test_decide_cache.c, test_dane.c and
 * test_scheduler.c: the records and policies they script, and helpers
 * that build a world, run one decision and check what it stored.
 */
#ifndef STSDANE_TEST_DECIDE_WORLD_H
#define STSDANE_TEST_DECIDE_WORLD_H

#include "fakes.h"

#define T0 1700000000
#define HEX32 "00112233445566778899aabbccddeeff" \
	"00112233445566778899aabbccddeeff"
#define HEX31 "00112233445566778899aabbccddeeff" \
	"00112233445566778899aabbccddee"

#define POLICY_ENFORCE "version: STSv1\nmode: enforce\nmx: mx1.a.test\n" \
	"mx: *.a.test\nmax_age: 86400\n"
#define POLICY_TESTING "version: STSv1\r\nmode: testing\r\n" \
	"mx: mx1.a.test\r\nmax_age: 604800\r\n"
#define POLICY_NONE "version: STSv1\nmode: none\nmax_age: 86400\n"
#define POLICY_BAD "version: STSv1\nmode: enforce\nmx: mx1.a.test\n" \
	"max_age: soon\n"
#define POLICY_NEW "version: STSv1\nmode: enforce\nmx: mx9.a.test\n" \
	"max_age: 3600\n"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct fake_env *world_new(int with_cache, enum fake_dns_mode mode);
void world_free(struct fake_env *w);
struct stsdane_decision *run(struct fake_env *w, const char *domain, unsigned flags);
void reset_counts(struct fake_env *w);
void ok(int rc);
const char *mode_label(int m);
void sts_world(struct fake_env *w);
void dane_world(struct fake_env *w);
void expect_expires(const struct fake_env *w, const struct stsdane_decision *d,
    int64_t fetched, uint32_t max_age, const char *what);
void txt_servfail(struct fake_env *w);
void txt_bogus(struct fake_env *w);
struct fake_env *cached_world(enum fake_dns_mode mode);
void expect_cached_abc(const struct stsdane_decision *d, int64_t now,
    const char *what);

#endif /* STSDANE_TEST_DECIDE_WORLD_H */
