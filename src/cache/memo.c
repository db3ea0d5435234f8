/*
 * NAME
 *	memo.c - the first tier: decisions this process already made
 * SYNOPSIS
 *	#include "memo.h"
 * DESCRIPTION
 *	A fixed number of slots, each a copy of one decision and the time
 *	until which it may be handed out: the decision's own expiry, or,
 *	for a tempfail or a decision with no lifetime of its own, the
 *	short hold.  A domain has at most one slot; a new domain takes
 *	the next slot round-robin.  What goes in and comes out are copies,
 *	so callers own and free what they get.
 * DIAGNOSTICS
 *	Out of memory: the decision is simply not remembered.
 */
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "memo.h"

struct slot {
	struct stsdane_decision *d;
	int64_t until;
};

struct memo {
	unsigned n, next, short_hold;
	struct slot s[];
};

size_t
memo_size(unsigned slots)
{
	return sizeof(struct memo) + slots * sizeof(struct slot);
}

struct memo *
memo_init(void *mem, unsigned slots, unsigned short_hold)
{
	struct memo *m = mem;

	memset(m, 0, memo_size(slots));
	m->n = slots;
	m->short_hold = short_hold;
	return m;
}

void
memo_clear(struct memo *m, const char *domain)
{
	unsigned i;

	for (i = 0; m != NULL && i < m->n; i++) {
		if (m->s[i].d == NULL || (domain != NULL &&
		    strcmp(m->s[i].d->domain, domain) != 0))
			continue;
		stsdane_decision_free(m->s[i].d);
		m->s[i].d = NULL;
	}
}

void
memo_release(struct memo *m)
{
	memo_clear(m, NULL);
}

struct stsdane_decision *
memo_get(struct memo *m, const char *domain, int64_t now)
{
	struct stsdane_decision *d;
	unsigned i;

	for (i = 0; m != NULL && i < m->n; i++) {
		struct slot *s = &m->s[i];

		if (s->d == NULL || strcmp(s->d->domain, domain) != 0)
			continue;
		if (s->until <= now) {
			stsdane_decision_free(s->d);
			s->d = NULL;
			return NULL;
		}
		d = decision_copy(s->d);
		if (d != NULL)
			d->source = STSDANE_SOURCE_CACHE;
		return d;
	}
	return NULL;
}

void
memo_put(struct memo *m, const struct stsdane_decision *d, int64_t now)
{
	struct stsdane_decision *copy;
	int64_t until = d->expires;
	unsigned i, slot;

	if (m == NULL || m->n == 0)
		return;
	if (d->tempfail || until <= now)
		until = now + m->short_hold;
	slot = m->next;
	for (i = 0; i < m->n; i++)
		if (m->s[i].d != NULL &&
		    strcmp(m->s[i].d->domain, d->domain) == 0) {
			slot = i;
			break;
		}
	copy = decision_copy(d);
	if (copy == NULL)
		return;
	if (slot == m->next)
		m->next = (m->next + 1) % m->n;
	stsdane_decision_free(m->s[slot].d);
	m->s[slot].d = copy;
	m->s[slot].until = until;
}
