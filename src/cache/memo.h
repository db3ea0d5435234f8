/*
 * memo.h - the first tier: decisions this process already made
 *
 * Kept in the context (through remember.c), so a warm process answers
 * without reading any file.  Replaced round-robin; never shared between
 * domains.  A NULL memo is valid everywhere and remembers nothing.
 */
#ifndef STSDANE_MEMO_H
#define STSDANE_MEMO_H

#include <stdint.h>

#include "stsdane.h"

struct memo;

#include <stddef.h>

/*
 * A memo of slots entries lives in memo_size(slots) bytes of the
 * caller's (so that its owner allocates once); memo_init() sets it up.
 * A decision with no lifetime of its own (a tempfail, or expires already
 * past) is kept short_hold seconds.  memo_release() frees the decisions
 * it holds, not the memory it lives in.
 */
size_t memo_size(unsigned slots);
struct memo *memo_init(void *mem, unsigned slots, unsigned short_hold);
void memo_release(struct memo *m);
/* A copy (source CACHE) of the decision for domain, or NULL. */
struct stsdane_decision *memo_get(struct memo *m, const char *domain,
    int64_t now);
void memo_put(struct memo *m, const struct stsdane_decision *d, int64_t now);
/* Forget domain, or everything when domain is NULL. */
void memo_clear(struct memo *m, const char *domain);

#endif /* STSDANE_MEMO_H */
