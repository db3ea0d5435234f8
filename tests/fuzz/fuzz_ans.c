/*
 * NAME
 *	fuzz_ans.c - libFuzzer target: the answers-file slot reader
 * DESCRIPTION
 *	A real answers file is made once in a temporary directory, with one
 *	answer in it; its slot is found by looking for the bytes ans_put()
 *	wrote.  Each input is written over that slot (zero-padded), and
 *	ans_get() reads it as a lock-free reader would.  When the input's
 *	first byte is odd, the slot's CRC-32 is set right first, so that the
 *	fuzzer reaches the record decoder and not only the checksum.  What
 *	ans_get() returns must be a decision for the domain asked about,
 *	valid now, and marked as coming from the cache.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "fuzz.h"
#include "util.h"
#include "seed.h"

#define HDR 64			/* as cache_ans.c lays the file out */
#define SLOT 1024
#define NOW 1700000000
#define DOMAIN "example.test"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct ans_file *ans;
static int fd = -1;
static off_t slot_off = -1;

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/stsdane-fuzz-ans.XXXXXX", path[64];
	unsigned char slot[SLOT];
	struct stsdane_decision *d;
	off_t off;
	int dane;

	FUZZ_CHECK(mkdtemp(dir) != NULL);
	ans = ans_open(dir, NULL, NULL);
	FUZZ_CHECK(ans != NULL);
	snprintf(path, sizeof(path), "%s/stsdane.answers", dir);
	fd = open(path, O_RDWR);
	FUZZ_CHECK(fd >= 0);
	/* the files stay open; the names can go now */
	FUZZ_CHECK(unlink(path) == 0);
	(void)rmdir(dir);
	for (dane = 1; dane >= 0; dane--) {
		d = fuzz_sample_decision(DOMAIN, dane, NOW + 3600);
		ans_put(ans, d, NOW);
		stsdane_decision_free(d);
		for (off = HDR; slot_off < 0; off += SLOT) {
			ssize_t n = pread(fd, slot, sizeof(slot), off);

			FUZZ_CHECK(n > 0);
			if ((size_t)n == sizeof(slot) &&
			    slot[0] != 0 && memmem(slot, sizeof(slot), DOMAIN,
			    strlen(DOMAIN)) != NULL)
				slot_off = off;
		}
		FUZZ_CHECK(pread(fd, slot, sizeof(slot), slot_off) ==
		    (ssize_t)sizeof(slot));
		/* the seed: flag byte (fix the CRC), then the slot */
		{
			unsigned char seed[1 + SLOT];

			seed[0] = 1;
			memcpy(seed + 1, slot, sizeof(slot));
			fuzz_write_seed(dane ? "dane" : "mtasts", seed,
			    sizeof(seed));
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char slot[SLOT];
	struct stsdane_decision *d;
	uint32_t len;

	if (size < 1)
		return 0;
	memset(slot, 0, sizeof(slot));
	memcpy(slot, data + 1, size - 1 > SLOT ? SLOT : size - 1);
	if (data[0] & 1) {
		len = (uint32_t)slot[0] | (uint32_t)slot[1] << 8 |
		    (uint32_t)slot[2] << 16 | (uint32_t)slot[3] << 24;
		if (len <= SLOT - 8)
			put32(slot + 4, sd_crc32(0, slot + 8, len));
	}
	FUZZ_CHECK(pwrite(fd, slot, sizeof(slot), slot_off) ==
	    (ssize_t)sizeof(slot));
	d = ans_get(ans, DOMAIN, NOW);
	if (d != NULL) {
		FUZZ_CHECK(d->domain != NULL && strcmp(d->domain, DOMAIN) == 0);
		FUZZ_CHECK(d->expires > NOW);
		FUZZ_CHECK(d->source == STSDANE_SOURCE_CACHE);
		stsdane_decision_free(d);
	}
	return 0;
}
