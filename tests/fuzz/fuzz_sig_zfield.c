/* Fuzz entry point for signaling/transport/zfield.c's zfield_inflate (the "sdpz" field of
 * publish and subscribe, docs/protocol.md), in two ways:
 *  - the input as the field's text (base64 of raw DEFLATE), under a small bound so that
 *    the "too big" path is reached;
 *  - the input as raw DEFLATE bytes, base64-encoded here, so the fuzzer reaches zlib past
 *    the base64 check.
 * Whatever inflates must hold the bound and no NUL, and deflate and inflate back to itself. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/zfield.h"

#define BOUND 4096

static void check(const char *b64, size_t len)
{
    char *out = NULL;
    int rc = zfield_inflate(b64, len, BOUND, &out);
    if (rc > 0 || rc < ZFIELD_ERR_NUL || !zfield_strerror(rc)[0] || (rc != 0) != (out == NULL))
        abort();
    if (rc != 0)
        return;
    size_t n = strlen(out);
    if (n > BOUND)
        abort();
    char *z = zfield_deflate(out);
    char *again = NULL;
    if (zfield_inflate(z, strlen(z), BOUND, &again) != 0 || strcmp(again, out) != 0)
        abort();
    free(again);
    free(z);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so a read past the end shows */
    char *exact = malloc(size ? size : 1);
    memcpy(exact, data, size);
    check(exact, size);
    free(exact);
    if (size > 64 * 1024)
        return 0;
    char *b64 = malloc((size + 2) / 3 * 4 + 1);
    int n = EVP_EncodeBlock((unsigned char *)b64, data, (int)size);
    check(b64, (size_t)n);
    free(b64);
    return 0;
}
