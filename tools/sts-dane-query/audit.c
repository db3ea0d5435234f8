/*
 * NAME
 *	audit.c - sts-dane-query --audit and --check-tlsrpt
 * SUMMARY
 *	render an audit report of the library as text or JSON; check a
 *	TLS-RPT record set offline
 * SYNOPSIS
 *	#include "cli_audit.h"
 *
 *	int cli_audit(const struct stsdane_plugin *P, stsdane_ctx *ctx,
 *	    const char *domain, int json, unsigned warn_days);
 *	int cli_check_tlsrpt(const struct stsdane_plugin *P, int json,
 *	    char **recs, int n);
 * DESCRIPTION
 *	The report is the library's (stsdane_audit(), through the plugin
 *	table); this file only shows it.  Text: the findings grouped by
 *	layer, one line each, marked with a check mark (info), '!'
 *	(warning) or a cross (error), a verdict per layer, the overall
 *	verdict, and the fixes of the errors and warnings, numbered.
 *	JSON: one object, {"domain", "verdict", "layers", "findings",
 *	"timing"}.
 * DIAGNOSTICS
 *	cli_audit() returns 0 for pass or warn, 1 for fail, 4 when the
 *	audit could not run (the reason on stderr).
 * SEE ALSO
 *	main.c, src/audit/audit.c, docs/sts-dane-query.1
 */
#include <stdio.h>
#include <string.h>

#include "cli_audit.h"
#include "json.h"

static const char *
mark(enum stsdane_severity s)
{
	switch (s) {
	case STSDANE_SEV_ERROR: return "\u2717";
	case STSDANE_SEV_WARNING: return "!";
	case STSDANE_SEV_INFO: break;
	}
	return "\u2713";
}

static void
where(const struct stsdane_finding *f, char *buf, size_t len)
{
	buf[0] = '\0';
	if (f->host != NULL && f->address != NULL)
		snprintf(buf, len, " [%s %s]", f->host, f->address);
	else if (f->host != NULL)
		snprintf(buf, len, " [%s]", f->host);
}

static void
show_text(const struct stsdane_plugin *P, const struct stsdane_audit *a)
{
	const struct stsdane_finding *f;
	size_t i, nerr = 0, nwarn = 0, nfix = 0;
	unsigned l;
	char at[600];

	for (i = 0; i < a->nfindings; i++) {
		nerr += a->findings[i].severity == STSDANE_SEV_ERROR;
		nwarn += a->findings[i].severity == STSDANE_SEV_WARNING;
	}
	printf("audit of %s: %s (%zu error%s, %zu warning%s)\n", a->domain,
	    P->verdict_name(a->verdict), nerr, nerr == 1 ? "" : "s", nwarn,
	    nwarn == 1 ? "" : "s");
	if (a->decision != NULL)
		printf("senders decide: %s, mode %s, %s%s%s\n",
		    P->mechanism_name(a->decision->mechanism),
		    P->mode_name(a->decision->mode), a->decision->tempfail ?
		    "defer" : a->decision->require_tls ? "TLS required" :
		    "TLS optional", a->decision->reason != NULL &&
		    a->decision->reason[0] != '\0' ? ": " : "",
		    a->decision->reason != NULL ? a->decision->reason : "");
	for (l = 0; l < STSDANE_AUDIT_LAYERS; l++) {
		printf("\n%s: %s\n", P->audit_layer_name(l),
		    P->verdict_name(a->layers[l]));
		for (i = 0; i < a->nfindings; i++) {
			f = &a->findings[i];
			if (f->layer != l)
				continue;
			where(f, at, sizeof(at));
			printf("  %s %s%s: %s\n", mark(f->severity), f->id, at,
			    f->message);
		}
	}
	for (i = 0; i < a->nfindings; i++) {
		f = &a->findings[i];
		if (f->severity == STSDANE_SEV_INFO || f->fix == NULL)
			continue;
		if (nfix++ == 0)
			printf("\nto fix:\n");
		where(f, at, sizeof(at));
		printf("  %zu. %s%s: %s\n", nfix, f->id, at, f->fix);
	}
	printf("\nsmtp sessions: %zu in %lld ms (slowest %lld ms); audit "
	    "%lld ms\n", a->nprobes, (long long)a->probe_ms,
	    (long long)a->slowest_probe_ms, (long long)a->elapsed_ms);
	printf("verdict: %s\n", P->verdict_name(a->verdict));
}

static void
show_json(const struct stsdane_plugin *P, const struct stsdane_audit *a)
{
	const struct stsdane_finding *f;
	struct json j;
	unsigned l;
	size_t i;

	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	json_string(&j, "domain", a->domain);
	json_string(&j, "verdict", P->verdict_name(a->verdict));
	json_begin_object(&j, "layers");
	for (l = 0; l < STSDANE_AUDIT_LAYERS; l++)
		json_string(&j, P->audit_layer_name(l),
		    P->verdict_name(a->layers[l]));
	json_end_object(&j);
	json_begin_array(&j, "findings");
	for (i = 0; i < a->nfindings; i++) {
		f = &a->findings[i];
		json_begin_object(&j, NULL);
		json_string(&j, "id", f->id);
		json_string(&j, "severity", P->severity_name(f->severity));
		json_string(&j, "layer", P->audit_layer_name(f->layer));
		/* NULL host, address or fix are written as null */
		json_string(&j, "host", f->host);
		json_string(&j, "address", f->address);
		json_string(&j, "message", f->message);
		json_string(&j, "fix", f->fix);
		json_end_object(&j);
	}
	json_end_array(&j);
	if (a->decision != NULL) {
		json_begin_object(&j, "decision");
		json_string(&j, "mechanism",
		    P->mechanism_name(a->decision->mechanism));
		json_string(&j, "mode", P->mode_name(a->decision->mode));
		json_bool(&j, "require_tls", a->decision->require_tls);
		json_bool(&j, "tempfail", a->decision->tempfail);
		json_string(&j, "reason", a->decision->reason);
		json_end_object(&j);
	} else {
		json_null(&j, "decision");
	}
	json_begin_object(&j, "timing");
	json_int(&j, "smtp_sessions", (int64_t)a->nprobes);
	json_int(&j, "smtp_ms", a->probe_ms);
	json_int(&j, "slowest_session_ms", a->slowest_probe_ms);
	json_int(&j, "audit_ms", a->elapsed_ms);
	json_end_object(&j);
	json_end_object(&j);
	json_finish(&j);
}

int
cli_audit(const struct stsdane_plugin *P, stsdane_ctx *ctx,
    const char *domain, int json, unsigned warn_days)
{
	struct stsdane_audit_options opt;
	struct stsdane_audit *a = NULL;
	int rc;

	memset(&opt, 0, sizeof(opt));
	opt.warn_days = warn_days;
	rc = P->audit(ctx, domain, &opt, &a);
	if (rc != STSDANE_OK) {
		fprintf(stderr, "sts-dane-query: audit of '%s': %s\n", domain,
		    P->error(ctx)[0] != '\0' ? P->error(ctx) :
		    P->strerror(rc));
		return rc == STSDANE_ERR_NAME || rc == STSDANE_ERR_INVAL ? 2 :
		    4;
	}
	if (json)
		show_json(P, a);
	else
		show_text(P, a);
	rc = a->verdict == STSDANE_VERDICT_FAIL ? 1 : 0;
	P->audit_free(a);
	return rc;
}

int
cli_check_tlsrpt(const struct stsdane_plugin *P, int json, char **recs,
    int n)
{
	struct stsdane_tlsrpt *t = NULL;
	size_t lens[64], i;
	char err[512] = "";
	struct json j;
	int k, rc;

	if (n > 64)
		n = 64;
	for (k = 0; k < n; k++)
		lens[k] = strlen(recs[k]);
	rc = P->tlsrpt_check((const char *const *)recs, lens, (size_t)n, &t,
	    err, sizeof(err));
	if (rc == STSDANE_ERR_NOTFOUND && err[0] == '\0')
		snprintf(err, sizeof(err), "no record begins with "
		    "'v=TLSRPTv1'");
	else if (rc != STSDANE_OK && err[0] == '\0')
		snprintf(err, sizeof(err), "%s", P->strerror(rc));
	if (json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_bool(&j, "valid", rc == STSDANE_OK);
		if (rc == STSDANE_OK)
			json_null(&j, "error");
		else
			json_string(&j, "error", err);
		json_begin_array(&j, "rua");
		for (i = 0; rc == STSDANE_OK && i < t->nrua; i++)
			json_string(&j, NULL, t->rua[i]);
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
	} else if (rc == STSDANE_OK) {
		printf("valid: %zu destination%s\n", t->nrua,
		    t->nrua == 1 ? "" : "s");
		for (i = 0; i < t->nrua; i++)
			printf("  rua %s\n", t->rua[i]);
		if (t->nignored > 0)
			printf("  (%zu of other schemes ignored)\n",
			    t->nignored);
	} else {
		printf("invalid: %s\n", err);
	}
	if (t != NULL)
		P->tlsrpt_free(t);
	return rc == STSDANE_OK ? 0 : 1;
}
