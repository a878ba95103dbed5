/* Tests relay/route/room.c without peers: the room binds consumers to a producer, fans a
 * packet out to every consumer bound to it (each in its own numbering, with the one time
 * read for the fan-out), stops feeding one it unbinds, translates sender reports for them
 * (RFC 3550 §6.4.1), reports the worst loss of subscribers without RED, and idles them
 * all when the producer leaves. */
#include <stdlib.h>

#include "fixture.h"
#include "test.h"

#include "route/room.h"

#define N 3

static void fan(struct room *room, struct producer *p, uint16_t seq, bool keyframe, int64_t now_ms)
{
    fan_vp8(room, p, 0, 1000, seq, keyframe, now_ms, now_ms * 1000 + 7);
}

static void test_fanout(void)
{
    struct route_ctx *ctx = fake_ctx_new();
    struct room *room = room_new(ctx, "lesson");
    struct producer *p = vp8_producer(5, 1);
    room_add_producer(room, p);
    CHECK(room_find_producer(room, 5) == p);
    CHECK_EQ(ctx->stats.producers, 1);

    static struct fake_sink f[N];
    struct consumer *c[N];
    for (size_t i = 0; i < N; i++) {
        struct consumer_sink sink = fake_sink_of(&f[i]);
        c[i] = consumer_new(CR_KIND_VIDEO, "v", &sink);
        c[i]->pt = 100;
        consumer_set_connected(c[i], 0);
        room_bind(room, c[i], p, 0);
        CHECK(c[i]->producer == p);
    }
    CHECK_EQ(ctx->stats.consumers, N);
    fan(room, p, 1, true, 10);
    fan(room, p, 2, false, 30);
    for (size_t i = 0; i < N; i++) {
        CHECK_EQ(f[i].n_rtp, 2);
        CHECK_EQ(fake_view(&f[i], 0).ssrc, c[i]->ssrc); /* each in its own numbering */
        CHECK_EQ(f[i].rtp[1].sent.now_us, 30007);       /* one time for the whole fan-out */
    }

    /* sender reports go to those that forward the layer */
    room_fanout_sr(room, p, 0, 0x1234567800000000ull, 3000, 40);
    for (size_t i = 0; i < N; i++)
        CHECK_EQ(f[i].n_rtcp, 1);

    /* the worst loss of subscribers without RED */
    c[0]->fraction_lost = 10;
    c[1]->fraction_lost = 90;
    c[1]->red_pt = 63;
    c[2]->fraction_lost = 30;
    CHECK_EQ(room_subscriber_loss(room, p), 30);

    room_bind(room, c[1], NULL, 50);
    CHECK(c[1]->producer == NULL);
    CHECK_EQ(ctx->stats.consumers, N - 1);
    fan(room, p, 3, false, 60);
    CHECK_EQ(f[0].n_rtp, 3);
    CHECK_EQ(f[1].n_rtp, 2);
    CHECK_EQ(f[2].n_rtp, 3);

    /* the producer leaves: its consumers go idle */
    room_remove_producer(room, p);
    CHECK(c[0]->producer == NULL && c[2]->producer == NULL);
    CHECK_EQ(ctx->stats.consumers, 0);
    CHECK_EQ(ctx->stats.producers, 0);
    CHECK(room_find_producer(room, 5) == NULL);
    producer_free(p);
    for (size_t i = 0; i < N; i++)
        consumer_free(c[i]);
    room_free(room);
    fake_ctx_free(ctx);
}

int main(void)
{
    test_fanout();
    return test_report();
}
