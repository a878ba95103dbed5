/* Tests relay/route/shard.c with two route contexts as two workers would lend them, and the
 * rings between them, without threads: a room's part on the second worker learns the first
 * part's tracks when it links (payload types, layers, the lesson's order), its subscribers
 * get the first part's packets through the ring (each once, with the time they arrived) and
 * sender reports, their keyframe requests reach the publisher's producer, a withdrawn track
 * goes idle there, the loss its listeners report reaches the publisher's part, and a full
 * ring drops media (counted) but holds a withdrawal until there
 * is room. The second worker's wakeup fires once it has records. */
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"
#include "test.h"

#include "route/room.h"
#include "route/shard.h"

static struct shard_hub hub;

static struct route_ctx *worker_ctx(unsigned index)
{
    struct route_ctx *ctx = fake_ctx_new();
    ctx->worker_index = index;
    ctx->shards.hub = &hub;
    return ctx;
}

static struct room *open_room(struct route_ctx *ctx)
{
    struct room *room = room_new(ctx, "lesson");
    g_hash_table_insert(ctx->rooms, room->name, room);
    return room;
}

static void close_room(struct room *room)
{
    struct route_ctx *ctx = room->ctx;
    g_hash_table_remove(ctx->rooms, room->name);
    room_free(room);
}

/* A packet of the first worker's producer p (its top layer, which a new subscriber starts
 * on), taken and fanned out as its peer would. */
static void publish(struct room *room, struct producer *p, uint16_t seq, bool keyframe,
                    int64_t now_ms)
{
    fan_vp8(room, p, 1, 1001, seq, keyframe, now_ms, now_ms * 1000 + 3);
}

static bool woken(unsigned index)
{
    uint64_t n = 0;
    return read(hub.wake[index], &n, sizeof n) == sizeof n && n > 0;
}

static void test_parts(void)
{
    CHECK_EQ(shard_hub_init(&hub, 2), 0);
    struct route_ctx *a = worker_ctx(0), *b = worker_ctx(1);
    struct room *ra = open_room(a), *rb = open_room(b);
    struct producer *cam = vp8_producer(5 << 4 | 0, 2); /* an id of worker 0 */
    cam->fmtp[0] = 'x';
    room_add_producer(ra, cam);

    /* the part on worker 1 opens and links: it learns the track */
    shard_hub_pair(&hub, 0, 1);
    rb->parts = 1u << 0;
    shard_link(ra, 1);
    CHECK(!woken(1));
    shard_flush(a);
    CHECK(woken(1));
    shard_drain(b, 0);
    struct producer *m = room_find_producer(rb, cam->id);
    CHECK(m && m->mirror);
    CHECK_EQ(m->codec, CODEC_VP8);
    CHECK_EQ(m->pt, 96);
    CHECK_EQ(m->rtx_pt, 97);
    CHECK_EQ(m->n_layers, 2);
    CHECK_EQ(strcmp(m->layers[1].rid, "h"), 0);
    CHECK_EQ(m->fmtp[0], 'x');
    CHECK_EQ(m->order, cam->order);
    CHECK_EQ(b->stats.producers, 0); /* a mirror is not a track of this worker's peers */

    /* a track of worker 1's own comes after it in the lesson's order, on both parts */
    struct producer *mic = opus_producer(7 << 4 | 1);
    room_add_producer(rb, mic);
    CHECK(g_ptr_array_index(rb->producers, 0) == m && g_ptr_array_index(rb->producers, 1) == mic);
    shard_publish(rb);
    shard_drain(a, 0);
    CHECK(g_ptr_array_index(ra->producers, 1) == room_find_producer(ra, mic->id));

    /* what worker 0's listeners of that microphone lose reaches it once a second */
    static struct fake_sink fa;
    struct consumer_sink asink = fake_sink_of(&fa);
    struct consumer *ca = consumer_new(CR_KIND_AUDIO, "a", &asink);
    room_bind(ra, ca, room_find_producer(ra, mic->id), 0);
    ca->fraction_lost = 40;
    shard_tick(a, 1000);
    CHECK_EQ(room_subscriber_loss(rb, mic), 0);
    shard_drain(b, 1000);
    CHECK_EQ(room_subscriber_loss(rb, mic), 40);
    room_bind(ra, ca, NULL, 0);
    consumer_free(ca);

    /* a subscriber on worker 1 gets the camera's packets through the ring */
    static struct fake_sink f;
    struct consumer_sink sink = fake_sink_of(&f);
    struct consumer *c = consumer_new(CR_KIND_VIDEO, "v", &sink);
    c->pt = 100;
    consumer_set_connected(c, 0);
    room_bind(rb, c, m, 0);
    publish(ra, cam, 1, true, 10);
    publish(ra, cam, 2, false, 20);
    publish(ra, cam, 2, false, 21); /* a duplicate goes nowhere */
    CHECK_EQ(a->stats.handoff_out, 2);
    CHECK_EQ(f.n_rtp, 0);
    shard_drain(b, 30);
    CHECK_EQ(b->stats.handoff_in, 2);
    CHECK_EQ(f.n_rtp, 2);
    CHECK_EQ(fake_view(&f, 1).ssrc, c->ssrc);
    CHECK_EQ(f.rtp[1].sent.now_us, 20003); /* the time it arrived on worker 0 */
    size_t len;
    CHECK(packet_store_get(m->layers[1].store, 2, 30, &len) != NULL); /* for NACKs here */

    /* sender reports follow */
    room_fanout_sr(ra, cam, 1, 0x1234567800000000ull, 3000, 40);
    shard_drain(b, 40);
    CHECK_EQ(f.n_rtcp, 1);

    /* a keyframe wanted on worker 1 is asked of the publisher on worker 0 */
    plis = 0;
    producer_request_keyframe(m, 1, 2000);
    CHECK_EQ(plis, 0);
    shard_drain(a, 2000);
    CHECK_EQ(plis, 1);
    CHECK_EQ(pli_ssrc, 1001);

    /* a full ring drops media, counted, and holds the withdrawal until there is room */
    for (uint16_t s = 3; s < 3 + SHARD_RING_SLOTS + 5; s++)
        publish(ra, cam, s, false, 50);
    CHECK_EQ(a->stats.handoff_dropped, 5);
    room_remove_producer(ra, cam);
    CHECK_EQ(a->shards.n_held, 1);
    shard_flush(a);
    CHECK_EQ(a->shards.n_held, 1);
    shard_drain(b, 60);
    CHECK(c->producer == m); /* the packets before it */
    shard_flush(a);
    CHECK_EQ(a->shards.n_held, 0);
    shard_drain(b, 70);
    CHECK(room_find_producer(rb, cam->id) == NULL);
    CHECK(c->producer == NULL); /* idle, as for a track of its own worker */
    producer_free(cam);

    consumer_free(c);
    room_remove_producer(rb, mic);
    producer_free(mic);
    close_room(ra); /* with worker 1's mirror in it */
    close_room(rb);
    fake_ctx_free(a);
    fake_ctx_free(b);
    shard_hub_clear(&hub);
}

int main(void)
{
    test_parts();
    return test_report();
}
