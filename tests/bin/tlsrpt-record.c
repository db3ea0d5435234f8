/*
 * NAME
 *	tlsrpt-record - record TLS-RPT sessions through the public API
 * SYNOPSIS
 *	tlsrpt-record CONFIG DOMAIN N [distinct]
 *	tlsrpt-record CONFIG DOMAIN loop
 * DESCRIPTION
 *	For the end-to-end tests (tests/e2e/tlsrpt.sh): records N sessions
 *	to DOMAIN under a "no policy" decision, each a
 *	starttls-not-supported failure from 192.0.2.1 to
 *	mx.DOMAIN; with "distinct" each has a receiving-ip of its own
 *	(10.x.y.z), so that each is a failure-details entry of its own:
 *	the oversized report.  "loop" records until killed, one session
 *	a millisecond, and prints nothing: the writer that kill -9
 *	interrupts.  Prints the number
 *	of sessions recorded.
 * DIAGNOSTICS
 *	Exit 0, or 1 with a message when a record fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stsdane.h"

int
main(int argc, char **argv)
{
	struct stsdane_tlsrpt_session s;
	struct stsdane_decision d;
	char ip[32], mx[300];
	stsdane_ctx *ctx;
	long i, n = 0;
	int loop, distinct;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: tlsrpt-record CONFIG DOMAIN "
		    "N [distinct] | loop\n");
		return 2;
	}
	loop = strcmp(argv[3], "loop") == 0;
	distinct = argc == 5 && strcmp(argv[4], "distinct") == 0;
	if (!loop) {
		char *end;

		n = strtol(argv[3], &end, 10);
		if (*end != '\0' || n < 0 || n > 10000000)
			return 2;
	}
	ctx = stsdane_new();
	if (ctx == NULL || stsdane_load_config(ctx, argv[1]) != STSDANE_OK) {
		fprintf(stderr, "tlsrpt-record: %s\n",
		    ctx ? stsdane_error(ctx) : "out of memory");
		return 1;
	}
	memset(&d, 0, sizeof(d));
	d.domain = argv[2];
	(void)snprintf(mx, sizeof(mx), "mx.%s", argv[2]);
	memset(&s, 0, sizeof(s));
	s.result = STSDANE_TLSRPT_STARTTLS_NOT_SUPPORTED;
	s.sending_mta_ip = "192.0.2.1";
	s.receiving_ip = "192.0.2.2";
	for (i = 0; loop || i < n; i++) {
		if (distinct) {
			(void)snprintf(ip, sizeof(ip), "10.%ld.%ld.%ld",
			    (i >> 16) & 255, (i >> 8) & 255, i & 255);
			s.receiving_ip = ip;
		}
		if (stsdane_tlsrpt_record(ctx, &s, &d, mx) != STSDANE_OK) {
			fprintf(stderr, "tlsrpt-record: %s\n",
			    stsdane_error(ctx));
			return 1;
		}
		if (loop) {
			struct timespec ts = { 0, 1000000 };

			(void)nanosleep(&ts, NULL);
		}
	}
	printf("%ld\n", i);
	stsdane_free(ctx);
	return 0;
}
