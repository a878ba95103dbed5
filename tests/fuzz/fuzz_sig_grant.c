/* Fuzz entry point for signaling/access/grant.c, the grant= argument of replay links (from
 * the network). The input is the grant text. Whatever grant_check answers must be one of its
 * codes; a grant it accepts must be exactly the one grant_make writes for that expiry (one
 * spelling, no other). Then the input's first bytes become an expiry and a grant made from it
 * must be accepted before it and refused as expired at it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access/grant.h"
#include "require.h"

static const struct token_key key = {{0x5a, 0x17, 0x99}};
static const char scope[] = "20260105-090000-math-0a1b";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exact size: overreads are caught */
    memcpy(text, data, size);
    int rc = grant_check(&key, scope, text, size, 0);
    REQUIRE(rc == GRANT_OK || rc == GRANT_ERR_MALFORMED || rc == GRANT_ERR_SIGNATURE ||
            rc == GRANT_ERR_EXPIRED);
    if (rc == GRANT_OK || rc == GRANT_ERR_EXPIRED) {
        char again[GRANT_MAX + 1];
        REQUIRE(grant_make(&key, scope, strtoll(text, NULL, 10), again) == 0);
        REQUIRE(strlen(again) == size && memcmp(again, text, size) == 0);
    }
    free(text);
    if (size >= 5) {
        int64_t exp = 1 + (((int64_t)data[0] << 32 | (int64_t)data[1] << 24 | data[2] << 16 |
                            data[3] << 8 | data[4]) %
                           999999999998LL);
        char g[GRANT_MAX + 1];
        REQUIRE(grant_make(&key, scope, exp, g) == 0);
        REQUIRE(grant_check(&key, scope, g, strlen(g), exp - 1) == GRANT_OK);
        REQUIRE(grant_check(&key, scope, g, strlen(g), exp) == GRANT_ERR_EXPIRED);
        REQUIRE(grant_check(&key, "20260105-090000-math-0a1c", g, strlen(g), 0) ==
                GRANT_ERR_SIGNATURE);
    }
    return 0;
}
