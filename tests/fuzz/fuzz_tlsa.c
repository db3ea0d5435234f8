/*
 * NAME
 *	fuzz_tlsa.c - libFuzzer target: TLSA records in presentation form
 * DESCRIPTION
 *	The input, as a string, goes to stsdane_tlsa_check().  A record it
 *	accepts must still be accepted with the case of its hex digits
 *	flipped and with its fields separated by tabs: the result depends on
 *	the record, not on its spelling.
 */
#include <string.h>

#include "fuzz.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[SD_ERRLEN];
	char *s;
	size_t i;
	int rc;

	if (size > 65536)
		return 0;
	s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	rc = stsdane_tlsa_check(s, err, sizeof(err));
	if (rc == STSDANE_OK) {
		for (i = 0; s[i] != '\0'; i++) {
			if (s[i] >= 'a' && s[i] <= 'f')
				s[i] = (char)(s[i] - 'a' + 'A');
			else if (s[i] >= 'A' && s[i] <= 'F')
				s[i] = (char)(s[i] - 'A' + 'a');
			else if (s[i] == ' ')
				s[i] = '\t';
		}
		FUZZ_CHECK(stsdane_tlsa_check(s, err, sizeof(err)) ==
		    STSDANE_OK);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	free(s);
	return 0;
}
