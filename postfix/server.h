/*
 * server.h - the event loop of stsdane-policyd
 */
#ifndef POLICYD_SERVER_H
#define POLICYD_SERVER_H

#include "pconf.h"

#define SERVER_MAX_LISTENERS 16

struct server_listener {
	int fd;
	int is_inet;
	int metrics;		/* serves /metrics, not socketmap */
	char name[128];
};

/* What the loop is asked to do when a signal came. */
struct server_hooks {
	/* SIGHUP: new settings into *c, and 0; -1 keeps the old ones. */
	int (*reload)(void *arg, struct pconf *c);
	void *arg;
};

/*
 * Serve on the listeners until SIGTERM or SIGINT, with workers making
 * decisions from the library configuration file config (NULL: defaults).
 * The caller blocked SIGTERM, SIGINT and SIGHUP in every thread.  0 after
 * a clean stop, 1 when the loop could not start.
 */
int server_run(const struct server_listener *l, int nl,
    const struct pconf *c, const char *config,
    const struct server_hooks *hooks);

#endif
