/*
 * test_certs.h - keys and certificates made in-process for unit tests
 *
 * Certificates are generated with GnuTLS at test start (ECDSA P-256,
 * SHA-256 signatures), so no stale fixtures are committed.
 */
#ifndef TEST_CERTS_H
#define TEST_CERTS_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stddef.h>
#include <time.h>

struct tcert {
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;		/* DER of crt, gnutls_free()d */
};

/*
 * Make a certificate for subject CN `cn' with dNSNames `dns' (NULL
 * terminated, may be NULL), valid from not_before to not_after, signed
 * by `issuer' (NULL: self-signed).  is_ca sets basicConstraints CA.
 * 0 or -1.
 */
int tc_make(struct tcert *out, const struct tcert *issuer, const char *cn,
    const char *const *dns, time_t not_before, time_t not_after, int is_ca);
void tc_free(struct tcert *c);
/* Write certificates as PEM to path. 0 or -1. */
int tc_write_pem(const struct tcert *const *certs, size_t n,
    const char *path);
/*
 * TLSA association data for cert c: selector 0/1, matching type 0/1/2.
 * Returns malloc'd data and sets *len, or NULL.
 */
unsigned char *tc_tlsa_data(const struct tcert *c, unsigned selector,
    unsigned mtype, size_t *len);

#endif /* TEST_CERTS_H */
