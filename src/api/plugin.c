/*
 * NAME
 *	plugin.c - the versioned entry point an MTA loads
 * SYNOPSIS
 *	const struct stsdane_plugin *stsdane_plugin(unsigned abi)
 * DESCRIPTION
 *	stsdane.so exports this one symbol.  It returns a table of function
 *	pointers for interface version `abi', or NULL when this module does
 *	not offer that version.  Later versions only append members; an
 *	MTA checks .size before using a member it did not know before.
 *	sts-dane-query reaches the library through this same table.
 */
#include <stdlib.h>

#include "util.h"

static const char *
plugin_version(void)
{
	return STSDANE_VERSION_STRING;
}

static stsdane_ctx *
plugin_open(const char *config_path, char *err, size_t errlen)
{
	stsdane_ctx *ctx = stsdane_new();

	if (ctx == NULL) {
		(void)sd_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (config_path != NULL &&
	    stsdane_load_config(ctx, config_path) != STSDANE_OK) {
		(void)sd_snprintf(err, errlen, "%s", stsdane_error(ctx));
		stsdane_free(ctx);
		return NULL;
	}
	return ctx;
}

static const struct stsdane_plugin plugin_v1 = {
	.abi = STSDANE_PLUGIN_ABI,
	.size = sizeof(struct stsdane_plugin),
	.version = plugin_version,
	.open = plugin_open,
	.set = stsdane_set,
	.query = stsdane_query,
	.host_allowed = stsdane_host_allowed,
	.decision_free = stsdane_decision_free,
	.close = stsdane_free,
	.strerror = stsdane_strerror,
	.error = stsdane_error,
	.set_log = stsdane_set_log,
	.verify_chain = stsdane_verify_chain,
	.policy_parse = stsdane_policy_parse,
	.policy_free = stsdane_policy_free,
	.mx_match = stsdane_mx_match,
	.txt_check = stsdane_txt_check,
	.tlsa_check = stsdane_tlsa_check,
	.mechanism_name = stsdane_mechanism_name,
	.mode_name = stsdane_mode_name,
	.source_name = stsdane_source_name,
	.problem_name = stsdane_problem_name,
	.dane_status_name = stsdane_dane_status_name,
	.get = stsdane_get,
	.probe = stsdane_probe,
	.probe_free = stsdane_probe_free,
	.cache_list = stsdane_cache_list,
	.cache_flush = stsdane_cache_flush,
	.cache_refresh = stsdane_cache_refresh,
	.host_check = stsdane_host_check,
	.refusal_name = stsdane_refusal_name,
	.tlsrpt_check = stsdane_tlsrpt_check,
	.tlsrpt_free = stsdane_tlsrpt_free,
	.audit = stsdane_audit,
	.audit_free = stsdane_audit_free,
	.audit_layer_name = stsdane_audit_layer_name,
	.severity_name = stsdane_severity_name,
	.verdict_name = stsdane_verdict_name,
	.cache_expiring = stsdane_cache_expiring,
	.tlsrpt_record = stsdane_tlsrpt_record,
	.tlsrpt_list = stsdane_tlsrpt_list,
	.tlsrpt_send = stsdane_tlsrpt_send,
	.tlsrpt_result_name = stsdane_tlsrpt_result_name,
	.cache_refresh_waited = stsdane_cache_refresh_waited,
};

SD_EXPORT const struct stsdane_plugin *
stsdane_plugin(unsigned abi)
{
	return abi == STSDANE_PLUGIN_ABI ? &plugin_v1 : NULL;
}
