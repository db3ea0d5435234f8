/*
 * smtp.h - the SMTP/TLS session of stsdane_probe(), split out for tests
 */
#ifndef STSDANE_SMTP_H
#define STSDANE_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "stsdane.h"

struct smtp_reply {
	int code;		/* e.g. 250 */
	int starttls;		/* a line after the first is "STARTTLS" */
	size_t nlines;
	char text[256];		/* first line after the code, for messages */
};
/*
 * One complete reply at the start of buf: 1 (with *used bytes), 0 when
 * more input is needed, -1 on garbage or a reply over the bounds (err).
 */
int smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r,
    size_t *used, char *err, size_t errlen);
/* Greeting, EHLO, STARTTLS, handshake, verification on connected fd;
   each step within step_ms and the whole session within budget_ms. */
void probe_session(stsdane_ctx *ctx, const struct stsdane_decision *d,
    const char *host, int fd, const char *ehlo, unsigned step_ms,
    unsigned budget_ms, struct stsdane_probe_host *h);
/* Milliseconds until deadline (monotonic), 0 when it has passed. */
int ms_left(int64_t deadline);

/*
 * As probe_session(), without a decision: the handshake is done, and
 * instead of verifying, copies of the peer's chain (leaf first) go to
 * *keep, which the caller releases with probe_chain_release(); the
 * verdict is then "handshake".  Touches no context, so that sessions
 * to several addresses can run in threads of their own (the audit).
 */
#define PROBE_MAX_KEEP 8
struct probe_chain {
	size_t n;
	unsigned char *der[PROBE_MAX_KEEP];
	size_t len[PROBE_MAX_KEEP];
};
void probe_session_keep(const char *host, int fd, const char *ehlo,
    unsigned step_ms, struct stsdane_probe_host *h,
    struct probe_chain *keep);
void probe_chain_release(struct probe_chain *k);
/*
 * probe_run.c: connect to the address in presentation form `addr' on
 * `port' by `deadline' (sd_mono_ms): fd, or -1 with err (and *timed_out
 * set when the deadline passed); the name this side gives in EHLO.
 */
int probe_connect(const char *addr, unsigned port, int64_t deadline,
    int *timed_out, char *err, size_t errlen);
void probe_ehlo_name(char *buf, size_t len);

/* Shared with probe_run.c. */
#define PROBE_STEP_MS 10000u	/* one read, write, connect or handshake */
#define PROBE_HOST_MS 60000u	/* everything for one host */
/* Replace *dst by a copy of src ("" for NULL); 0, or -1 (ENOMEM). */
int set_str(char **dst, const char *src);
/* Set h's verdict word and its reason. */
void set_verdict(struct stsdane_probe_host *h, const char *verdict,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Wait for fd to be ready for events until deadline (sd_mono_ms): 1 or
   0 on time-out. */
int wait_fd(int fd, short events, int64_t deadline);

/* probe_run.c, apart for tests: p->decision's MX hosts into p->hosts
   (STSDANE_OK or STSDANE_ERR_NOMEM), then each probed through env. */
struct decide_env;
int take_hosts(struct stsdane_probe *p);
void probe_hosts(stsdane_ctx *ctx, struct decide_env *env,
    struct stsdane_probe *p);

#endif /* STSDANE_SMTP_H */
