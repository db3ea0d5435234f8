/*
 * tlsa.h - which TLSA records SMTP may use
 */
#ifndef STSDANE_TLSA_H
#define STSDANE_TLSA_H

#include <stddef.h>

#include "stsdane.h"

/*
 * Is this TLSA record usable for SMTP (RFC 7672 3.1, RFC 7671)?  Usage
 * 2 or 3, selector 0 or 1, matching type 0, 1 (32 bytes) or 2 (64
 * bytes).  1 usable; 0 not, with the reason in err.
 */
int tlsa_usable(const struct stsdane_tlsa *t, char *err, size_t errlen);

#endif /* STSDANE_TLSA_H */
