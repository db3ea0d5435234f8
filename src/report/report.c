/*
 * NAME
 *	report.c - one day of TLS-RPT sessions as RFC 8460 reports
 * SUMMARY
 *	aggregate a day file per domain and policy; JSON with jansson;
 *	gzip with zlib
 * SYNOPSIS
 *	#include "report.h"
 *
 *	int report_day_load(const struct settings *s, const char *day,
 *	    struct report_day *rd, char *err, size_t errlen)
 *	char *report_json(const struct settings *s,
 *	    const struct report_day *rd, const struct report_domain *dm,
 *	    char *id, size_t idlen)
 *	unsigned char *report_gzip(const char *buf, size_t len,
 *	    size_t *outlen)
 * DESCRIPTION
 *	Sessions are grouped by policy domain, then by policy (type,
 *	string, MX patterns: a domain whose policy changed during the day
 *	has two), then failures by every field RFC 8460 4.4 lists for
 *	them.  A report holds one domain's records only: the domain is the
 *	first key, and report_json() is handed one report_domain.  At most
 *	REPORT_MAX_DETAILS failure-details entries are kept per policy;
 *	the failures past them still count in the summary and are named
 *	in one "validation-failure" entry with failure-reason-code
 *	"details-truncated", so the counts always add up.
 *
 *	The report (RFC 8460 4.4): organization-name, date-range (the UTC
 *	day, start-datetime 00:00:00Z, end-datetime 23:59:59Z),
 *	contact-info, report-id ("DAY.DOMAIN@SUBMITTER"), policies[]
 *	with policy { policy-type, policy-string[], policy-domain,
 *	mx-host[] }, summary { total-successful-session-count,
 *	total-failure-session-count } and failure-details[].
 * DIAGNOSTICS
 *	-1 or NULL with err where there is one: the store cannot be read,
 *	out of memory.
 * SEE ALSO
 *	store.c, send.c, RFC 8460 section 4
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report.h"
#include "util.h"

static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *q;

	if (n < *cap)
		return p;
	ncap = *cap ? *cap * 2 : 8;
	q = realloc(p, ncap * size);
	if (q == NULL)
		return NULL;
	memset((char *)q + *cap * size, 0, (ncap - *cap) * size);
	*cap = ncap;
	return q;
}

static struct report_domain *
find_domain(struct report_day *rd, const char *name)
{
	struct report_domain *d;
	size_t i;

	for (i = 0; i < rd->ndomains; i++)
		if (strcmp(rd->domains[i].name, name) == 0)
			return &rd->domains[i];
	d = grow(rd->domains, &rd->cap, rd->ndomains, sizeof(*d));
	if (d == NULL)
		return NULL;
	rd->domains = d;
	d = &rd->domains[rd->ndomains++];
	(void)sd_strlcpy(d->name, name, sizeof(d->name));
	return d;
}

static struct report_policy *
find_policy(struct report_domain *dm, const struct store_rec *r)
{
	struct report_policy *p;
	size_t i;

	for (i = 0; i < dm->npolicies; i++) {
		p = &dm->policies[i];
		if (p->ptype == r->ptype && strcmp(p->policy, r->policy) == 0 &&
		    strcmp(p->mx_patterns, r->mx_patterns) == 0)
			return p;
	}
	p = grow(dm->policies, &dm->cap, dm->npolicies, sizeof(*p));
	if (p == NULL)
		return NULL;
	dm->policies = p;
	p = &dm->policies[dm->npolicies++];
	p->ptype = r->ptype;
	(void)sd_strlcpy(p->policy, r->policy, sizeof(p->policy));
	(void)sd_strlcpy(p->mx_patterns, r->mx_patterns,
	    sizeof(p->mx_patterns));
	return p;
}

#define SAME(f) (strcmp(a->f, r->f) == 0)

static int
add_failure(struct report_policy *p, const struct store_rec *r)
{
	struct report_fail *a;
	size_t i;

	p->nfailure++;
	for (i = 0; i < p->nfail; i++) {
		a = &p->fail[i];
		if (a->result == r->result && SAME(sending_ip) &&
		    SAME(mx_hostname) && SAME(helo) && SAME(receiving_ip) &&
		    SAME(info) && SAME(reason_code)) {
			a->count++;
			return 0;
		}
	}
	if (p->nfail >= REPORT_MAX_DETAILS) {
		p->dropped++;
		return 0;
	}
	a = grow(p->fail, &p->capfail, p->nfail, sizeof(*a));
	if (a == NULL)
		return -1;
	p->fail = a;
	a = &p->fail[p->nfail++];
	a->result = r->result;
#define CP(f) (void)sd_strlcpy(a->f, r->f, sizeof(a->f));
	CP(sending_ip) CP(mx_hostname) CP(helo) CP(receiving_ip) CP(info)
	CP(reason_code)
#undef CP
	a->count = 1;
	return 0;
}

static int
add_rec(void *arg, const struct store_rec *r)
{
	struct report_day *rd = arg;
	struct report_domain *dm;
	struct report_policy *p;

	if (r->domain[0] == '\0' || r->ptype > STORE_PTYPE_TLSA ||
	    r->result >= REPORT_NRESULTS) {
		rd->bad++;
		return 0;
	}
	dm = find_domain(rd, r->domain);
	p = dm != NULL ? find_policy(dm, r) : NULL;
	if (p == NULL)
		return -1;
	p->nresult[r->result]++;
	if (r->result == STSDANE_TLSRPT_SUCCESS) {
		p->nsuccess++;
		return 0;
	}
	return add_failure(p, r);
}

void
report_day_release(struct report_day *rd)
{
	size_t i, j;

	for (i = 0; i < rd->ndomains; i++) {
		for (j = 0; j < rd->domains[i].npolicies; j++)
			free(rd->domains[i].policies[j].fail);
		free(rd->domains[i].policies);
	}
	free(rd->domains);
	memset(rd, 0, sizeof(*rd));
}

int
report_day_load(const struct settings *s, const char *day,
    struct report_day *rd, char *err, size_t errlen)
{
	char dir[4096];
	size_t bad = 0;
	int rc;

	memset(rd, 0, sizeof(*rd));
	(void)sd_strlcpy(rd->day, day, sizeof(rd->day));
	if (report_store_dir(s, dir, sizeof(dir)) != 0) {
		(void)sd_snprintf(err, errlen, "no store (set tlsrpt_dir or "
		    "cache_path)");
		return -1;
	}
	rc = store_read_day(dir, day, add_rec, rd, &bad, err, errlen);
	rd->bad += bad;
	if (rc == 0 && rd->ndomains > 0 && rd->domains == NULL)
		rc = -1;
	if (rc != 0)
		report_day_release(rd);
	return rc;
}

/* A string list split at sep, as a JSON array. */
static json_t *
split(const char *s, char sep)
{
	json_t *a = json_array();
	const char *p = s, *q;

	while (a != NULL && *p != '\0') {
		q = strchr(p, sep);
		if (q == NULL)
			q = p + strlen(p);
		if (q > p)
			(void)json_array_append_new(a,
			    json_stringn(p, (size_t)(q - p)));
		p = *q ? q + 1 : q;
	}
	return a;
}

static void
set_str(json_t *o, const char *key, const char *v)
{
	if (v != NULL && v[0] != '\0')
		(void)json_object_set_new(o, key, json_string(v));
}

static json_t *
failure_json(const struct report_fail *f)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	(void)json_object_set_new(o, "result-type",
	    json_string(stsdane_tlsrpt_result_name(f->result)));
	set_str(o, "sending-mta-ip", f->sending_ip);
	set_str(o, "receiving-mx-hostname", f->mx_hostname);
	set_str(o, "receiving-mx-helo", f->helo);
	set_str(o, "receiving-ip", f->receiving_ip);
	(void)json_object_set_new(o, "failed-session-count",
	    json_integer((json_int_t)f->count));
	set_str(o, "additional-information", f->info);
	set_str(o, "failure-reason-code", f->reason_code);
	return o;
}

static json_t *
policy_json(const struct report_domain *dm, const struct report_policy *p)
{
	json_t *o = json_object(), *pol = json_object(), *sum = json_object();
	json_t *det = json_array();
	size_t i;

	if (o == NULL || pol == NULL || sum == NULL || det == NULL) {
		json_decref(o);
		json_decref(pol);
		json_decref(sum);
		json_decref(det);
		return NULL;
	}
	(void)json_object_set_new(pol, "policy-type",
	    json_string(store_ptype_name(p->ptype)));
	if (p->policy[0] != '\0')
		(void)json_object_set_new(pol, "policy-string",
		    split(p->policy, '\n'));
	(void)json_object_set_new(pol, "policy-domain", json_string(dm->name));
	if (p->mx_patterns[0] != '\0')
		(void)json_object_set_new(pol, "mx-host",
		    split(p->mx_patterns, ' '));
	(void)json_object_set_new(o, "policy", pol);
	(void)json_object_set_new(sum, "total-successful-session-count",
	    json_integer((json_int_t)p->nsuccess));
	(void)json_object_set_new(sum, "total-failure-session-count",
	    json_integer((json_int_t)p->nfailure));
	(void)json_object_set_new(o, "summary", sum);
	for (i = 0; i < p->nfail; i++)
		(void)json_array_append_new(det, failure_json(&p->fail[i]));
	if (p->dropped > 0) {
		struct report_fail more;

		memset(&more, 0, sizeof(more));
		more.result = STSDANE_TLSRPT_VALIDATION_FAILURE;
		more.count = p->dropped;
		(void)sd_strlcpy(more.reason_code, "details-truncated",
		    sizeof(more.reason_code));
		(void)sd_strlcpy(more.info, "failures beyond the first "
		    "distinct ones of this report, of any result type",
		    sizeof(more.info));
		(void)json_array_append_new(det, failure_json(&more));
	}
	if (json_array_size(det) > 0)
		(void)json_object_set_new(o, "failure-details", det);
	else
		json_decref(det);
	return o;
}

char *
report_json(const struct settings *s, const struct report_day *rd,
    const struct report_domain *dm, char *id, size_t idlen)
{
	const char *submitter = s->tlsrpt_submitter != NULL ?
	    s->tlsrpt_submitter : "localhost";
	json_t *top = json_object(), *range = json_object(), *pols;
	char start[32], end[32];
	char *out = NULL;
	size_t i;

	pols = json_array();
	if (top == NULL || range == NULL || pols == NULL)
		goto out;
	(void)sd_snprintf(start, sizeof(start), "%sT00:00:00Z", rd->day);
	(void)sd_snprintf(end, sizeof(end), "%sT23:59:59Z", rd->day);
	(void)sd_snprintf(id, idlen, "%s.%s@%s", rd->day, dm->name,
	    submitter);
	(void)json_object_set_new(top, "organization-name", json_string(
	    s->tlsrpt_org != NULL ? s->tlsrpt_org : submitter));
	(void)json_object_set_new(range, "start-datetime", json_string(start));
	(void)json_object_set_new(range, "end-datetime", json_string(end));
	(void)json_object_set_new(top, "date-range", range);
	range = NULL;
	(void)json_object_set_new(top, "contact-info", json_string(
	    s->tlsrpt_contact != NULL ? s->tlsrpt_contact :
	    "postmaster@localhost"));
	(void)json_object_set_new(top, "report-id", json_string(id));
	for (i = 0; i < dm->npolicies; i++)
		(void)json_array_append_new(pols,
		    policy_json(dm, &dm->policies[i]));
	(void)json_object_set_new(top, "policies", pols);
	pols = NULL;
	out = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	json_decref(top);
	json_decref(range);
	json_decref(pols);
	return out;
}

unsigned char *
report_gzip(const char *buf, size_t len, size_t *outlen)
{
	unsigned char *out;
	z_stream z;
	size_t cap;
	int rc;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer, RFC 1952 */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, (uLong)len) + 32;
	out = malloc(cap);
	if (out == NULL) {
		(void)deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)buf;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	(void)deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}
