/*
 * NAME
 *	sts-dane-query - ask stsdane how mail to a domain must be protected
 * SYNOPSIS
 *	sts-dane-query [-c FILE] [--json] [--no-cache] DOMAIN
 *	sts-dane-query [-c FILE] [--json] --probe DOMAIN
 *	sts-dane-query [--json] --check-policy FILE|- [--mx HOST]
 *	sts-dane-query [--json] --check-txt RECORD...
 *	sts-dane-query [--json] --check-tlsa 'U S M HEX'
 *	sts-dane-query -c FILE --check-config
 *	sts-dane-query [-c FILE] [--json] --audit [--warn-days N] DOMAIN
 *	sts-dane-query [--json] --check-tlsrpt RECORD...
 * DESCRIPTION
 *	A debugging tool for mail administrators.  It loads the same module
 *	an MTA loads (stsdane.so) and reaches the library only through its
 *	versioned plugin table, so what it shows is what the MTA gets.
 *	See sts-dane-query(1).
 * EXIT STATUS
 *	0 decision made, or the check passed; 1 the check failed (or a probe
 *	found a host that fails); 2 usage or configuration error; 3 the
 *	decision is tempfail (the sender must defer); 4 internal error.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_audit.h"
#include "json.h"
#include "progress.h"
#include "stsdane.h"
#include "tlsrpt.h"

#ifndef STSDANE_PKGLIBDIR
#define STSDANE_PKGLIBDIR "/usr/local/lib/stsdane"
#endif
#ifndef STSDANE_SYSCONFDIR
#define STSDANE_SYSCONFDIR "/etc"
#endif

#define EX_DECIDED 0
#define EX_INVALID 1
#define EX_USAGE 2
#define EX_TEMPFAIL 3
#define EX_INTERNAL 4

#define POLICY_MAX 65536	/* RFC 8461 3.3, as the library bounds it */

static const struct stsdane_plugin *P;

struct options {
	const char *config;
	const char *module;
	int json;
	int no_cache;
	int check_config;
	const char *check_policy;
	const char *mx;
	int check_txt;
	const char *check_tlsa;
	int probe;
	int cache_list;
	const char *cache_flush;
	int all;
	int refresh;
	int quiet;
	long long within;
	const char *sets[32];
	int nsets;
	int audit;
	unsigned warn_days;
	int check_tlsrpt;
	int tlsrpt_list;
	int tlsrpt_send;
	const char *dry_run;
	const char *day;
};

static void
usage(FILE *fp)
{
	fputs(
"usage: sts-dane-query [options] DOMAIN          decide for DOMAIN\n"
"       sts-dane-query [options] --probe DOMAIN  decide, then test each MX\n"
"       sts-dane-query --check-policy FILE|- [--mx HOST]\n"
"       sts-dane-query --check-txt RECORD...\n"
"       sts-dane-query [-c FILE] --audit [--warn-days N] DOMAIN\n"
"       sts-dane-query --check-tlsrpt RECORD...\n"
"       sts-dane-query --check-tlsa 'USAGE SELECTOR MTYPE HEX'\n"
"       sts-dane-query -c FILE --check-config\n"
"       sts-dane-query [-c FILE] [--json] --cache-list\n"
"       sts-dane-query [-c FILE] --cache-flush DOMAIN|--all\n"
"       sts-dane-query [-c FILE] --refresh [--within SECONDS] [--quiet]\n"
"       sts-dane-query [-c FILE] [--json] --tlsrpt-list [--day YYYY-MM-DD]\n"
"       sts-dane-query [-c FILE] --tlsrpt-send [--dry-run DIR]\n"
"                      [--day YYYY-MM-DD]\n"
"\n"
"options:\n"
"  -c, --config FILE   configuration file (default " STSDANE_SYSCONFDIR
    "/stsdane.conf\n"
"                      when it exists, else built-in defaults)\n"
"  -o, --set KEY=VALUE override one configuration setting\n"
"  -j, --json          one JSON object instead of text\n"
"  -n, --no-cache      neither read nor write the cache\n"
"      --mx HOST       with --check-policy: does the policy allow HOST?\n"
"      --module PATH   the stsdane module to load\n"
"      --within SECS   with --refresh: entries expiring this soon (86400)\n"
"      --warn-days N   with --audit: certificates expiring this soon (21)\n"
"      --quiet         with --refresh: only failures and the summary\n"
"  -h, --help          this text\n"
"  -V, --version       the version of the tool and of the module\n"
"\n"
"exit status: 0 decided / check passed, 1 check failed, 2 usage or\n"
"configuration error, 3 tempfail (defer delivery), 4 internal error\n",
	    fp);
}

/* The module: --module, else beside this program, else the package dir. */
static int
load_module(const char *path)
{
	char self[PATH_MAX], guess[PATH_MAX + 32];
	const char *tried[3];
	int ntried = 0, i;
	void *h = NULL;
	const struct stsdane_plugin *(*entry)(unsigned);
	ssize_t n;

	if (path != NULL) {
		tried[ntried++] = path;
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n > 0) {
			char *slash;

			self[n] = '\0';
			slash = strrchr(self, '/');
			if (slash != NULL) {
				*slash = '\0';
				snprintf(guess, sizeof(guess), "%s/stsdane.so",
				    self);
				if (access(guess, R_OK) == 0)
					tried[ntried++] = guess;
			}
		}
		tried[ntried++] = STSDANE_PKGLIBDIR "/stsdane.so";
	}
	for (i = 0; i < ntried && h == NULL; i++) {
		h = dlopen(tried[i], RTLD_NOW | RTLD_LOCAL);
		if (h == NULL && (path != NULL || i == ntried - 1)) {
			fprintf(stderr, "sts-dane-query: cannot load module "
			    "'%s': %s\n", tried[i], dlerror());
			return -1;
		}
	}
	*(void **)&entry = dlsym(h, "stsdane_plugin");
	if (entry == NULL) {
		fprintf(stderr, "sts-dane-query: module has no "
		    "'stsdane_plugin' entry point\n");
		return -1;
	}
	P = entry(STSDANE_PLUGIN_ABI);
	if (P == NULL || P->size < sizeof(*P)) {
		fprintf(stderr, "sts-dane-query: module does not offer "
		    "plugin interface %d\n", STSDANE_PLUGIN_ABI);
		return -1;
	}
	return 0;
}

static stsdane_ctx *
open_ctx(const struct options *o)
{
	const char *path = o->config;
	char err[1024];
	stsdane_ctx *ctx;
	int i;

	if (path == NULL && access(STSDANE_SYSCONFDIR "/stsdane.conf",
	    F_OK) == 0)
		path = STSDANE_SYSCONFDIR "/stsdane.conf";
	ctx = P->open(path, err, sizeof(err));
	if (ctx == NULL) {
		fprintf(stderr, "sts-dane-query: %s\n", err);
		return NULL;
	}
	for (i = 0; i < o->nsets; i++) {
		char key[128];
		const char *eq = strchr(o->sets[i], '=');
		size_t klen = eq != NULL ? (size_t)(eq - o->sets[i]) : 0;

		if (eq == NULL || klen == 0 || klen >= sizeof(key)) {
			fprintf(stderr, "sts-dane-query: --set '%s': expected "
			    "KEY=VALUE\n", o->sets[i]);
			P->close(ctx);
			return NULL;
		}
		memcpy(key, o->sets[i], klen);
		key[klen] = '\0';
		if (P->set(ctx, key, eq + 1) != STSDANE_OK) {
			fprintf(stderr, "sts-dane-query: --set: %s\n",
			    P->error(ctx));
			P->close(ctx);
			return NULL;
		}
	}
	return ctx;
}

static void
print_tlsa(FILE *fp, const struct stsdane_tlsa *t, char *buf, size_t len)
{
	size_t i, off;

	snprintf(buf, len, "%u %u %u ", t->usage, t->selector, t->mtype);
	off = strlen(buf);
	for (i = 0; i < t->len && off + 3 < len; i++, off += 2)
		snprintf(buf + off, len - off, "%02X", t->data[i]);
	if (fp != NULL)
		fputs(buf, fp);
}

static void
json_decision_fields(struct json *j, const struct stsdane_decision *d)
{
	char tlsa[2 * 64 + 32 + 1024];
	size_t i, k;

	json_string(j, "domain", d->domain);
	json_string(j, "mechanism", P->mechanism_name(d->mechanism));
	json_string(j, "mode", P->mode_name(d->mode));
	json_bool(j, "require_tls", d->require_tls);
	json_bool(j, "tempfail", d->tempfail);
	json_bool(j, "no_mail", d->no_mail);
	json_begin_array(j, "mx");
	for (i = 0; i < d->nmx; i++)
		json_string(j, NULL, d->mx[i]);
	json_end_array(j);
	json_string(j, "policy_id", d->policy_id);
	json_int(j, "max_age", d->max_age);
	json_int(j, "expires", d->expires);
	json_string(j, "source", P->source_name(d->source));
	json_string(j, "problem", P->problem_name(d->problem));
	json_string(j, "reason", d->reason != NULL ? d->reason : "");
	json_begin_object(j, "dane");
	json_begin_array(j, "hosts");
	for (i = 0; i < d->ndane; i++) {
		const struct stsdane_dane_host *h = &d->dane[i];

		json_begin_object(j, NULL);
		json_string(j, "name", h->name);
		json_int(j, "preference", h->preference);
		json_string(j, "status", P->dane_status_name(h->status));
		json_string(j, "base_domain", h->base_domain);
		json_begin_array(j, "tlsa");
		for (k = 0; k < h->ntlsa; k++) {
			print_tlsa(NULL, &h->tlsa[k], tlsa, sizeof(tlsa));
			json_string(j, NULL, tlsa);
		}
		json_end_array(j);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

static void
text_decision(FILE *fp, const struct stsdane_decision *d)
{
	char tlsa[2 * 64 + 32 + 1024];
	size_t i, k;

	fprintf(fp, "domain:      %s\n", d->domain);
	fprintf(fp, "mechanism:   %s\n", P->mechanism_name(d->mechanism));
	fprintf(fp, "mode:        %s\n", P->mode_name(d->mode));
	fprintf(fp, "require_tls: %s\n", d->require_tls ? "yes" : "no");
	fprintf(fp, "tempfail:    %s%s\n", d->tempfail ? "yes" : "no",
	    d->tempfail ? " (defer delivery)" : "");
	if (d->no_mail)
		fprintf(fp, "no_mail:     yes (null MX)\n");
	if (d->nmx > 0) {
		fprintf(fp, "mx:          ");
		for (i = 0; i < d->nmx; i++)
			fprintf(fp, "%s%s", i ? ", " : "", d->mx[i]);
		fputc('\n', fp);
	}
	if (d->policy_id != NULL)
		fprintf(fp, "policy_id:   %s\n", d->policy_id);
	if (d->mechanism == STSDANE_MECH_MTASTS)
		fprintf(fp, "max_age:     %u\n", (unsigned)d->max_age);
	fprintf(fp, "source:      %s\n", P->source_name(d->source));
	if (d->problem != STSDANE_PROBLEM_NONE)
		fprintf(fp, "problem:     %s\n", P->problem_name(d->problem));
	fprintf(fp, "reason:      %s\n", d->reason != NULL ? d->reason : "");
	if (d->ndane > 0)
		fprintf(fp, "mx hosts:\n");
	for (i = 0; i < d->ndane; i++) {
		const struct stsdane_dane_host *h = &d->dane[i];

		fprintf(fp, "  %5u %s  dane=%s", h->preference, h->name,
		    P->dane_status_name(h->status));
		if (h->base_domain != NULL && strcmp(h->base_domain, h->name))
			fprintf(fp, " base=%s", h->base_domain);
		if (d->mechanism == STSDANE_MECH_MTASTS)
			fprintf(fp, " policy=%s", P->host_allowed(d, h->name) ?
			    "allowed" : "NOT ALLOWED");
		fputc('\n', fp);
		for (k = 0; k < h->ntlsa; k++) {
			fprintf(fp, "        TLSA ");
			print_tlsa(fp, &h->tlsa[k], tlsa, sizeof(tlsa));
			fputc('\n', fp);
		}
	}
}

static int
cmd_query(const struct options *o, const char *domain)
{
	struct stsdane_decision *d = NULL;
	stsdane_ctx *ctx = open_ctx(o);
	struct json j;
	int rc;

	if (ctx == NULL)
		return EX_USAGE;
	rc = P->query(ctx, domain, o->no_cache ? STSDANE_QUERY_NO_CACHE : 0,
	    &d);
	if (rc != STSDANE_OK) {
		fprintf(stderr, "sts-dane-query: %s: %s\n", domain,
		    P->error(ctx));
		P->close(ctx);
		return rc == STSDANE_ERR_INVAL || rc == STSDANE_ERR_NAME ?
		    EX_USAGE : EX_INTERNAL;
	}
	if (o->json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_decision_fields(&j, d);
		json_end_object(&j);
		json_finish(&j);
	} else {
		text_decision(stdout, d);
	}
	rc = d->tempfail ? EX_TEMPFAIL : EX_DECIDED;
	P->decision_free(d);
	P->close(ctx);
	return rc;
}

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
cmd_probe(const struct options *o, const char *domain)
{
	struct stsdane_probe *p = NULL;
	stsdane_ctx *ctx = open_ctx(o);
	struct json j;
	char when[64];
	size_t i, k;
	int rc, bad = 0;

	if (ctx == NULL)
		return EX_USAGE;
	rc = P->probe(ctx, domain, STSDANE_QUERY_NO_CACHE, &p);
	if (rc != STSDANE_OK) {
		fprintf(stderr, "sts-dane-query: probe %s: %s\n", domain,
		    P->error(ctx));
		P->close(ctx);
		return rc == STSDANE_ERR_INVAL || rc == STSDANE_ERR_NAME ?
		    EX_USAGE : EX_INTERNAL;
	}
	for (i = 0; i < p->nhosts; i++)
		if (p->hosts[i].verdict == NULL ||
		    strcmp(p->hosts[i].verdict, "pass") != 0)
			bad = 1;
	if (o->json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_begin_object(&j, "decision");
		json_decision_fields(&j, p->decision);
		json_end_object(&j);
		json_begin_array(&j, "hosts");
		for (i = 0; i < p->nhosts; i++) {
			const struct stsdane_probe_host *h = &p->hosts[i];

			json_begin_object(&j, NULL);
			json_string(&j, "name", h->name);
			json_int(&j, "preference", h->preference);
			json_string(&j, "address", h->address);
			json_bool(&j, "allowed", h->allowed);
			json_bool(&j, "connected", h->connected);
			json_bool(&j, "starttls", h->starttls);
			json_bool(&j, "handshake", h->handshake);
			json_string(&j, "tls_version", h->tls_version);
			json_string(&j, "cipher", h->cipher);
			json_string(&j, "subject", h->subject);
			json_begin_array(&j, "dns_names");
			for (k = 0; k < h->ndns_names; k++)
				json_string(&j, NULL, h->dns_names[k]);
			json_end_array(&j);
			fmt_time(h->not_after, when, sizeof(when));
			json_string(&j, "not_after", h->not_after > 0 ? when :
			    NULL);
			json_bool(&j, "verified", h->verified);
			json_string(&j, "verdict", h->verdict);
			json_string(&j, "reason", h->reason);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
	} else {
		text_decision(stdout, p->decision);
		printf("\nprobe:\n");
		for (i = 0; i < p->nhosts; i++) {
			const struct stsdane_probe_host *h = &p->hosts[i];

			printf("  %s [%s]: %s\n", h->name,
			    h->address != NULL ? h->address : "-",
			    h->verdict != NULL ? h->verdict : "?");
			printf("    starttls: %s  tls: %s %s\n",
			    h->starttls ? "offered" : "no",
			    h->tls_version != NULL ? h->tls_version : "-",
			    h->cipher != NULL ? h->cipher : "");
			if (h->subject != NULL) {
				fmt_time(h->not_after, when, sizeof(when));
				printf("    subject: %s\n    expires: %s\n",
				    h->subject, when);
				printf("    dns names:");
				for (k = 0; k < h->ndns_names; k++)
					printf(" %s", h->dns_names[k]);
				printf("\n");
			}
			printf("    reason: %s\n",
			    h->reason != NULL ? h->reason : "");
		}
	}
	rc = p->decision->tempfail ? EX_TEMPFAIL : bad ? EX_INVALID :
	    EX_DECIDED;
	P->probe_free(p);
	P->close(ctx);
	return rc;
}

/*
 * Read a whole file (or stdin) up to max bytes.  NULL with errno set when
 * it cannot be read (a directory gives EISDIR); *toobig is set when there
 * was more than max, and then *len is max + 1 and the rest is unread.
 */
static char *
read_all(const char *path, size_t max, size_t *len, int *toobig)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;
	int e;

	*toobig = 0;
	if (fp == NULL)
		return NULL;
	buf = malloc(max + 2);
	if (buf == NULL) {
		if (fp != stdin)
			fclose(fp);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, max + 1, fp);
	if (ferror(fp)) {
		e = errno != 0 ? errno : EIO;
		if (fp != stdin)
			fclose(fp);
		free(buf);
		errno = e;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	*toobig = n > max;
	if (fp != stdin)
		fclose(fp);
	return buf;
}

static int
cmd_check_policy(const struct options *o)
{
	struct stsdane_policy *pol = NULL;
	char err[512] = "";
	struct json j;
	size_t len = 0, i;
	char *body;
	int rc, match = 0, toobig;

	errno = 0;
	body = read_all(o->check_policy, POLICY_MAX, &len, &toobig);
	if (body == NULL) {
		fprintf(stderr, "sts-dane-query: cannot read '%s': %s\n",
		    o->check_policy, strerror(errno));
		return EX_USAGE;
	}
	if (toobig) {
		/* the rest was never read: do not guess its length */
		rc = STSDANE_ERR_SYNTAX;
		snprintf(err, sizeof(err), "policy is more than %d bytes "
		    "long", POLICY_MAX);
	} else {
		rc = P->policy_parse(body, len, &pol, err, sizeof(err));
	}
	free(body);
	if (rc == STSDANE_OK && o->mx != NULL)
		for (i = 0; i < pol->nmx && !match; i++)
			match = P->mx_match(pol->mx[i], o->mx);
	if (o->json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_bool(&j, "valid", rc == STSDANE_OK);
		if (rc == STSDANE_OK)
			json_null(&j, "error");
		else
			json_string(&j, "error", err);
		if (rc == STSDANE_OK) {
			json_string(&j, "mode", P->mode_name(pol->mode));
			json_int(&j, "max_age", pol->max_age);
			json_begin_array(&j, "mx");
			for (i = 0; i < pol->nmx; i++)
				json_string(&j, NULL, pol->mx[i]);
			json_end_array(&j);
			if (o->mx != NULL)
				json_bool(&j, "mx_match", match);
		}
		json_end_object(&j);
		json_finish(&j);
	} else if (rc == STSDANE_OK) {
		printf("valid: mode %s, max_age %u, mx:",
		    P->mode_name(pol->mode), (unsigned)pol->max_age);
		for (i = 0; i < pol->nmx; i++)
			printf(" %s", pol->mx[i]);
		printf("\n");
		if (o->mx != NULL)
			printf("mx '%s': %s\n", o->mx, match ?
			    "allowed by the policy" : "NOT allowed by the policy");
	} else {
		printf("invalid: %s\n", err);
	}
	if (pol != NULL)
		P->policy_free(pol);
	if (rc != STSDANE_OK)
		return EX_INVALID;
	return o->mx != NULL && !match ? EX_INVALID : EX_DECIDED;
}

static int
cmd_check_txt(const struct options *o, char **recs, int n)
{
	size_t *lens;
	char id[33] = "", err[512] = "";
	struct json j;
	int i, rc;

	/* every record counts: dropping some could hide a second v=STSv1 */
	lens = calloc((size_t)n, sizeof(*lens));
	if (lens == NULL) {
		fprintf(stderr, "sts-dane-query: out of memory\n");
		return EX_INTERNAL;
	}
	for (i = 0; i < n; i++)
		lens[i] = strlen(recs[i]);
	rc = P->txt_check((const char *const *)recs, lens, (size_t)n, id, err,
	    sizeof(err));
	free(lens);
	if (rc == STSDANE_ERR_NOTFOUND && err[0] == '\0')
		snprintf(err, sizeof(err), "no record starts with 'v=STSv1'");
	if (o->json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_bool(&j, "valid", rc == STSDANE_OK);
		if (rc == STSDANE_OK) {
			json_null(&j, "error");
			json_string(&j, "id", id);
		} else {
			json_string(&j, "error", err);
			json_null(&j, "id");
		}
		json_end_object(&j);
		json_finish(&j);
	} else if (rc == STSDANE_OK) {
		printf("valid: id %s\n", id);
	} else {
		printf("invalid: %s\n", err);
	}
	return rc == STSDANE_OK ? EX_DECIDED : EX_INVALID;
}

static int
cmd_check_tlsa(const struct options *o)
{
	char err[512] = "";
	struct json j;
	int rc = P->tlsa_check(o->check_tlsa, err, sizeof(err));

	if (o->json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_bool(&j, "usable", rc == STSDANE_OK);
		if (rc == STSDANE_OK)
			json_null(&j, "error");
		else
			json_string(&j, "error", err);
		json_end_object(&j);
		json_finish(&j);
	} else if (rc == STSDANE_OK) {
		printf("usable for SMTP\n");
	} else {
		printf("not usable: %s\n", err);
	}
	return rc == STSDANE_OK ? EX_DECIDED : EX_INVALID;
}

static int
cmd_check_config(const struct options *o)
{
	stsdane_ctx *ctx;

	if (o->config == NULL) {
		fprintf(stderr, "sts-dane-query: --check-config needs -c FILE\n");
		return EX_USAGE;
	}
	ctx = open_ctx(o);
	if (ctx == NULL)
		return EX_USAGE;
	printf("%s: ok\n", o->config);
	P->close(ctx);
	return EX_DECIDED;
}

struct list_out {
	struct json j;
	int json;
	size_t n;
};

static int
list_entry(void *arg, const char *kind, const struct stsdane_decision *d,
    int64_t learned)
{
	struct list_out *lo = arg;
	char when[64], exp[64];
	size_t i;

	lo->n++;
	fmt_time(learned, when, sizeof(when));
	fmt_time(d->expires, exp, sizeof(exp));
	if (lo->json) {
		json_begin_object(&lo->j, NULL);
		json_string(&lo->j, "kind", kind);
		json_string(&lo->j, "learned", when);
		json_decision_fields(&lo->j, d);
		json_end_object(&lo->j);
		return 0;
	}
	printf("%-4s %-30s %-7s %-7s expires %s", kind, d->domain,
	    P->mechanism_name(d->mechanism), P->mode_name(d->mode), exp);
	if (d->policy_id != NULL)
		printf(" id %s", d->policy_id);
	for (i = 0; i < d->nmx; i++)
		printf("%s%s", i ? "," : " mx ", d->mx[i]);
	printf("\n");
	return 0;
}

static int
cmd_cache_list(const struct options *o)
{
	struct list_out lo;
	stsdane_ctx *ctx = open_ctx(o);
	int rc;

	if (ctx == NULL)
		return EX_USAGE;
	memset(&lo, 0, sizeof(lo));
	lo.json = o->json;
	if (o->json) {
		json_init(&lo.j, stdout);
		json_begin_array(&lo.j, NULL);
	}
	rc = P->cache_list(ctx, list_entry, &lo);
	if (o->json) {
		json_end_array(&lo.j);
		json_finish(&lo.j);
	}
	if (rc != STSDANE_OK)
		fprintf(stderr, "sts-dane-query: %s\n", P->error(ctx));
	P->close(ctx);
	return rc == STSDANE_OK ? EX_DECIDED : EX_USAGE;
}

static int
cmd_cache_flush(const struct options *o)
{
	stsdane_ctx *ctx = open_ctx(o);
	int rc;

	if (ctx == NULL)
		return EX_USAGE;
	rc = P->cache_flush(ctx, o->all ? NULL : o->cache_flush);
	if (rc != STSDANE_OK)
		fprintf(stderr, "sts-dane-query: %s\n", P->error(ctx));
	else
		printf("flushed %s\n", o->all ? "all entries" : o->cache_flush);
	P->close(ctx);
	return rc == STSDANE_OK ? EX_DECIDED : EX_USAGE;
}

static void
refreshed(void *arg, const char *domain, int rc,
    const struct stsdane_decision *d)
{
	char what[600] = "";

	if (rc == STSDANE_OK && d != NULL)
		(void)snprintf(what, sizeof(what), "%s %s%s (%s)",
		    P->mechanism_name(d->mechanism), P->mode_name(d->mode),
		    d->tempfail ? " tempfail" : "",
		    d->reason != NULL ? d->reason : "");
	progress_step(arg, domain, rc != STSDANE_OK || d == NULL, what);
}

static int
cmd_refresh(const struct options *o)
{
	stsdane_ctx *ctx = open_ctx(o);
	struct progress pr;
	size_t n = 0, total = 0;
	int rc;

	if (ctx == NULL)
		return EX_USAGE;
	if (P->size >= offsetof(struct stsdane_plugin, cache_expiring) +
	    sizeof(P->cache_expiring) &&
	    P->cache_expiring != NULL)
		(void)P->cache_expiring(ctx, o->within, &total);
	progress_start(&pr, total, o->quiet, stderr);
	rc = P->cache_refresh(ctx, o->within, refreshed, &pr, &n);
	if (rc != STSDANE_OK)
		fprintf(stderr, "sts-dane-query: %s\n", P->error(ctx));
	else
		progress_end(&pr, P->size >= offsetof(struct stsdane_plugin,
		    cache_refresh_waited) + sizeof(P->cache_refresh_waited) &&
		    P->cache_refresh_waited != NULL ?
		    P->cache_refresh_waited(ctx) : 0);
	P->close(ctx);
	return rc != STSDANE_OK ? EX_USAGE : pr.errors ? EX_INTERNAL :
	    EX_DECIDED;
}

static int
cmd_audit(const struct options *o, const char *domain)
{
	stsdane_ctx *ctx = open_ctx(o);
	int rc;

	if (ctx == NULL)
		return EX_USAGE;
	rc = cli_audit(P, ctx, domain, o->json, o->warn_days);
	P->close(ctx);
	return rc;
}

int
main(int argc, char **argv)
{
	enum { O_CHECK_CONFIG = 256, O_CHECK_POLICY, O_CHECK_TXT,
	    O_CHECK_TLSA, O_MX, O_MODULE, O_PROBE, O_CACHE_LIST,
	    O_CACHE_FLUSH, O_ALL, O_REFRESH, O_WITHIN, O_AUDIT, O_WARN_DAYS,
	    O_CHECK_TLSRPT, O_QUIET, O_TLSRPT_LIST, O_TLSRPT_SEND, O_DRY_RUN,
	    O_DAY };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "check-config", no_argument, NULL, O_CHECK_CONFIG },
		{ "check-policy", required_argument, NULL, O_CHECK_POLICY },
		{ "check-txt", no_argument, NULL, O_CHECK_TXT },
		{ "check-tlsa", required_argument, NULL, O_CHECK_TLSA },
		{ "mx", required_argument, NULL, O_MX },
		{ "module", required_argument, NULL, O_MODULE },
		{ "probe", no_argument, NULL, O_PROBE },
		{ "cache-list", no_argument, NULL, O_CACHE_LIST },
		{ "cache-flush", optional_argument, NULL, O_CACHE_FLUSH },
		{ "all", no_argument, NULL, O_ALL },
		{ "refresh", no_argument, NULL, O_REFRESH },
		{ "within", required_argument, NULL, O_WITHIN },
		{ "audit", no_argument, NULL, O_AUDIT },
		{ "warn-days", required_argument, NULL, O_WARN_DAYS },
		{ "check-tlsrpt", no_argument, NULL, O_CHECK_TLSRPT },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "tlsrpt-list", no_argument, NULL, O_TLSRPT_LIST },
		{ "tlsrpt-send", no_argument, NULL, O_TLSRPT_SEND },
		{ "dry-run", required_argument, NULL, O_DRY_RUN },
		{ "day", required_argument, NULL, O_DAY },
		{ NULL, 0, NULL, 0 }
	};
	struct options o;
	int c, version = 0;

	memset(&o, 0, sizeof(o));
	o.within = 86400;
	while ((c = getopt_long(argc, argv, "c:o:jnhV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'o':
			if (o.nsets >= 32) {
				fprintf(stderr, "sts-dane-query: too many "
				    "--set options\n");
				return EX_USAGE;
			}
			o.sets[o.nsets++] = optarg;
			break;
		case 'j': o.json = 1; break;
		case 'n': o.no_cache = 1; break;
		case 'h': usage(stdout); return EX_DECIDED;
		case 'V': version = 1; break;
		case O_CHECK_CONFIG: o.check_config = 1; break;
		case O_CHECK_POLICY: o.check_policy = optarg; break;
		case O_CHECK_TXT: o.check_txt = 1; break;
		case O_CHECK_TLSA: o.check_tlsa = optarg; break;
		case O_MX: o.mx = optarg; break;
		case O_MODULE: o.module = optarg; break;
		case O_PROBE: o.probe = 1; break;
		case O_CACHE_LIST: o.cache_list = 1; break;
		case O_CACHE_FLUSH: o.cache_flush = optarg != NULL ? optarg :
		    ""; break;
		case O_ALL: o.all = 1; break;
		case O_REFRESH: o.refresh = 1; break;
		case O_QUIET: o.quiet = 1; break;
		case O_TLSRPT_LIST: o.tlsrpt_list = 1; break;
		case O_TLSRPT_SEND: o.tlsrpt_send = 1; break;
		case O_DRY_RUN: o.dry_run = optarg; break;
		case O_DAY: o.day = optarg; break;
		case O_WITHIN: {
			char *end = NULL;

			o.within = strtoll(optarg, &end, 10);
			if (end == optarg || *end != '\0' || o.within < 0) {
				fprintf(stderr, "sts-dane-query: --within "
				    "'%s' is not a number of seconds\n",
				    optarg);
				return EX_USAGE;
			}
			break;
		}
		case O_AUDIT: o.audit = 1; break;
		case O_CHECK_TLSRPT: o.check_tlsrpt = 1; break;
		case O_WARN_DAYS: {
			char *end = NULL;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end != '\0' || v < 1 ||
			    v > 3650) {
				fprintf(stderr, "sts-dane-query: --warn-days "
				    "'%s' is not a number of days (1-3650)\n",
				    optarg);
				return EX_USAGE;
			}
			o.warn_days = (unsigned)v;
			break;
		}
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (load_module(o.module) < 0)
		return EX_INTERNAL;
	if (version) {
		printf("sts-dane-query %s (module %s)\n",
		    STSDANE_VERSION_STRING, P->version());
		return EX_DECIDED;
	}
	if (o.check_config)
		return cmd_check_config(&o);
	if (o.check_policy != NULL)
		return cmd_check_policy(&o);
	if (o.check_tlsa != NULL)
		return cmd_check_tlsa(&o);
	if (o.cache_list)
		return cmd_cache_list(&o);
	if (o.refresh)
		return cmd_refresh(&o);
	if (o.tlsrpt_list || o.tlsrpt_send) {
		stsdane_ctx *ctx = open_ctx(&o);
		int rc;

		if (ctx == NULL)
			return EX_USAGE;
		rc = o.tlsrpt_list ? cmd_tlsrpt_list(P, ctx, o.day, o.json) :
		    cmd_tlsrpt_send(P, ctx, o.day, o.dry_run);
		P->close(ctx);
		return rc;
	}
	if (o.cache_flush != NULL) {
		if (o.cache_flush[0] == '\0' && !o.all && optind < argc)
			o.cache_flush = argv[optind++];
		if ((o.cache_flush[0] == '\0') == !o.all || optind != argc) {
			fprintf(stderr, "sts-dane-query: --cache-flush needs "
			    "a DOMAIN or --all\n");
			return EX_USAGE;
		}
		return cmd_cache_flush(&o);
	}
	if (o.check_txt) {
		if (optind >= argc) {
			fprintf(stderr, "sts-dane-query: --check-txt needs at "
			    "least one RECORD\n");
			return EX_USAGE;
		}
		return cmd_check_txt(&o, argv + optind, argc - optind);
	}
	if (o.check_tlsrpt) {
		if (optind >= argc) {
			fprintf(stderr, "sts-dane-query: --check-tlsrpt needs "
			    "at least one RECORD\n");
			return EX_USAGE;
		}
		return cli_check_tlsrpt(P, o.json, argv + optind,
		    argc - optind);
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EX_USAGE;
	}
	if (o.audit)
		return cmd_audit(&o, argv[optind]);
	if (o.probe)
		return cmd_probe(&o, argv[optind]);
	return cmd_query(&o, argv[optind]);
}
