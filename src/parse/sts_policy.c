/*
 * NAME
 *	sts_policy.c - MTA-STS policy file parser (RFC 8461 section 3.2)
 * SUMMARY
 *	turn the body of https://mta-sts.DOMAIN/.well-known/mta-sts.txt
 *	into a struct stsdane_policy
 * SYNOPSIS
 *	#include "stsdane.h"
 *
 *	int stsdane_policy_parse(const char *body, size_t len,
 *	    struct stsdane_policy **out, char *err, size_t errlen)
 *	void stsdane_policy_free(struct stsdane_policy *p)
 * DESCRIPTION
 *	body holds len bytes, not necessarily NUL-terminated, possibly with
 *	NUL bytes or bytes that are not UTF-8: such input is refused with a
 *	message, never read past.  The grammar is RFC 8461's:
 *
 *	    sts-policy-record = sts-policy-field *WSP
 *	                        *(sts-policy-term sts-policy-field *WSP)
 *	                        [sts-policy-term]
 *	    sts-policy-term   = LF / CRLF
 *	    field             = name ":" *WSP value
 *
 *	with the field names and the values of version and mode matched
 *	case-sensitively (%s in the RFC): "Mode: enforce" is an extension
 *	field, not a mode.  max_age is 1*10 DIGIT and at most 31557600.  mx
 *	is a host name or "*." and a host name (RFC 5321 Domain); it is
 *	stored lower-cased without a final dot.  Unknown fields are
 *	ignored once their syntax has been checked.  When a field repeats,
 *	the first one counts, except mx, which accumulates up to
 *	SD_MAX_POLICY_MX entries.
 *
 *	One departure from the grammar: empty lines (or lines of only white
 *	space) are skipped.  A stray blank line is common in hand-written
 *	files, and refusing the policy for it would silently turn MTA-STS
 *	off for the domain, which protects nobody.
 *
 *	On success *out is a new policy that the caller releases with
 *	stsdane_policy_free().
 * DIAGNOSTICS
 *	STSDANE_OK; STSDANE_ERR_SYNTAX with a message that names the line,
 *	e.g. "line 3: max_age '604800s' is not a number of seconds";
 *	STSDANE_ERR_NOMEM; STSDANE_ERR_INVAL for NULL arguments.
 * SEE ALSO
 *	RFC 8461 section 3.2, sts_txt.c, mx_match.c
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"


struct parse_state {
	struct stsdane_policy *p;
	int have_version;
	int have_mode;
	int have_max_age;
	char *err;
	size_t errlen;
};

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_alnum(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

/* Length of a valid UTF-8 sequence of 2 to 4 bytes at s, or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

/*
 * sts-policy-ext-value = sts-policy-vchar [*(%x20 / sts-policy-vchar)
 *     sts-policy-vchar], vchar = VCHAR / UTF8-2 / UTF8-3 / UTF8-4.
 * Trailing WSP has already been removed, so only the first byte, and
 * the inner bytes, need checking.
 */
static int
ext_value_ok(const char *v, size_t n)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t i = 0;

	if (n == 0 || s[0] == ' ')
		return 0;
	while (i < n) {
		if (s[i] >= 0x21 && s[i] <= 0x7e) {
			i++;
		} else if (s[i] == ' ') {
			i++;
		} else {
			size_t k = utf8_len(s + i, n - i);

			if (k == 0)
				return 0;
			i += k;
		}
	}
	return 1;
}

static int
name_is(const char *name, size_t nlen, const char *want)
{
	return strlen(want) == nlen && memcmp(name, want, nlen) == 0;
}

static int
field_max_age(struct parse_state *st, unsigned line, const char *v,
    size_t n)
{
	char q[SD_QUOTE_LEN];
	uint64_t val = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			break;
	}
	if (n == 0 || i < n) {
		sd_quote(q, sizeof(q), v, n);
		sd_snprintf(st->err, st->errlen,
		    "line %u: max_age '%s' is not a number of seconds", line,
		    q);
		return -1;
	}
	/* 1*10 DIGIT: more digits than that is over the limit anyway. */
	for (i = 0; i < n && i < 11; i++)
		val = val * 10 + (uint64_t)(v[i] - '0');
	if (n > 10 || val > SD_MAX_MAX_AGE) {
		sd_quote(q, sizeof(q), v, n);
		sd_snprintf(st->err, st->errlen,
		    "line %u: max_age '%s' is over the maximum of %u seconds",
		    line, q, SD_MAX_MAX_AGE);
		return -1;
	}
	if (!st->have_max_age) {
		st->p->max_age = (uint32_t)val;
		st->have_max_age = 1;
	}
	return 0;
}

static int
field_mx(struct parse_state *st, unsigned line, const char *v, size_t n)
{
	char q[SD_QUOTE_LEN];
	char raw[SD_MAX_NAME + 2];
	char host[SD_MAX_NAME];
	char ascii[SD_MAX_NAME + 2];
	char why[SD_ERRLEN];
	const char *name = raw;
	int wild = 0;
	char *copy;

	sd_quote(q, sizeof(q), v, n);
	if (n == 0) {
		sd_snprintf(st->err, st->errlen, "line %u: mx is empty", line);
		return -1;
	}
	if (n >= sizeof(raw) || memchr(v, '\0', n) != NULL) {
		sd_snprintf(st->err, st->errlen,
		    "line %u: mx '%s' is not a valid host name", line, q);
		return -1;
	}
	memcpy(raw, v, n);
	raw[n] = '\0';
	if (sd_is_ip_literal(raw) ||
	    (sd_hostname_normalize(raw, host, sizeof(host), 0) == 0 &&
	    sd_is_ip_literal(host))) {
		sd_snprintf(st->err, st->errlen,
		    "line %u: mx '%s' is an IP address, not a host name",
		    line, q);
		return -1;
	}
	if (n >= 2 && raw[0] == '*' && raw[1] == '.') {
		wild = 1;
		name = raw + 2;
	}
	/* U-labels to A-labels, as the host side maps them (idn.c) */
	if (sd_idn_to_ascii(name, ascii, sizeof(ascii), why,
	    sizeof(why)) < 0) {
		sd_snprintf(st->err, st->errlen, "line %u: mx '%s': %s", line,
		    q, why);
		return -1;
	}
	name = ascii;
	/* "a.example.." would normalize to "a.example.": an empty label */
	if (sd_hostname_normalize(name, host, sizeof(host), 0) < 0 ||
	    host[strlen(host) - 1] == '.' || sd_is_ip_literal(host)) {
		sd_snprintf(st->err, st->errlen,
		    "line %u: mx '%s' is not a valid host name", line, q);
		return -1;
	}
	/* "*." needs a label of its own in front: the longest host name
	   (253) leaves 251 characters for the rest */
	if (wild && strlen(host) > 251) {
		sd_snprintf(st->err, st->errlen,
		    "line %u: mx '%s' can match no host name: more than 251 "
		    "characters after '*.'", line, q);
		return -1;
	}
	if (st->p->nmx >= SD_MAX_POLICY_MX) {
		sd_snprintf(st->err, st->errlen,
		    "line %u: more than %d mx lines", line, SD_MAX_POLICY_MX);
		return -1;
	}
	if (wild) {
		size_t hl = strlen(host);

		copy = malloc(hl + 3);
		if (copy != NULL) {
			memcpy(copy, "*.", 2);
			memcpy(copy + 2, host, hl + 1);
		}
	} else {
		copy = sd_strdup(host);
	}
	if (copy == NULL) {
		sd_snprintf(st->err, st->errlen, "out of memory");
		return -2;
	}
	st->p->mx[st->p->nmx++] = copy;
	return 0;
}

/*
 * One line without its terminator: 0, -1 syntax error, -2 out of memory.
 */
static int
parse_line(struct parse_state *st, unsigned line, const char *s, size_t n)
{
	char q[SD_QUOTE_LEN];
	size_t i, nlen;
	const char *v;
	size_t vlen;

	/* Blank line: tolerated, see DESCRIPTION. */
	for (i = 0; i < n && is_wsp((unsigned char)s[i]); i++)
		;
	if (i == n)
		return 0;

	for (i = 0; i < n && s[i] != ':'; i++)
		;
	if (i == n) {
		sd_quote(q, sizeof(q), s, n);
		sd_snprintf(st->err, st->errlen,
		    "line %u: '%s' is not a 'name: value' field", line, q);
		return -1;
	}
	nlen = i;
	/* sts-policy-ext-name; it also covers the four known names */
	if (nlen == 0 || nlen > 32 || !is_alnum((unsigned char)s[0])) {
		sd_quote(q, sizeof(q), s, nlen);
		sd_snprintf(st->err, st->errlen,
		    "line %u: bad field name '%s'", line, q);
		return -1;
	}
	for (i = 1; i < nlen; i++) {
		int c = (unsigned char)s[i];

		if (!is_alnum(c) && c != '_' && c != '-' && c != '.') {
			sd_quote(q, sizeof(q), s, nlen);
			sd_snprintf(st->err, st->errlen,
			    "line %u: bad field name '%s'", line, q);
			return -1;
		}
	}
	v = s + nlen + 1;
	vlen = n - nlen - 1;
	while (vlen > 0 && is_wsp((unsigned char)v[0])) {
		v++;
		vlen--;
	}
	while (vlen > 0 && is_wsp((unsigned char)v[vlen - 1]))
		vlen--;

	if (name_is(s, nlen, "version")) {
		if (!name_is(v, vlen, "STSv1")) {
			sd_quote(q, sizeof(q), v, vlen);
			sd_snprintf(st->err, st->errlen,
			    "line %u: version '%s' is not 'STSv1'", line, q);
			return -1;
		}
		st->have_version = 1;
		return 0;
	}
	if (name_is(s, nlen, "mode")) {
		enum stsdane_mode m;

		if (name_is(v, vlen, "enforce")) {
			m = STSDANE_MODE_ENFORCE;
		} else if (name_is(v, vlen, "testing")) {
			m = STSDANE_MODE_TESTING;
		} else if (name_is(v, vlen, "none")) {
			m = STSDANE_MODE_NONE;
		} else {
			sd_quote(q, sizeof(q), v, vlen);
			sd_snprintf(st->err, st->errlen,
			    "line %u: mode '%s' is not enforce, testing or "
			    "none", line, q);
			return -1;
		}
		if (!st->have_mode) {
			st->p->mode = m;
			st->have_mode = 1;
		}
		return 0;
	}
	if (name_is(s, nlen, "max_age"))
		return field_max_age(st, line, v, vlen);
	if (name_is(s, nlen, "mx"))
		return field_mx(st, line, v, vlen);

	if (!ext_value_ok(v, vlen)) {
		sd_quote(q, sizeof(q), s, nlen);
		sd_snprintf(st->err, st->errlen, vlen == 0 ?
		    "line %u: field '%s' has an empty value" :
		    "line %u: field '%s' has a bad value (control character "
		    "or invalid UTF-8)", line, q);
		return -1;
	}
	return 0;
}

SD_EXPORT void
stsdane_policy_free(struct stsdane_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nmx; i++)
		free(p->mx[i]);
	free(p->mx);
	free(p);
}

SD_EXPORT int
stsdane_policy_parse(const char *body, size_t len,
    struct stsdane_policy **out, char *err, size_t errlen)
{
	struct parse_state st;
	size_t pos = 0;
	unsigned line = 0;
	int rc = STSDANE_ERR_SYNTAX;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || (body == NULL && len > 0))
		return STSDANE_ERR_INVAL;
	*out = NULL;
	if (len > SD_MAX_POLICY) {
		sd_snprintf(err, errlen,
		    "policy is %zu bytes long, over the limit of %d", len,
		    SD_MAX_POLICY);
		return STSDANE_ERR_SYNTAX;
	}

	memset(&st, 0, sizeof(st));
	st.err = err;
	st.errlen = errlen;
	st.p = calloc(1, sizeof(*st.p));
	if (st.p != NULL)
		st.p->mx = calloc(SD_MAX_POLICY_MX, sizeof(char *));
	if (st.p == NULL || st.p->mx == NULL) {
		sd_snprintf(err, errlen, "out of memory");
		rc = STSDANE_ERR_NOMEM;
		goto fail;
	}

	while (pos < len) {
		size_t start = pos, end, i;
		int r;

		line++;
		while (pos < len && body[pos] != '\n')
			pos++;
		end = pos;
		if (pos < len)
			pos++;		/* the LF */
		if (end > start && body[end - 1] == '\r')
			end--;
		for (i = start; i < end; i++) {
			if (body[i] == '\r') {
				sd_snprintf(err, errlen, "line %u: bare CR "
				    "(lines must end in LF or CRLF)", line);
				goto fail;
			}
			if (body[i] == '\0') {
				sd_snprintf(err, errlen,
				    "line %u: NUL byte", line);
				goto fail;
			}
		}
		r = parse_line(&st, line, body + start, end - start);
		if (r == -2) {
			rc = STSDANE_ERR_NOMEM;
			goto fail;
		}
		if (r < 0)
			goto fail;
	}

	if (!st.have_version) {
		sd_snprintf(err, errlen, "missing 'version: STSv1'");
		goto fail;
	}
	if (!st.have_mode) {
		sd_snprintf(err, errlen, "missing 'mode'");
		goto fail;
	}
	if (!st.have_max_age) {
		sd_snprintf(err, errlen, "missing 'max_age'");
		goto fail;
	}
	if (st.p->mode != STSDANE_MODE_NONE && st.p->nmx == 0) {
		sd_snprintf(err, errlen, "mode '%s' requires at least one mx",
		    st.p->mode == STSDANE_MODE_ENFORCE ? "enforce" :
		    "testing");
		goto fail;
	}
	*out = st.p;
	return STSDANE_OK;

fail:
	stsdane_policy_free(st.p);
	return rc;
}
