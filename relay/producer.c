/* Producer: see producer.h. The per-packet path is producer_on_rtp: account, store,
 * detect a keyframe once, then one consumer_forward call per subscriber — no allocation,
 * no locks, no re-parsing per subscriber. */
#include "producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "consumer.h"
#include "peer.h"
#include "room.h"
#include "worker.h"

#define STORE_SLOTS 1024 /* ≈ 1 s of a 10 Mbit/s stream; 2–4 s of a lesson camera */
#define STORE_MAX_AGE_MS 2000
#define KEYFRAME_INTERVAL_MS 500

struct producer *producer_new(struct peer *peer, uint64_t id, enum cr_kind kind, const char *source,
                              const char *mid)
{
    struct producer *p = CR_NEW(struct producer);
    p->id = id;
    p->peer = peer;
    p->kind = kind;
    snprintf(p->source, sizeof p->source, "%s", source);
    snprintf(p->mid, sizeof p->mid, "%s", mid);
    recv_stats_init(&p->stats, 0, kind == CR_KIND_AUDIO ? 48000 : 90000);
    keyframe_throttle_init(&p->kf, KEYFRAME_INTERVAL_MS);
    if (kind == CR_KIND_VIDEO)
        p->store = packet_store_new(STORE_SLOTS, STORE_MAX_AGE_MS);
    return p;
}

void producer_free(struct producer *p)
{
    if (!p)
        return;
    while (p->n_consumers) /* consumer_bind(NULL) detaches it from us */
        consumer_bind(p->consumers[p->n_consumers - 1], NULL, 0);
    free(p->consumers);
    packet_store_free(p->store);
    free(p);
}

void producer_attach(struct producer *p, struct consumer *c)
{
    if (p->n_consumers == p->cap_consumers) {
        p->cap_consumers = p->cap_consumers ? p->cap_consumers * 2 : 8;
        p->consumers = cr_realloc(p->consumers, p->cap_consumers * sizeof *p->consumers);
    }
    p->consumers[p->n_consumers++] = c;
    p->peer->worker->stats.consumers++;
}

void producer_detach(struct producer *p, struct consumer *c)
{
    for (size_t i = 0; i < p->n_consumers; i++) {
        if (p->consumers[i] == c) {
            p->consumers[i] = p->consumers[--p->n_consumers];
            p->peer->worker->stats.consumers--;
            return;
        }
    }
}

void producer_on_rtp(struct producer *p, const uint8_t *pkt, size_t len, const struct rtp_view *v,
                     int64_t now_ms)
{
    recv_stats_on_rtp(&p->stats, v->seq, v->timestamp, (uint32_t)len, now_ms);
    bool keyframe = false;
    if (p->kind == CR_KIND_VIDEO) {
        size_t stored_len;
        if (packet_store_get(p->store, v->seq, now_ms, &stored_len))
            return; /* a duplicate: already forwarded */
        packet_store_put(p->store, v->seq, pkt, len, now_ms);
        keyframe = codec_is_keyframe_start(p->codec, v->payload, v->payload_len);
        if (keyframe) {
            CR_DEBUG("producer", "track %llu: keyframe arrived", (unsigned long long)p->id);
            p->last_keyframe_ms = now_ms;
            keyframe_throttle_on_keyframe(&p->kf);
        }
    }
    for (size_t i = 0; i < p->n_consumers; i++)
        consumer_forward(p->consumers[i], v, keyframe, now_ms);
}

void producer_on_sr(struct producer *p, uint64_t ntp, uint32_t rtp_ts, int64_t now_ms)
{
    recv_stats_on_sr(&p->stats, ntp, now_ms);
    p->have_sr = true;
    p->sr_ntp = ntp;
    p->sr_rtp = rtp_ts;
    for (size_t i = 0; i < p->n_consumers; i++)
        consumer_send_sr(p->consumers[i], ntp, rtp_ts);
}

static void send_keyframe_request(struct producer *p)
{
    if (!p->ssrc)
        return;
    peer_send_pli(p->peer, p->ssrc);
    p->peer->worker->stats.keyframe_requests++;
    CR_DEBUG("producer", "track %llu: keyframe requested", (unsigned long long)p->id);
}

void producer_request_keyframe(struct producer *p, int64_t now_ms)
{
    if (p->kind != CR_KIND_VIDEO)
        return;
    if (keyframe_throttle_request(&p->kf, now_ms))
        send_keyframe_request(p);
}

void producer_tick(struct producer *p, int64_t now_ms)
{
    if (p->kind == CR_KIND_VIDEO && keyframe_throttle_poll(&p->kf, now_ms))
        send_keyframe_request(p);
}

void producer_info(const struct producer *p, struct cr_track_info *out)
{
    memset(out, 0, sizeof *out);
    out->id = p->id;
    out->peer_id = p->peer->id;
    out->kind = p->kind;
    snprintf(out->source, sizeof out->source, "%s", p->source);
    snprintf(out->codec, sizeof out->codec, "%s", codec_name(p->codec));
}
