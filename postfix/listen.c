/*
 * NAME
 *	listen.c - parse a listener address, bind and listen
 * SUMMARY
 *	"inet:127.0.0.1:8461" and "unix:/run/stsdane-policyd/socket", the
 *	forms Postfix's socketmap names its servers by
 * SYNOPSIS
 *	#include "listen.h"
 *
 *	int listen_open(const char *spec, int *is_inet, char *err,
 *	    size_t errlen)
 * DESCRIPTION
 *	inet:HOST:PORT takes a numeric address only: a name would need DNS
 *	before the daemon can serve, and "localhost" may mean ::1 or
 *	127.0.0.1 depending on /etc/hosts.  IPv6 addresses are written in
 *	brackets: inet:[::1]:8461.  The socket has SO_REUSEADDR, so that a
 *	restart does not wait for TIME_WAIT.
 *
 *	unix:PATH removes what is at PATH only when it is a socket, then
 *	binds; the mode is 0666 because Postfix's smtp(8) processes run as
 *	another user: restrict who may connect with the directory's mode.
 * DIAGNOSTICS
 *	-1 with err: "listener 'inet:1.2.3:25': 'HOST' is not an IP
 *	address", "listener '...': bind: Address already in use".
 * SEE ALSO
 *	socketmap_table(5), postfix/policyd.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"

static int
parse_port(const char *s, unsigned short *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*out = (unsigned short)v;
	return 0;
}

static int
open_inet(const char *spec, const char *hp, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char host[64];
	const char *colon = strrchr(hp, ':'), *h = hp;
	size_t hlen;
	unsigned short port;
	int fd, one = 1;

	if (colon == NULL || parse_port(colon + 1, &port) < 0) {
		(void)snprintf(err, errlen, "listener '%s': expected "
		    "inet:HOST:PORT with a port from 1 to 65535", spec);
		return -1;
	}
	hlen = (size_t)(colon - hp);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		(void)snprintf(err, errlen, "listener '%s': no address", spec);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr)
	    == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sl = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host,
	    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sl = sizeof(*sin6);
	} else {
		(void)snprintf(err, errlen, "listener '%s': '%s' is not an IP "
		    "address", spec, host);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		(void)snprintf(err, errlen, "listener '%s': socket: %s", spec,
		    strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 4096) < 0) {
		(void)snprintf(err, errlen, "listener '%s': bind: %s", spec,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
open_unix(const char *spec, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	size_t n = strlen(path);
	int fd;

	if (n == 0 || n >= sizeof(sun.sun_path)) {
		(void)snprintf(err, errlen, "listener '%s': path empty or "
		    "longer than %zu bytes", spec, sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		(void)snprintf(err, errlen, "listener '%s': socket: %s", spec,
		    strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, 4096) < 0) {
		(void)snprintf(err, errlen, "listener '%s': bind: %s", spec,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
listen_open(const char *spec, int *is_inet, char *err, size_t errlen)
{
	if (strncmp(spec, "inet:", 5) == 0) {
		*is_inet = 1;
		return open_inet(spec, spec + 5, err, errlen);
	}
	if (strncmp(spec, "unix:", 5) == 0) {
		*is_inet = 0;
		return open_unix(spec, spec + 5, err, errlen);
	}
	(void)snprintf(err, errlen, "listener '%s': expected inet:HOST:PORT "
	    "or unix:PATH", spec);
	return -1;
}
