/*
 * listen.h - the listening sockets of stsdane-policyd
 */
#ifndef POLICYD_LISTEN_H
#define POLICYD_LISTEN_H

#include <stddef.h>

/*
 * Bind and listen on "inet:HOST:PORT" (HOST an IPv4 address, or an IPv6
 * one in brackets) or "unix:PATH" (a stale socket there is replaced; the
 * new one gets mode 0666).  The non-blocking socket, or -1 with err set.
 * *is_inet tells which it was.
 */
int listen_open(const char *spec, int *is_inet, char *err, size_t errlen);

#endif
