/*
 * NAME
 *	policyd.c - stsdane-policyd: Postfix socketmap server for
 *	smtp_tls_policy_maps, answering from stsdane decisions
 * SUMMARY
 *	the program: options, sockets, user, limits, systemd; the serving
 *	itself is server.c
 * SYNOPSIS
 *	stsdane-policyd [-c FILE] [-p FILE] [-l inet:HOST:PORT |
 *	    -l unix:PATH]... [-m inet:HOST:PORT] [-u USER]
 *	stsdane-policyd -V
 * DESCRIPTION
 *	Order of start-up, each step for a reason:
 *	  1. options, stsdane-policyd.conf (-p): errors before anything
 *	     is bound;
 *	  2. RLIMIT_NOFILE raised to max_connections plus room for the
 *	     listeners, the workers' sockets and the cache (while still
 *	     root, the hard limit too);
 *	  3. sockets: those systemd passed (socket activation; one named
 *	     "metrics" serves /metrics), then every -l and -m; with
 *	     neither, inet:127.0.0.1:8461, the port postfix-mta-sts-
 *	     resolver uses, so that this daemon can take its place;
 *	  4. -u USER: groups, gid, uid; refusing to go on as root without
 *	     -u, since nothing here needs root after the bind;
 *	  5. the library configuration (-c) is tried once in the main
 *	     thread, so that a bad one stops the start with its message;
 *	  6. SIGTERM, SIGINT and SIGHUP blocked before any thread starts,
 *	     so that only the event loop's signalfd sees them;
 *	  7. the event loop, which tells systemd READY=1.
 *	SIGHUP reads both files again; a file that does not load leaves
 *	the running settings as they were, and says why.
 * DIAGNOSTICS
 *	Exit 0 after SIGTERM; 1 when it cannot start (the reason on
 *	stderr); 2 on bad usage.
 * SEE ALSO
 *	stsdane-policyd(8), docs/postfix.md, postfix/server.c
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "listen.h"
#include "pconf.h"
#include "server.h"
#include "stsdane.h"

#ifndef STSDANE_SYSCONFDIR
#define STSDANE_SYSCONFDIR "/etc"
#endif

#define DEFAULT_LISTENER "inet:127.0.0.1:8461"

struct opts {
	const char *config;		/* library configuration, or NULL */
	const char *pconfig;		/* ours, or NULL */
	const char *user;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: stsdane-policyd [-c FILE] [-p FILE] "
	    "[-l inet:HOST:PORT | -l unix:PATH]... [-m inet:HOST:PORT] "
	    "[-u USER]\n"
	    "       stsdane-policyd -V\n"
	    "  -c FILE  stsdane library configuration (default "
	    STSDANE_SYSCONFDIR "/stsdane.conf when it exists)\n"
	    "  -p FILE  stsdane-policyd settings (default "
	    STSDANE_SYSCONFDIR "/stsdane-policyd.conf when it exists)\n"
	    "  -l ADDR  socketmap listener (default " DEFAULT_LISTENER ")\n"
	    "  -m ADDR  HTTP listener for /metrics\n"
	    "  -u USER  run as USER after binding\n");
}

/* Library configuration usable?  0, or -1 with the reason logged. */
static int
try_config(const char *config)
{
	stsdane_ctx *ctx = stsdane_new();
	int rc = 0;

	if (ctx == NULL) {
		fprintf(stderr, "stsdane-policyd: no memory\n");
		return -1;
	}
	if (config != NULL && stsdane_load_config(ctx, config) != STSDANE_OK) {
		fprintf(stderr, "stsdane-policyd: configuration '%s': %s\n",
		    config, stsdane_error(ctx));
		rc = -1;
	}
	stsdane_free(ctx);
	return rc;
}

static int
reload(void *arg, struct pconf *c)
{
	const struct opts *o = arg;
	struct pconf fresh;
	char err[512];

	pconf_init(&fresh);
	if (o->pconfig != NULL &&
	    pconf_load(&fresh, o->pconfig, err, sizeof(err)) < 0) {
		fprintf(stderr, "stsdane-policyd: reload: %s; keeping the "
		    "running configuration\n", err);
		return -1;
	}
	if (try_config(o->config) < 0) {
		fprintf(stderr, "stsdane-policyd: reload: keeping the running "
		    "configuration\n");
		return -1;
	}
	*c = fresh;
	return 0;
}

static void
raise_nofile(struct pconf *c, unsigned nlisten)
{
	struct rlimit rl;
	/* listeners, epoll, eventfd, signalfd, and per worker a resolver
	   socket or two, a fetch, the cache files */
	rlim_t want = (rlim_t)c->max_connections + nlisten + 16 +
	    (rlim_t)c->workers * 8;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want && geteuid() == 0)
		rl.rlim_max = want;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		/* not allowed to raise the hard limit: up to it, then */
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return;
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		rlim_t room = (rlim_t)nlisten + 16 + (rlim_t)c->workers * 8;

		c->max_connections = rl.rlim_cur > room + 1 ?
		    (unsigned)(rl.rlim_cur - room) : 1;
		fprintf(stderr, "stsdane-policyd: warning: RLIMIT_NOFILE %lu "
		    "allows %u connections only\n",
		    (unsigned long)rl.rlim_cur, c->max_connections);
	}
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == NULL) {
		if (geteuid() == 0) {
			fprintf(stderr, "stsdane-policyd: refusing to run as "
			    "root: name a user with -u (or User= in the "
			    "systemd unit)\n");
			return -1;
		}
		return 0;
	}
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		fprintf(stderr, "stsdane-policyd: no user '%s'\n", user);
		return -1;
	}
	if (geteuid() != 0) {
		if (pw->pw_uid == geteuid())
			return 0;
		fprintf(stderr, "stsdane-policyd: cannot become '%s': not "
		    "root\n", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "stsdane-policyd: cannot become '%s': %s\n",
		    user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		fprintf(stderr, "stsdane-policyd: could become root again "
		    "after switching to '%s'\n", user);
		return -1;
	}
	return 0;
}

/* Sockets from systemd; their number. */
static int
activated(struct server_listener *l, int max)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names), i, k = 0;

	for (i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;

		if (k < max && sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
			l[k].fd = fd;
			l[k].is_inet = sd_is_socket(fd, AF_UNIX, 0, -1) <= 0;
			l[k].metrics = names != NULL && names[i] != NULL &&
			    strcmp(names[i], "metrics") == 0;
			(void)snprintf(l[k].name, sizeof(l[k].name),
			    "systemd socket %d (%s)", fd,
			    names != NULL && names[i] != NULL ? names[i] : "");
			k++;
		} else {
			close(fd);
		}
		if (names != NULL)
			free(names[i]);
	}
	free(names);
	return k;
}

int
main(int argc, char **argv)
{
	struct server_listener l[SERVER_MAX_LISTENERS];
	const char *specs[SERVER_MAX_LISTENERS];
	int is_metrics[SERVER_MAX_LISTENERS];
	struct opts o = { NULL, NULL, NULL };
	struct pconf c;
	struct server_hooks hooks = { reload, &o };
	char err[512];
	sigset_t set;
	int ch, nspec = 0, nl = 0, i, nmap = 0;

	while ((ch = getopt(argc, argv, "c:p:l:m:u:Vh")) != -1) {
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 'p':
			o.pconfig = optarg;
			break;
		case 'l':
		case 'm':
			if (nspec == SERVER_MAX_LISTENERS) {
				fprintf(stderr, "stsdane-policyd: more than "
				    "%d listeners\n", SERVER_MAX_LISTENERS);
				return 2;
			}
			is_metrics[nspec] = ch == 'm';
			specs[nspec++] = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'V':
			printf("stsdane-policyd %s\n", STSDANE_VERSION_STRING);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.config == NULL &&
	    access(STSDANE_SYSCONFDIR "/stsdane.conf", F_OK) == 0)
		o.config = STSDANE_SYSCONFDIR "/stsdane.conf";
	if (o.pconfig == NULL &&
	    access(STSDANE_SYSCONFDIR "/stsdane-policyd.conf", F_OK) == 0)
		o.pconfig = STSDANE_SYSCONFDIR "/stsdane-policyd.conf";
	pconf_init(&c);
	if (o.pconfig != NULL && pconf_load(&c, o.pconfig, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "stsdane-policyd: %s\n", err);
		return 1;
	}
	raise_nofile(&c, (unsigned)nspec + 1);
	signal(SIGPIPE, SIG_IGN);

	nl = activated(l, SERVER_MAX_LISTENERS);
	for (i = 0; i < nl; i++)
		nmap += !l[i].metrics;
	for (i = 0; i < nspec; i++)
		nmap += !is_metrics[i];
	if (nmap == 0 && nspec < SERVER_MAX_LISTENERS) {
		is_metrics[nspec] = 0;
		specs[nspec++] = DEFAULT_LISTENER;
	}
	for (i = 0; i < nspec; i++) {
		if (nl == SERVER_MAX_LISTENERS) {
			fprintf(stderr, "stsdane-policyd: more than %d "
			    "listeners\n", SERVER_MAX_LISTENERS);
			return 2;
		}
		l[nl].fd = listen_open(specs[i], &l[nl].is_inet, err,
		    sizeof(err));
		if (l[nl].fd < 0) {
			fprintf(stderr, "stsdane-policyd: %s\n", err);
			return 1;
		}
		l[nl].metrics = is_metrics[i];
		(void)snprintf(l[nl].name, sizeof(l[nl].name), "%s", specs[i]);
		nl++;
	}
	if (drop_privileges(o.user) < 0 || try_config(o.config) < 0)
		return 1;
	for (i = 0; i < nl; i++)
		fprintf(stderr, "stsdane-policyd: listening on %s%s\n",
		    l[i].name, l[i].metrics ? " (metrics)" : "");

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		fprintf(stderr, "stsdane-policyd: cannot block signals\n");
		return 1;
	}
	return server_run(l, nl, &c, o.config, &hooks);
}
