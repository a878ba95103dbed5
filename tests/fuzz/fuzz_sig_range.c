/* Fuzz entry point for signaling/transport/http_range.c, the HTTP Range header of replay
 * files (RFC 9110 §14.1.2). The input is a file size (8 bytes, big-endian) and the header
 * text. Whatever is accepted must be a non-empty range inside the file, and a refusal
 * (416) only comes for a well-formed range that starts past the end. Then the same numbers
 * are written as "bytes=a-b", "bytes=a-" and "bytes=-n" and the answers checked exactly. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/http_range.h"
#include "require.h"

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Parses h for a file of size bytes and checks the result is a range inside it. */
static int parse(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
    *start = *len = 0xdeadbeef;
    int r = http_range_parse(h, size, start, len);
    REQUIRE(r >= -1 && r <= 1);
    if (r == 1)
        REQUIRE(*len >= 1 && *start < size && *len <= size - *start);
    else
        REQUIRE(*start == 0xdeadbeef && *len == 0xdeadbeef); /* untouched */
    if (r == -1)
        REQUIRE(strchr(h, '-') != NULL);
    return r;
}

static void exact(uint64_t a, uint64_t b, uint64_t size)
{
    char h[80];
    uint64_t start, len;
    /* bytes=a-b: valid when a <= b; 416 when it starts past the end */
    snprintf(h, sizeof h, "bytes=%" PRIu64 "-%" PRIu64, a, b);
    int r = parse(h, size, &start, &len);
    if (a > b)
        REQUIRE(r == 0);
    else if (a >= size)
        REQUIRE(r == -1);
    else
        REQUIRE(r == 1 && start == a && len == (b < size ? b : size - 1) - a + 1);
    /* bytes=a-: to the end */
    snprintf(h, sizeof h, "bYtEs=%" PRIu64 "-", a);
    r = parse(h, size, &start, &len);
    REQUIRE(a >= size ? r == -1 : (r == 1 && start == a && len == size - a));
    /* bytes=-n: the last n bytes */
    snprintf(h, sizeof h, " bytes=-%" PRIu64, b);
    r = parse(h, size, &start, &len);
    if (b == 0 || size == 0)
        REQUIRE(r == -1);
    else
        REQUIRE(r == 1 && len == (b < size ? b : size) && start + len == size);
    /* several ranges: the whole file */
    snprintf(h, sizeof h, "bytes=%" PRIu64 "-%" PRIu64 ",0-0", a, b);
    REQUIRE(parse(h, size, &start, &len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t file = be64(data);
    char *h = malloc(size - 8 + 1); /* exact size: overreads are caught */
    memcpy(h, data + 8, size - 8);
    h[size - 8] = '\0';
    uint64_t start, len;
    parse(h, file, &start, &len);
    if (size >= 24)
        exact(be64(data + 8), be64(data + 16), file);
    /* small files, where the edges are */
    parse(h, file & 0xff, &start, &len);
    free(h);
    return 0;
}
