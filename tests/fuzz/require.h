/* The fuzz targets' check of their own invariants: on failure it names the condition and
 * its place, then aborts, which the fuzzer (and the corpus replay) reports as a crash. */
#ifndef CR_FUZZ_REQUIRE_H
#define CR_FUZZ_REQUIRE_H

#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #c);                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
