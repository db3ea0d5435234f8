/*
 * audit.h - the parts of stsdane_audit(), one file per group of layers
 *
 * audit.c owns the run: the DNS lookups, the findings and the public
 * functions; audit_sts.c checks the MTA-STS side (TXT record, policy
 * host, policy, MX against the policy) and TLS-RPT; audit_tls.c runs
 * the SMTP sessions at the same time and checks what each address
 * presents, for MTA-STS and for DANE.
 */
#ifndef STSDANE_AUDIT_H
#define STSDANE_AUDIT_H

#include <stdint.h>

#include "decide.h"
#include "scheduler.h"
#include "util.h"

enum {
	L_DNS = 0, L_TXT, L_PHOST, L_POLICY, L_MX, L_SMTP, L_DANE, L_TLSRPT
};

#define AUDIT_MAX_ADDRS 8	/* addresses per MX host */
#define AUDIT_MAX_TLSA 16	/* TLSA records per MX host */
#define AUDIT_MAX_TXT 8		/* TXT records looked at */
#define AUDIT_MAX_PATTERNS 32	/* policy mx lines */

struct audit_tlsa {
	uint8_t usage, selector, mtype;
	size_t len;
	unsigned char data[64];
};

struct audit_mx {
	char name[SD_MAX_NAME];
	unsigned pref;
	struct lookup a, aaaa, tlsa;
	size_t naddrs;
	char addrs[AUDIT_MAX_ADDRS][64];
	size_t ntlsa;
	struct audit_tlsa tlsas[AUDIT_MAX_TLSA];
	char tlsa_base[SD_MAX_NAME];	/* where TLSA was looked up */
};

/* One SMTP session's outcome (audit_tls.c). */
struct audit_probe;

struct audit_run {
	stsdane_ctx *ctx;
	struct decide_env env;
	struct stsdane_audit *out;
	size_t cap;			/* room in out->findings */
	int nomem;
	int64_t now;
	unsigned warn_days;
	const char *domain;
	/* DNS */
	struct lookup soa, mx, txt, rpt, pha, phaaaa;
	size_t ntxt, nrpt;
	char *txts[AUDIT_MAX_TXT], *rpts[AUDIT_MAX_TXT];
	int null_mx;
	size_t nmx;
	struct audit_mx hosts[SD_MAX_MX_HOSTS];
	size_t nph;
	char phaddrs[AUDIT_MAX_ADDRS][64];
	/* MTA-STS */
	int sts_txt;			/* a valid v=STSv1 record */
	int have_policy;		/* a policy was fetched and parses */
	enum stsdane_mode mode;
	size_t npat;
	char patterns[AUDIT_MAX_PATTERNS][SD_MAX_NAME];
	/* SMTP */
	size_t nprobes;
	struct audit_probe *probes;
	struct stsdane_probe *probe_hosts;	/* owns the host results */
};

/* Add a finding; fix may be NULL.  Out of memory sets r->nomem. */
void aud_add(struct audit_run *r, unsigned layer, enum stsdane_severity sev,
    const char *id, const char *host, const char *addr, const char *fix,
    const char *fmt, ...) SD_PRINTF(8, 9);

/* audit_sts.c */
void aud_txt(struct audit_run *r);
void aud_policy(struct audit_run *r);
void aud_mx_vs_policy(struct audit_run *r);
void aud_tlsrpt(struct audit_run *r);

/* audit_tls.c */
/* Start the SMTP sessions of every address of every MX host. */
int aud_probes_start(struct audit_run *r);
/* Wait for them, then check what each one saw. */
void aud_probes_finish(struct audit_run *r);
/*
 * Checks of a certificate chain (DER, leaf first) that host presented
 * at addr: expiry, key and signature strength, and, with pkix set,
 * Web PKI validity for host and a complete chain.  Returns 1 when the
 * chain verifies under Web PKI for host, 0 otherwise.  idp is the id
 * prefix ("policy-host", "smtp").
 */
int aud_chain(struct audit_run *r, unsigned layer, const char *idp,
    const char *host, const char *addr, const char *tls_version,
    unsigned char *const *der, const size_t *len, size_t n, int pkix);

#endif /* STSDANE_AUDIT_H */
