/*
 * fuzz.h - what the libFuzzer harnesses in tests/fuzz share
 *
 * A check that fails is a bug as real as a crash: FUZZ_CHECK reports the
 * failed condition and aborts, so libFuzzer keeps the input as a crash
 * artifact.  Harnesses are not part of the library, so abort() is fine.
 */
#ifndef STSDANE_FUZZ_H
#define STSDANE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* STSDANE_FUZZ_H */
