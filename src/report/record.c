/*
 * NAME
 *	record.c - what a delivery records of one TLS session (RFC 8460)
 * SUMMARY
 *	the result type names, the policy a decision stands for, the append
 * SYNOPSIS
 *	#include "stsdane.h"
 *
 *	int stsdane_tlsrpt_record(stsdane_ctx *ctx,
 *	    const struct stsdane_tlsrpt_session *s,
 *	    const struct stsdane_decision *d, const char *host)
 *	int stsdane_tlsrpt_list(stsdane_ctx *ctx, const char *day,
 *	    stsdane_tlsrpt_count_fn *fn, void *arg)
 * DESCRIPTION
 *	The one place that says which RFC 8460 policy a decision stands
 *	for, so that every adapter records the same thing:
 *
 *	  DANE           "tlsa", the host's usable TLSA records
 *	                 ("U S M HEX" each), mx-host the MX host; a host
 *	                 whose records are all unusable is "tlsa-invalid"
 *	  MTA-STS        "sts", the policy's lines (version, mode, mx...,
 *	                 max_age), mx-host its patterns
 *	  DNSSEC bogus   "tlsa", "dnssec-invalid" (RFC 8460 4.3.3): the
 *	                 validation that failed is the one DANE depends on
 *	  no policy because the policy could not be had although the TXT
 *	  record was there: "sts" with an empty policy string and
 *	  "sts-policy-fetch-error" (no address, connection, timeout,
 *	  HTTP status, redirect), "sts-webpki-invalid" (the policy host's
 *	  certificate) or "sts-policy-invalid" (media type, size, syntax,
 *	  a broken TXT record); whatever the session did afterwards, it
 *	  went without the policy, and that is the failure to report
 *	  otherwise       "no-policy-found"
 *
 *	The store is settings' tlsrpt_dir, or beside the cache: cache_path
 *	with "-tlsrpt" appended (/var/cache/stsdane-tlsrpt for
 *	/var/cache/stsdane); without either nothing is recorded.
 * DIAGNOSTICS
 *	STSDANE_OK (and nothing done) when the tlsrpt setting is 0;
 *	STSDANE_ERR_IO with stsdane_error() set when the store cannot be
 *	written or is full; not logged here: a delivery path calls this for
 *	every session, and its caller says it once (exim_tlsrpt.c).
 * SEE ALSO
 *	store.c, report.c, include/stsdane.h
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "report.h"
#include "store.h"
#include "util.h"

static const char *const RESULT_NAMES[] = {
	"success",
	"starttls-not-supported",
	"certificate-host-mismatch",
	"certificate-expired",
	"certificate-not-trusted",
	"validation-failure",
	"sts-policy-fetch-error",
	"sts-policy-invalid",
	"sts-webpki-invalid",
	"tlsa-invalid",
	"dnssec-invalid",
	"dane-required",
};
#define NRESULTS (sizeof(RESULT_NAMES) / sizeof(RESULT_NAMES[0]))
_Static_assert(NRESULTS == REPORT_NRESULTS, "report.h counts results");

SD_EXPORT const char *
stsdane_tlsrpt_result_name(enum stsdane_tlsrpt_result r)
{
	return (unsigned)r < NRESULTS ? RESULT_NAMES[r] : NULL;
}

SD_EXPORT int
stsdane_tlsrpt_result_parse(const char *name)
{
	size_t i;

	for (i = 1; name != NULL && i < NRESULTS; i++)
		if (strcmp(name, RESULT_NAMES[i]) == 0)
			return (int)i;
	return -1;
}

int
report_store_dir(const struct settings *s, char *buf, size_t len)
{
	size_t n;

	if (s->tlsrpt_dir != NULL)
		return sd_strlcpy(buf, s->tlsrpt_dir, len);
	if (s->cache_path == NULL)
		return -1;
	n = strlen(s->cache_path);
	while (n > 1 && s->cache_path[n - 1] == '/')
		n--;
	if (n + sizeof("-tlsrpt") > len)
		return -1;
	memcpy(buf, s->cache_path, n);
	memcpy(buf + n, "-tlsrpt", sizeof("-tlsrpt"));
	return 0;
}

/* Append s to dst (bounded, silently cut: the field is informative). */
static void
cat(char *dst, size_t len, const char *sep, const char *s)
{
	size_t n = strlen(dst);

	if (n > 0 && n + strlen(sep) < len) {
		memcpy(dst + n, sep, strlen(sep) + 1);
		n += strlen(sep);
	}
	if (n < len)
		(void)sd_strlcpy(dst + n, s, len - n);
}

static void
copy(char *dst, size_t len, const char *s)
{
	if (s != NULL)
		(void)sd_strlcpy(dst, s, len);
}

/* Decimal of v into b (at least 11 bytes); returns b. */
static char *
utoa(unsigned v, char *b)
{
	char t[12];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		b[i] = t[n - 1 - i];
	b[n] = '\0';
	return b;
}

/* Append "\n" (unless dst is empty), then a, then b, bounded. */
static void
line(char *dst, size_t len, const char *a, const char *b)
{
	size_t n = strlen(dst);

	if (n > 0 && n + 1 < len)
		dst[n++] = '\n';
	dst[n < len ? n : len - 1] = '\0';
	if (n < len)
		(void)sd_strlcpy(dst + n, a, len - n);
	n = strlen(dst);
	if (n < len)
		(void)sd_strlcpy(dst + n, b, len - n);
}

/*
 * The host's TLSA records, "U S M HEX" each.  No snprintf() here nor
 * below: this runs in the delivery path, where the first call of the
 * printf family in a process costs more than the whole record.
 */
static void
tlsa_string(char *dst, size_t len, const struct stsdane_dane_host *h)
{
	static const char hex[] = "0123456789abcdef";
	char one[16 + 2 * 64 + 1], num[12];
	size_t i, j, n;

	for (i = 0; i < h->ntlsa; i++) {
		const struct stsdane_tlsa *t = &h->tlsa[i];
		unsigned f[3] = { t->usage, t->selector, t->mtype };
		int k;

		one[0] = '\0';
		for (k = 0, n = 0; k < 3; k++) {
			(void)utoa(f[k], num);
			memcpy(one + n, num, strlen(num));
			n += strlen(num);
			one[n++] = ' ';
		}
		for (j = 0; j < t->len && n + 2 < sizeof(one); j++) {
			one[n++] = hex[t->data[j] >> 4];
			one[n++] = hex[t->data[j] & 15];
		}
		one[n] = '\0';
		line(dst, len, one, "");
	}
}

/* What a decision without a policy failed at, or SUCCESS: it had none. */
static enum stsdane_tlsrpt_result
missed_policy(const struct stsdane_decision *d)
{
	switch (d->problem) {
	case STSDANE_PROBLEM_POLICY_HOST_DNS:
	case STSDANE_PROBLEM_CONNECT:
	case STSDANE_PROBLEM_TIMEOUT:
	case STSDANE_PROBLEM_HTTP_REDIRECT:
	case STSDANE_PROBLEM_HTTP_STATUS:
	case STSDANE_PROBLEM_FETCH_OTHER:
		return STSDANE_TLSRPT_STS_POLICY_FETCH_ERROR;
	case STSDANE_PROBLEM_TLS:
		return STSDANE_TLSRPT_STS_WEBPKI_INVALID;
	case STSDANE_PROBLEM_TXT_SYNTAX:
	case STSDANE_PROBLEM_TXT_MULTIPLE:
	case STSDANE_PROBLEM_MEDIA_TYPE:
	case STSDANE_PROBLEM_TOO_LARGE:
	case STSDANE_PROBLEM_POLICY_SYNTAX:
		return STSDANE_TLSRPT_STS_POLICY_INVALID;
	default:
		return STSDANE_TLSRPT_SUCCESS;
	}
}

void
report_policy_of(const struct stsdane_decision *d, const char *host,
    struct store_rec *r)
{
	struct stsdane_host_rules hr;
	enum stsdane_tlsrpt_result missed;
	char num[12];
	size_t i;

	if (d == NULL)
		return;
	copy(r->domain, sizeof(r->domain), d->domain);
	if (d->tempfail && d->problem == STSDANE_PROBLEM_DNS_BOGUS) {
		r->ptype = STORE_PTYPE_TLSA;
		if (r->result == STSDANE_TLSRPT_SUCCESS)
			r->result = STSDANE_TLSRPT_DNSSEC_INVALID;
		return;
	}
	if (d->mechanism == STSDANE_MECH_DANE) {
		r->ptype = STORE_PTYPE_TLSA;
		if (host == NULL || stsdane_host_check(d, host, &hr) != 0 ||
		    hr.dane == NULL)
			return;
		copy(r->mx_patterns, sizeof(r->mx_patterns), hr.dane->name);
		tlsa_string(r->policy, sizeof(r->policy), hr.dane);
		if (hr.dane->status == STSDANE_DANE_UNUSABLE &&
		    r->result == STSDANE_TLSRPT_SUCCESS)
			r->result = STSDANE_TLSRPT_TLSA_INVALID;
		return;
	}
	if (d->mechanism == STSDANE_MECH_MTASTS) {
		r->ptype = STORE_PTYPE_STS;
		line(r->policy, sizeof(r->policy), "version: STSv1", "");
		line(r->policy, sizeof(r->policy), "mode: ",
		    stsdane_mode_name(d->mode));
		for (i = 0; i < d->nmx; i++) {
			line(r->policy, sizeof(r->policy), "mx: ", d->mx[i]);
			cat(r->mx_patterns, sizeof(r->mx_patterns), " ",
			    d->mx[i]);
		}
		line(r->policy, sizeof(r->policy), "max_age: ",
		    utoa((unsigned)d->max_age, num));
		return;
	}
	missed = missed_policy(d);
	if (missed != STSDANE_TLSRPT_SUCCESS) {
		r->ptype = STORE_PTYPE_STS;
		r->result = missed;
		if (r->reason_code[0] == '\0')
			copy(r->reason_code, sizeof(r->reason_code),
			    stsdane_problem_name(d->problem));
		if (r->info[0] == '\0' && d->reason != NULL)
			copy(r->info, sizeof(r->info), d->reason);
	}
}

/* The context's descriptor of the day file of `when', opened if need be. */
static int
day_fd(stsdane_ctx *ctx, const char *dir, int64_t when, int create,
    char *err, size_t errlen)
{
	struct ctx_tlsrpt *t = ctx_tlsrpt(ctx);
	char day[16];

	if (store_day_name(when, day, sizeof(day)) != 0) {
		(void)sd_strlcpy(err, "no day for the time", errlen);
		return -1;
	}
	if (t->fd >= 0 && strcmp(t->day, day) == 0)
		return 0;
	if (t->fd >= 0)
		(void)close(t->fd);
	t->fd = -1;
	if (store_open(dir, when, create, &t->fd, err, errlen) != 0)
		return -1;
	(void)sd_strlcpy(t->day, day, sizeof(t->day));
	return 0;
}

void
report_prepare(stsdane_ctx *ctx)
{
	char dir[4096], err[SD_ERRLEN];

	if (!ctx_settings(ctx)->tlsrpt ||
	    report_store_dir(ctx_settings(ctx), dir, sizeof(dir)) != 0)
		return;
	/* never made here: whoever asks first (sts-dane-query as root,
	   say) must not own the file the MTA's deliveries write to */
	if (day_fd(ctx, dir, (int64_t)time(NULL), 0, err, sizeof(err)) == 0)
		store_warm(ctx_tlsrpt(ctx)->fd);
}

SD_EXPORT int
stsdane_tlsrpt_record(stsdane_ctx *ctx,
    const struct stsdane_tlsrpt_session *s,
    const struct stsdane_decision *d, const char *host)
{
	const struct settings *set;
	struct store_rec r;
	char dir[4096], err[SD_ERRLEN];
	int rc;

	if (ctx == NULL || s == NULL ||
	    stsdane_tlsrpt_result_name(s->result) == NULL)
		return STSDANE_ERR_INVAL;
	set = ctx_settings(ctx);
	if (!set->tlsrpt)
		return STSDANE_OK;
	if (report_store_dir(set, dir, sizeof(dir)) != 0)
		return ctx_fail(ctx, STSDANE_ERR_IO, "tlsrpt: no store "
		    "(set tlsrpt_dir or cache_path)");
	memset(&r, 0, sizeof(r));
	r.when = (int64_t)time(NULL);
	r.result = (uint8_t)s->result;
	copy(r.mx_hostname, sizeof(r.mx_hostname),
	    s->receiving_mx_hostname != NULL ? s->receiving_mx_hostname :
	    host);
	copy(r.receiving_ip, sizeof(r.receiving_ip), s->receiving_ip);
	copy(r.sending_ip, sizeof(r.sending_ip), s->sending_mta_ip);
	copy(r.helo, sizeof(r.helo), s->receiving_mx_helo);
	copy(r.reason_code, sizeof(r.reason_code), s->failure_reason_code);
	copy(r.info, sizeof(r.info), s->additional_information);
	report_policy_of(d, host, &r);
	if (r.domain[0] == '\0')
		return STSDANE_ERR_INVAL;
	rc = day_fd(ctx, dir, r.when, 1, err, sizeof(err));
	if (rc == 0)
		rc = store_write(ctx_tlsrpt(ctx)->fd, &r, err, sizeof(err));
	if (rc == 0)
		return STSDANE_OK;
	return ctx_fail(ctx, STSDANE_ERR_IO, "tlsrpt: %s: %s", dir, err);
}

static int
today(char *buf, size_t len)
{
	return store_day_name((int64_t)time(NULL), buf, len);
}

SD_EXPORT int
stsdane_tlsrpt_list(stsdane_ctx *ctx, const char *day,
    stsdane_tlsrpt_count_fn *fn, void *arg)
{
	struct report_day rd;
	char dbuf[16], err[SD_ERRLEN];
	size_t i, j, k;
	int64_t t;
	int rc = STSDANE_OK;

	if (ctx == NULL || fn == NULL)
		return STSDANE_ERR_INVAL;
	if (day == NULL) {
		if (today(dbuf, sizeof(dbuf)) != 0)
			return STSDANE_ERR_INVAL;
		day = dbuf;
	}
	if (store_day_parse(day, &t) != 0)
		return ctx_fail(ctx, STSDANE_ERR_INVAL, "tlsrpt: '%s' is not "
		    "a day (YYYY-MM-DD)", day);
	if (report_day_load(ctx_settings(ctx), day, &rd, err,
	    sizeof(err)) != 0)
		return ctx_fail(ctx, STSDANE_ERR_IO, "tlsrpt: %s", err);
	for (i = 0; i < rd.ndomains && rc == STSDANE_OK; i++) {
		const struct report_domain *dm = &rd.domains[i];
		/* counts per policy type and result type */
		uint64_t c[3][NRESULTS];

		memset(c, 0, sizeof(c));
		for (j = 0; j < dm->npolicies; j++) {
			const struct report_policy *p = &dm->policies[j];

			for (k = 0; k < NRESULTS; k++)
				c[p->ptype][k] += p->nresult[k];
		}
		for (j = 0; j < 3 && rc == STSDANE_OK; j++)
			for (k = 0; k < NRESULTS; k++)
				if (c[j][k] > 0 && fn(arg, dm->name,
				    store_ptype_name((unsigned)j),
				    (enum stsdane_tlsrpt_result)k, c[j][k])) {
					rc = 1;
					break;
				}
	}
	report_day_release(&rd);
	return STSDANE_OK;
}
