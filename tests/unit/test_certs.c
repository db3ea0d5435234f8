/*
 * test_certs.c - keys and certificates made in-process for unit tests
 */
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_certs.h"

static unsigned long serial_counter = 1;

int
tc_make(struct tcert *out, const struct tcert *issuer, const char *cn,
    const char *const *dns, time_t not_before, time_t not_after, int is_ca)
{
	unsigned char serial[8], kid[64];
	size_t kidlen = sizeof(kid), i;
	unsigned long s = serial_counter++;

	memset(out, 0, sizeof(*out));
	if (gnutls_x509_privkey_init(&out->key) < 0 ||
	    gnutls_x509_privkey_generate(out->key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crt_init(&out->crt) < 0)
		goto fail;
	for (i = 0; i < sizeof(serial); i++)
		serial[sizeof(serial) - 1 - i] = (unsigned char)(s >> (8 * i));
	serial[0] = 0x01;
	if (gnutls_x509_crt_set_version(out->crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(out->crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(out->crt, not_before) < 0 ||
	    gnutls_x509_crt_set_expiration_time(out->crt, not_after) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(out->crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, cn, (unsigned)strlen(cn)) < 0 ||
	    gnutls_x509_crt_set_key(out->crt, out->key) < 0 ||
	    gnutls_x509_crt_set_basic_constraints(out->crt, is_ca, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(out->crt, is_ca ?
	    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN :
	    GNUTLS_KEY_DIGITAL_SIGNATURE) < 0)
		goto fail;
	for (i = 0; dns != NULL && dns[i] != NULL; i++)
		if (gnutls_x509_crt_set_subject_alt_name(out->crt,
		    GNUTLS_SAN_DNSNAME, dns[i], (unsigned)strlen(dns[i]),
		    GNUTLS_FSAN_APPEND) < 0)
			goto fail;
	if (gnutls_x509_crt_get_key_id(out->crt, 0, kid, &kidlen) < 0 ||
	    gnutls_x509_crt_set_subject_key_id(out->crt, kid, kidlen) < 0)
		goto fail;
	if (issuer != NULL) {
		kidlen = sizeof(kid);
		if (gnutls_x509_crt_get_subject_key_id(issuer->crt, kid,
		    &kidlen, NULL) < 0 ||
		    gnutls_x509_crt_set_authority_key_id(out->crt, kid,
		    kidlen) < 0)
			goto fail;
	}
	if (gnutls_x509_crt_sign2(out->crt,
	    issuer != NULL ? issuer->crt : out->crt,
	    issuer != NULL ? issuer->key : out->key, GNUTLS_DIG_SHA256, 0) < 0)
		goto fail;
	if (gnutls_x509_crt_export2(out->crt, GNUTLS_X509_FMT_DER,
	    &out->der) < 0)
		goto fail;
	return 0;
fail:
	tc_free(out);
	return -1;
}

void
tc_free(struct tcert *c)
{
	if (c->crt != NULL)
		gnutls_x509_crt_deinit(c->crt);
	if (c->key != NULL)
		gnutls_x509_privkey_deinit(c->key);
	gnutls_free(c->der.data);
	memset(c, 0, sizeof(*c));
}

int
tc_write_pem(const struct tcert *const *certs, size_t n, const char *path)
{
	FILE *fp = fopen(path, "w");
	gnutls_datum_t pem;
	size_t i;
	int rc = 0;

	if (fp == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (gnutls_x509_crt_export2(certs[i]->crt, GNUTLS_X509_FMT_PEM,
		    &pem) < 0) {
			rc = -1;
			break;
		}
		if (fwrite(pem.data, 1, pem.size, fp) != pem.size)
			rc = -1;
		gnutls_free(pem.data);
	}
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

unsigned char *
tc_tlsa_data(const struct tcert *c, unsigned selector, unsigned mtype,
    size_t *len)
{
	gnutls_datum_t sel = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	unsigned char *out = NULL;
	int alloc = 0;

	if (selector == 0) {
		sel = c->der;
	} else {
		if (gnutls_pubkey_init(&pub) < 0)
			return NULL;
		if (gnutls_pubkey_import_x509(pub, c->crt, 0) < 0 ||
		    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &sel) < 0) {
			gnutls_pubkey_deinit(pub);
			return NULL;
		}
		gnutls_pubkey_deinit(pub);
		alloc = 1;
	}
	switch (mtype) {
	case 0:
		out = malloc(sel.size);
		if (out != NULL) {
			memcpy(out, sel.data, sel.size);
			*len = sel.size;
		}
		break;
	case 1:
	case 2:
		*len = mtype == 1 ? 32 : 64;
		out = malloc(*len);
		if (out != NULL && gnutls_hash_fast(mtype == 1 ?
		    GNUTLS_DIG_SHA256 : GNUTLS_DIG_SHA512, sel.data, sel.size,
		    out) < 0) {
			free(out);
			out = NULL;
		}
		break;
	default:
		break;
	}
	if (alloc)
		gnutls_free(sel.data);
	return out;
}
