/*
 * stsdane.h - transport security policy for SMTP delivery: DANE, then MTA-STS
 *
 * stsdane answers one question for a mail server at delivery time: for a
 * recipient domain, must TLS be used, which MX hosts may be used, and what
 * must the server's certificate match?  It looks for DNSSEC-validated DANE
 * TLSA records first (RFC 7672), then for an MTA-STS policy (RFC 8461), and
 * caches what it learned so that many short-lived processes share it.
 *
 * Usage, in four steps:
 *
 *	stsdane_ctx *ctx = stsdane_new();
 *	if (stsdane_load_config(ctx, "/etc/stsdane.conf") != STSDANE_OK)
 *		fprintf(stderr, "%s\n", stsdane_error(ctx));
 *	stsdane_set(ctx, "fetch_timeout", "5");     (optional, before use)
 *
 *	struct stsdane_decision *d;
 *	if (stsdane_query(ctx, "example.com", 0, &d) == STSDANE_OK) {
 *		if (d->tempfail)          defer the message
 *		else                      per MX host, ask
 *		                          stsdane_host_check(d, host, &r):
 *		                          connect only if r.connect, TLS if
 *		                          r.require_tls, then verify with
 *		                          stsdane_verify_chain()
 *		stsdane_decision_free(d);
 *	}
 *	stsdane_free(ctx);
 *
 * Conventions: functions return STSDANE_OK (0) or a negative STSDANE_ERR_*
 * code; a context keeps a detailed message for the last error, returned by
 * stsdane_error().  For stsdane_query() in particular: every network
 * outcome (no record, SERVFAIL, timeout, DNSSEC bogus, a failed fetch) is
 * a decision, STSDANE_OK, with tempfail set where the sender must defer;
 * an error means a resource failure (memory, a resolver that cannot be
 * set up) or a bad argument; a domain that is not a DNS name gets
 * STSDANE_ERR_NAME, which a caller may treat as "no policy".  Everything the library allocates for the caller is
 * released by the matching _free() function.  A context is not thread-safe;
 * use one per thread.
 *
 * MTAs that load stsdane at run time should not link against these symbols
 * but call stsdane_plugin() (see the end of this file) for a versioned
 * table of function pointers.
 */
#ifndef STSDANE_H
#define STSDANE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STSDANE_VERSION_STRING "0.1.0"

/*
 * Error codes.  This list only grows; a value once published keeps its
 * meaning.  stsdane_strerror() returns a constant string for each.
 */
enum stsdane_err {
	STSDANE_OK = 0,
	STSDANE_ERR_NOMEM = -1,		/* out of memory */
	STSDANE_ERR_INVAL = -2,		/* invalid argument */
	STSDANE_ERR_CONFIG = -3,	/* bad configuration key or value */
	STSDANE_ERR_IO = -4,		/* file could not be read or written */
	STSDANE_ERR_RESOLVER = -5,	/* resolver could not be set up */
	STSDANE_ERR_FETCH = -6,		/* HTTPS layer could not be set up */
	STSDANE_ERR_CACHE = -7,		/* cache could not be used */
	STSDANE_ERR_SYNTAX = -8,	/* input does not parse */
	STSDANE_ERR_TLS = -9,		/* TLS or certificate layer failure */
	STSDANE_ERR_LOCKED = -10,	/* setting changed after first use */
	STSDANE_ERR_VERSION = -11,	/* unsupported interface version */
	STSDANE_ERR_NOTFOUND = -12,	/* no such entry */
	STSDANE_ERR_VERIFY = -13,	/* certificate does not satisfy decision */
	STSDANE_ERR_NETWORK = -14,	/* connection failed or timed out */
	STSDANE_ERR_NAME = -15		/* not a DNS domain (or host) name */
};

const char *stsdane_strerror(int err);

/* Which mechanism decided. */
enum stsdane_mechanism {
	STSDANE_MECH_NONE = 0,		/* neither DANE nor MTA-STS applies */
	STSDANE_MECH_MTASTS = 1,	/* an MTA-STS policy applies */
	STSDANE_MECH_DANE = 2		/* DNSSEC-secure TLSA records apply */
};

/* MTA-STS policy mode; DANE decisions report ENFORCE. */
enum stsdane_mode {
	STSDANE_MODE_NONE = 0,
	STSDANE_MODE_TESTING = 1,
	STSDANE_MODE_ENFORCE = 2
};

/* Where the decision came from. */
enum stsdane_source {
	STSDANE_SOURCE_NETWORK = 0,
	STSDANE_SOURCE_CACHE = 1,
	/* the fleet's shared cache (shared_cache): learned by another
	   host, or by this one earlier, and now in the local cache too */
	STSDANE_SOURCE_SHARED = 2
};

/*
 * What went wrong, when something did.  This is the step that failed, for
 * programs; the reason string says the same for people.  Only grows.
 */
enum stsdane_problem {
	STSDANE_PROBLEM_NONE = 0,
	STSDANE_PROBLEM_TXT_MISSING,	/* no _mta-sts TXT record at all */
	STSDANE_PROBLEM_TXT_SYNTAX,	/* a v=STSv1 record does not parse */
	STSDANE_PROBLEM_TXT_MULTIPLE,	/* more than one v=STSv1 record */
	STSDANE_PROBLEM_DNS_TEMPFAIL,	/* SERVFAIL, timeout: try again later */
	STSDANE_PROBLEM_DNS_BOGUS,	/* DNSSEC validation failed */
	STSDANE_PROBLEM_POLICY_HOST_DNS, /* mta-sts.DOMAIN has no address */
	STSDANE_PROBLEM_CONNECT,	/* TCP connection to policy host failed */
	STSDANE_PROBLEM_TLS,		/* TLS handshake or certificate failed */
	STSDANE_PROBLEM_TIMEOUT,	/* policy fetch exceeded its deadline */
	STSDANE_PROBLEM_HTTP_REDIRECT,	/* HTTP 3xx: redirects are not followed */
	STSDANE_PROBLEM_HTTP_STATUS,	/* HTTP status other than 200 */
	STSDANE_PROBLEM_MEDIA_TYPE,	/* Content-Type is not text/plain */
	STSDANE_PROBLEM_TOO_LARGE,	/* body over 64 KiB */
	STSDANE_PROBLEM_POLICY_SYNTAX,	/* the policy file does not parse */
	STSDANE_PROBLEM_NULL_MX,	/* domain publishes a null MX: no mail */
	STSDANE_PROBLEM_DANE_UNUSABLE,	/* secure TLSA, but none usable */
	STSDANE_PROBLEM_FETCH_OTHER,	/* other HTTPS failure */
	STSDANE_PROBLEM_INTERNAL,	/* resource failure inside stsdane */
	STSDANE_PROBLEM_HEADER_TOO_LONG, /* policy host sent an HTTP header
					   line over 16 KiB */
	STSDANE_PROBLEM_HEADER_FLOOD	/* policy host sent over 64 KiB of
					   HTTP headers */
};

const char *stsdane_problem_name(enum stsdane_problem p);

/* DANE status of one MX host (RFC 7672 section 2.2). */
enum stsdane_dane_status {
	STSDANE_DANE_INSECURE = 0,	/* no secure TLSA: DANE does not apply */
	STSDANE_DANE_SECURE = 1,	/* secure TLSA with usable records */
	STSDANE_DANE_UNUSABLE = 2,	/* secure TLSA, no usable record: TLS
					   mandatory but unauthenticated */
	STSDANE_DANE_BOGUS = 3,		/* validation failed: defer */
	STSDANE_DANE_TEMPFAIL = 4	/* lookup failed: defer */
};

/* One TLSA record (RFC 6698), as published. */
struct stsdane_tlsa {
	uint8_t usage;			/* 2 = DANE-TA, 3 = DANE-EE */
	uint8_t selector;		/* 0 = full certificate, 1 = SPKI */
	uint8_t mtype;			/* 0 = exact, 1 = SHA-256, 2 = SHA-512 */
	size_t len;			/* length of data */
	unsigned char *data;		/* association data */
};

/* DANE view of one MX host. */
struct stsdane_dane_host {
	char *name;			/* MX host name, as in the MX RRset */
	char *base_domain;		/* TLSA base domain (RFC 7672 2.2.2) */
	unsigned preference;		/* MX preference */
	enum stsdane_dane_status status;
	size_t ntlsa;			/* usable TLSA records */
	struct stsdane_tlsa *tlsa;
};

/*
 * A decision for one recipient domain.  Allocated by stsdane_query(),
 * released by stsdane_decision_free(); every pointer inside belongs to it.
 */
struct stsdane_decision {
	char *domain;			/* the domain asked about, lower case */
	enum stsdane_mechanism mechanism;
	enum stsdane_mode mode;
	int require_tls;		/* 1: never deliver in clear text */
	int tempfail;			/* 1: defer now, do not deliver; such a
					   decision also sets require_tls */
	int no_mail;			/* 1: null MX, the domain takes no mail */
	size_t nmx;			/* allowed MX patterns (MTA-STS) */
	char **mx;
	char *policy_id;		/* MTA-STS id from TXT, or NULL */
	uint32_t max_age;		/* MTA-STS max_age, seconds */
	int64_t expires;		/* until when this decision may be
					   reused, seconds since the epoch: the
					   first of the DNS TTLs involved, the
					   next look at the TXT record, and the
					   policy's fetched-at + max_age */
	enum stsdane_source source;
	enum stsdane_problem problem;	/* what failed, or NONE */
	char *reason;			/* one line for people */
	size_t ndane;			/* DANE hosts, in MX preference order */
	struct stsdane_dane_host *dane;
};

/* Flags for stsdane_query(). */
#define STSDANE_QUERY_NO_CACHE	0x1u	/* neither read nor write the cache */
#define STSDANE_QUERY_REFRESH	0x2u	/* ignore cached data, then store */
#define STSDANE_QUERY_CACHE_ONLY 0x4u	/* what is remembered, or
					   STSDANE_ERR_NOTFOUND: no network */

/*
 * Context.  Settings (stsdane_load_config(), stsdane_set()) are accepted
 * until the first query; after that they fail with STSDANE_ERR_LOCKED.
 */
typedef struct stsdane_ctx stsdane_ctx;

stsdane_ctx *stsdane_new(void);
int stsdane_load_config(stsdane_ctx *ctx, const char *path);
int stsdane_set(stsdane_ctx *ctx, const char *key, const char *value);
/* A setting's value as text, valid until the next call on ctx; NULL for
   an unknown key. */
const char *stsdane_get(stsdane_ctx *ctx, const char *key);
const char *stsdane_error(const stsdane_ctx *ctx);
void stsdane_free(stsdane_ctx *ctx);

/*
 * Log sink.  Messages that must reach an administrator once (a cache that
 * cannot be written, a corrupt database moved aside) go here; by default
 * they go to stderr.  level: 0 error, 1 warning, 2 info, 3 debug.
 */
typedef void stsdane_log_fn(void *arg, int level, const char *msg);
void stsdane_set_log(stsdane_ctx *ctx, stsdane_log_fn *fn, void *arg);

/*
 * Decide for a recipient domain.  The context remembers its decisions:
 * asked again, it hands out a copy of the same decision until that
 * decision's expiry, and keeps a tempfail, or a decision with no
 * lifetime of its own, for 30 seconds, so that the several questions one
 * delivery asks (an MTA's router, transport options, events) see one
 * answer.  A tempfail is never written to the shared cache.
 * STSDANE_QUERY_NO_CACHE bypasses all of it; STSDANE_QUERY_REFRESH
 * decides from the network and remembers the result;
 * STSDANE_QUERY_CACHE_ONLY answers from what is remembered (memo,
 * answers file, database) and returns STSDANE_ERR_NOTFOUND, touching
 * neither DNS nor HTTPS, when that does not decide: for an event loop
 * that must not block (the Postfix policy server), which hands the
 * misses to threads of its own.  It goes with neither of the others
 * (STSDANE_ERR_INVAL).
 */
int stsdane_query(stsdane_ctx *ctx, const char *domain, unsigned flags,
    struct stsdane_decision **out);
void stsdane_decision_free(struct stsdane_decision *d);

/*
 * May a connection go to MX host name `host' under this decision?
 * 1: yes, 0: no.  Without a policy every host is allowed.
 */
int stsdane_host_allowed(const struct stsdane_decision *d, const char *host);

/*
 * What a caller may do with one MX host under a decision.  This is the
 * one answer every adapter uses (the Exim module, the probe,
 * stsdane_verify_chain()); callers must not work it out for themselves.
 *
 * Rules: a tempfail decision allows no connection (defer), and should a
 * caller connect anyway, TLS and verification are required; a null MX
 * allows none; DANE allows the hosts of the DNSSEC-validated MX RRset
 * (found by name, else by TLSA base domain) but those whose lookups
 * failed, requires TLS of them, and DANE verification of those with
 * usable TLSA records; MTA-STS enforce
 * allows the hosts the policy lists, requiring TLS and a certificate
 * that verifies under the CA file and names the host; MTA-STS testing
 * allows every host (RFC 8461 5: deliver, report), and says what
 * enforce would have refused; no policy allows every host.
 */
enum stsdane_refusal {
	STSDANE_REFUSE_NONE = 0,	/* nothing to refuse */
	STSDANE_REFUSE_TEMPFAIL,	/* the decision is to defer */
	STSDANE_REFUSE_NO_MAIL,		/* null MX: the domain takes no mail */
	STSDANE_REFUSE_NOT_IN_POLICY,	/* the MTA-STS policy does not list it */
	STSDANE_REFUSE_NOT_IN_MX	/* not in the validated MX RRset of a
					   DANE domain */
};

struct stsdane_host_rules {
	int connect;			/* 1: a connection may be made */
	enum stsdane_refusal refusal;	/* why not; with connect 1, what an
					   enforced policy would refuse */
	int report_only;		/* 1: refusal is to be reported, not
					   applied (MTA-STS testing) */
	int enforce;			/* 1: a failed check stops delivery;
					   0: it is only reported */
	int require_tls;		/* 1: never in clear text */
	int require_dane;		/* 1: verify by DANE (usable TLSA) */
	int verify_pkix;		/* 1: the chain must verify under the
					   CA file and carry pkix_name */
	char pkix_name[256];		/* the name the certificate must show,
					   lower case; "" without PKIX */
	const struct stsdane_dane_host *dane;	/* this host in d->dane, or
					   NULL; points into d */
};

/*
 * Fill *out for MX host `host' under d.  STSDANE_OK; STSDANE_ERR_INVAL
 * for NULL arguments; STSDANE_ERR_NAME when host is not a DNS host name
 * (out is then filled as for a host no list names: fail closed).
 */
int stsdane_host_check(const struct stsdane_decision *d, const char *host,
    struct stsdane_host_rules *out);
const char *stsdane_refusal_name(enum stsdane_refusal r);

/* Names for the enums, for logs and JSON. */
const char *stsdane_mechanism_name(enum stsdane_mechanism m);
const char *stsdane_mode_name(enum stsdane_mode m);
const char *stsdane_source_name(enum stsdane_source s);
const char *stsdane_dane_status_name(enum stsdane_dane_status s);

/*
 * Offline checks, no network, for administrators.
 */

/* A parsed MTA-STS policy file. */
struct stsdane_policy {
	enum stsdane_mode mode;
	uint32_t max_age;
	size_t nmx;
	char **mx;
};

/*
 * Parse an MTA-STS policy body.  On STSDANE_ERR_SYNTAX, err holds e.g.
 * "line 3: max_age '604800s' is not a number".
 */
int stsdane_policy_parse(const char *body, size_t len,
    struct stsdane_policy **out, char *err, size_t errlen);
void stsdane_policy_free(struct stsdane_policy *p);

/* Does MX host name `host' match policy pattern `pattern'? 1 or 0. */
int stsdane_mx_match(const char *pattern, const char *host);

/*
 * Evaluate the TXT record set at _mta-sts.DOMAIN: n records, each the
 * concatenation of its strings.  STSDANE_OK with id (33 bytes) filled;
 * STSDANE_ERR_NOTFOUND when no record starts with v=STSv1;
 * STSDANE_ERR_SYNTAX otherwise, with the reason in err.
 */
int stsdane_txt_check(const char *const *records, const size_t *lens,
    size_t n, char id[33], char *err, size_t errlen);

/*
 * The TXT record set at _smtp._tls.DOMAIN (RFC 8460 section 3): n
 * records, each the concatenation of its strings.  Records that do not
 * begin with v=TLSRPTv1 are discarded; exactly one must remain and
 * parse.  STSDANE_OK with *out set: rua lists the destinations a sender
 * can use (mailto: and https: URIs, in record order; URIs of other
 * schemes are ignored and counted, nrua may then be 0);
 * STSDANE_ERR_NOTFOUND when no record begins with v=TLSRPTv1;
 * STSDANE_ERR_SYNTAX with the reason in err (two such records, a
 * malformed field or URI, no rua field).  Free with stsdane_tlsrpt_free().
 */
struct stsdane_tlsrpt {
	size_t nrua;
	char **rua;			/* "mailto:..." or "https://..." */
	size_t nignored;		/* URIs of other schemes */
};
int stsdane_tlsrpt_check(const char *const *records, const size_t *lens,
    size_t n, struct stsdane_tlsrpt **out, char *err, size_t errlen);
void stsdane_tlsrpt_free(struct stsdane_tlsrpt *r);

/*
 * Is one TLSA record, in presentation form "U S M HEX", usable for SMTP
 * (RFC 7672 3.1)?  STSDANE_OK, or STSDANE_ERR_SYNTAX / STSDANE_ERR_VERIFY
 * with the reason in err.
 */
int stsdane_tlsa_check(const char *text, char *err, size_t errlen);

/*
 * Does the peer's certificate chain (DER, leaf first) satisfy the decision
 * for MX host `host'?  STSDANE_OK, or STSDANE_ERR_VERIFY with the reason
 * in err.  Uses the context's CA file for MTA-STS.
 */
struct stsdane_cert {
	const unsigned char *der;
	size_t len;
};
int stsdane_verify_chain(stsdane_ctx *ctx, const struct stsdane_decision *d,
    const char *host, const struct stsdane_cert *chain, size_t nchain,
    char *err, size_t errlen);

/*
 * Probe: decide, then connect to each MX host on the SMTP port (25, or
 * the smtp_port setting), EHLO, STARTTLS with SNI, and check the peer's
 * chain against the decision, the way a sending MTA would.  Every step is
 * bounded by a timeout; a host that stalls or lies is reported, never
 * waited on forever.
 */
struct stsdane_probe_host {
	char *name;			/* MX host name */
	unsigned preference;
	char *address;			/* address connected to, or NULL */
	int allowed;			/* the decision allows this host */
	int connected;
	int starttls;			/* STARTTLS offered in EHLO reply */
	int handshake;			/* TLS handshake completed */
	char *tls_version;		/* e.g. "TLS1.3", or NULL */
	char *cipher;
	char *subject;			/* certificate subject DN */
	size_t ndns_names;		/* subjectAltName DNS names */
	char **dns_names;
	int64_t not_after;		/* certificate expiry, epoch seconds */
	int verified;			/* chain satisfies the decision */
	char *verdict;			/* "pass", "fail", "no-starttls",
					   "connect-failed", "not-allowed",
					   "tls-failed", "timeout", "no-address" */
	char *reason;			/* one line for people */
};

struct stsdane_probe {
	struct stsdane_decision *decision;
	size_t nhosts;
	struct stsdane_probe_host *hosts;
};

int stsdane_probe(stsdane_ctx *ctx, const char *domain, unsigned flags,
    struct stsdane_probe **out);
void stsdane_probe_free(struct stsdane_probe *p);

/*
 * Audit: the domain owner's view.  stsdane_audit() looks at everything a
 * sender would, at once: the DNS records (DNSSEC status, MX, addresses),
 * the _mta-sts TXT record, the policy host and its certificate, the
 * policy file, the MX hosts against the policy, each address of each MX
 * host over SMTP with STARTTLS (all at the same time, each step with a
 * deadline), the TLSA records against the certificate each address
 * presents, and the TLS-RPT record.  Each thing checked is a finding;
 * nothing is read from or written to the cache.
 *
 * Layers, in report order: "dns", "mta-sts-txt", "policy-host",
 * "policy", "mx", "smtp", "dane", "tlsrpt".
 */
enum stsdane_severity {
	STSDANE_SEV_INFO = 0,		/* worth knowing, nothing wrong */
	STSDANE_SEV_WARNING = 1,	/* works, but fragile or weak */
	STSDANE_SEV_ERROR = 2		/* mail is refused, deferred or open */
};

enum stsdane_verdict {
	STSDANE_VERDICT_PASS = 0,
	STSDANE_VERDICT_WARN = 1,
	STSDANE_VERDICT_FAIL = 2,
	STSDANE_VERDICT_NA = 3		/* a layer with nothing to check */
};

#define STSDANE_AUDIT_LAYERS 8

struct stsdane_finding {
	char *id;			/* stable, e.g. "policy.max-age-short" */
	enum stsdane_severity severity;
	unsigned layer;			/* index, stsdane_audit_layer_name() */
	char *host;			/* MX or policy host, or NULL */
	char *address;			/* address connected to, or NULL */
	char *message;			/* what was found */
	char *fix;			/* what to change, or NULL */
};

struct stsdane_audit {
	char *domain;
	enum stsdane_verdict verdict;	/* fail: an error; warn: a warning */
	enum stsdane_verdict layers[STSDANE_AUDIT_LAYERS];
	size_t nfindings;		/* in layer order */
	struct stsdane_finding *findings;
	size_t nprobes;			/* SMTP sessions (host x address) */
	int64_t probe_ms;		/* wall time of all SMTP sessions */
	int64_t slowest_probe_ms;	/* the longest single one */
	int64_t elapsed_ms;		/* the whole audit */
	struct stsdane_decision *decision;	/* what a sender decides now
					   (stsdane_query(), no cache), or
					   NULL; freed with the audit */
};

/* Options for stsdane_audit(); NULL means the defaults. */
struct stsdane_audit_options {
	unsigned warn_days;		/* certificate expiry warning; 0: 21 */
};

/*
 * Audit `domain'.  STSDANE_OK with *out set whatever the network said
 * (that is in the findings); STSDANE_ERR_NAME, STSDANE_ERR_INVAL,
 * STSDANE_ERR_NOMEM, STSDANE_ERR_RESOLVER otherwise.  Free *out with
 * stsdane_audit_free().
 */
int stsdane_audit(stsdane_ctx *ctx, const char *domain,
    const struct stsdane_audit_options *opt, struct stsdane_audit **out);
void stsdane_audit_free(struct stsdane_audit *a);
/* "dns" ... "tlsrpt"; NULL past the last. */
const char *stsdane_audit_layer_name(unsigned layer);
const char *stsdane_severity_name(enum stsdane_severity s);
const char *stsdane_verdict_name(enum stsdane_verdict v);

/*
 * Cache administration, for cron jobs and people.  The cache holds, per
 * domain, records of these kinds: "sts" (the last valid MTA-STS policy),
 * "txt" (the TXT id last seen, until it is due to be looked at again),
 * "dane" (the DANE result, or "DANE does not apply", until its smallest
 * TTL), "neg" (no policy, or a recent failure, for a bounded time), "ans"
 * (the final decision).  stsdane_cache_list() hands out only the
 * decisions: "sts", "ans", and "dane" records where DANE applies; the
 * markers are not decisions and are not listed.
 */
typedef int stsdane_cache_fn(void *arg, const char *kind,
    const struct stsdane_decision *d, int64_t learned);

/* Call fn for every cache entry; fn returns nonzero to stop. */
int stsdane_cache_list(stsdane_ctx *ctx, stsdane_cache_fn *fn, void *arg);
/* Remove every entry of `domain', or all entries when domain is NULL. */
int stsdane_cache_flush(stsdane_ctx *ctx, const char *domain);
/*
 * Refresh every domain with an entry that expires within `within'
 * seconds: query it again with STSDANE_QUERY_REFRESH.  fn (may be NULL)
 * is told each domain and the result.  *count gets the number of domains.
 * Domains are refreshed refresh_concurrency at a time, and the policy
 * fetches to any one server address wait for its limits
 * (refresh_host_concurrency in flight, refresh_host_rate starts a second).
 */
typedef void stsdane_refresh_fn(void *arg, const char *domain, int rc,
    const struct stsdane_decision *d);
int stsdane_cache_refresh(stsdane_ctx *ctx, int64_t within,
    stsdane_refresh_fn *fn, void *arg, size_t *count);
/*
 * How many domains stsdane_cache_refresh() with the same `within' would
 * refresh now, in *count (for a progress display).
 */
int stsdane_cache_expiring(stsdane_ctx *ctx, int64_t within, size_t *count);
/*
 * Milliseconds the policy fetches of stsdane_cache_refresh() have waited
 * for the per-address limits, in all, since the process started (the
 * limits are the process's, shared by every context).
 */
int64_t stsdane_cache_refresh_waited(const stsdane_ctx *ctx);

/*
 * TLS reporting (RFC 8460): what a sending MTA records of every TLS
 * negotiation it makes, and the daily aggregate reports made from it.
 * Recording is cheap (one append to a file of the day, no lock, no DNS,
 * no network) and is enabled by the "tlsrpt" setting; without it
 * stsdane_tlsrpt_record() does nothing.  See docs/tlsrpt.md.
 */
enum stsdane_tlsrpt_result {
	STSDANE_TLSRPT_SUCCESS = 0,
	STSDANE_TLSRPT_STARTTLS_NOT_SUPPORTED,
	STSDANE_TLSRPT_CERTIFICATE_HOST_MISMATCH,
	STSDANE_TLSRPT_CERTIFICATE_EXPIRED,
	STSDANE_TLSRPT_CERTIFICATE_NOT_TRUSTED,
	STSDANE_TLSRPT_VALIDATION_FAILURE,
	STSDANE_TLSRPT_STS_POLICY_FETCH_ERROR,
	STSDANE_TLSRPT_STS_POLICY_INVALID,
	STSDANE_TLSRPT_STS_WEBPKI_INVALID,
	STSDANE_TLSRPT_TLSA_INVALID,
	STSDANE_TLSRPT_DNSSEC_INVALID,
	STSDANE_TLSRPT_DANE_REQUIRED
};
/* "starttls-not-supported", ...; "success" for 0; NULL out of range */
const char *stsdane_tlsrpt_result_name(enum stsdane_tlsrpt_result r);
/* The result type of an RFC 8460 name; -1 when it is none. */
int stsdane_tlsrpt_result_parse(const char *name);

/* One session's outcome.  Strings may be NULL or "" (not known). */
struct stsdane_tlsrpt_session {
	enum stsdane_tlsrpt_result result;
	const char *sending_mta_ip;
	const char *receiving_mx_hostname;
	const char *receiving_mx_helo;
	const char *receiving_ip;
	const char *additional_information;
	const char *failure_reason_code;
};

/*
 * Record one session of a delivery to d->domain, to MX host `host' (may
 * be NULL when no host was reached).  The policy (type "sts", "tlsa" or
 * "no-policy-found", its string, its MX patterns) is taken from d; a
 * decision that failed to find a policy for a reason RFC 8460 names
 * (policy fetch, policy syntax, policy host certificate, DNSSEC) is
 * recorded under the type it failed to get.  STSDANE_OK (also when
 * reporting is disabled), STSDANE_ERR_IO when the store cannot be
 * written or is full for the day (not logged: the caller, called for
 * every session, should say it once), STSDANE_ERR_INVAL.
 */
int stsdane_tlsrpt_record(stsdane_ctx *ctx, const struct stsdane_tlsrpt_session *s,
    const struct stsdane_decision *d, const char *host);

/*
 * The counters of one UTC day ("YYYY-MM-DD"; NULL: today): fn is called
 * once per policy domain, policy type and result type with the count of
 * sessions.  fn returns nonzero to stop.
 */
typedef int stsdane_tlsrpt_count_fn(void *arg, const char *domain,
    const char *policy_type, enum stsdane_tlsrpt_result r, uint64_t count);
int stsdane_tlsrpt_list(stsdane_ctx *ctx, const char *day,
    stsdane_tlsrpt_count_fn *fn, void *arg);

/*
 * Make and send the reports of one UTC day (NULL: yesterday): for each
 * policy domain with sessions that day and a valid _smtp._tls record,
 * one RFC 8460 report to each of its rua destinations, unless sent
 * already.  With dry_run_dir, nothing is sent: DIR/DOMAIN.json and
 * DIR/DOMAIN.json.gz are written instead, and DIR/DOMAIN.eml for a
 * mailto: destination.  fn (may be NULL) is told each step in one line.
 * *nsent gets the number of reports made.  STSDANE_OK when every
 * destination was served or is left for a later try.
 */
typedef void stsdane_tlsrpt_note_fn(void *arg, const char *line);
int stsdane_tlsrpt_send(stsdane_ctx *ctx, const char *day,
    const char *dry_run_dir, stsdane_tlsrpt_note_fn *fn, void *arg,
    size_t *nsent);

/*
 * Plugin interface for MTAs that load stsdane at run time.  Call
 * stsdane_plugin(STSDANE_PLUGIN_ABI); NULL means this module does not
 * offer that interface version.  Later versions only append members; the
 * size member tells how many a module fills.
 */
#define STSDANE_PLUGIN_ABI 1

struct stsdane_plugin {
	unsigned abi;			/* STSDANE_PLUGIN_ABI */
	size_t size;			/* sizeof(struct stsdane_plugin) */
	const char *(*version)(void);
	/* Create a context from a configuration file (NULL: defaults). */
	stsdane_ctx *(*open)(const char *config_path, char *err,
	    size_t errlen);
	int (*set)(stsdane_ctx *, const char *key, const char *value);
	int (*query)(stsdane_ctx *, const char *domain, unsigned flags,
	    struct stsdane_decision **);
	int (*host_allowed)(const struct stsdane_decision *, const char *);
	void (*decision_free)(struct stsdane_decision *);
	void (*close)(stsdane_ctx *);
	const char *(*strerror)(int);
	const char *(*error)(const stsdane_ctx *);
	void (*set_log)(stsdane_ctx *, stsdane_log_fn *, void *);
	int (*verify_chain)(stsdane_ctx *, const struct stsdane_decision *,
	    const char *, const struct stsdane_cert *, size_t, char *,
	    size_t);
	int (*policy_parse)(const char *, size_t, struct stsdane_policy **,
	    char *, size_t);
	void (*policy_free)(struct stsdane_policy *);
	int (*mx_match)(const char *, const char *);
	int (*txt_check)(const char *const *, const size_t *, size_t,
	    char[33], char *, size_t);
	int (*tlsa_check)(const char *, char *, size_t);
	const char *(*mechanism_name)(enum stsdane_mechanism);
	const char *(*mode_name)(enum stsdane_mode);
	const char *(*source_name)(enum stsdane_source);
	const char *(*problem_name)(enum stsdane_problem);
	const char *(*dane_status_name)(enum stsdane_dane_status);
	const char *(*get)(stsdane_ctx *, const char *);
	int (*probe)(stsdane_ctx *, const char *, unsigned,
	    struct stsdane_probe **);
	void (*probe_free)(struct stsdane_probe *);
	int (*cache_list)(stsdane_ctx *, stsdane_cache_fn *, void *);
	int (*cache_flush)(stsdane_ctx *, const char *);
	int (*cache_refresh)(stsdane_ctx *, int64_t, stsdane_refresh_fn *,
	    void *, size_t *);
	/* appended later; present when size covers them */
	int (*host_check)(const struct stsdane_decision *, const char *,
	    struct stsdane_host_rules *);
	const char *(*refusal_name)(enum stsdane_refusal);
	int (*tlsrpt_check)(const char *const *, const size_t *, size_t,
	    struct stsdane_tlsrpt **, char *, size_t);
	void (*tlsrpt_free)(struct stsdane_tlsrpt *);
	int (*audit)(stsdane_ctx *, const char *,
	    const struct stsdane_audit_options *, struct stsdane_audit **);
	void (*audit_free)(struct stsdane_audit *);
	const char *(*audit_layer_name)(unsigned);
	const char *(*severity_name)(enum stsdane_severity);
	const char *(*verdict_name)(enum stsdane_verdict);
	int (*cache_expiring)(stsdane_ctx *, int64_t, size_t *);
	int (*tlsrpt_record)(stsdane_ctx *,
	    const struct stsdane_tlsrpt_session *,
	    const struct stsdane_decision *, const char *);
	int (*tlsrpt_list)(stsdane_ctx *, const char *,
	    stsdane_tlsrpt_count_fn *, void *);
	int (*tlsrpt_send)(stsdane_ctx *, const char *, const char *,
	    stsdane_tlsrpt_note_fn *, void *, size_t *);
	const char *(*tlsrpt_result_name)(enum stsdane_tlsrpt_result);
	int64_t (*cache_refresh_waited)(const stsdane_ctx *);
};

const struct stsdane_plugin *stsdane_plugin(unsigned abi);

#ifdef __cplusplus
}
#endif

#endif /* STSDANE_H */
