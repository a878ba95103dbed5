/* Shared by the routing tests (tests/unit/route/) and the routing fuzz targets
 * (tests/fuzz/fuzz_route_*.c): a fake consumer sink that keeps what it is handed (and
 * aborts on a packet outside the buffer it lent), a producer listener that counts keyframe
 * requests, a route context without a worker, and builders of RTP packets (VP8 with a full
 * payload descriptor, RFC 7741 §4.2; Opus). Nothing here starts a thread or opens a
 * socket. */
#ifndef CR_TEST_ROUTE_FIXTURE_H
#define CR_TEST_ROUTE_FIXTURE_H

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "route/consumer.h"
#include "route/ctx.h"
#include "route/producer.h"
#include "route/room.h"
#include "wire/codec.h"
#include "wire/rtp.h"

#define FAKE_MAX 64

struct fake_packet {
    uint8_t buf[CONSUMER_SCRATCH];
    size_t len;
    struct consumer_sent sent;
};

struct fake_sink {
    struct fake_packet rtp[FAKE_MAX];
    size_t n_rtp, n_rtcp;
    int keyframes;  /* keyframe_wanted calls */
    int last_layer; /* ... the layer of the last one */
    uint8_t scratch[CONSUMER_SCRATCH];
    struct cr_relay_stats stats;
};

/* The sink's contract (route/consumer.h): the packet is in the scratch it lent, with
 * CR_SRTP_MAX_TRAILER bytes after it for the protection. */
static inline void fake_check_bounds(const struct fake_sink *f, const uint8_t *buf, size_t len)
{
    if (buf < f->scratch || len > CONSUMER_SCRATCH - CR_SRTP_MAX_TRAILER ||
        (size_t)(buf - f->scratch) > CONSUMER_SCRATCH - CR_SRTP_MAX_TRAILER - len)
        abort();
}

static inline void fake_send_rtp(void *ud, uint8_t *buf, size_t len,
                                 const struct consumer_sent *sent)
{
    struct fake_sink *f = ud;
    fake_check_bounds(f, buf, len);
    if (f->n_rtp == FAKE_MAX)
        return;
    struct fake_packet *p = &f->rtp[f->n_rtp++];
    memcpy(p->buf, buf, len);
    p->len = len;
    p->sent = *sent;
}

static inline void fake_send_rtcp(void *ud, uint8_t *buf, size_t len)
{
    struct fake_sink *f = ud;
    fake_check_bounds(f, buf, len);
    f->n_rtcp++;
}

static inline void fake_keyframe(void *ud, struct producer *p, int layer, int64_t now_ms)
{
    struct fake_sink *f = ud;
    f->keyframes++;
    f->last_layer = layer;
}

static inline struct consumer_sink fake_sink_of(struct fake_sink *f)
{
    memset(f, 0, sizeof *f);
    return (struct consumer_sink){.ud = f,
                                  .scratch = f->scratch,
                                  .stats = &f->stats,
                                  .send_rtp = fake_send_rtp,
                                  .send_rtcp = fake_send_rtcp,
                                  .keyframe_wanted = fake_keyframe};
}

/* A route context as the worker would lend it, without the worker: no loop, no
 * configuration, no certificate, no other workers (a test gives it a shard hub). */
static inline struct route_ctx *fake_ctx_new(void)
{
    struct route_ctx *ctx = calloc(1, sizeof *ctx);
    ctx->peers = g_hash_table_new(g_int64_hash, g_int64_equal);
    ctx->taps = g_hash_table_new(g_int64_hash, g_int64_equal);
    ctx->rooms = g_hash_table_new(g_str_hash, g_str_equal);
    ctx->live_peers = calloc(1, sizeof *ctx->live_peers);
    shard_port_init(&ctx->shards, NULL);
    return ctx;
}

static inline void fake_ctx_free(struct route_ctx *ctx)
{
    g_hash_table_destroy(ctx->peers);
    g_hash_table_destroy(ctx->taps);
    g_hash_table_destroy(ctx->rooms);
    shard_port_clear(&ctx->shards);
    free(ctx->live_peers);
    free(ctx);
}

/* The i-th packet the sink got, parsed. */
static inline struct rtp_view fake_view(const struct fake_sink *f, size_t i)
{
    struct rtp_view v;
    memset(&v, 0, sizeof v);
    if (i < f->n_rtp)
        rtp_parse(f->rtp[i].buf, f->rtp[i].len, &v);
    return v;
}

static int plis;
static uint32_t pli_ssrc;
static inline void count_pli(void *ud, uint32_t ssrc)
{
    plis++;
    pli_ssrc = ssrc;
}
static const struct producer_listener counting_listener = {.keyframe_needed = count_pli};

/* A VP8 track (payload type 96, RTX 97) with n simulcast layers, SSRCs 1000, 1001, ... */
static inline struct producer *vp8_producer(uint64_t id, size_t n)
{
    struct producer *p = producer_new(id, 1, CR_KIND_VIDEO, "camera", "1", &counting_listener);
    p->codec = CODEC_VP8;
    p->pt = 96;
    p->rtx_pt = 97;
    p->clock_rate = 90000;
    if (n > 1) {
        const char *rids[] = {"q", "h", "f"};
        producer_set_layers(p, rids, n);
    }
    for (size_t l = 0; l < n; l++)
        p->layers[l].ssrc = 1000 + (uint32_t)l;
    return p;
}

static inline struct producer *opus_producer(uint64_t id)
{
    struct producer *p = producer_new(id, 1, CR_KIND_AUDIO, "mic", "0", &counting_listener);
    p->codec = CODEC_OPUS;
    p->pt = 111;
    p->clock_rate = 48000;
    p->layers[0].ssrc = 2000;
    return p;
}

/* A VP8 packet: descriptor with a 15-bit picture id, TL0PICIDX and TID (RFC 7741 §4.2),
 * then a VP8 header whose P bit says keyframe or not, then filler. */
static inline size_t vp8_packet(uint8_t *out, uint16_t seq, uint32_t ts, uint32_t ssrc,
                                uint16_t pic, uint8_t tl0, uint8_t tid, bool keyframe)
{
    size_t pos = rtp_write_header(out, true, 96, seq, ts, ssrc, false);
    const uint8_t desc[] = {0x90,         0xe0, (uint8_t)(0x80 | (pic >> 8)),
                            (uint8_t)pic, tl0,  (uint8_t)(tid << 6)};
    memcpy(out + pos, desc, sizeof desc);
    pos += sizeof desc;
    out[pos++] = keyframe ? 0x00 : 0x01;
    memset(out + pos, 0xab, 40);
    return pos + 40;
}

static inline size_t opus_packet(uint8_t *out, uint16_t seq, uint32_t ts, uint8_t fill)
{
    size_t pos = rtp_write_header(out, false, 111, seq, ts, 2000, false);
    memset(out + pos, fill, 30);
    return pos + 30;
}

/* Offers one packet of layer to the producer and, if it takes it, to consumer c. */
static inline void feed(struct producer *p, struct consumer *c, int layer, const uint8_t *pkt,
                        size_t len, int64_t now_ms)
{
    struct rtp_view v;
    if (rtp_parse(pkt, len, &v) != 0)
        return;
    struct producer_packet pp;
    if (producer_on_rtp(p, layer, pkt, len, &v, now_ms, &pp))
        consumer_forward(c, &pp, now_ms, now_ms * 1000);
}

/* A VP8 packet (picture seq, timestamp seq * 3000) of layer on ssrc, offered to p and, if
 * it takes it, fanned out in room with the fan-out's time now_us. */
static inline void fan_vp8(struct room *room, struct producer *p, int layer, uint32_t ssrc,
                           uint16_t seq, bool keyframe, int64_t now_ms, int64_t now_us)
{
    uint8_t pkt[256];
    size_t len = vp8_packet(pkt, seq, seq * 3000u, ssrc, seq, 0, 0, keyframe);
    struct rtp_view v;
    rtp_parse(pkt, len, &v);
    struct producer_packet pp;
    if (producer_on_rtp(p, layer, pkt, len, &v, now_ms, &pp))
        room_fanout_rtp(room, p, &pp, now_ms, now_us);
}

/* The picture id in a VP8 packet the sink got. */
static inline int fake_picture_id(const struct fake_sink *f, size_t i)
{
    struct rtp_view v = fake_view(f, i);
    struct vp8_desc d;
    return vp8_parse(v.payload, v.payload_len, &d) == 0 ? d.picture_id : -1;
}

#endif
