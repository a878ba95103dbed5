/* Fuzz entry point for relay/route/peer_rtcp.c: a client's RTCP, already decrypted (SRTP
 * is not in the path), dispatched into the routing objects. Set up once, as
 * tests/unit/route/ does (fixture.h: fake sinks, no worker, no socket): a room with a
 * publishing peer (Opus, and VP8 in three simulcast layers with packets in their stores)
 * and a subscribing peer whose audio and video consumers are bound to those tracks, have
 * forwarded packets and sent a sender report, and whose quality loop has a send history.
 * The peers are built by hand: peer_new would make an ICE agent.
 *
 * Input: byte 0 bit 0 picks the peer (0: the subscriber: RR/SR report blocks, NACK
 * answered by RTX from the store, PLI/FIR to the producer, REMB and transport-wide
 * feedback into its quality loop; 1: the publisher: SRs fanned out to the consumers),
 * bits 1..7 how long after the setup it arrives (×32 ms, so across the store's 2 s age
 * limit and the keyframe throttle); the rest is the compound packet. Every input starts
 * from the state the setup left (restored from a snapshot), so nothing grows from one
 * input to the next and a crasher replays alone. The fake sinks abort on a packet outside
 * the buffer they lent; here we also require that RTX answers only what the consumer
 * sent, and that nothing else goes out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#include "base/bytes.h"
#include "media/rewriter.h"
#include "route/peer.h"
#include "route/quality.h"
#include "route/room.h"
#include "require.h"

/* Fixed, so the seeds in corpus/route_rtcp/ (named ones: made with the wire writers) hit. */
#define T0_MS 10000
#define VIDEO_SSRC 0x5100u
#define VIDEO_RTX_SSRC 0x5101u
#define AUDIO_SSRC 0x5200u
#define VIDEO_FIRST_SEQ 1000 /* the consumer's first out seq */
#define PACKETS 24           /* per layer; the video consumer forwards the top one */

static struct route_ctx *ctx;
static struct room *room;
static struct peer *pub, *sub;
static struct producer *mic, *cam;
static struct consumer *audio, *video;
static struct fake_sink fa, fv;
static uint16_t video_sent; /* media packets the video consumer sent */

/* What an input may change, as the setup left it. */
static struct {
    struct peer pub, sub;
    struct quality quality;
    struct producer mic, cam;
    struct consumer *audio, *video; /* whole copies: with their NACK maps (sent[]) */
    struct cr_relay_stats stats;
} saved;

/* A consumer's allocation: the struct and its NACK map. */
static size_t consumer_bytes(const struct consumer *c)
{
    return sizeof *c + c->rw.n_sent * sizeof c->sent[0];
}

static struct consumer *consumer_copy(const struct consumer *c)
{
    struct consumer *copy = malloc(consumer_bytes(c));
    memcpy(copy, c, consumer_bytes(c));
    return copy;
}

/* The room's side of a peer (room.c keeps its listener to itself): what peer_rtcp.c calls. */
static void on_sr(void *ud, struct producer *p, int layer, uint64_t ntp, uint32_t rtp_ts,
                  int64_t now_ms)
{
    room_fanout_sr(ud, p, layer, ntp, rtp_ts, now_ms);
}

static uint8_t subscriber_loss(void *ud, const struct producer *p)
{
    return room_subscriber_loss(ud, p);
}

static struct peer *hand_peer(uint64_t id)
{
    struct peer *peer = calloc(1, sizeof *peer);
    peer->id = id;
    peer->ctx = ctx;
    peer->room = room;
    peer->listener =
        (struct peer_listener){.ud = room, .on_sr = on_sr, .subscriber_loss = subscriber_loss};
    peer->rtcp_ssrc = 0x7000u + (uint32_t)id;
    return peer;
}

static void add_mline(struct peer *peer, const char *mid, enum cr_kind kind, struct producer *p,
                      struct consumer *c)
{
    struct mline *m = &peer->mlines[peer->n_mlines++];
    snprintf(m->mid, sizeof m->mid, "%s", mid);
    m->kind = kind;
    m->role = p ? MLINE_RECV : MLINE_SEND;
    m->producer = p;
    m->consumer = c;
}

static struct consumer *new_consumer(struct fake_sink *f, enum cr_kind kind, const char *mid,
                                     uint32_t ssrc, uint32_t rtx_ssrc, uint8_t pt, uint8_t rtx_pt)
{
    struct consumer_sink sink = fake_sink_of(f);
    struct consumer *c = consumer_new(kind, mid, &sink);
    c->ssrc = ssrc;
    c->rtx_ssrc = rtx_ssrc;
    c->rtx_seq = 1;
    c->pt = pt;
    c->rtx_pt = rtx_pt;
    rewriter_init(&c->rw, VIDEO_FIRST_SEQ, 90000, c->sent, c->rw.n_sent);
    consumer_set_connected(c, T0_MS);
    return c;
}

/* The publisher's packets, through its producers and the room's fan-out. */
static void publish(struct producer *p, int layer, const uint8_t *pkt, size_t len, int64_t now_ms)
{
    struct rtp_view v;
    struct producer_packet pp;
    if (rtp_parse(pkt, len, &v) == 0 && producer_on_rtp(p, layer, pkt, len, &v, now_ms, &pp))
        room_fanout_rtp(room, p, &pp, now_ms, now_ms * 1000);
}

static void setup(void)
{
    ctx = fake_ctx_new();
    room = room_new(ctx, "lesson");
    pub = hand_peer(1);
    sub = hand_peer(2);
    mic = opus_producer(10);
    cam = vp8_producer(11, 3);
    room_add_producer(room, mic);
    room_add_producer(room, cam);
    add_mline(pub, "0", CR_KIND_AUDIO, mic, NULL);
    add_mline(pub, "1", CR_KIND_VIDEO, cam, NULL);

    audio = new_consumer(&fa, CR_KIND_AUDIO, "0", AUDIO_SSRC, 0, 111, 0);
    video = new_consumer(&fv, CR_KIND_VIDEO, "1", VIDEO_SSRC, VIDEO_RTX_SSRC, 100, 101);
    add_mline(sub, "0", CR_KIND_AUDIO, NULL, audio);
    add_mline(sub, "1", CR_KIND_VIDEO, NULL, video);
    sub->quality = quality_new();
    room_bind(room, audio, mic, T0_MS);
    room_bind(room, video, cam, T0_MS);

    uint8_t pkt[256];
    int64_t now = T0_MS;
    for (uint16_t i = 0; i < PACKETS; i++, now += 33) {
        for (int l = 0; l < 3; l++) {
            size_t len = vp8_packet(pkt, (uint16_t)(100 * l + i), 3000u * i, 1000 + (uint32_t)l, i,
                                    (uint8_t)i, 0, i == 0);
            publish(cam, l, pkt, len, now);
        }
        publish(mic, 0, pkt, opus_packet(pkt, (uint16_t)(500 + i), 960u * i, (uint8_t)i), now);
    }
    /* the publisher's SRs, translated for the consumers (which then match an RR's LSR) */
    room_fanout_sr(room, cam, video->layer, 0x0000271000010000ull, 3000u * PACKETS, now);
    room_fanout_sr(room, mic, 0, 0x0000271000020000ull, 960u * PACKETS, now);
    /* what the subscriber's peer would have recorded of it, by transport-wide seq */
    uint16_t twcc = 1;
    for (size_t i = 0; i < fa.n_rtp; i++)
        quality_on_sent(sub->quality, twcc++, fa.rtp[i].len, SEND_MEDIA, 0, T0_MS * 1000);
    for (size_t i = 0; i < fv.n_rtp; i++)
        quality_on_sent(sub->quality, twcc++, fv.rtp[i].len, SEND_MEDIA, 0, T0_MS * 1000 + 500);
    video_sent = (uint16_t)fv.n_rtp;
    REQUIRE(video->started && audio->started && video_sent > 0 && video->layer >= 0);

    saved.pub = *pub;
    saved.sub = *sub;
    saved.quality = *sub->quality;
    saved.mic = *mic;
    saved.cam = *cam;
    saved.audio = consumer_copy(audio);
    saved.video = consumer_copy(video);
    saved.stats = ctx->stats;
}

static void restore(void)
{
    *pub = saved.pub;
    *sub = saved.sub;
    *sub->quality = saved.quality;
    *mic = saved.mic;
    *cam = saved.cam;
    memcpy(audio, saved.audio, consumer_bytes(audio));
    memcpy(video, saved.video, consumer_bytes(video));
    ctx->stats = saved.stats;
    fa.n_rtp = fa.n_rtcp = fv.n_rtp = fv.n_rtcp = 0;
    fa.keyframes = fv.keyframes = 0;
    plis = 0;
}

/* What went out: RTX of the video consumer's own packets only; SRs only from an SR. */
static void check(bool to_sub)
{
    REQUIRE(fa.n_rtp == 0 && fa.keyframes == 0 && fv.keyframes == 0);
    REQUIRE(fv.n_rtp == FAKE_MAX || fv.n_rtp == video->retransmitted - saved.video->retransmitted);
    for (size_t i = 0; i < fv.n_rtp; i++) {
        struct rtp_view v = fake_view(&fv, i);
        REQUIRE(v.ssrc == VIDEO_RTX_SSRC && v.payload_type == 101 && v.payload_len >= 2);
        REQUIRE(fv.rtp[i].sent.kind == SEND_RTX);
        REQUIRE((uint16_t)(rd_be16(v.payload) - VIDEO_FIRST_SEQ) < video_sent);
    }
    if (to_sub)
        REQUIRE(fa.n_rtcp == 0 && fv.n_rtcp == 0);
    else
        REQUIRE(fv.n_rtp == 0 && plis == 0);
    REQUIRE(plis <= 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx)
        setup();
    if (size < 1)
        return 0;
    restore();
    bool to_sub = !(data[0] & 1);
    int64_t now_us = (T0_MS + PACKETS * 33 + (int64_t)(data[0] >> 1) * 32) * 1000;
    uint8_t *buf = malloc(size - 1 ? size - 1 : 1); /* exact size: overreads are caught */
    memcpy(buf, data + 1, size - 1);
    peer_on_rtcp(to_sub ? sub : pub, buf, size - 1, now_us);
    free(buf);
    check(to_sub);
    return 0;
}
