/*
 * NAME
 *	pool.c - a bounded set of threads that make stsdane decisions
 * SUMMARY
 *	stsdane_query() blocks for as long as a cold lookup takes; the
 *	threads here take that wait off the event loop
 * SYNOPSIS
 *	#include "pool.h"
 *
 *	struct pool *pool_new(unsigned n, const char *config,
 *	    const struct answer_opts *o, char *err, size_t errlen)
 *	void pool_submit(struct pool *p, struct pool_job *j)
 *	struct pool_job *pool_done(struct pool *p)
 *	int pool_fd(const struct pool *p)
 *	void pool_reload(struct pool *p, const struct answer_opts *o)
 *	void pool_free(struct pool *p)
 * DESCRIPTION
 *	A stsdane context is not thread-safe, so each worker owns one,
 *	made from the configuration file when the worker starts and again
 *	after pool_reload().  The contexts share the library's on-disk
 *	cache, as the processes of a mail server do.
 *
 *	Jobs go in through one queue and come back through another; an
 *	eventfd tells the event loop that something came back.  A worker
 *	turns its decision into the socketmap answer itself (answer.c), so
 *	the decision never crosses threads.  The caller owns the jobs: it
 *	allocates them, and frees the ones pool_done() returns.
 *
 *	How many cold lookups run at once is the number of workers; the
 *	caller bounds how many wait.
 * DIAGNOSTICS
 *	pool_new() fails when a thread or the eventfd cannot be made.  A
 *	context that cannot be made (the configuration became unreadable
 *	after it was checked) is logged; the worker keeps its old one, or
 *	answers TEMP when it has none.
 * SEE ALSO
 *	postfix/policyd.c, include/stsdane.h
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pool_job *qhead, *qtail;	/* waiting */
	struct pool_job *dhead, *dtail;	/* done */
	unsigned nqueued, nrunning;
	unsigned generation;		/* of the configuration */
	struct answer_opts opts;
	char *config;
	int stop;
	int efd;
	unsigned nthreads;
	pthread_t *threads;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
library_log(void *arg, int level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info",
	    "debug" };

	if (level > 2)
		return;
	fprintf(stderr, "stsdane-policyd: %s: %s\n",
	    names[level < 0 ? 0 : level], msg);
}

static stsdane_ctx *
open_ctx(const char *config)
{
	stsdane_ctx *ctx = stsdane_new();

	if (ctx == NULL) {
		fprintf(stderr, "stsdane-policyd: error: no memory for a "
		    "context\n");
		return NULL;
	}
	stsdane_set_log(ctx, library_log, NULL);
	if (config != NULL && stsdane_load_config(ctx, config) != STSDANE_OK) {
		fprintf(stderr, "stsdane-policyd: error: configuration "
		    "'%s': %s\n", config, stsdane_error(ctx));
		stsdane_free(ctx);
		return NULL;
	}
	return ctx;
}

static void
run(stsdane_ctx *ctx, const struct answer_opts *o, struct pool_job *j)
{
	char buf[ANSWER_MAX + 1];
	struct stsdane_decision *d = NULL;
	uint64_t t0 = mono_ns();
	int rc;

	if (ctx == NULL) {
		rc = STSDANE_ERR_CONFIG;
		j->kind = answer_make(rc, NULL, "no usable configuration", o,
		    buf, sizeof(buf));
	} else {
		rc = stsdane_query(ctx, j->domain, 0, &d);
		j->kind = answer_make(rc, d, stsdane_error(ctx), o, buf,
		    sizeof(buf));
	}
	j->ns = mono_ns() - t0;
	j->source = d != NULL ? (int)d->source : -1;
	stsdane_decision_free(d);
	j->answer = strdup(buf);
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	stsdane_ctx *ctx = NULL;
	unsigned gen = 0;
	int have_ctx = 0;
	uint64_t one = 1;

	/* a context ready before the first request comes */
	pthread_mutex_lock(&p->mu);
	gen = p->generation;
	pthread_mutex_unlock(&p->mu);
	ctx = open_ctx(p->config);
	have_ctx = 1;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct pool_job *j;
		struct answer_opts o;

		while (!p->stop && p->qhead == NULL)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop)
			break;
		j = p->qhead;
		p->qhead = j->next;
		if (p->qhead == NULL)
			p->qtail = NULL;
		p->nqueued--;
		p->nrunning++;
		o = p->opts;
		if (!have_ctx || gen != p->generation) {
			unsigned want = p->generation;
			stsdane_ctx *fresh;

			pthread_mutex_unlock(&p->mu);
			fresh = open_ctx(p->config);
			pthread_mutex_lock(&p->mu);
			if (fresh != NULL || !have_ctx) {
				stsdane_free(ctx);
				ctx = fresh;
			}
			have_ctx = 1;
			gen = want;
		}
		pthread_mutex_unlock(&p->mu);
		run(ctx, &o, j);
		j->next = NULL;
		pthread_mutex_lock(&p->mu);
		p->nrunning--;
		if (p->dtail != NULL)
			p->dtail->next = j;
		else
			p->dhead = j;
		p->dtail = j;
		(void)write(p->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&p->mu);
	stsdane_free(ctx);
	return NULL;
}

struct pool *
pool_new(unsigned n, const char *config, const struct answer_opts *o,
    char *err, size_t errlen)
{
	struct pool *p = calloc(1, sizeof(*p));
	unsigned i;

	if (p == NULL || (config != NULL &&
	    (p->config = strdup(config)) == NULL) ||
	    (p->threads = calloc(n, sizeof(*p->threads))) == NULL) {
		(void)snprintf(err, errlen, "no memory for %u workers", n);
		goto fail;
	}
	p->opts = *o;
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		(void)snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (i = 0; i < n; i++) {
		int rc = pthread_create(&p->threads[i], NULL, worker, p);

		if (rc != 0) {
			(void)snprintf(err, errlen, "cannot start worker %u: "
			    "%s", i + 1, strerror(rc));
			p->nthreads = i;
			pool_free(p);
			return NULL;
		}
	}
	p->nthreads = n;
	return p;
fail:
	if (p != NULL) {
		free(p->threads);
		free(p->config);
		free(p);
	}
	return NULL;
}

int
pool_fd(const struct pool *p)
{
	return p->efd;
}

void
pool_submit(struct pool *p, struct pool_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->qtail != NULL)
		p->qtail->next = j;
	else
		p->qhead = j;
	p->qtail = j;
	p->nqueued++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

struct pool_job *
pool_done(struct pool *p)
{
	struct pool_job *list;
	uint64_t v;

	(void)read(p->efd, &v, sizeof(v));
	pthread_mutex_lock(&p->mu);
	list = p->dhead;
	p->dhead = p->dtail = NULL;
	pthread_mutex_unlock(&p->mu);
	return list;
}

void
pool_counts(struct pool *p, unsigned *queued, unsigned *running)
{
	pthread_mutex_lock(&p->mu);
	*queued = p->nqueued;
	*running = p->nrunning;
	pthread_mutex_unlock(&p->mu);
}

void
pool_reload(struct pool *p, const struct answer_opts *o)
{
	pthread_mutex_lock(&p->mu);
	p->opts = *o;
	p->generation++;
	pthread_mutex_unlock(&p->mu);
}

static void
free_list(struct pool_job *j)
{
	while (j != NULL) {
		struct pool_job *next = j->next;

		free(j->answer);
		free(j);
		j = next;
	}
}

void
pool_free(struct pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free_list(p->qhead);
	free_list(p->dhead);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	close(p->efd);
	free(p->threads);
	free(p->config);
	free(p);
}
