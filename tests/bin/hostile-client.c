/*
 * NAME
 *	hostile-client - the library's fetch and SMTP session against one
 *	server, timed
 * SYNOPSIS
 *	hostile-client fetch PORT CAFILE TIMEOUT_MS
 *	hostile-client smtp PORT STEP_MS BUDGET_MS
 * DESCRIPTION
 *	For tests/integration/hostile.sh.  fetch: the policy fetch of
 *	mta-sts.hostile.test from 127.0.0.1:PORT through stsdane-fetch.so,
 *	with the CAs of CAFILE and an overall deadline of TIMEOUT_MS, as the
 *	decision module drives it.  smtp: probe_session() on a connection to
 *	127.0.0.1:PORT, each step within STEP_MS, the whole session within
 *	BUDGET_MS.
 *
 *	Prints one line: "problem=NAME ms=N error=TEXT" for fetch,
 *	"verdict=NAME ms=N reason=TEXT" for smtp.
 * DIAGNOSTICS
 *	Exit 0 when the exchange ended (however it ended), 2 on bad usage
 *	or when it could not be set up.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fetch.h"
#include "util.h"
#include "smtp.h"
#include "decision.h"

static unsigned
number(const char *s)
{
	unsigned long v = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return v > 1000000 ? 1000000 : (unsigned)v;
}

static int
do_fetch(unsigned port, const char *ca, unsigned timeout_ms)
{
	static const char *const addrs[] = { "127.0.0.1" };
	struct fetch_request req;
	struct fetch_result res;
	const struct fetch_ops *ops;
	char err[SD_ERRLEN];
	int64_t t0 = sd_mono_ms(), end = t0 + timeout_ms;
	void *f;

	ops = fetch_load(err, sizeof(err));
	if (ops == NULL || (f = ops->new(err, sizeof(err))) == NULL) {
		fprintf(stderr, "hostile-client: %s\n", err);
		return 2;
	}
	memset(&req, 0, sizeof(req));
	req.host = "mta-sts.hostile.test";
	req.port = port;
	req.addrs = addrs;
	req.naddrs = 1;
	req.ca_file = ca;
	req.timeout_ms = timeout_ms;
	req.max_body = SD_MAX_POLICY;
	if (ops->start(f, &req, err, sizeof(err)) < 0) {
		fprintf(stderr, "hostile-client: %s\n", err);
		return 2;
	}
	/* the decision module's loop: step until done or past the deadline */
	while (!ops->step(f, -1, 100) && sd_mono_ms() < end)
		;
	ops->finish(f, &res);
	printf("problem=%s ms=%lld error=%s\n",
	    stsdane_problem_name(res.problem),
	    (long long)(sd_mono_ms() - t0), res.error);
	free(res.body);
	ops->free(f);
	return 0;
}

static int
do_smtp(unsigned port, unsigned step_ms, unsigned budget_ms)
{
	struct stsdane_probe_host h;
	struct stsdane_decision *d;
	struct sockaddr_in sa;
	int64_t t0;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("hostile-client: connect");
		return 2;
	}
	d = decision_new("hostile.test");
	if (d == NULL)
		return 2;
	memset(&h, 0, sizeof(h));
	t0 = sd_mono_ms();
	probe_session(NULL, d, "mx.hostile.test", fd, "client.test", step_ms,
	    budget_ms, &h);
	printf("verdict=%s ms=%lld reason=%s\n",
	    h.verdict != NULL ? h.verdict : "?",
	    (long long)(sd_mono_ms() - t0), h.reason != NULL ? h.reason : "");
	close(fd);
	stsdane_decision_free(d);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "fetch") == 0)
		return do_fetch(number(argv[2]), argv[3], number(argv[4]));
	if (argc == 5 && strcmp(argv[1], "smtp") == 0)
		return do_smtp(number(argv[2]), number(argv[3]),
		    number(argv[4]));
	fprintf(stderr, "usage: hostile-client fetch PORT CAFILE TIMEOUT_MS\n"
	    "       hostile-client smtp PORT STEP_MS BUDGET_MS\n");
	return 2;
}
