/*
 * NAME
 *	decision.c - construction, copying and release of decisions
 * SYNOPSIS
 *	struct stsdane_decision *decision_new(const char *domain)
 *	int decision_set_reason(struct stsdane_decision *d, fmt, ...)
 *	int decision_add_mx(struct stsdane_decision *d, const char *pattern)
 *	struct stsdane_decision *decision_copy(const struct stsdane_decision *)
 *	struct stsdane_decision *decision_none(domain, problem, why)
 *	struct stsdane_decision *decision_tempfail(domain, problem, why)
 *	void stsdane_decision_free(struct stsdane_decision *d)
 * DESCRIPTION
 *	A decision and everything it points to is plain malloc'd memory
 *	owned by the decision; stsdane_decision_free() releases all of it.
 *	decision_new() starts from "no policy, nothing required".
 * DIAGNOSTICS
 *	Allocation failures return NULL or -1; the decision stays valid.
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "decision.h"

struct stsdane_decision *
decision_new(const char *domain)
{
	struct stsdane_decision *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->domain = sd_strdup(domain != NULL ? domain : "");
	if (d->domain == NULL) {
		free(d);
		return NULL;
	}
	d->mechanism = STSDANE_MECH_NONE;
	d->mode = STSDANE_MODE_NONE;
	d->source = STSDANE_SOURCE_NETWORK;
	d->problem = STSDANE_PROBLEM_NONE;
	return d;
}

int
decision_set_reason(struct stsdane_decision *d, const char *fmt, ...)
{
	char buf[SD_ERRLEN];
	va_list ap;
	char *p;

	va_start(ap, fmt);
	(void)sd_vsnprintf(buf, sizeof(buf), fmt, ap);	/* a cut reason is fine */
	va_end(ap);
	p = sd_strdup(buf);
	if (p == NULL)
		return -1;
	free(d->reason);
	d->reason = p;
	return 0;
}

int
decision_add_mx(struct stsdane_decision *d, const char *pattern)
{
	char **mx;
	char *p = sd_strdup(pattern);

	if (p == NULL)
		return -1;
	mx = realloc(d->mx, (d->nmx + 1) * sizeof(*mx));
	if (mx == NULL) {
		free(p);
		return -1;
	}
	mx[d->nmx++] = p;
	d->mx = mx;
	return 0;
}

static void
dane_host_release(struct stsdane_dane_host *h)
{
	size_t i;

	for (i = 0; i < h->ntlsa; i++)
		free(h->tlsa[i].data);
	free(h->tlsa);
	free(h->name);
	free(h->base_domain);
}

SD_EXPORT void
stsdane_decision_free(struct stsdane_decision *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nmx; i++)
		free(d->mx[i]);
	free(d->mx);
	for (i = 0; i < d->ndane; i++)
		dane_host_release(&d->dane[i]);
	free(d->dane);
	free(d->domain);
	free(d->policy_id);
	free(d->reason);
	free(d);
}

static int
copy_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = sd_strdup(src);
	return *dst == NULL ? -1 : 0;
}

static int
copy_dane_host(struct stsdane_dane_host *dst,
    const struct stsdane_dane_host *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->preference = src->preference;
	dst->status = src->status;
	if (copy_str(&dst->name, src->name) < 0 ||
	    copy_str(&dst->base_domain, src->base_domain) < 0)
		return -1;
	if (src->ntlsa == 0)
		return 0;
	dst->tlsa = calloc(src->ntlsa, sizeof(*dst->tlsa));
	if (dst->tlsa == NULL)
		return -1;
	for (i = 0; i < src->ntlsa; i++) {
		const struct stsdane_tlsa *t = &src->tlsa[i];

		dst->tlsa[i] = *t;
		dst->tlsa[i].data = malloc(t->len ? t->len : 1);
		if (dst->tlsa[i].data == NULL) {
			dst->ntlsa = i;
			return -1;
		}
		memcpy(dst->tlsa[i].data, t->data, t->len);
		dst->ntlsa = i + 1;
	}
	return 0;
}

struct stsdane_decision *
decision_copy(const struct stsdane_decision *src)
{
	struct stsdane_decision *d;
	size_t i;

	d = decision_new(src->domain);
	if (d == NULL)
		return NULL;
	d->mechanism = src->mechanism;
	d->mode = src->mode;
	d->require_tls = src->require_tls;
	d->tempfail = src->tempfail;
	d->no_mail = src->no_mail;
	d->max_age = src->max_age;
	d->expires = src->expires;
	d->source = src->source;
	d->problem = src->problem;
	if (copy_str(&d->policy_id, src->policy_id) < 0 ||
	    copy_str(&d->reason, src->reason) < 0)
		goto fail;
	for (i = 0; i < src->nmx; i++)
		if (decision_add_mx(d, src->mx[i]) < 0)
			goto fail;
	if (src->ndane > 0) {
		d->dane = calloc(src->ndane, sizeof(*d->dane));
		if (d->dane == NULL)
			goto fail;
		for (i = 0; i < src->ndane; i++) {
			d->ndane = i + 1;
			if (copy_dane_host(&d->dane[i], &src->dane[i]) < 0)
				goto fail;
		}
	}
	return d;
fail:
	stsdane_decision_free(d);
	return NULL;
}

struct stsdane_decision *
decision_none(const char *domain, enum stsdane_problem problem,
    const char *why)
{
	struct stsdane_decision *d = decision_new(domain);

	if (d == NULL)
		return NULL;
	d->problem = problem;
	if (decision_set_reason(d, "no policy: %s", why) < 0) {
		stsdane_decision_free(d);
		return NULL;
	}
	return d;
}

struct stsdane_decision *
decision_tempfail(const char *domain, enum stsdane_problem problem,
    const char *why)
{
	struct stsdane_decision *d = decision_new(domain);

	if (d == NULL)
		return NULL;
	d->tempfail = 1;
	d->require_tls = 1;	/* should a caller deliver anyway: never clear */
	d->problem = problem;
	if (decision_set_reason(d, "%s", why) < 0) {
		stsdane_decision_free(d);
		return NULL;
	}
	return d;
}
