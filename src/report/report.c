/*
 * NAME
 *	report.c - one day of TLS-RPT sessions as RFC 8460 reports
 * SUMMARY
 *	aggregate a day file per domain and policy; gzip with zlib (the
 *	JSON is report_json.c's, in stsdane-fetch.so)
 * SYNOPSIS
 *	#include "report.h"
 *
 *	int report_day_load(const struct settings *s, const char *day,
 *	    struct report_day *rd, char *err, size_t errlen)
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
