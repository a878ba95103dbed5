/* Tests relay/route/tap.c: a recording tap is a consumer whose sink sends plain RTP to
 * 127.0.0.1:port (RFC 3550, no SRTP). The room binds it to a track; it asks for a keyframe
 * at once (through the producer's throttle), and what the room fans out arrives on the
 * port in the tap's own numbering with the payload type asked for. */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "test.h"

#include "route/room.h"
#include "route/tap.h"

static int listen_udp(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_tap_sends_plain_rtp(void)
{
    uint16_t port = 0;
    int fd = listen_udp(&port);
    CHECK(fd >= 0);
    struct route_ctx *ctx = fake_ctx_new();
    ctx->next_id = 40;
    struct room *room = room_new(ctx, "lesson");
    struct producer *p = vp8_producer(5, 1);
    room_add_producer(room, p);
    plis = 0;
    struct tap *tap = room_add_tap(room, p, port, 98);
    CHECK(tap != NULL);
    CHECK_EQ(tap->id, 40 << ROUTE_WORKER_BITS); /* worker 0's */
    CHECK_EQ(ctx->stats.taps, 1);
    CHECK(g_hash_table_lookup(ctx->taps, &tap->id) == tap);
    CHECK_EQ(plis, 1); /* a keyframe, asked for at once */
    CHECK_EQ(pli_ssrc, 1000);

    uint8_t pkt[256];
    size_t len = vp8_packet(pkt, 77, 1234, 1000, 9, 0, 0, true);
    struct rtp_view v;
    rtp_parse(pkt, len, &v);
    struct producer_packet pp;
    CHECK(producer_on_rtp(p, 0, pkt, len, &v, 10, &pp));
    room_fanout_rtp(room, p, &pp, 10, 10000);
    uint8_t got[1500];
    ssize_t n = recv(fd, got, sizeof got, 0);
    CHECK_EQ(n, (ssize_t)len);
    struct rtp_view out;
    CHECK(n > 0 && rtp_parse(got, (size_t)n, &out) == 0);
    CHECK_EQ(out.payload_type, 98);
    CHECK_EQ(out.ssrc, tap->consumer->ssrc);
    CHECK(out.payload_len == v.payload_len && out.payload[6] == v.payload[6]); /* VP8 header */
    CHECK_EQ(ctx->stats.rtp_out, 1);
    CHECK_EQ(ctx->stats.bytes_out, (uint64_t)len);

    room_close_tap(room, tap);
    CHECK_EQ(ctx->stats.taps, 0);
    CHECK_EQ(ctx->stats.consumers, 0);
    room_remove_producer(room, p);
    producer_free(p);
    room_free(room);
    fake_ctx_free(ctx);
    close(fd);
}

int main(void)
{
    test_tap_sends_plain_rtp();
    return test_report();
}
