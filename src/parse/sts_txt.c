/*
 * NAME
 *	sts_txt.c - the _mta-sts TXT record set (RFC 8461 section 3.1)
 * SUMMARY
 *	pick the one v=STSv1 record and extract its policy id
 * SYNOPSIS
 *	#include "stsdane.h"
 *
 *	int stsdane_txt_check(const char *const *records,
 *	    const size_t *lens, size_t n, char id[33], char *err,
 *	    size_t errlen)
 *
 *	#include "rdata.h"
#include "sts_txt.h"
 *
 *	int txt_check_rdata(const unsigned char *const *rdata,
 *	    const size_t *rdlen, size_t n, char id[33], char *err,
 *	    size_t errlen)
 * DESCRIPTION
 *	Each of the n records is the concatenation of the character-strings
 *	of one TXT record, records[i] with lens[i] bytes (it need not be
 *	NUL-terminated and may contain NUL bytes).  Records that do not
 *	start with "v=STSv1" (followed by a delimiter or the end) are
 *	discarded; exactly one must remain, and it must match the grammar:
 *
 *	    sts-text-record = sts-version 1*(sts-field-delim sts-field)
 *	                      [sts-field-delim]
 *	    sts-field       = sts-id / sts-extension     ; sts-id required
 *	    sts-field-delim = *WSP ";" *WSP
 *	    sts-version     = %s"v=STSv1"
 *	    sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
 *	    sts-extension   = sts-ext-name "=" sts-ext-value
 *	    sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *	    sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 *	A field named "id" (case-sensitive, as %s says) is always taken as
 *	sts-id, so that a malformed id is reported as such rather than
 *	slipping through as an extension.  Trailing white space after the
 *	last field is tolerated even without a final ";": it changes
 *	nothing, and refusing it would only turn a policy off.
 *
 *	txt_check_rdata() does the same for a TXT RRset as libunbound hands
 *	it over: n RDATA items, each decoded in full (no cap on the number
 *	of records or on the length of one that is not v=STSv1), so that a
 *	second v=STSv1 record can never hide behind a limit.  An item that
 *	is not well-formed RDATA is an error, not a record to skip.
 * DIAGNOSTICS
 *	STSDANE_OK with id filled; STSDANE_ERR_NOTFOUND when no record is a
 *	v=STSv1 record; STSDANE_ERR_SYNTAX with the reason in err (more
 *	than one v=STSv1 record, or the one record does not parse);
 *	STSDANE_ERR_INVAL for NULL arguments.  id is "" unless STSDANE_OK.
 * SEE ALSO
 *	RFC 8461 section 3.1, sts_policy.c
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "rdata.h"
#include "sts_txt.h"

#define STS_VERSION "v=STSv1"
#define STS_VERSION_LEN (sizeof(STS_VERSION) - 1)

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Does this record claim to be a v=STSv1 record at all? */
static int
is_candidate(const char *r, size_t len)
{
	if (len < STS_VERSION_LEN ||
	    memcmp(r, STS_VERSION, STS_VERSION_LEN) != 0)
		return 0;
	/* "v=STSv10" is some other version, not a broken STSv1 record. */
	return len == STS_VERSION_LEN || r[STS_VERSION_LEN] == ';' ||
	    is_wsp((unsigned char)r[STS_VERSION_LEN]);
}

static int
ext_value_char(int c)
{
	return (c >= 0x21 && c <= 0x3a) || c == 0x3c ||
	    (c >= 0x3e && c <= 0x7e);
}

/*
 * Parse one field, r[*pos..end) up to the next ";" or WSP.  Sets *id
 * when it is the id field.  0, or -1 with err set.
 */
static int
parse_field(const char *r, size_t len, size_t *pos, char id[33],
    int *have_id, char *err, size_t errlen)
{
	size_t p = *pos, name, nlen, vstart, vlen;

	name = p;
	while (p < len && r[p] != '=' && r[p] != ';' &&
	    !is_wsp((unsigned char)r[p]))
		p++;
	nlen = p - name;
	if (nlen == 0) {
		sd_snprintf(err, errlen, "empty field at offset %zu", name);
		return -1;
	}
	if (p >= len || r[p] != '=') {
		sd_snprintf(err, errlen,
		    "field at offset %zu has no '=' value", name);
		return -1;
	}
	p++;
	vstart = p;
	while (p < len && r[p] != ';' && !is_wsp((unsigned char)r[p]))
		p++;
	vlen = p - vstart;
	*pos = p;

	if (nlen == 2 && memcmp(r + name, "id", 2) == 0) {
		size_t i;

		if (*have_id) {
			sd_snprintf(err, errlen, "more than one 'id' field");
			return -1;
		}
		if (vlen == 0) {
			sd_snprintf(err, errlen, "'id' is empty");
			return -1;
		}
		if (vlen > SD_MAX_ID) {
			sd_snprintf(err, errlen,
			    "'id' is %zu characters long, at most %d are "
			    "allowed", vlen, SD_MAX_ID);
			return -1;
		}
		for (i = 0; i < vlen; i++) {
			int c = (unsigned char)r[vstart + i];

			if (!is_alpha(c) && !is_digit(c)) {
				sd_snprintf(err, errlen,
				    "'id' may contain only letters and digits "
				    "(byte 0x%02x at offset %zu)", c,
				    vstart + i);
				return -1;
			}
		}
		memcpy(id, r + vstart, vlen);
		id[vlen] = '\0';
		*have_id = 1;
		return 0;
	}

	/* An extension: syntax checked, meaning ignored. */
	{
		size_t i;
		int c0 = (unsigned char)r[name];

		if (nlen > 32 || !(is_alpha(c0) || is_digit(c0))) {
			sd_snprintf(err, errlen,
			    "bad extension field name at offset %zu", name);
			return -1;
		}
		for (i = 1; i < nlen; i++) {
			int c = (unsigned char)r[name + i];

			if (!is_alpha(c) && !is_digit(c) && c != '_' &&
			    c != '-' && c != '.') {
				sd_snprintf(err, errlen,
				    "bad extension field name at offset %zu",
				    name);
				return -1;
			}
		}
		if (vlen == 0) {
			sd_snprintf(err, errlen,
			    "extension field at offset %zu has an empty value",
			    name);
			return -1;
		}
		for (i = 0; i < vlen; i++) {
			if (!ext_value_char((unsigned char)r[vstart + i])) {
				sd_snprintf(err, errlen,
				    "bad byte 0x%02x in extension value at "
				    "offset %zu",
				    (unsigned char)r[vstart + i], vstart + i);
				return -1;
			}
		}
	}
	return 0;
}

static int
parse_record(const char *r, size_t len, char id[33], char *err,
    size_t errlen)
{
	size_t p = STS_VERSION_LEN;
	int have_id = 0;

	for (;;) {
		/* sts-field-delim, or trailing WSP at the end */
		while (p < len && is_wsp((unsigned char)r[p]))
			p++;
		if (p >= len)
			break;
		if (r[p] != ';') {
			sd_snprintf(err, errlen,
			    "expected ';' at offset %zu, found byte 0x%02x",
			    p, (unsigned char)r[p]);
			return -1;
		}
		p++;
		while (p < len && is_wsp((unsigned char)r[p]))
			p++;
		if (p >= len)
			break;		/* the optional final delimiter */
		if (parse_field(r, len, &p, id, &have_id, err, errlen) < 0)
			return -1;
	}
	if (!have_id) {
		sd_snprintf(err, errlen, "no 'id' field");
		return -1;
	}
	return 0;
}

SD_EXPORT int
stsdane_txt_check(const char *const *records, const size_t *lens, size_t n,
    char id[33], char *err, size_t errlen)
{
	size_t i, found = 0, which = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (id == NULL || (n > 0 && (records == NULL || lens == NULL)))
		return STSDANE_ERR_INVAL;
	id[0] = '\0';
	for (i = 0; i < n; i++) {
		if (records[i] == NULL)
			continue;
		if (is_candidate(records[i], lens[i])) {
			if (found++ == 0)
				which = i;
		}
	}
	if (found == 0) {
		sd_snprintf(err, errlen, "no record starts with 'v=STSv1'");
		return STSDANE_ERR_NOTFOUND;
	}
	if (found > 1) {
		sd_snprintf(err, errlen, "%zu records start with 'v=STSv1', "
		    "exactly one is allowed", found);
		return STSDANE_ERR_SYNTAX;
	}
	if (lens[which] > SD_MAX_TXT) {
		sd_snprintf(err, errlen, "record is %zu bytes long, over %d",
		    lens[which], SD_MAX_TXT);
		return STSDANE_ERR_SYNTAX;
	}
	if (parse_record(records[which], lens[which], id, err, errlen) < 0) {
		id[0] = '\0';
		return STSDANE_ERR_SYNTAX;
	}
	return STSDANE_OK;
}

/*
 * The n RDATA items of a TXT RRset decoded to texts, every one of them
 * (the text is always shorter than its RDATA).  0; -1 with err when an
 * item is malformed; -2 without memory.  Release with free_texts().
 */
static int
decode_texts(const unsigned char *const *rdata, const size_t *rdlen,
    size_t n, char ***bufs, size_t **lens, char *err, size_t errlen)
{
	size_t i;

	*bufs = calloc(n + 1, sizeof(**bufs));
	*lens = calloc(n + 1, sizeof(**lens));
	if (*bufs == NULL || *lens == NULL) {
		(void)sd_snprintf(err, errlen, "out of memory");
		return -2;
	}
	for (i = 0; i < n; i++) {
		(*bufs)[i] = malloc(rdlen[i] + 1);
		if ((*bufs)[i] == NULL) {
			(void)sd_snprintf(err, errlen, "out of memory");
			return -2;
		}
		if (rdata_txt(rdata[i], rdlen[i], (*bufs)[i], rdlen[i] + 1,
		    &(*lens)[i]) < 0) {
			(void)sd_snprintf(err, errlen, "TXT record %zu of %zu "
			    "is malformed", i + 1, n);
			return -1;
		}
	}
	return 0;
}

static void
free_texts(char **bufs, size_t *lens, size_t n)
{
	size_t i;

	if (bufs != NULL)
		for (i = 0; i < n; i++)
			free(bufs[i]);
	free(bufs);
	free(lens);
}

enum sts_txt_result
sts_txt_eval_rdata(const unsigned char *const *rdata, const size_t *rdlen,
    size_t n, char id[33], char *err, size_t errlen)
{
	enum sts_txt_result v;
	char **bufs = NULL;
	size_t *lens = NULL;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (id == NULL || (n > 0 && (rdata == NULL || rdlen == NULL)))
		return STS_TXT_INVAL;
	id[0] = '\0';
	rc = decode_texts(rdata, rdlen, n, &bufs, &lens, err, errlen);
	if (rc == 0)
		v = sts_txt_eval((const char *const *)bufs, lens, n, id, err,
		    errlen);
	else
		v = rc == -1 ? STS_TXT_SYNTAX : STS_TXT_NOMEM;
	free_texts(bufs, lens, n);
	return v;
}

int
txt_check_rdata(const unsigned char *const *rdata, const size_t *rdlen,
    size_t n, char id[33], char *err, size_t errlen)
{
	switch (sts_txt_eval_rdata(rdata, rdlen, n, id, err, errlen)) {
	case STS_TXT_VALID:
		return STSDANE_OK;
	case STS_TXT_NONE:
		return STSDANE_ERR_NOTFOUND;
	case STS_TXT_MULTIPLE:
	case STS_TXT_SYNTAX:
		return STSDANE_ERR_SYNTAX;
	case STS_TXT_NOMEM:
		return STSDANE_ERR_NOMEM;
	case STS_TXT_INVAL:
		break;
	}
	return STSDANE_ERR_INVAL;
}

enum sts_txt_result
sts_txt_eval(const char *const *records, const size_t *lens, size_t n,
    char id[33], char *err, size_t errlen)
{
	size_t i, found = 0;
	int rc = stsdane_txt_check(records, lens, n, id, err, errlen);

	if (rc == STSDANE_OK)
		return STS_TXT_VALID;
	if (rc == STSDANE_ERR_NOTFOUND)
		return STS_TXT_NONE;
	if (rc != STSDANE_ERR_SYNTAX)
		return STS_TXT_INVAL;
	for (i = 0; i < n; i++)
		if (records[i] != NULL && is_candidate(records[i], lens[i]))
			found++;
	return found > 1 ? STS_TXT_MULTIPLE : STS_TXT_SYNTAX;
}
