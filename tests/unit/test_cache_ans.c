/*
 * test_cache_ans.c - the answers file: reads, damage, clearing
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "util.h"
#include "decision.h"

static char dir[] = "/tmp/stsdane-ans-XXXXXX";
static char path[256];
static int logged;

static void
count_log(void *arg, int level, const char *msg)
{
	logged++;
}

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/stsdane.answers", dir);
	logged = 0;
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
	strcpy(dir, "/tmp/stsdane-ans-XXXXXX");
}

static struct stsdane_decision *
policy(const char *domain, int64_t expires, size_t nmx)
{
	struct stsdane_decision *d = decision_new(domain);
	char mx[64];
	size_t i;

	d->mechanism = STSDANE_MECH_MTASTS;
	d->mode = STSDANE_MODE_ENFORCE;
	d->require_tls = 1;
	d->expires = expires;
	d->policy_id = strdup("id1");
	for (i = 0; i < nmx; i++) {
		snprintf(mx, sizeof(mx), "mx%zu.%s", i, domain);
		decision_add_mx(d, mx);
	}
	decision_set_reason(d, "test policy");
	return d;
}

TestSuite(cache_ans, .init = setup, .fini = teardown);

Test(cache_ans, round_trip_and_expiry)
{
	struct ans_file *a = ans_open(dir, count_log, NULL);
	struct stsdane_decision *d = policy("a.test", 1000, 2), *got;

	cr_assert_not_null(a);
	ans_put(a, d, 500);
	got = ans_get(a, "a.test", 999);
	cr_assert_not_null(got);
	cr_expect_eq(got->mechanism, STSDANE_MECH_MTASTS);
	cr_expect_eq(got->source, STSDANE_SOURCE_CACHE);
	cr_expect_eq(got->nmx, 2);
	cr_expect_str_eq(got->mx[1], "mx1.a.test");
	stsdane_decision_free(got);
	cr_expect_null(ans_get(a, "a.test", 1000), "expired");
	cr_expect_null(ans_get(a, "b.test", 999), "other domain");
	cr_expect_eq(logged, 0);
	stsdane_decision_free(d);
	ans_close(a);
}

Test(cache_ans, another_process_reads_it)
{
	struct ans_file *w = ans_open(dir, count_log, NULL);
	struct ans_file *r = ans_open(dir, count_log, NULL);
	struct stsdane_decision *d = policy("a.test", 1000, 1), *got;

	ans_put(w, d, 500);
	got = ans_get(r, "a.test", 600);
	cr_assert_not_null(got);
	stsdane_decision_free(got);
	stsdane_decision_free(d);
	ans_close(w);
	ans_close(r);
}

Test(cache_ans, every_damaged_byte_is_a_miss)
{
	struct ans_file *a = ans_open(dir, count_log, NULL);
	struct stsdane_decision *d = policy("a.test", 1000, 1), *got;
	unsigned char slot[1024], saved[1024];
	off_t off = -1, o;
	int fd = open(path, O_RDWR);
	size_t i, used;

	ans_put(a, d, 500);
	/* find the slot that holds it */
	for (o = 64; o < 64 + 65536 * 1024; o += 1024) {
		cr_assert_eq(pread(fd, slot, sizeof(slot), o), 1024);
		if (slot[0] != 0) {
			off = o;
			break;
		}
	}
	cr_assert_neq(off, -1);
	memcpy(saved, slot, sizeof(slot));
	/* every byte that counts: header, domain, record (not the padding) */
	used = 8 + ((size_t)saved[0] | (size_t)saved[1] << 8);
	for (i = 0; i < used; i++) {
		memcpy(slot, saved, sizeof(slot));
		slot[i] ^= 0x20;
		cr_assert_eq(pwrite(fd, slot, sizeof(slot), off), 1024);
		got = ans_get(a, "a.test", 600);
		cr_expect_null(got, "flip at byte %zu read as an answer", i);
		stsdane_decision_free(got);
	}
	cr_assert_eq(pwrite(fd, saved, sizeof(saved), off), 1024);
	got = ans_get(a, "a.test", 600);
	cr_expect_not_null(got);
	stsdane_decision_free(got);
	close(fd);
	stsdane_decision_free(d);
	ans_close(a);
}

Test(cache_ans, truncated_or_garbage_file_is_rebuilt_once)
{
	struct ans_file *a = ans_open(dir, count_log, NULL);
	struct stsdane_decision *d = policy("a.test", 1000, 1), *got;
	int fd;

	ans_put(a, d, 500);
	ans_close(a);
	cr_assert_eq(truncate(path, 4000), 0);
	a = ans_open(dir, count_log, NULL);
	cr_assert_not_null(a);
	cr_expect_eq(logged, 1);
	cr_expect_null(ans_get(a, "a.test", 600));
	ans_put(a, d, 500);
	got = ans_get(a, "a.test", 600);
	cr_expect_not_null(got);
	stsdane_decision_free(got);
	ans_close(a);

	fd = open(path, O_WRONLY);
	cr_assert_eq(pwrite(fd, "garbage!", 8, 0), 8);
	close(fd);
	a = ans_open(dir, count_log, NULL);
	cr_assert_not_null(a);
	cr_expect_eq(logged, 2);
	cr_expect_null(ans_get(a, "a.test", 600));
	ans_close(a);
	stsdane_decision_free(d);
}

Test(cache_ans, delete_clear_tempfail_and_oversized)
{
	struct ans_file *a = ans_open(dir, count_log, NULL);
	struct stsdane_decision *d = policy("a.test", 1000, 1);
	struct stsdane_decision *big = policy("a.test", 1000, 90);
	struct stsdane_decision *got;

	ans_put(a, d, 500);
	ans_del(a, "b.test");
	got = ans_get(a, "a.test", 600);
	cr_expect_not_null(got, "deleting another domain left it");
	stsdane_decision_free(got);
	ans_del(a, "a.test");
	cr_expect_null(ans_get(a, "a.test", 600));

	ans_put(a, d, 500);
	ans_clear(a);
	cr_expect_null(ans_get(a, "a.test", 600));

	ans_put(a, d, 500);
	d->tempfail = 1;
	ans_put(a, d, 500);
	cr_expect_null(ans_get(a, "a.test", 600), "a tempfail replaces it");

	d->tempfail = 0;
	ans_put(a, d, 500);
	ans_put(a, big, 500);
	cr_expect_null(ans_get(a, "a.test", 600),
	    "an answer too large clears the old one");
	stsdane_decision_free(d);
	stsdane_decision_free(big);
	ans_close(a);
}

Test(cache_ans, unusable_directory)
{
	cr_expect_null(ans_open("/dev/null/x", count_log, NULL));
}

/* The slot of a name, as cache_ans.c computes it (FNV-1a, 65536 slots). */
static uint32_t
slot_no(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h % 65536;
}

/*
 * Background work (--refresh) keeps answers fresh but never displaces
 * another domain's: ans_update() writes over an empty slot or the
 * domain's own only; ans_put() replaces whatever is there.
 */
Test(cache_ans, update_never_displaces_another_answer)
{
	struct ans_file *a = ans_open(dir, count_log, NULL);
	struct stsdane_decision *x = policy("a.test", 1000, 1), *y, *got;
	char other[32];
	int i;

	for (i = 0;; i++) {
		snprintf(other, sizeof(other), "c%d.test", i);
		if (slot_no(other) == slot_no("a.test"))
			break;
	}
	y = policy(other, 1000, 1);
	ans_put(a, x, 500);
	ans_update(a, y, 500);
	got = ans_get(a, "a.test", 600);
	cr_expect_not_null(got, "the working set's answer was displaced");
	stsdane_decision_free(got);
	got = ans_get(a, other, 600);
	cr_expect_null(got);
	stsdane_decision_free(got);
	/* its own slot it refreshes */
	x->expires = 2000;
	ans_update(a, x, 500);
	got = ans_get(a, "a.test", 1500);
	cr_expect_not_null(got);
	stsdane_decision_free(got);
	/* an ordinary decision replaces */
	ans_put(a, y, 500);
	got = ans_get(a, other, 600);
	cr_expect_not_null(got);
	stsdane_decision_free(got);
	stsdane_decision_free(x);
	stsdane_decision_free(y);
	ans_close(a);
}

static size_t
mappings_of(const char *file)
{
	char line[4096];
	size_t n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, file) != NULL)
			n++;
	fclose(f);
	return n;
}

/* Many handles in one process share one mapping; the last close unmaps. */
Test(cache_ans, one_mapping_per_process)
{
	struct ans_file *h[5];
	struct stsdane_decision *d = policy("a.test", 1000, 1), *got;
	char file[300];
	size_t i;

	snprintf(file, sizeof(file), "%s/stsdane.answers", dir);
	for (i = 0; i < 5; i++)
		cr_assert_not_null(h[i] = ans_open(dir, count_log, NULL));
	cr_expect_eq(mappings_of(file), 1);
	ans_put(h[0], d, 500);
	for (i = 0; i < 4; i++)
		ans_close(h[i]);
	cr_expect_eq(mappings_of(file), 1, "still used by the last handle");
	got = ans_get(h[4], "a.test", 600);
	cr_assert_not_null(got);
	stsdane_decision_free(got);
	ans_close(h[4]);
	cr_expect_eq(mappings_of(file), 0);
	stsdane_decision_free(d);
}
