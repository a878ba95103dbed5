/* Tests signaling/transport/zfield.c, the deflated "sdpz" field: what the browser's
 * CompressionStream("deflate-raw") plus btoa() makes inflates back (a stream written here by
 * hand as zlib would, and round trips of zfield_deflate); a 64 KiB SDP goes down to a few
 * KiB; refusals: bad base64 (blanks, misplaced padding, a length not a multiple of 4), a
 * truncated stream, bytes after the stream's end, a NUL in the text, and output past the
 * bound (a deflate bomb), exact bound included. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "transport/zfield.h"

static int inflate_str(const char *b64, size_t max, char **out)
{
    return zfield_inflate(b64, strlen(b64), max, out);
}

static void test_known_stream(void)
{
    /* "hello" as raw DEFLATE, fixed Huffman (Python: zlib.compressobj(9, 8, -15)) */
    char *out;
    CHECK_EQ(inflate_str("y0jNyckHAA==", 100, &out), ZFIELD_OK);
    CHECK(out && strcmp(out, "hello") == 0);
    free(out);
    /* "hello!", one padding character */
    CHECK_EQ(inflate_str("y0jNyclXBAA=", 100, &out), ZFIELD_OK);
    CHECK(out && strcmp(out, "hello!") == 0);
    free(out);
}

static void test_round_trip(void)
{
    size_t n = 60000;
    char *sdp = malloc(n + 1);
    for (size_t i = 0; i < n; i++) /* SDP-like: repetitive lines */
        sdp[i] = "a=rtcp-fb:96 nack pli\r\n"[i % 23];
    sdp[n] = '\0';
    char *z = zfield_deflate(sdp);
    CHECK(strlen(z) < n / 20);
    char *out;
    CHECK_EQ(inflate_str(z, 65536, &out), ZFIELD_OK);
    CHECK(out && strcmp(out, sdp) == 0);
    free(out);
    /* the bound: exactly the length passes, one less is too big */
    CHECK_EQ(inflate_str(z, n, &out), ZFIELD_OK);
    free(out);
    CHECK_EQ(inflate_str(z, n - 1, &out), ZFIELD_ERR_TOO_BIG);
    CHECK(out == NULL);
    free(z);
    free(sdp);
    z = zfield_deflate("");
    CHECK_EQ(inflate_str(z, 10, &out), ZFIELD_OK);
    CHECK(out && out[0] == '\0');
    free(out);
    free(z);
}

static void test_refused(void)
{
    char *out = (char *)1;
    CHECK_EQ(inflate_str("y0jNyckHAA=", 100, &out), ZFIELD_ERR_BASE64); /* 11 characters */
    CHECK(out == NULL);
    CHECK_EQ(inflate_str("y0jN yckHAA=", 100, &out), ZFIELD_ERR_BASE64);
    CHECK_EQ(inflate_str("y0jN\nyckHAA=", 100, &out), ZFIELD_ERR_BASE64);
    CHECK_EQ(inflate_str("y0=NyckHAA==", 100, &out), ZFIELD_ERR_BASE64);
    CHECK_EQ(inflate_str("y0jN!ckHAA==", 100, &out), ZFIELD_ERR_BASE64);
    CHECK_EQ(inflate_str("", 100, &out), ZFIELD_ERR_DEFLATE);
    CHECK_EQ(inflate_str("y0jNyckH", 100, &out), ZFIELD_ERR_DEFLATE);     /* truncated */
    CHECK_EQ(inflate_str("y0jNyckHAHh4", 100, &out), ZFIELD_ERR_DEFLATE); /* + "xx" */
    CHECK_EQ(inflate_str("S0xKBgA=", 100, &out), ZFIELD_OK);              /* "abc" */
    free(out);
    CHECK_EQ(inflate_str("S0xKZkhJTQMA", 100, &out), ZFIELD_ERR_NUL); /* "abc\0def" */
    CHECK(out == NULL);
    CHECK_EQ(inflate_str("y0jNyckHAA==", 4, &out), ZFIELD_ERR_TOO_BIG);
    CHECK(strcmp(zfield_strerror(ZFIELD_ERR_TOO_BIG), "inflates beyond the size limit") == 0);
}

static void test_bomb(void)
{
    /* 10 MB of 'a' deflates to about 10 KB: refused at the bound, nothing near 10 MB taken */
    size_t n = 10 * 1000 * 1000;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    char *z = zfield_deflate(big);
    free(big);
    char *out;
    CHECK_EQ(inflate_str(z, 65536, &out), ZFIELD_ERR_TOO_BIG);
    CHECK(out == NULL);
    free(z);
}

int main(void)
{
    test_known_stream();
    test_round_trip();
    test_refused();
    test_bomb();
    return test_report();
}
