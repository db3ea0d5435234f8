/*
 * x509.h - certificate helpers shared by verify.c and probe.c
 */
#ifndef STSDANE_X509_H
#define STSDANE_X509_H

#include <gnutls/x509.h>
#include <stddef.h>

/*
 * The next subjectAltName dNSName of crt, from index *idx on: 1 with
 * name filled and *idx moved past it, or 0 when there is no more (or
 * after 64 entries: a bound on hostile certificates).
 */
int cert_next_dns_name(gnutls_x509_crt_t crt, unsigned *idx, char *name,
    size_t len);

#endif /* STSDANE_X509_H */
