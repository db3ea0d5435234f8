/*
 * pool.h - worker threads that run stsdane_query(), one context each
 */
#ifndef POLICYD_POOL_H
#define POLICYD_POOL_H

#include <stdint.h>

#include "answer.h"

/* One lookup: a domain in, an answer out. */
struct pool_job {
	struct pool_job *next;
	void *owner;			/* the caller's, untouched */
	char domain[256];
	/* filled in by the worker */
	char *answer;			/* malloc'd payload, or NULL: no memory */
	enum answer_kind kind;
	int source;			/* enum stsdane_source, -1: no decision */
	uint64_t ns;			/* time stsdane_query() took */
};

struct pool;

/*
 * Start n workers, each with its own context made from config (NULL:
 * library defaults) when it first runs.  NULL with err set.
 */
struct pool *pool_new(unsigned n, const char *config,
    const struct answer_opts *o, char *err, size_t errlen);
/* The eventfd that becomes readable when jobs are done. */
int pool_fd(const struct pool *p);
/* Queue a job (main thread). */
void pool_submit(struct pool *p, struct pool_job *j);
/* Every finished job, oldest first, as a list (main thread). */
struct pool_job *pool_done(struct pool *p);
/* Jobs queued, and running. */
void pool_counts(struct pool *p, unsigned *queued, unsigned *running);
/* New answer options, and a new context from the configuration file
   for every worker before its next job. */
void pool_reload(struct pool *p, const struct answer_opts *o);
/* Stop the workers (each finishes its job) and free everything; jobs
   not done are freed with it. */
void pool_free(struct pool *p);

#endif
