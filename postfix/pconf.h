/*
 * pconf.h - stsdane-policyd's own settings (stsdane-policyd.conf)
 */
#ifndef POLICYD_PCONF_H
#define POLICYD_PCONF_H

#include <stddef.h>

#define PCONF_MAP_MAX 64

struct pconf {
	char map_name[PCONF_MAP_MAX];	/* socketmap name accepted */
	int tlsrpt_attributes;		/* Postfix 3.10 TLSRPT attributes */
	int log_requests;		/* one log line per answer */
	unsigned workers;		/* lookups that run at once */
	unsigned max_lookups;		/* distinct domains waiting or running */
	unsigned max_connections;
	unsigned request_max;		/* bytes of one request's payload */
	unsigned request_timeout_ms;	/* to finish a request, or read an
					   answer */
	unsigned idle_timeout_ms;	/* between requests */
};

void pconf_init(struct pconf *c);
/* One setting; 0, or -1 with err set. */
int pconf_set(struct pconf *c, const char *key, const char *value,
    char *err, size_t errlen);
/* "key = value" lines, all or nothing; 0, or -1 with err set. */
int pconf_load(struct pconf *c, const char *path, char *err, size_t errlen);

#endif
