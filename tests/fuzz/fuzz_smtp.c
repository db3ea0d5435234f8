/*
 * NAME
 *	fuzz_smtp.c - libFuzzer target: SMTP replies
 * DESCRIPTION
 *	The input goes to smtp_reply_parse() as the probe's buffer.  A
 *	complete reply uses no more than the buffer, has a code from 200 to
 *	599 and at least one line; the same bytes cut to exactly what it used
 *	parse to the same reply, and one byte fewer is not a complete reply.
 */
#include <string.h>

#include "fuzz.h"
#include "util.h"
#include "smtp.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r, r2;
	char err[SD_ERRLEN];
	size_t used = 0, used2 = 0;
	int rc;

	rc = smtp_reply_parse((const char *)data, size, &r, &used, err,
	    sizeof(err));
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	if (rc < 0)
		FUZZ_CHECK(err[0] != '\0');
	if (rc != 1)
		return 0;
	FUZZ_CHECK(used > 0 && used <= size && data[used - 1] == '\n');
	FUZZ_CHECK(r.code >= 200 && r.code <= 599 && r.nlines >= 1);
	FUZZ_CHECK(memchr(r.text, '\0', sizeof(r.text)) != NULL);
	FUZZ_CHECK(smtp_reply_parse((const char *)data, used, &r2, &used2,
	    err, sizeof(err)) == 1);
	FUZZ_CHECK(used2 == used && r2.code == r.code &&
	    r2.nlines == r.nlines && r2.starttls == r.starttls &&
	    strcmp(r2.text, r.text) == 0);
	FUZZ_CHECK(smtp_reply_parse((const char *)data, used - 1, &r2, &used2,
	    err, sizeof(err)) != 1);
	return 0;
}
