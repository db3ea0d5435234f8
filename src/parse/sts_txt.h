/*
 * sts_txt.h - the _mta-sts TXT record set, with a typed verdict
 *
 * stsdane_txt_check() (public) says valid, not found, or syntax error;
 * the decision module also needs to tell "more than one v=STSv1 record"
 * from "the record does not parse", without reading the message text.
 */
#ifndef STSDANE_STS_TXT_H
#define STSDANE_STS_TXT_H

#include <stddef.h>

enum sts_txt_result {
	STS_TXT_VALID = 0,	/* one v=STSv1 record, id filled */
	STS_TXT_NONE,		/* no record starts with v=STSv1 */
	STS_TXT_MULTIPLE,	/* more than one does */
	STS_TXT_SYNTAX,		/* the one record does not parse */
	STS_TXT_INVAL,		/* bad arguments */
	STS_TXT_NOMEM		/* out of memory */
};

/* stsdane_txt_check(), with the verdict typed; err as there. */
enum sts_txt_result sts_txt_eval(const char *const *records,
    const size_t *lens, size_t n, char id[33], char *err, size_t errlen);

/* sts_txt_eval() on a TXT RRset's RDATA items, every one decoded, no
   cap on their number; a malformed item is STS_TXT_SYNTAX. */
enum sts_txt_result sts_txt_eval_rdata(const unsigned char *const *rdata,
    const size_t *rdlen, size_t n, char id[33], char *err, size_t errlen);
/* stsdane_txt_check() on a TXT RRset's RDATA items, every one of them
   decoded; a malformed item is STSDANE_ERR_SYNTAX. */
int txt_check_rdata(const unsigned char *const *rdata, const size_t *rdlen,
    size_t n, char id[33], char *err, size_t errlen);

#endif /* STSDANE_STS_TXT_H */
