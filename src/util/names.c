/*
 * NAME
 *	names.c - constant names for the public enums and error codes
 * SYNOPSIS
 *	const char *stsdane_strerror(int err)
 *	const char *stsdane_mechanism_name(enum stsdane_mechanism m)
 *	const char *stsdane_mode_name(enum stsdane_mode m)
 *	const char *stsdane_source_name(enum stsdane_source s)
 *	const char *stsdane_dane_status_name(enum stsdane_dane_status s)
 *	const char *stsdane_problem_name(enum stsdane_problem p)
 * DESCRIPTION
 *	Words for logs and JSON, in the bottom layer so that every module
 *	may use them without depending on the context.  Every string is
 *	constant; an unknown value reads "unknown" (or "unknown error").
 */
#include "util.h"

SD_EXPORT const char *
stsdane_strerror(int err)
{
	switch (err) {
	case STSDANE_OK: return "success";
	case STSDANE_ERR_NOMEM: return "out of memory";
	case STSDANE_ERR_INVAL: return "invalid argument";
	case STSDANE_ERR_CONFIG: return "bad configuration";
	case STSDANE_ERR_IO: return "file could not be read or written";
	case STSDANE_ERR_RESOLVER: return "resolver could not be set up";
	case STSDANE_ERR_FETCH: return "HTTPS fetch could not be set up";
	case STSDANE_ERR_CACHE: return "cache could not be used";
	case STSDANE_ERR_SYNTAX: return "syntax error";
	case STSDANE_ERR_TLS: return "TLS failure";
	case STSDANE_ERR_LOCKED: return "settings cannot change after first use";
	case STSDANE_ERR_VERSION: return "unsupported interface version";
	case STSDANE_ERR_NOTFOUND: return "not found";
	case STSDANE_ERR_VERIFY: return "certificate does not satisfy the decision";
	case STSDANE_ERR_NETWORK: return "network failure";
	case STSDANE_ERR_NAME: return "not a DNS domain name";
	}
	return "unknown error";
}

SD_EXPORT const char *
stsdane_mechanism_name(enum stsdane_mechanism m)
{
	switch (m) {
	case STSDANE_MECH_NONE: return "none";
	case STSDANE_MECH_MTASTS: return "mta-sts";
	case STSDANE_MECH_DANE: return "dane";
	}
	return "unknown";
}

SD_EXPORT const char *
stsdane_mode_name(enum stsdane_mode m)
{
	switch (m) {
	case STSDANE_MODE_NONE: return "none";
	case STSDANE_MODE_TESTING: return "testing";
	case STSDANE_MODE_ENFORCE: return "enforce";
	}
	return "unknown";
}

SD_EXPORT const char *
stsdane_source_name(enum stsdane_source s)
{
	switch (s) {
	case STSDANE_SOURCE_CACHE:
		return "cache";
	case STSDANE_SOURCE_SHARED:
		return "shared";
	case STSDANE_SOURCE_NETWORK:
		break;
	}
	return "network";
}

SD_EXPORT const char *
stsdane_dane_status_name(enum stsdane_dane_status s)
{
	switch (s) {
	case STSDANE_DANE_INSECURE: return "insecure";
	case STSDANE_DANE_SECURE: return "secure";
	case STSDANE_DANE_UNUSABLE: return "unusable";
	case STSDANE_DANE_BOGUS: return "bogus";
	case STSDANE_DANE_TEMPFAIL: return "tempfail";
	}
	return "unknown";
}

SD_EXPORT const char *
stsdane_problem_name(enum stsdane_problem p)
{
	switch (p) {
	case STSDANE_PROBLEM_NONE: return "none";
	case STSDANE_PROBLEM_TXT_MISSING: return "txt-missing";
	case STSDANE_PROBLEM_TXT_SYNTAX: return "txt-syntax";
	case STSDANE_PROBLEM_TXT_MULTIPLE: return "txt-multiple";
	case STSDANE_PROBLEM_DNS_TEMPFAIL: return "dns-tempfail";
	case STSDANE_PROBLEM_DNS_BOGUS: return "dns-bogus";
	case STSDANE_PROBLEM_POLICY_HOST_DNS: return "policy-host-dns";
	case STSDANE_PROBLEM_CONNECT: return "connect";
	case STSDANE_PROBLEM_TLS: return "tls";
	case STSDANE_PROBLEM_TIMEOUT: return "timeout";
	case STSDANE_PROBLEM_HTTP_REDIRECT: return "http-redirect";
	case STSDANE_PROBLEM_HTTP_STATUS: return "http-status";
	case STSDANE_PROBLEM_MEDIA_TYPE: return "media-type";
	case STSDANE_PROBLEM_TOO_LARGE: return "too-large";
	case STSDANE_PROBLEM_POLICY_SYNTAX: return "policy-syntax";
	case STSDANE_PROBLEM_NULL_MX: return "null-mx";
	case STSDANE_PROBLEM_DANE_UNUSABLE: return "dane-unusable";
	case STSDANE_PROBLEM_FETCH_OTHER: return "fetch-other";
	case STSDANE_PROBLEM_INTERNAL: return "internal";
	case STSDANE_PROBLEM_HEADER_TOO_LONG: return "header-too-long";
	case STSDANE_PROBLEM_HEADER_FLOOD: return "header-flood";
	}
	return "unknown";
}

