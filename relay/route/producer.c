/* Producer: see producer.h. The per-packet path is producer_on_rtp: account, store,
 * detect a keyframe and parse the VP8 descriptor once (RFC 7741 §4.2), so the room's
 * fan-out needs no allocation, no lock and no re-parsing per subscriber. Keyframe
 * requests are throttled here (media/keyframe.h) and sent by the listener as PLI
 * (RFC 4585 §6.3.1); what the publisher's link lost is listed for NACK (media/nack_list.h)
 * and asked for by the publishing peer (peer_rtcp.c). */
#include "route/producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"

#define STORE_SLOTS 1024 /* ≈ 1 s of a 10 Mbit/s stream; 2–4 s of a lesson camera */
#define STORE_MAX_AGE_MS 2000
#define KEYFRAME_INTERVAL_MS 1000 /* per track, every layer together (media/keyframe.h) */
#define BITRATE_WINDOW_MS 500
#define LAYER_IDLE_MS 1000

static void layer_init(struct producer *p, struct producer_layer *l, const char *rid)
{
    memset(l, 0, sizeof *l);
    snprintf(l->rid, sizeof l->rid, "%s", rid);
    recv_stats_init(&l->stats, 0, p->kind == CR_KIND_AUDIO ? 48000 : 90000);
    if (p->kind == CR_KIND_VIDEO) {
        l->store = packet_store_new(STORE_SLOTS, STORE_MAX_AGE_MS);
        l->nack = CR_NEW(struct nack_list);
        nack_list_init(l->nack);
    }
}

static void layer_free(struct producer_layer *l)
{
    packet_store_free(l->store);
    free(l->nack);
}

struct producer *producer_new(uint64_t id, uint64_t peer_id, enum cr_kind kind, const char *source,
                              const char *mid, const struct producer_listener *listener)
{
    struct producer *p = CR_NEW(struct producer);
    p->id = id;
    p->peer_id = peer_id;
    p->listener = *listener;
    p->kind = kind;
    snprintf(p->source, sizeof p->source, "%s", source);
    snprintf(p->mid, sizeof p->mid, "%s", mid);
    keyframe_throttle_init(&p->kf, KEYFRAME_INTERVAL_MS);
    p->n_layers = 1;
    layer_init(p, &p->layers[0], "");
    return p;
}

void producer_free(struct producer *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_layers; i++)
        layer_free(&p->layers[i]);
    free(p);
}

void producer_set_layers(struct producer *p, const char *const *rids, size_t n)
{
    if (n == 0 || n > PRODUCER_MAX_LAYERS)
        return;
    bool same = n == p->n_layers;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(p->layers[i].rid, rids[i]) == 0;
    if (same)
        return;
    for (size_t i = 0; i < p->n_layers; i++)
        layer_free(&p->layers[i]);
    for (size_t i = 0; i < n; i++)
        layer_init(p, &p->layers[i], rids[i]);
    p->n_layers = n;
}

/* A packet of temporal layer tid: counted for the layer's temporal shares. */
static void note_tid(struct producer_layer *l, uint8_t tid, size_t len)
{
    tid &= PRODUCER_MAX_TIDS - 1;
    l->window_tids |= (uint8_t)(1u << tid);
    l->window_tid_bytes[tid] += len;
    if (tid + 1 > l->n_temporal) /* a new layer counts at once; a vanished one at the window */
        l->n_temporal = (uint8_t)(tid + 1);
}

/* At the end of a bitrate window: how many temporal layers came, and the cumulative share
 * of each, smoothed over windows (a keyframe is all TL0 and would skew one window). */
static void measure_tids(struct producer_layer *l)
{
    if (!l->window_tids)
        return; /* nothing with a TID this window: keep what we knew */
    uint8_t n = 0;
    uint64_t total = 0;
    for (uint8_t t = 0; t < PRODUCER_MAX_TIDS; t++) {
        total += l->window_tid_bytes[t];
        if (l->window_tids & (1u << t))
            n = (uint8_t)(t + 1);
    }
    bool fresh = n != l->n_temporal || !l->temporal_permille[0];
    uint64_t cum = 0;
    for (uint8_t t = 0; t < PRODUCER_MAX_TIDS; t++) {
        cum += l->window_tid_bytes[t];
        uint16_t now = t + 1 >= n ? 1000 : (uint16_t)(total ? cum * 1000 / total : 1000);
        l->temporal_permille[t] =
            fresh ? now : (uint16_t)((3u * l->temporal_permille[t] + now + 2) / 4);
        l->window_tid_bytes[t] = 0;
    }
    l->n_temporal = n;
    l->window_tids = 0;
}

/* RFC 6464 §3: one byte, the voice bit and the level in -dBov (0 loudest, 127 silence). */
static void note_level(struct producer *p, const struct rtp_view *v, int64_t now_ms)
{
    const uint8_t *d;
    size_t n;
    if (!p->ext_level || rtp_ext_find(v, p->ext_level, &d, &n) != 0 || n < 1)
        return;
    unsigned loud = 127u - (d[0] & 0x7fu);
    p->loudness = (uint8_t)((p->loudness * 7u + loud) / 8u);
    p->loud_ms = now_ms;
    if (p->loudness > p->loud_peak)
        p->loud_peak = p->loudness;
}

/* The keyframe flag and VP8 descriptor of a video packet (consumers drop temporal layers
 * and renumber pictures by the descriptor, RFC 7741 §4.2). */
static void describe(const struct producer *p, const struct rtp_view *v,
                     struct producer_packet *out)
{
    struct vp8_desc *d = &out->vp8_desc;
    out->vp8 = NULL;
    if (p->codec == CODEC_VP8 && vp8_parse(v->payload, v->payload_len, d) == 0) {
        out->vp8 = d;
        out->keyframe = d->keyframe;
    } else {
        out->keyframe = codec_is_keyframe_start(p->codec, v->payload, v->payload_len);
    }
}

bool producer_on_rtp(struct producer *p, int layer, const uint8_t *pkt, size_t len,
                     const struct rtp_view *v, int64_t now_ms, struct producer_packet *out)
{
    struct producer_layer *l = &p->layers[layer];
    recv_stats_on_rtp(&l->stats, v->seq, v->timestamp, (uint32_t)len, now_ms);
    l->window_bytes += len;
    l->last_packet_ms = now_ms;
    out->layer = layer;
    out->v = v;
    out->keyframe = false;
    out->vp8 = NULL;
    if (p->kind != CR_KIND_VIDEO) {
        note_level(p, v, now_ms);
        return true;
    }
    nack_list_on_packet(l->nack, v->seq, now_ms);
    size_t stored_len;
    if (packet_store_get(l->store, v->seq, now_ms, &stored_len))
        return false; /* a duplicate: already forwarded */
    packet_store_put(l->store, v->seq, pkt, len, now_ms);
    describe(p, v, out);
    if (out->vp8 && out->vp8->has_tid)
        note_tid(l, out->vp8->tid, len);
    if (out->keyframe) {
        CR_DEBUG("producer", "track %llu layer %d: keyframe arrived", (unsigned long long)p->id,
                 layer);
        keyframe_throttle_on_keyframe(&p->kf, layer);
        l->key_seq = v->seq;
        l->key_ms = now_ms;
    }
    return true;
}

size_t producer_replay_keyframe(const struct producer *p, int layer, int64_t max_age_ms,
                                size_t max_bytes, int64_t now_ms,
                                void (*fn)(void *ud, const struct producer_packet *pkt), void *ud)
{
    if (p->kind != CR_KIND_VIDEO || layer < 0 || (size_t)layer >= p->n_layers)
        return 0;
    const struct producer_layer *l = &p->layers[layer];
    if (!l->key_ms || now_ms - l->key_ms > max_age_ms)
        return 0;
    uint16_t n = (uint16_t)((uint16_t)l->stats.max_seq - l->key_seq + 1);
    if (n == 0 || n > STORE_SLOTS)
        return 0;
    size_t bytes = 0, len;
    for (uint16_t i = 0; i < n; i++) {
        if (packet_store_get(l->store, (uint16_t)(l->key_seq + i), now_ms, &len))
            bytes += len;
    }
    if (bytes > max_bytes)
        return 0;
    size_t done = 0;
    for (uint16_t i = 0; i < n; i++) {
        const uint8_t *pkt = packet_store_get(l->store, (uint16_t)(l->key_seq + i), now_ms, &len);
        struct rtp_view v;
        if (!pkt || rtp_parse(pkt, len, &v) != 0)
            continue; /* lost on the publisher's link: the subscriber NACKs it as any other */
        struct producer_packet out = {.layer = layer, .v = &v};
        describe(p, &v, &out);
        if (done == 0 && !out.keyframe)
            return 0; /* the store moved on */
        fn(ud, &out);
        done++;
    }
    return done;
}

void producer_on_sr(struct producer *p, int layer, uint64_t ntp, uint32_t rtp_ts, int64_t now_ms)
{
    struct producer_layer *l = &p->layers[layer];
    recv_stats_on_sr(&l->stats, ntp, now_ms);
    l->have_sr = true;
    l->sr_ntp = ntp;
    l->sr_rtp = rtp_ts;
}

static void send_keyframe_request(struct producer *p, int layer)
{
    if (!p->layers[layer].ssrc)
        return;
    p->listener.keyframe_needed(p->listener.ud, p->layers[layer].ssrc);
    CR_DEBUG("producer", "track %llu layer %d: keyframe requested", (unsigned long long)p->id,
             layer);
}

void producer_request_keyframe(struct producer *p, int layer, int64_t now_ms)
{
    if (p->kind != CR_KIND_VIDEO || layer < 0 || (size_t)layer >= p->n_layers ||
        !p->layers[layer].ssrc)
        return; /* nothing to ask for (yet): it must not take the track's turn */
    if (keyframe_throttle_request(&p->kf, layer, now_ms))
        send_keyframe_request(p, layer);
}

void producer_tick(struct producer *p, int64_t now_ms)
{
    if (p->loudness && now_ms - p->loud_ms > 300)
        p->loudness = 0;                      /* the publisher stopped sending levels (or audio) */
    if (now_ms - p->loud_window_ms >= 1000) { /* a reader once a second sees every peak */
        p->loud_shown = p->loud_peak;
        p->loud_peak = p->loudness;
        p->loud_window_ms = now_ms;
    }
    int due = p->kind == CR_KIND_VIDEO ? keyframe_throttle_poll(&p->kf, now_ms) : -1;
    if (due >= 0 && (size_t)due < p->n_layers)
        send_keyframe_request(p, due);
    for (size_t i = 0; i < p->n_layers; i++) {
        struct producer_layer *l = &p->layers[i];
        int64_t span = now_ms - l->window_start_ms;
        if (span >= BITRATE_WINDOW_MS) {
            l->bitrate_bps = (uint32_t)(l->window_bytes * 8 * 1000 / (uint64_t)span);
            l->window_bytes = 0;
            l->window_start_ms = now_ms;
            measure_tids(l);
        }
    }
}

bool producer_layer_active(const struct producer *p, int layer, int64_t now_ms)
{
    const struct producer_layer *l = &p->layers[layer];
    return l->last_packet_ms && now_ms - l->last_packet_ms < LAYER_IDLE_MS;
}

int producer_best_layer(const struct producer *p, int64_t now_ms)
{
    int best = -1;
    for (size_t i = 0; i < p->n_layers; i++) {
        if (!producer_layer_active(p, (int)i, now_ms))
            continue;
        if (best < 0 || p->layers[i].bitrate_bps > p->layers[best].bitrate_bps)
            best = (int)i;
    }
    return best >= 0 ? best : (int)p->n_layers - 1;
}

void producer_info(const struct producer *p, struct cr_track_info *out)
{
    memset(out, 0, sizeof *out);
    out->id = p->id;
    out->peer_id = p->peer_id;
    out->kind = p->kind;
    out->layers = (uint8_t)p->n_layers;
    snprintf(out->source, sizeof out->source, "%s", p->source);
    snprintf(out->codec, sizeof out->codec, "%s", codec_name(p->codec));
    out->loudness = p->loud_shown > p->loud_peak ? p->loud_shown : p->loud_peak;
}
