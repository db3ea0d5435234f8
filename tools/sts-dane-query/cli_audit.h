/*
 * cli_audit.h - sts-dane-query --audit and --check-tlsrpt (audit.c)
 */
#ifndef STS_DANE_QUERY_CLI_AUDIT_H
#define STS_DANE_QUERY_CLI_AUDIT_H

#include <stsdane.h>

/* Exit status: 0 pass or warn, 1 fail, 4 internal error. */
int cli_audit(const struct stsdane_plugin *P, stsdane_ctx *ctx,
    const char *domain, int json, unsigned warn_days);
/* Exit status: 0 valid, 1 not. */
int cli_check_tlsrpt(const struct stsdane_plugin *P, int json, char **recs,
    int n);

#endif
