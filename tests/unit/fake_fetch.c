/*
 * NAME
 *	fake_fetch.c - scripted policy fetch (struct fetch_ops) for unit tests
 * SYNOPSIS
 *	#include "fakes.h"
 * DESCRIPTION
 *	The fetch fake hands back one scripted fetch_result; a hanging
 *	transfer moves the clock on by the step's timeout.
 * DIAGNOSTICS
 *	Scripting functions return -1 on input they cannot encode; the test
 *	is expected to check that.  Nothing here calls exit().
 * SEE ALSO
 *	fakes.h, src/decide/decide.h
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fakes.h"

/* ---- fetch -------------------------------------------------------------- */

void
fake_fetch_init(struct fake_fetch *f)
{
	memset(f, 0, sizeof(*f));
	/* unscripted: nothing published there */
	fake_fetch_fail(f, STSDANE_PROBLEM_HTTP_STATUS);
}

void
fake_fetch_body(struct fake_fetch *f, const char *body)
{
	size_t n = strlen(body);

	if (n >= sizeof(f->body))
		n = sizeof(f->body) - 1;
	f->problem = STSDANE_PROBLEM_NONE;
	f->http_status = 200;
	(void)sd_strlcpy(f->content_type, "text/plain",
	    sizeof(f->content_type));
	memcpy(f->body, body, n);
	f->body[n] = '\0';
	f->len = n;
}

void
fake_fetch_fail(struct fake_fetch *f, enum stsdane_problem problem)
{
	f->problem = problem;
	f->http_status = problem == STSDANE_PROBLEM_HTTP_STATUS ? 404 :
	    problem == STSDANE_PROBLEM_MEDIA_TYPE ? 200 : 0;
	(void)sd_strlcpy(f->content_type, problem ==
	    STSDANE_PROBLEM_MEDIA_TYPE ? "text/html" : "",
	    sizeof(f->content_type));
	f->body[0] = '\0';
	f->len = 0;
}

void
fake_fetch_reset_counts(struct fake_fetch *f)
{
	f->nstart = f->nstep = f->nfinish = f->nabort = 0;
	f->host[0] = '\0';
	f->naddrs = 0;
	f->addr0[0] = '\0';
}

static void *
ff_new(char *err, size_t errlen)
{
	(void)sd_snprintf(err, errlen, "the fake fetch comes from the test");
	return NULL;
}

static void
ff_free(void *impl)
{
}

static int
ff_start(void *impl, const struct fetch_request *req, char *err,
    size_t errlen)
{
	struct fake_fetch *f = impl;

	f->nstart++;
	(void)sd_strlcpy(f->host, req->host != NULL ? req->host : "",
	    sizeof(f->host));
	f->naddrs = req->naddrs;
	(void)sd_strlcpy(f->addr0, req->naddrs > 0 ? req->addrs[0] : "",
	    sizeof(f->addr0));
	f->timeout_ms = req->timeout_ms;
	f->max_body = req->max_body;
	if (f->start_fails) {
		(void)sd_snprintf(err, errlen, "start refused by the test");
		return -1;
	}
	f->running = 1;
	return 0;
}

static int
ff_step(void *impl, int extra_fd, int timeout_ms)
{
	struct fake_fetch *f = impl;

	f->nstep++;
	if (!f->hang)
		return 1;
	if (f->clock != NULL)
		f->clock->mono += timeout_ms > 0 ? timeout_ms : 1;
	return 0;
}

static void
ff_finish(void *impl, struct fetch_result *res)
{
	struct fake_fetch *f = impl;

	f->nfinish++;
	f->running = 0;
	memset(res, 0, sizeof(*res));
	res->problem = f->problem;
	res->http_status = f->http_status;
	(void)sd_strlcpy(res->content_type, f->content_type,
	    sizeof(res->content_type));
	if (f->problem == STSDANE_PROBLEM_NONE) {
		res->body = malloc(f->len + 1);
		if (res->body != NULL) {
			memcpy(res->body, f->body, f->len + 1);
			res->len = f->len;
		}
	} else {
		(void)sd_snprintf(res->error, sizeof(res->error),
		    "scripted failure '%s'",
		    stsdane_problem_name(f->problem));
	}
}

static void
ff_abort(void *impl)
{
	struct fake_fetch *f = impl;

	f->nabort++;
	f->running = 0;
}

const struct fetch_ops fake_fetch_ops = {
	FETCH_ABI, ff_new, ff_free, ff_start, ff_step, ff_finish, ff_abort
};

