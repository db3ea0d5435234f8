/*
 * tlsrpt.h - sts-dane-query's --tlsrpt-list and --tlsrpt-send (tlsrpt.c)
 */
#ifndef STS_DANE_QUERY_TLSRPT_H
#define STS_DANE_QUERY_TLSRPT_H

#include "stsdane.h"

/* Both return the tool's exit status; ctx is the caller's. */
int cmd_tlsrpt_list(const struct stsdane_plugin *p, stsdane_ctx *ctx,
    const char *day, int json);
int cmd_tlsrpt_send(const struct stsdane_plugin *p, stsdane_ctx *ctx,
    const char *day, const char *dry_run_dir);

#endif
