/*
 * NAME
 *	fake_cache.c - in-memory store (struct cache_ops) for unit tests
 * SYNOPSIS
 *	#include "fakes.h"
 * DESCRIPTION
 *	A small array of keys and byte strings; values are copied in and
 *	out, as a real store would.
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

/* ---- cache -------------------------------------------------------------- */

void
fake_cache_init(struct fake_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void
fake_cache_release(struct fake_cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->e[i].val);
	c->n = 0;
}

static struct fake_cache_entry *
cache_find(const struct fake_cache *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0)
			return (struct fake_cache_entry *)&c->e[i];
	return NULL;
}

static int
fc_get(void *impl, const char *key, unsigned char **val, size_t *len)
{
	struct fake_cache *c = impl;
	struct fake_cache_entry *e;

	c->nget++;
	if (c->fail)
		return STSDANE_ERR_CACHE;
	e = cache_find(c, key);
	if (e == NULL)
		return STSDANE_ERR_NOTFOUND;
	*val = malloc(e->len ? e->len : 1);
	if (*val == NULL)
		return STSDANE_ERR_CACHE;
	memcpy(*val, e->val, e->len);
	*len = e->len;
	return STSDANE_OK;
}

static int
fc_put(void *impl, const char *key, const unsigned char *val, size_t len)
{
	struct fake_cache *c = impl;
	struct fake_cache_entry *e;
	unsigned char *copy;

	c->nput++;
	if (c->fail || strlen(key) >= sizeof(c->e[0].key))
		return STSDANE_ERR_CACHE;
	copy = malloc(len ? len : 1);
	if (copy == NULL)
		return STSDANE_ERR_CACHE;
	memcpy(copy, val, len);
	e = cache_find(c, key);
	if (e == NULL) {
		if (c->n >= FAKE_CACHE_MAX) {
			free(copy);
			return STSDANE_ERR_CACHE;
		}
		e = &c->e[c->n++];
		memcpy(e->key, key, strlen(key) + 1);
	} else {
		free(e->val);
	}
	e->val = copy;
	e->len = len;
	return STSDANE_OK;
}

static int
fc_del(void *impl, const char *key)
{
	struct fake_cache *c = impl;
	struct fake_cache_entry *e;

	c->ndel++;
	if (c->fail)
		return STSDANE_ERR_CACHE;
	e = cache_find(c, key);
	if (e == NULL)
		return STSDANE_ERR_NOTFOUND;
	free(e->val);
	*e = c->e[--c->n];
	return STSDANE_OK;
}

static int
fc_foreach(void *impl, int (*fn)(void *arg, const char *key,
    const unsigned char *val, size_t len), void *arg)
{
	struct fake_cache *c = impl;
	size_t i;

	if (c->fail)
		return STSDANE_ERR_CACHE;
	for (i = 0; i < c->n; i++)
		if (fn(arg, c->e[i].key, c->e[i].val, c->e[i].len) != 0)
			break;
	return STSDANE_OK;
}

const struct cache_ops fake_cache_ops = {
	fc_get, fc_put, fc_del, fc_foreach
};

struct stsdane_decision *
fake_cache_peek(const struct fake_cache *c, const char *key,
    int64_t *learned)
{
	struct fake_cache_entry *e = cache_find(c, key);
	struct stsdane_decision *d = NULL;
	int64_t when = 0;

	if (e == NULL ||
	    cache_record_decode(e->val, e->len, &d, &when) != STSDANE_OK)
		return NULL;
	if (learned != NULL)
		*learned = when;
	return d;
}

int
fake_cache_has(const struct fake_cache *c, const char *key)
{
	return cache_find(c, key) != NULL;
}

