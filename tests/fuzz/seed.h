/* seed.h - sample decisions for the cache harnesses (seed.c) */
#ifndef STSDANE_FUZZ_SEED_H
#define STSDANE_FUZZ_SEED_H

#include <stddef.h>
#include <stdint.h>

#include "stsdane.h"

struct stsdane_decision *fuzz_sample_decision(const char *domain, int dane,
    int64_t expires);
void fuzz_write_seed(const char *name, const void *p, size_t n);

#endif /* STSDANE_FUZZ_SEED_H */
