/*
 * report.h - one day of TLS-RPT sessions, aggregated, and the RFC 8460
 * report made of one domain's part (report.c); sending (send.c)
 */
#ifndef STSDANE_REPORT_REPORT_H
#define STSDANE_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "stsdane.h"
#include "config.h"
#include "store.h"

#define REPORT_MAX_DETAILS 1000	/* failure-details entries per policy */
#define REPORT_MAX_GZ (4u << 20)	/* a larger gzipped report is not sent */
#define REPORT_NRESULTS 12	/* enum stsdane_tlsrpt_result */

struct report_fail {
	unsigned result;
	char sending_ip[48];
	char mx_hostname[256];
	char helo[128];
	char receiving_ip[48];
	char info[160];
	char reason_code[96];
	uint64_t count;
};

struct report_policy {
	unsigned ptype;
	char policy[768];
	char mx_patterns[256];
	uint64_t nsuccess;
	uint64_t nfailure;		/* sessions, all failure-details */
	size_t nfail, capfail;
	struct report_fail *fail;
	uint64_t dropped;		/* failures past REPORT_MAX_DETAILS */
	uint64_t nresult[REPORT_NRESULTS];	/* sessions per result type */
};

struct report_domain {
	char name[256];
	size_t npolicies, cap;
	struct report_policy *policies;
};

struct report_day {
	char day[16];
	size_t ndomains, cap;
	struct report_domain *domains;
	size_t bad;			/* torn or corrupt records skipped */
};

/*
 * record.c: with tlsrpt = 1, open today's day file, when it exists, and
 * keep it in the
 * context, so that the processes forked from this one inherit it and a
 * record is one write().  Quiet: a failure is the first record's.
 */
void report_prepare(stsdane_ctx *ctx);
/* record.c: the store of s into buf; 0 or -1 (none configured) */
int report_store_dir(const struct settings *s, char *buf, size_t len);
/* record.c: domain, policy type, string and patterns that d stands for */
void report_policy_of(const struct stsdane_decision *d, const char *host,
    struct store_rec *r);

/* Read and aggregate day "YYYY-MM-DD".  0, or -1 with err. */
int report_day_load(const struct settings *s, const char *day,
    struct report_day *rd, char *err, size_t errlen);
void report_day_release(struct report_day *rd);

/*
 * The RFC 8460 JSON report of one domain (malloc'd, NUL-terminated,
 * pretty-printed), its report-id in id; NULL on memory failure.
 * report_json.c, in stsdane-fetch.so (no libjansson in the library):
 * send.c loads it as REPORT_JSON_SYMBOL.
 */
struct report_json_in {
	const struct settings *settings;
	const struct report_day *day;
	const struct report_domain *domain;
	const char *const *result_names;	/* REPORT_NRESULTS */
	const char *const *ptype_names;		/* by enum store_ptype */
};
typedef char *report_json_fn(const struct report_json_in *in, char *id,
    size_t idlen);
#define REPORT_JSON_SYMBOL "stsdane_report_json"
/* send.c: through stsdane-fetch.so; NULL with err */
char *report_json(const struct settings *s, const struct report_day *rd,
    const struct report_domain *dm, char *id, size_t idlen, char *err,
    size_t errlen);
/* gzip (RFC 1952) of buf; malloc'd, *outlen; NULL on failure. */
unsigned char *report_gzip(const char *buf, size_t len, size_t *outlen);

#endif /* STSDANE_REPORT_REPORT_H */
