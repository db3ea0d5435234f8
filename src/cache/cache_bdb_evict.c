/*
 * NAME
 *	cache_bdb_evict.c - which entry a full Berkeley DB store gives up
 * SYNOPSIS
 *	#include "cache_bdb.h"
 *
 *	int make_room(struct bdb_cache *c, DBT *k)
 *	void cache_bdb_set_rank(void *impl, cache_rank_fn *fn, void *arg)
 * DESCRIPTION
 *	Called under the exclusive lock before a put: when the put would
 *	add a key beyond max_entries, up to EVICT_PER_PUT entries go, so
 *	the work of one put stays bounded and a lowered bound shrinks the
 *	store a little with every put.  Each is chosen from EVICT_SAMPLE
 *	consecutive entries from a random position (DB_RECNUM makes the
 *	position cheap) by rank, which the owner of the records gives
 *	(cache_bdb_set_rank(); remember.c's: expired first, then ordinary,
 *	then those of a domain used lately,
 *	then a still-valid enforce policy), and within a rank by the store
 *	time of the envelope, oldest first.  When the sample holds only
 *	entries to keep, up to EVICT_SCAN more are looked at for anything
 *	else.  Replacing a key never evicts.
 * DIAGNOSTICS
 *	make_room() returns 0 or a Berkeley DB error, which the caller
 *	classifies like that of the put.
 * SEE ALSO
 *	cache_bdb.c, remember.c (remember_evict_rank), docs/cache.md
 */
#include <db.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_bdb.h"

/*
 * Evict one entry.  Sample EVICT_SAMPLE entries from a random position;
 * the victim is the one of lowest rank (the owner's rank function:
 * expired or unreadable first, then ordinary, then the ones to keep
 * longest), the one stored longest ago among equals.  When the sample
 * holds only entries to keep, look further (at most EVICT_SCAN more
 * entries) for anything else, so that those go only after everything
 * else, as far as one put may look.
 */
struct victim {
	unsigned char key[MAX_KEY];
	u_int32_t klen;			/* 0: none yet */
	int rank;
	int64_t stored;
};

static int
rank_of(const struct bdb_cache *c, const DBT *k, const DBT *d, int64_t now)
{
	char key[MAX_KEY];

	if (!valid_value(d->data, d->size))
		return CACHE_RANK_DROP;
	if (c->rank == NULL || k->size >= sizeof(key))
		return CACHE_RANK_ORDINARY;
	memcpy(key, k->data, k->size);
	key[k->size] = '\0';
	return c->rank(c->rank_arg, key,
	    (const unsigned char *)d->data + VAL_HDR, d->size - VAL_HDR, now);
}

static void
consider(const struct bdb_cache *c, struct victim *v, const DBT *k,
    const DBT *d, int64_t now)
{
	int rank = rank_of(c, k, d, now);
	int64_t stored = valid_value(d->data, d->size) ?
	    (int64_t)be_get((const unsigned char *)d->data + 4, 8) : 0;

	if (v->klen != 0 && (rank > v->rank ||
	    (rank == v->rank && stored >= v->stored)))
		return;
	memcpy(v->key, k->data, k->size);
	v->klen = k->size;
	v->rank = rank;
	v->stored = stored;
}

static int
evict_one(struct bdb_cache *c, db_recno_t n)
{
	unsigned char kbuf[MAX_KEY];
	struct victim v;
	int64_t now = (int64_t)time(NULL);
	db_recno_t recno;
	DBC *cur;
	DBT k, d;
	int i, ret;

	v.klen = 0;
	if ((ret = c->db->cursor(c->db, NULL, &cur, 0)) != 0)
		return ret;
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_REALLOC;
	recno = (db_recno_t)(1 + rng_next(c) % n);
	for (i = 0; i < EVICT_SAMPLE + EVICT_SCAN && (db_recno_t)i < n; i++) {
		if (i >= EVICT_SAMPLE && v.rank < CACHE_RANK_KEEP)
			break;		/* the sample had something else */
		memset(&k, 0, sizeof(k));
		k.data = kbuf;
		k.ulen = sizeof(kbuf);
		k.flags = DB_DBT_USERMEM;
		if (i == 0) {
			k.size = sizeof(recno);
			memcpy(kbuf, &recno, sizeof(recno));
			ret = cur->get(cur, &k, &d, DB_SET_RECNO);
		} else {
			ret = cur->get(cur, &k, &d, DB_NEXT);
			if (ret == DB_NOTFOUND)
				ret = cur->get(cur, &k, &d, DB_FIRST);
		}
		if (ret != 0)
			break;
		consider(c, &v, &k, &d, now);
		if (v.rank == CACHE_RANK_DROP)
			break;		/* nothing goes before it */
	}
	(void)cur->close(cur);
	free(d.data);
	if (ret != 0 && ret != DB_NOTFOUND && v.klen == 0)
		return ret;
	if (v.klen == 0)
		return 0;
	memset(&k, 0, sizeof(k));
	k.data = v.key;
	k.size = v.klen;
	ret = c->db->del(c->db, NULL, &k, 0);
	return ret == DB_NOTFOUND ? 0 : ret;
}

void
cache_bdb_set_rank(void *impl, cache_rank_fn *fn, void *arg)
{
	struct bdb_cache *c = impl;

	if (c != NULL) {
		c->rank = fn;
		c->rank_arg = arg;
	}
}

int
make_room(struct bdb_cache *c, DBT *k)
{
	DB_BTREE_STAT *st = NULL;
	db_recno_t n;
	int ret, i;

	ret = c->db->exists(c->db, NULL, k, 0);
	if (ret == 0)
		return 0;	/* replacing: the count does not grow */
	if (ret != DB_NOTFOUND)
		return ret;
	for (i = 0; i < EVICT_PER_PUT; i++) {
		if ((ret = c->db->stat(c->db, NULL, &st, DB_FAST_STAT)) != 0)
			return ret;
		n = st->bt_nkeys;
		free(st);
		if (n < c->max_entries || n == 0)
			return 0;
		if ((ret = evict_one(c, n)) != 0)
			return ret;
	}
	return 0;
}
