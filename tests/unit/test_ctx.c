/*
 * test_ctx.c - contexts own only what they opened (api.c)
 *
 * The refresh gives each worker a clone of the caller's context; freeing
 * a clone that never recorded a TLS-RPT session once closed descriptor 0,
 * which by then could be another worker's database: Berkeley DB then
 * failed with EBADF and the database was moved aside as damaged.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <unistd.h>

#include "ctx.h"

static int
is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

Test(ctx, freeing_a_clone_closes_no_descriptor_of_others)
{
	stsdane_ctx *ctx = stsdane_new();
	int fd, i;

	cr_assert_not_null(ctx);
	if (!is_open(0))
		cr_assert_eq(open("/dev/null", O_RDONLY), 0);
	fd = open("/dev/null", O_RDONLY);
	cr_assert_geq(fd, 0);
	for (i = 0; i < 3; i++) {
		stsdane_ctx *c = ctx_clone(ctx);

		stsdane_free(c);
		cr_assert(is_open(0), "clone %d closed descriptor 0", i);
		cr_assert(is_open(fd), "clone %d closed descriptor %d", i, fd);
	}
	stsdane_free(ctx);
	cr_assert(is_open(0));
	(void)close(fd);
}

Test(ctx, freeing_a_new_context_closes_nothing)
{
	if (!is_open(0))
		cr_assert_eq(open("/dev/null", O_RDONLY), 0);
	stsdane_free(stsdane_new());
	cr_assert(is_open(0));
}
