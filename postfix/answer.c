/*
 * NAME
 *	answer.c - turn a stsdane decision into a socketmap answer for
 *	Postfix's smtp_tls_policy_maps, no I/O
 * SUMMARY
 *	the one place that says what Postfix is told, so that "never clear
 *	text for a policy domain" can be read off one function
 * SYNOPSIS
 *	#include "answer.h"
 *
 *	int answer_key_is_domain(const char *key, size_t len)
 *	enum answer_kind answer_make(int rc,
 *	    const struct stsdane_decision *d, const char *why,
 *	    const struct answer_opts *o, char *out, size_t outlen)
 *	const char *answer_kind_name(enum answer_kind k)
 * DESCRIPTION
 *	The answers, by decision:
 *
 *	  tempfail (DNS failure, DNSSEC bogus, no policy when one is due)
 *	      "TEMP reason": Postfix defers the message.
 *	  DANE    "OK dane-only": Postfix looks up the TLSA records itself
 *	      (smtp_dns_support_level = dnssec) and insists on them.
 *	  MTA-STS enforce
 *	      "OK secure match=H1:H2 servername=hostname", H1... the host
 *	      names of the current MX RRset that the policy allows, each
 *	      once, in MX order.  A "*.example.com" pattern allows a host
 *	      one label below example.com only (stsdane_host_allowed());
 *	      it is never passed on as Postfix's ".example.com", which
 *	      Postfix would match at any depth.  When no host is allowed:
 *	      "TEMP", never a weaker answer.
 *	  MTA-STS testing or none, no policy, a null MX, a key that is not
 *	      a domain
 *	      "NOTFOUND ": Postfix applies its own smtp_tls_security_level.
 *
 *	A decision that requires TLS but fits none of the rows above gets
 *	TEMP: an answer that could let Postfix send in clear text is never
 *	made up.  Library errors (no memory, no resolver) are TEMP too; an
 *	argument the library calls invalid is not a domain: NOTFOUND.
 *
 *	With o->tlsrpt, MTA-STS answers also carry the attributes Postfix
 *	3.10 and later passes to its TLSRPT client: policy_type=sts,
 *	policy_domain, policy_ttl (the max_age), one
 *	"{ policy_string = LINE }" per line of the policy, one
 *	mx_host_pattern per pattern.  Older Postfix rejects them.
 *
 *	Host names and reasons are reduced to what cannot break the answer
 *	apart: a host name with a byte outside [A-Za-z0-9._-] is left out
 *	(it is not allowed then), control characters of a reason become
 *	'?'.
 * DIAGNOSTICS
 *	answer_make() always writes an answer; an answer that would not
 *	fit in outlen becomes "TEMP stsdane-policyd: answer too long".
 * SEE ALSO
 *	postfix/answer.h, docs/postfix.md, Postfix TLS_README
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"

static const char *const kind_names[ANSWER_NKINDS] = {
	"dane", "secure", "notfound", "temp", "perm"
};

const char *
answer_kind_name(enum answer_kind k)
{
	return (unsigned)k < ANSWER_NKINDS ? kind_names[k] : "unknown";
}

int
answer_key_is_domain(const char *key, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > 253 || key[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c == '.') {
			if (label == 0)
				return 0;	/* empty label */
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c >= 0x80))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* A bounded string being built; full once something did not fit. */
struct text {
	char *buf;
	size_t len, cap;
	int full;
};

static void text_add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len) {
		t->full = 1;
		t->buf[t->len] = '\0';
		return;
	}
	t->len += (size_t)n;
}

/* reason, one line of printable bytes */
static void
text_add_reason(struct text *t, const char *s)
{
	char one[2] = { 0, 0 };

	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		one[0] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		text_add(t, "%s", one);
	}
}

static int
host_name_ok(const char *h)
{
	if (*h == '\0')
		return 0;
	for (; *h != '\0'; h++) {
		unsigned char c = (unsigned char)*h;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.'))
			return 0;
	}
	return 1;
}

/* host, without a trailing dot, already among d->dane[0..i-1]? */
static int
seen_before(const struct stsdane_decision *d, size_t i, const char *h,
    size_t hlen)
{
	size_t j;

	for (j = 0; j < i; j++) {
		const char *o = d->dane[j].name;
		size_t olen = o != NULL ? strlen(o) : 0;

		if (olen > 0 && o[olen - 1] == '.')
			olen--;
		if (olen == hlen && strncasecmp(o, h, hlen) == 0)
			return 1;
	}
	return 0;
}

/* Start over with "TEMP ": whatever was written is dropped. */
static enum answer_kind
temp(struct text *t)
{
	t->len = 0;
	t->full = 0;
	t->buf[0] = '\0';
	text_add(t, "TEMP ");
	return ANSWER_TEMP;
}

static void
tlsrpt_attributes(struct text *t, const struct stsdane_decision *d)
{
	size_t i;

	text_add(t, " policy_type=sts policy_domain=%s policy_ttl=%lu",
	    d->domain, (unsigned long)d->max_age);
	text_add(t, " { policy_string = version: STSv1 }");
	text_add(t, " { policy_string = mode: %s }",
	    stsdane_mode_name(d->mode));
	for (i = 0; i < d->nmx; i++)
		if (host_name_ok(d->mx[i] + (d->mx[i][0] == '*')))
			text_add(t, " { policy_string = mx: %s }", d->mx[i]);
	text_add(t, " { policy_string = max_age: %lu }",
	    (unsigned long)d->max_age);
	for (i = 0; i < d->nmx; i++)
		if (host_name_ok(d->mx[i] + (d->mx[i][0] == '*')))
			text_add(t, " mx_host_pattern=%s", d->mx[i]);
}

static enum answer_kind
secure(struct text *t, const struct stsdane_decision *d,
    const struct answer_opts *o)
{
	size_t i, n = 0;

	text_add(t, "OK secure match=");
	for (i = 0; i < d->ndane; i++) {
		const char *h = d->dane[i].name;
		size_t hlen;

		if (h == NULL || !host_name_ok(h) ||
		    stsdane_host_allowed(d, h) != 1)
			continue;
		hlen = strlen(h);
		if (h[hlen - 1] == '.')
			hlen--;
		if (hlen == 0 || seen_before(d, i, h, hlen))
			continue;
		text_add(t, "%s%.*s", n > 0 ? ":" : "", (int)hlen, h);
		n++;
	}
	if (n == 0) {
		temp(t);
		text_add(t, "no MX host of '%s' is allowed by its MTA-STS "
		    "policy", d->domain);
		return ANSWER_TEMP;
	}
	text_add(t, " servername=hostname");
	if (o != NULL && o->tlsrpt)
		tlsrpt_attributes(t, d);
	return ANSWER_SECURE;
}

enum answer_kind
answer_make(int rc, const struct stsdane_decision *d, const char *why,
    const struct answer_opts *o, char *out, size_t outlen)
{
	struct text t = { out, 0, outlen, 0 };
	enum answer_kind k;

	out[0] = '\0';
	if (rc == STSDANE_ERR_NAME || rc == STSDANE_ERR_INVAL ||
	    rc == STSDANE_ERR_SYNTAX) {
		text_add(&t, "NOTFOUND ");
		return ANSWER_NOTFOUND;
	}
	if (rc != STSDANE_OK || d == NULL) {
		k = temp(&t);
		text_add(&t, "stsdane: %s: ", stsdane_strerror(rc));
		text_add_reason(&t, why);
	} else if (d->tempfail) {
		k = temp(&t);
		text_add_reason(&t, d->reason != NULL ? d->reason :
		    stsdane_problem_name(d->problem));
	} else if (d->no_mail) {
		text_add(&t, "NOTFOUND ");
		k = ANSWER_NOTFOUND;
	} else if (d->mechanism == STSDANE_MECH_DANE) {
		text_add(&t, "OK dane-only");
		k = ANSWER_DANE;
	} else if (d->mechanism == STSDANE_MECH_MTASTS &&
	    d->mode == STSDANE_MODE_ENFORCE) {
		k = secure(&t, d, o);
	} else if (d->require_tls) {
		k = temp(&t);
		text_add(&t, "stsdane-policyd: '%s' requires TLS under a "
		    "decision Postfix cannot be told (%s)", d->domain,
		    stsdane_mechanism_name(d->mechanism));
	} else {
		text_add(&t, "NOTFOUND ");
		k = ANSWER_NOTFOUND;
	}
	if (t.full) {
		k = temp(&t);
		text_add(&t, "stsdane-policyd: answer too long");
	}
	return k;
}
