/*
 * test_hostlimit.c - hostlimit.c: per-address concurrency and spacing of
 * fetch starts, with explicit times (nothing sleeps)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hostlimit.h"

static void
setup(void)
{
	hostlimit_reset();
}

TestSuite(hostlimit, .init = setup);

Test(hostlimit, off_when_both_zero)
{
	int64_t at = -1;
	int i;

	for (i = 0; i < 100; i++)
		cr_expect_eq(hostlimit_acquire("192.0.2.1", 0, 0, 1000, &at),
		    HOSTLIMIT_FREE);
	cr_expect_eq(at, 1000);
}

Test(hostlimit, concurrency_cap_and_release)
{
	int64_t at;

	cr_expect_eq(hostlimit_acquire("192.0.2.1", 2, 0, 1000, &at),
	    HOSTLIMIT_HELD);
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 2, 0, 1000, &at),
	    HOSTLIMIT_HELD);
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 2, 0, 1000, &at),
	    HOSTLIMIT_WAIT);
	cr_expect_eq(at, 1000 + HOSTLIMIT_POLL_MS);
	/* another address is not held up */
	cr_expect_eq(hostlimit_acquire("2001:db8::1", 2, 0, 1000, &at),
	    HOSTLIMIT_HELD);
	hostlimit_release("192.0.2.1");
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 2, 0, 1001, &at),
	    HOSTLIMIT_HELD);
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 2, 0, 1001, &at),
	    HOSTLIMIT_WAIT);
	/* a release of an address never held changes nothing */
	hostlimit_release("198.51.100.7");
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 2, 0, 1002, &at),
	    HOSTLIMIT_WAIT);
}

Test(hostlimit, spacing)
{
	int64_t at;

	/* 50 a second: 20 ms apart, however many may be in flight */
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 0, 50, 1000, &at),
	    HOSTLIMIT_HELD);
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 0, 50, 1000, &at),
	    HOSTLIMIT_WAIT);
	cr_expect_eq(at, 1020);
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 0, 50, 1019, &at),
	    HOSTLIMIT_WAIT);
	cr_expect_eq(at, 1020);
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 0, 50, 1020, &at),
	    HOSTLIMIT_HELD);
	/* late is fine; the next one counts from the real start */
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 0, 50, 1100, &at),
	    HOSTLIMIT_HELD);
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 0, 50, 1110, &at),
	    HOSTLIMIT_WAIT);
	cr_expect_eq(at, 1120);
	/* 3 a second: 333.34 ms, so the next start is in the 334th */
	cr_expect_eq(hostlimit_acquire("192.0.2.2", 0, 3, 0, &at),
	    HOSTLIMIT_HELD);
	cr_expect_eq(hostlimit_acquire("192.0.2.2", 0, 3, 333, &at),
	    HOSTLIMIT_WAIT);
	cr_expect_eq(at, 334);
	cr_expect_eq(hostlimit_acquire("192.0.2.2", 0, 3, 334, &at),
	    HOSTLIMIT_HELD);
}

Test(hostlimit, both_limits_wait_for_the_later)
{
	int64_t at;

	cr_expect_eq(hostlimit_acquire("192.0.2.1", 1, 10, 1000, &at),
	    HOSTLIMIT_HELD);
	/* full, and too soon: the spacing (100 ms) is the later time */
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 1, 10, 1001, &at),
	    HOSTLIMIT_WAIT);
	cr_expect_eq(at, 1100);
	/* spaced enough but still full: ask again soon */
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 1, 10, 1200, &at),
	    HOSTLIMIT_WAIT);
	cr_expect_eq(at, 1200 + HOSTLIMIT_POLL_MS);
	hostlimit_release("192.0.2.1");
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 1, 10, 1200, &at),
	    HOSTLIMIT_HELD);
}

Test(hostlimit, table_full_does_not_limit)
{
	char addr[HOSTLIMIT_ADDR_MAX];
	int64_t at;
	int i;

	for (i = 0; i < HOSTLIMIT_MAX; i++) {
		(void)snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 256,
		    i % 256);
		cr_assert_eq(hostlimit_acquire(addr, 1, 0, 1000, &at),
		    HOSTLIMIT_HELD);
	}
	/* every entry busy: a new address goes ahead, holding nothing */
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 1, 0, 1000, &at),
	    HOSTLIMIT_FREE);
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 1, 0, 1000, &at),
	    HOSTLIMIT_FREE);
	/* the tracked ones are still limited */
	cr_expect_eq(hostlimit_acquire("10.0.0.0", 1, 0, 1000, &at),
	    HOSTLIMIT_WAIT);
	/* one released entry, idle, is reused for the new address */
	hostlimit_release("10.0.0.5");
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 1, 0, 1001, &at),
	    HOSTLIMIT_HELD);
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 1, 0, 1001, &at),
	    HOSTLIMIT_WAIT);
	/* and 10.0.0.5, forgotten, has no entry left */
	cr_expect_eq(hostlimit_acquire("10.0.0.5", 1, 0, 1001, &at),
	    HOSTLIMIT_FREE);
}

Test(hostlimit, idle_entry_kept_while_its_spacing_runs)
{
	char addr[HOSTLIMIT_ADDR_MAX];
	int64_t at;
	int i;

	/* every entry idle, but started within its 100 ms spacing */
	for (i = 0; i < HOSTLIMIT_MAX; i++) {
		(void)snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 256,
		    i % 256);
		cr_assert_eq(hostlimit_acquire(addr, 0, 10, 1000 + i / 8, &at),
		    HOSTLIMIT_HELD);
		hostlimit_release(addr);
	}
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 0, 10, 1050, &at),
	    HOSTLIMIT_FREE);
	/* once spaced out, the oldest start is reused first */
	cr_expect_eq(hostlimit_acquire("192.0.2.1", 0, 10, 1100, &at),
	    HOSTLIMIT_HELD);
	/* 10.0.0.0's entry went; it takes 10.0.0.1's, as old */
	cr_expect_eq(hostlimit_acquire("10.0.0.0", 0, 10, 1100, &at),
	    HOSTLIMIT_HELD);
	cr_expect_eq(hostlimit_acquire("10.0.0.1", 0, 10, 1100, &at),
	    HOSTLIMIT_HELD);
	/* 10.0.0.8 started at 1001: kept, and spaced */
	cr_expect_eq(hostlimit_acquire("10.0.0.8", 0, 10, 1100, &at),
	    HOSTLIMIT_WAIT);
	cr_expect_eq(at, 1101);
}

Test(hostlimit, long_address_not_limited)
{
	char addr[HOSTLIMIT_ADDR_MAX + 8];
	int64_t at;

	memset(addr, 'a', sizeof(addr) - 1);
	addr[sizeof(addr) - 1] = '\0';
	cr_expect_eq(hostlimit_acquire(addr, 1, 1, 0, &at), HOSTLIMIT_FREE);
	cr_expect_eq(hostlimit_acquire(addr, 1, 1, 0, &at), HOSTLIMIT_FREE);
}

Test(hostlimit, waited_total)
{
	hostlimit_add_waited(120);
	hostlimit_add_waited(3);
	cr_expect_eq(hostlimit_waited_ms(), 123);
}
