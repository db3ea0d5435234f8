/*
 * NAME
 *	fuzz_txt.c - libFuzzer target: the _mta-sts TXT record set
 * DESCRIPTION
 *	The input is a TXT RRset as libunbound hands it over: RDATA items,
 *	each preceded by a two-byte length.  Each item is decoded with
 *	rdata_txt() and the set goes to stsdane_txt_check(), as the library
 *	does; the same records also go through txt_check_rdata(), which
 *	must agree.  An accepted id is 1 to 32 letters and digits, and the
 *	record "v=STSv1; id=ID" built from it is accepted with the same id
 *	(round trip).
 */
#include <string.h>

#include "fuzz.h"
#include "util.h"
#include "rdata.h"
#include "sts_txt.h"

#define MAXREC 128

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *rd[MAXREC];
	size_t rdlen[MAXREC], lens[MAXREC];
	const char *recs[MAXREC];
	static char buf[MAXREC][SD_MAX_TXT + 1];
	char id[SD_MAX_ID + 1], id2[SD_MAX_ID + 1], err[SD_ERRLEN];
	char rec[64];
	size_t pos = 0, n = 0, nrd = 0, i;
	int rc, rc2, bad = 0;

	while (pos + 2 <= size && nrd < MAXREC) {
		size_t l = (size_t)data[pos] << 8 | data[pos + 1];

		pos += 2;
		if (l > size - pos)
			l = size - pos;
		rd[nrd] = data + pos;
		rdlen[nrd] = l;
		nrd++;
		pos += l;
	}
	for (i = 0; i < nrd; i++) {
		if (rdata_txt(rd[i], rdlen[i], buf[n], sizeof(buf[n]),
		    &lens[n]) < 0) {
			bad = 1;
			continue;
		}
		FUZZ_CHECK(lens[n] < sizeof(buf[n]));
		recs[n] = buf[n];
		n++;
	}
	rc = stsdane_txt_check(recs, lens, n, id, err, sizeof(err));
	rc2 = txt_check_rdata(rd, rdlen, nrd, id2, err, sizeof(err));
	/* the RDATA path never accepts what the decoded path refuses */
	if (!bad)
		FUZZ_CHECK(rc == rc2);
	if (rc2 == STSDANE_OK)
		FUZZ_CHECK(rc == STSDANE_OK && strcmp(id, id2) == 0);
	if (rc != STSDANE_OK) {
		FUZZ_CHECK(id[0] == '\0');
		return 0;
	}
	n = strlen(id);
	FUZZ_CHECK(n >= 1 && n <= 32);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z'));
	snprintf(rec, sizeof(rec), "v=STSv1; id=%s", id);
	recs[0] = rec;
	lens[0] = strlen(rec);
	FUZZ_CHECK(stsdane_txt_check(recs, lens, 1, id2, err, sizeof(err)) ==
	    STSDANE_OK);
	FUZZ_CHECK(strcmp(id, id2) == 0);
	return 0;
}
