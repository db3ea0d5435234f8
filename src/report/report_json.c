/*
 * NAME
 *	report_json.c - one domain's RFC 8460 report as JSON, with jansson
 * SYNOPSIS
 *	char *stsdane_report_json(const struct report_json_in *in,
 *	    char *id, size_t idlen)
 * DESCRIPTION
 *	Built into stsdane-fetch.so, beside the HTTPS code, not into the
 *	library: a delivery process never maps libjansson, as it never maps
 *	libcurl.  send.c finds it with fetch_sym_load().  The names of the
 *	result and policy types come in with the data, so this file needs
 *	nothing of the library but util.c.
 *
 *	The report (RFC 8460 4.4): organization-name, date-range (the UTC
 *	day, start-datetime 00:00:00Z, end-datetime 23:59:59Z),
 *	contact-info, report-id ("DAY.DOMAIN@SUBMITTER"), policies[]
 *	with policy { policy-type, policy-string[], policy-domain,
 *	mx-host[] }, summary { total-successful-session-count,
 *	total-failure-session-count } and failure-details[]; past
 *	REPORT_MAX_DETAILS entries, one "validation-failure" entry with
 *	failure-reason-code "details-truncated" counts the rest.
 * DIAGNOSTICS
 *	NULL on memory failure.
 * SEE ALSO
 *	report.c, send.c, RFC 8460 section 4
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

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
failure_json(const struct report_json_in *in, const struct report_fail *f)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	(void)json_object_set_new(o, "result-type",
	    json_string(in->result_names[f->result]));
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
policy_json(const struct report_json_in *in, const struct report_domain *dm,
    const struct report_policy *p)
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
	    json_string(in->ptype_names[p->ptype]));
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
		(void)json_array_append_new(det, failure_json(in,
		    &p->fail[i]));
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
		(void)json_array_append_new(det, failure_json(in, &more));
	}
	if (json_array_size(det) > 0)
		(void)json_object_set_new(o, "failure-details", det);
	else
		json_decref(det);
	return o;
}

char *stsdane_report_json(const struct report_json_in *in, char *id,
    size_t idlen);

SD_EXPORT char *
stsdane_report_json(const struct report_json_in *in, char *id, size_t idlen)
{
	const struct settings *s = in->settings;
	const struct report_day *rd = in->day;
	const struct report_domain *dm = in->domain;
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
		    policy_json(in, dm, &dm->policies[i]));
	(void)json_object_set_new(top, "policies", pols);
	pols = NULL;
	out = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	json_decref(top);
	json_decref(range);
	json_decref(pols);
	return out;
}

