/*
 * rdata.h - bounded decoding of the RDATA that libunbound hands back
 */
#ifndef STSDANE_RDATA_H
#define STSDANE_RDATA_H

#include <stddef.h>
#include <stdint.h>

/* TXT: concatenate the character-strings; 0, or -1 if malformed/too long */
int rdata_txt(const unsigned char *rd, size_t len, char *out, size_t outlen,
    size_t *outn);
/* MX: preference and exchange name in presentation form (no final dot);
   an exchange of "." (null MX) gives name "". 0 or -1. */
int rdata_mx(const unsigned char *rd, size_t len, unsigned *pref,
    char *name, size_t namelen);
/* TLSA: 0 or -1; data points into rd (not copied). */
int rdata_tlsa(const unsigned char *rd, size_t len, uint8_t *usage,
    uint8_t *selector, uint8_t *mtype, const unsigned char **data,
    size_t *datalen);
/* A / AAAA into presentation form. 0 or -1. */
int rdata_addr(int rrtype, const unsigned char *rd, size_t len, char *out,
    size_t outlen);

#endif /* STSDANE_RDATA_H */
