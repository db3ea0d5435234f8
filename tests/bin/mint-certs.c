/*
 * NAME
 *	mint-certs - certificates for many synthetic policy hosts at once
 * SYNOPSIS
 *	mint-certs CA.pem CA.key KEY.pem OUTDIR FROM TO
 * DESCRIPTION
 *	For every N from FROM to TO-1, writes OUTDIR/mta-sts.dN.scale.test.pem:
 *	a server certificate for that one name (RFC 8461 section 3.3 wants
 *	the policy host's own name, and a wildcard covers one label only),
 *	for the public key of KEY.pem, issued by the CA, valid for 30 days.
 *	tests/world/scale-world.sh serves them through nginx by SNI.
 *	certtool takes about 10 ms a certificate; this about 0.1 ms, which
 *	is what makes 10^5 policy hosts possible in a world started for
 *	one run.
 * DIAGNOSTICS
 *	Exit 0, or 1 with a message on stderr.
 * SEE ALSO
 *	tests/world/scale-world.sh, docs/performance.md
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int
load(const char *path, gnutls_datum_t *d)
{
	return gnutls_load_file(path, d) == 0 ? 0 : -1;
}

static int
die(const char *what, int rc)
{
	fprintf(stderr, "mint-certs: %s: %s\n", what, gnutls_strerror(rc));
	return 1;
}

int
main(int argc, char **argv)
{
	gnutls_datum_t cad, cakd, kd;
	gnutls_x509_crt_t ca;
	gnutls_x509_privkey_t cak, key;
	char *end;
	long from, to, n;
	time_t now = time(NULL);
	int rc;

	if (argc != 7) {
		fprintf(stderr, "usage: mint-certs CA.pem CA.key KEY.pem "
		    "OUTDIR FROM TO\n");
		return 2;
	}
	from = strtol(argv[5], &end, 10);
	if (*end != '\0' || from < 0)
		return 2;
	to = strtol(argv[6], &end, 10);
	if (*end != '\0' || to < from)
		return 2;
	if (load(argv[1], &cad) < 0 || load(argv[2], &cakd) < 0 ||
	    load(argv[3], &kd) < 0) {
		fprintf(stderr, "mint-certs: cannot read the CA or the key\n");
		return 1;
	}
	gnutls_x509_crt_init(&ca);
	gnutls_x509_privkey_init(&cak);
	gnutls_x509_privkey_init(&key);
	if ((rc = gnutls_x509_crt_import(ca, &cad, GNUTLS_X509_FMT_PEM)) < 0)
		return die("CA certificate", rc);
	if ((rc = gnutls_x509_privkey_import(cak, &cakd,
	    GNUTLS_X509_FMT_PEM)) < 0)
		return die("CA key", rc);
	if ((rc = gnutls_x509_privkey_import(key, &kd,
	    GNUTLS_X509_FMT_PEM)) < 0)
		return die("key", rc);
	for (n = from; n < to; n++) {
		gnutls_x509_crt_t crt;
		unsigned char serial[8];
		char name[96], path[4096];
		unsigned char buf[8192];
		size_t len = sizeof(buf);
		FILE *f;
		int i;

		(void)snprintf(name, sizeof(name), "mta-sts.d%ld.scale.test",
		    n);
		for (i = 0; i < 8; i++)
			serial[i] = (unsigned char)(((unsigned long)n + 1) >>
			    (8 * (7 - i)));
		gnutls_x509_crt_init(&crt);
		gnutls_x509_crt_set_version(crt, 3);
		gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
		gnutls_x509_crt_set_activation_time(crt, now - 3600);
		gnutls_x509_crt_set_expiration_time(crt, now + 30 * 86400);
		gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
		    0, name, (unsigned)strlen(name));
		gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
		    name, (unsigned)strlen(name), GNUTLS_FSAN_SET);
		gnutls_x509_crt_set_key(crt, key);
		gnutls_x509_crt_set_key_usage(crt,
		    GNUTLS_KEY_DIGITAL_SIGNATURE);
		gnutls_x509_crt_set_key_purpose_oid(crt,
		    GNUTLS_KP_TLS_WWW_SERVER, 0);
		gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
		if ((rc = gnutls_x509_crt_sign2(crt, ca, cak,
		    GNUTLS_DIG_SHA256, 0)) < 0)
			return die("sign", rc);
		if ((rc = gnutls_x509_crt_export(crt, GNUTLS_X509_FMT_PEM,
		    buf, &len)) < 0)
			return die("export", rc);
		gnutls_x509_crt_deinit(crt);
		(void)snprintf(path, sizeof(path), "%s/%s.pem", argv[4], name);
		if ((f = fopen(path, "w")) == NULL ||
		    fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
			fprintf(stderr, "mint-certs: cannot write '%s'\n", path);
			return 1;
		}
	}
	return 0;
}
