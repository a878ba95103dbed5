/* Tests relay/net/tcp_frame.c (RFC 4571): packets handed out whole however the stream is
 * cut, byte by byte included; empty packets skipped; a length past CR_TCP_FRAME_MAX
 * refused; a callback that stops the feeding. */
#include <string.h>

#include "net/tcp_frame.h"
#include "test.h"

static size_t seen, seen_bytes;
static uint8_t last[CR_TCP_FRAME_MAX];
static int stop_after;

static int on_frame(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    seen++;
    seen_bytes += len;
    memcpy(last, buf, len);
    return stop_after && (int)seen == stop_after;
}

int main(void)
{
    uint8_t stream[] = {0, 3, 'a', 'b', 'c', 0, 0, 0, 1, 'z', 0, 2, 'x', 'y'};
    for (size_t cut = 1; cut <= sizeof stream; cut++) { /* every piece size */
        struct cr_tcp_frames f = {0};
        seen = seen_bytes = 0;
        for (size_t at = 0; at < sizeof stream; at += cut) {
            size_t n = sizeof stream - at < cut ? sizeof stream - at : cut;
            CHECK_EQ(cr_tcp_frames_feed(&f, stream + at, n, on_frame, NULL), 0);
        }
        CHECK_EQ(seen, 3); /* abc, z, xy: the empty one skipped */
        CHECK_EQ(seen_bytes, 6);
        CHECK(memcmp(last, "xy", 2) == 0);
        CHECK_EQ(f.have, 0);
    }
    struct cr_tcp_frames f = {0};
    const uint8_t big[] = {0x08, 0x01}; /* 2049 */
    CHECK_EQ(cr_tcp_frames_feed(&f, big, 2, on_frame, NULL), -1);
    struct cr_tcp_frames g = {0};
    seen = 0;
    stop_after = 1;
    CHECK_EQ(cr_tcp_frames_feed(&g, stream, sizeof stream, on_frame, NULL), 1);
    CHECK_EQ(seen, 1);
    uint8_t head[2];
    cr_tcp_frame_header(head, 1300);
    CHECK(head[0] == 5 && head[1] == 20);
    return test_report();
}
