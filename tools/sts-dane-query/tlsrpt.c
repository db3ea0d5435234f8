/*
 * NAME
 *	tlsrpt.c - sts-dane-query --tlsrpt-list and --tlsrpt-send
 * SYNOPSIS
 *	sts-dane-query [-c FILE] [--json] --tlsrpt-list [--day YYYY-MM-DD]
 *	sts-dane-query [-c FILE] --tlsrpt-send [--dry-run DIR]
 *	    [--day YYYY-MM-DD]
 * DESCRIPTION
 *	--tlsrpt-list prints the day's counters (default today, UTC), one
 *	line per policy domain, policy type and result type:
 *	"DOMAIN POLICY-TYPE RESULT COUNT"; with --json one object
 *	{"day": ..., "counters": [{"domain", "policy-type", "result",
 *	"count"}...]}.  --tlsrpt-send makes and sends the reports of a day
 *	(default yesterday), printing what it did, one line per step.
 *	Both go through the module's plugin table only.
 * DIAGNOSTICS
 *	Exit 0 done, 2 usage or configuration (a module without TLS
 *	reporting, a bad day), 4 the store cannot be read.
 * SEE ALSO
 *	docs/tlsrpt.md, docs/sts-dane-query.1
 */
#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "tlsrpt.h"

#define EX_DECIDED 0
#define EX_USAGE 2
#define EX_INTERNAL 4

/* Does the module's table reach member `last'? */
#define HAS(p, last) ((p)->size >= offsetof(struct stsdane_plugin, last) + \
	sizeof((p)->last))

struct list_out {
	const struct stsdane_plugin *p;
	struct json *j;
	size_t n;
};

static int
print_count(void *arg, const char *domain, const char *ptype,
    enum stsdane_tlsrpt_result r, uint64_t count)
{
	struct list_out *o = arg;

	o->n++;
	if (o->j == NULL) {
		printf("%s %s %s %llu\n", domain, ptype,
		    o->p->tlsrpt_result_name(r), (unsigned long long)count);
		return 0;
	}
	json_begin_object(o->j, NULL);
	json_string(o->j, "domain", domain);
	json_string(o->j, "policy-type", ptype);
	json_string(o->j, "result", o->p->tlsrpt_result_name(r));
	json_int(o->j, "count", (int64_t)count);
	json_end_object(o->j);
	return 0;
}

int
cmd_tlsrpt_list(const struct stsdane_plugin *p, stsdane_ctx *ctx,
    const char *day, int json)
{
	struct list_out o = { p, NULL, 0 };
	struct json j;
	int rc;

	if (!HAS(p, tlsrpt_result_name)) {
		fprintf(stderr, "sts-dane-query: the module has no TLS "
		    "reporting\n");
		return EX_USAGE;
	}
	if (json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_string(&j, "day", day != NULL ? day : "today");
		json_begin_array(&j, "counters");
		o.j = &j;
	}
	rc = p->tlsrpt_list(ctx, day, print_count, &o);
	if (json) {
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
	}
	if (rc != STSDANE_OK) {
		fprintf(stderr, "sts-dane-query: %s\n", p->error(ctx));
		return rc == STSDANE_ERR_INVAL ? EX_USAGE : EX_INTERNAL;
	}
	return EX_DECIDED;
}

static void
print_note(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

int
cmd_tlsrpt_send(const struct stsdane_plugin *p, stsdane_ctx *ctx,
    const char *day, const char *dry_run_dir)
{
	size_t n = 0;
	int rc;

	if (!HAS(p, tlsrpt_result_name)) {
		fprintf(stderr, "sts-dane-query: the module has no TLS "
		    "reporting\n");
		return EX_USAGE;
	}
	rc = p->tlsrpt_send(ctx, day, dry_run_dir, print_note, NULL, &n);
	if (rc != STSDANE_OK) {
		fprintf(stderr, "sts-dane-query: %s\n", p->error(ctx));
		return rc == STSDANE_ERR_INVAL ? EX_USAGE : EX_INTERNAL;
	}
	printf("%zu reports sent\n", n);
	return EX_DECIDED;
}
