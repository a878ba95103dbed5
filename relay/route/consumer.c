/* Consumer: see consumer.h. consumer_forward is the per-subscriber part of the fast path:
 * it writes a fresh RTP header (RFC 3550 §5.1) and extension block (RFC 8285 one-byte
 * form) into the buffer its sink lends, copies the payload once, and hands it to the sink
 * to stamp, protect and send. RTX follows RFC 4588 §4, padding probes RFC 3550 §5.1, the
 * translated sender reports RFC 3550 §6.4.1. */
#include "route/consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/log.h"

#define MAX_RTX_PER_NACK 64
/* a playout delay's top, in 10 ms units: 10 s, the most Chromium takes */
#define PLAYOUT_MAX 1000
#define BUILD_MAX (PACKET_STORE_MTU + 128) /* what we build; the rest of the scratch: SRTP */

struct consumer *consumer_new(enum cr_kind kind, const char *mid, const struct consumer_sink *sink)
{
    uint16_t n_sent = kind == CR_KIND_AUDIO ? REWRITER_SENT_AUDIO : REWRITER_SENT;
    struct consumer *c = cr_calloc(1, sizeof *c + n_sent * sizeof c->sent[0]);
    c->sink = *sink;
    c->kind = kind;
    snprintf(c->mid, sizeof c->mid, "%s", mid);
    snprintf(c->name, sizeof c->name, "%s", mid);
    c->ssrc = g_random_int();
    c->rtx_ssrc = g_random_int();
    c->rtx_seq = (uint16_t)g_random_int();
    c->clock_rate = kind == CR_KIND_AUDIO ? 48000 : 90000;
    c->layer = c->target = -1;
    c->temporal = c->temporal_hold = REWRITER_ALL_TIDS;
    rewriter_init(&c->rw, (uint16_t)g_random_int(), g_random_int(), /* RFC 3550 §5.1 */
                  c->sent, n_sent);
    rtx_limit_init(&c->rtx_limit);
    return c;
}

void consumer_free(struct consumer *c)
{
    if (!c)
        return;
    consumer_set_red(c, 0);
    consumer_set_fec(c, 0);
    free(c);
}

void consumer_want_keyframe(struct consumer *c, int64_t now_ms)
{
    if (!c->producer || c->kind != CR_KIND_VIDEO || !c->connected)
        return;
    c->key_asked_ms = now_ms;
    c->sink.keyframe_wanted(c->sink.ud, c->producer, c->target, now_ms);
}

void consumer_keyframe_retry(struct consumer *c, int64_t now_ms)
{
    bool waiting = !c->started || (c->target >= 0 && c->target != c->layer);
    if (waiting && !c->paused && c->key_asked_ms &&
        now_ms - c->key_asked_ms >= CONSUMER_KEY_RETRY_MS)
        consumer_want_keyframe(c, now_ms);
}

struct catch_up {
    struct consumer *c;
    int64_t now_ms;
};

static void catch_up_packet(void *ud, const struct producer_packet *pkt)
{
    const struct catch_up *u = ud;
    consumer_forward(u->c, pkt, u->now_ms, u->now_ms * 1000);
}

/* How much a catch-up on layer of p may carry (consumer.h). */
static size_t catch_up_bytes(const struct producer *p, int layer)
{
    uint64_t by_rate =
        layer >= 0 && (size_t)layer < p->n_layers
            ? (uint64_t)p->layers[layer].bitrate_bps * CONSUMER_CATCH_UP_RATE_MS / 8000
            : 0;
    if (by_rate > CONSUMER_CATCH_UP_MAX)
        by_rate = CONSUMER_CATCH_UP_MAX;
    return by_rate > CONSUMER_CATCH_UP_BYTES ? (size_t)by_rate : CONSUMER_CATCH_UP_BYTES;
}

/* A video consumer that has not started, connected and bound, starts from its target
 * layer's last keyframe if that is recent (consumer_set_connected); true when it did. */
static bool start_from_last_keyframe(struct consumer *c, int64_t now_ms)
{
    if (c->kind != CR_KIND_VIDEO || !c->producer || c->started || c->paused)
        return false;
    struct catch_up u = {c, now_ms};
    size_t n = producer_replay_keyframe(c->producer, c->target, CONSUMER_CATCH_UP_MS,
                                        catch_up_bytes(c->producer, c->target), now_ms,
                                        catch_up_packet, &u);
    if (!n || !c->started)
        return false;
    CR_DEBUG("consumer", "%s: started from a keyframe of layer %d just past (%zu packets)", c->name,
             c->target, n);
    return true;
}

void consumer_set_source(struct consumer *c, struct producer *p, int64_t now_ms)
{
    if (c->producer == p)
        return;
    c->producer = p;
    if (!p)
        return;
    rewriter_forget_sent(&c->rw); /* what we sent came from another producer's store */
    c->clock_rate = p->clock_rate;
    c->layer = -1;
    c->target = c->sink.start_layer ? c->sink.start_layer(c->sink.ud, c, p, now_ms)
                                    : producer_best_layer(p, now_ms);
    c->temporal_hold = REWRITER_ALL_TIDS;
    if (c->started)
        c->resync = true; /* continue our numbering across the switch */
    else if (c->connected && start_from_last_keyframe(c, now_ms))
        return; /* a line fed once its transport is up starts like one fed before */
    consumer_want_keyframe(c, now_ms);
}

void consumer_set_playout(struct consumer *c, unsigned min_ms)
{
    if (c->kind != CR_KIND_VIDEO || !c->ext.playout)
        return;
    unsigned min = min_ms / 10;
    if (min == c->playout_min && (c->playout_set || !min))
        return;
    CR_DEBUG("consumer", "%s: least playout delay %u ms", c->name, min * 10);
    c->playout_min = (uint16_t)(min < PLAYOUT_MAX ? min : PLAYOUT_MAX);
    c->playout_set = true;
}

void consumer_set_connected(struct consumer *c, int64_t now_ms)
{
    c->connected = true;
    if (!start_from_last_keyframe(c, now_ms))
        consumer_want_keyframe(c, now_ms);
}

void consumer_transport_near(struct consumer *c, int64_t now_ms)
{
    if (c->connected || !c->producer || c->kind != CR_KIND_VIDEO || c->paused)
        return;
    c->key_asked_ms = now_ms;
    c->sink.keyframe_wanted(c->sink.ud, c->producer, c->target, now_ms);
}

/* Writes the subscriber's header extensions (RFC 8285 one-byte form). The transport-wide
 * sequence number is left 0 for the sink to stamp: *twcc_at gets its offset in out (0:
 * none). */
static size_t write_exts(struct consumer *c, const struct rtp_view *v, uint8_t *out, int64_t now_us,
                         struct consumer_sent *sent)
{
    struct rtp_ext_writer w;
    rtp_ext_begin(&w, out, 64);
    if (c->ext.mid)
        rtp_ext_add(&w, c->ext.mid, (const uint8_t *)c->mid, strlen(c->mid));
    sent->abs_at = 0;
    if (c->ext.abs_send_time) {
        uint8_t abs[3];
        wr_be24(abs, rtp_abs_send_time(now_us));
        if (rtp_ext_add(&w, c->ext.abs_send_time, abs, 3) == 0)
            sent->abs_at = 4 + w.len - 3; /* after the 0xBEDE header: the last element's data */
    }
    sent->twcc_at = 0;
    static const uint8_t unstamped[2];
    if (c->ext.twcc && rtp_ext_add(&w, c->ext.twcc, unstamped, 2) == 0)
        sent->twcc_at = 4 + w.len - 2;
    const struct producer *p = c->producer;
    if (!v || !p)
        return rtp_ext_end(&w); /* a padding probe: nothing to copy through */
    const uint8_t *data;
    size_t len;
    if (c->ext.level && p->ext_level && rtp_ext_find(v, p->ext_level, &data, &len) == 0)
        rtp_ext_add(&w, c->ext.level, data, len);
    if (c->ext.cvo && p->ext_cvo && rtp_ext_find(v, p->ext_cvo, &data, &len) == 0)
        rtp_ext_add(&w, c->ext.cvo, data, len);
    if (c->ext.playout && c->playout_set) { /* 12 bits min, 12 bits max, 10 ms units */
        uint8_t d[3];
        wr_be24(d, (uint32_t)c->playout_min << 12 | PLAYOUT_MAX);
        rtp_ext_add(&w, c->ext.playout, d, 3);
    }
    return rtp_ext_end(&w);
}

/* The extension offsets write_exts found, made offsets in the packet (its header is pos
 * bytes). */
static void sent_at(struct consumer_sent *sent, size_t pos)
{
    if (sent->twcc_at)
        sent->twcc_at += pos;
    if (sent->abs_at)
        sent->abs_at += pos;
}

/* Builds and sends one packet: the original (rtx false) or its RTX form (RFC 4588 §4). */
/* vp8: the picture id and TL0PICIDX to write into the copied payload (NULL: none). */
static void send_packet(struct consumer *c, const struct rtp_view *v, uint16_t seq, uint32_t ts,
                        const struct rewriter_out *vp8, bool rtx, int64_t now_us)
{
    uint8_t *out = c->sink.scratch;
    bool fec = !rtx && c->fec; /* in RED, protected (consumer_fec.c) */
    /* audio: consumer_audio_view put the payload type (Opus or RED) in the view */
    uint8_t pt = rtx                        ? c->rtx_pt
                 : c->kind == CR_KIND_AUDIO ? v->payload_type
                 : fec                      ? c->vred_pt
                                            : c->pt;
    size_t pos = rtp_write_header(out, v->marker, pt, rtx ? c->rtx_seq++ : seq, ts,
                                  rtx ? c->rtx_ssrc : c->ssrc, true);
    struct consumer_sent sent = {
        .kind = rtx ? SEND_RTX : SEND_MEDIA, .now_us = now_us, .audio = c->kind == CR_KIND_AUDIO};
    size_t ext_len = write_exts(c, v, out + pos, now_us, &sent);
    if (ext_len == 0)
        out[0] &= (uint8_t)~0x10; /* no extension block after all: clear X */
    sent_at(&sent, pos);
    pos += ext_len;
    size_t ext_end = pos;
    if (fec)
        out[pos++] = c->pt; /* RED's primary block header: F = 0, the media type (RFC 2198 §3) */
    size_t body = v->payload_len;
    if (rtx) {
        wr_be16(out + pos, seq); /* the original sequence number */
        pos += 2;
    } else if (v->padding_len) {
        body += v->padding_len; /* keep the publisher's padding as it was */
        out[0] |= 0x20;
    }
    if (pos + body > BUILD_MAX)
        return;
    memcpy(out + pos, v->payload, body);
    if (vp8) /* RFC 7741 §4.2: renumbered in our copy; the producer's stays as it came */
        vp8_write_ids(out + pos, v->payload_len, vp8->picture_id, vp8->tl0picidx);
    pos += body;
    c->packets++;
    c->octets += v->payload_len;
    if (fec)
        consumer_fec_protect(c, out, ext_end, pos, now_us / 1000);
    c->sink.send_rtp(c->sink.ud, out, pos, &sent);
}

/* The next packet starts a new source: its numbering continues ours (media/rewriter.h), its
 * timestamp advanced by the wall-clock gap. */
static void resync(struct consumer *c, int64_t now_ms)
{
    int64_t gap_ms = now_ms - c->last_sent_ms;
    rewriter_switch(&c->rw, (uint32_t)(gap_ms > 0 ? gap_ms * c->clock_rate / 1000 : 1));
}

/* The temporal cap now: while a spatial switch waits for its keyframe, the old layer keeps
 * no more temporal layers than before (media/layer_select.h). */
static int max_tid(const struct consumer *c)
{
    return c->target != c->layer && c->temporal_hold < c->temporal ? c->temporal_hold : c->temporal;
}

void consumer_forward(struct consumer *c, const struct producer_packet *pkt, int64_t now_ms,
                      int64_t now_us)
{
    int layer = pkt->layer;
    const struct rtp_view *v = pkt->v;
    bool keyframe = pkt->keyframe;
    if (layer != c->layer) {
        /* another layer's packet: it is taken only to switch to the target, at a
         * keyframe (audio has one layer and no keyframes) */
        if (layer != c->target || (c->kind == CR_KIND_VIDEO && !keyframe))
            return;
        if (c->layer >= 0)
            c->resync = true;
        c->layer = layer;
    }
    if (!c->connected || !c->pt || c->paused)
        return; /* transport not up yet, nothing negotiated, or video held back */
    bool starts = !c->started || c->resync;
    if (starts) {
        if (c->kind == CR_KIND_VIDEO && !keyframe)
            return; /* a decoder can only start (or switch) at a keyframe */
        if (c->kind == CR_KIND_VIDEO && c->started && c->sink.layer_switch)
            c->sink.layer_switch(c->sink.ud, c->producer->layers[layer].bitrate_bps, now_ms * 1000);
        if (c->started)
            resync(c, now_ms);
        else
            c->copying = c->copy_first && c->rtx_pt; /* the first packet: see below */
        c->started = true;
        c->resync = false;
    }
    struct rewriter_in in = {v->seq, v->timestamp, (int8_t)c->layer, keyframe, pkt->vp8};
    struct rewriter_out o;
    if (!rewriter_packet(&c->rw, &in, max_tid(c), &o))
        return; /* a temporal layer above the target: the next packet takes its number */
    uint16_t seq = o.seq;
    uint32_t ts = o.ts;
    c->seq_offset = (uint16_t)(seq - v->seq);
    c->ts_offset = ts - v->timestamp;
    struct rtp_view audio; /* Opus in or out of RED (RFC 2198): consumer_red.c */
    if (c->kind == CR_KIND_AUDIO && !(v = consumer_audio_view(c, v, seq, ts, &audio)))
        return;
    if (c->fec && keyframe)
        consumer_fec_keyframe(c, ts);
    send_packet(c, v, seq, ts, o.vp8 ? &o : NULL, false, now_us);
    if (c->kind == CR_KIND_VIDEO && (unsigned)c->layer < CR_LAYERS_MAX)
        c->sink.stats->layer_packets[c->layer]++;
    /* The receiver cannot ask for the first packet it was sent: it knows of nothing before
     * it. Lost (3 % of first keyframes on a weak link), the picture waited for a keyframe
     * request and the next keyframe, 0.7 s. Its RTX copy follows it at once (and the rest
     * of the frame's, on a long path). */
    if (c->copying)
        send_packet(c, v, seq, ts, o.vp8 ? &o : NULL, true, now_us);
    /* The receiver lines audio and video up by the sender reports (RFC 3550 §6.4.1), and
     * the publisher sends the next one up to a second (video) or five (audio) from now:
     * its last one goes at once, in our numbering. */
    if (starts && c->producer->layers[layer].have_sr) {
        const struct producer_layer *pl = &c->producer->layers[layer];
        consumer_on_sr(c, layer, pl->sr_ntp, pl->sr_rtp, now_ms);
    }
    if (c->copying && (c->copy_first != CONSUMER_COPY_FRAME || v->marker))
        c->copying = false;
    if (c->fec && v->marker)
        consumer_fec_flush(c, ts, now_ms, now_us);
    c->last_sent_ms = now_ms;
}

void consumer_set_target(struct consumer *c, int layer, int64_t now_ms)
{
    if (!c->producer || layer < 0 || (size_t)layer >= c->producer->n_layers || layer == c->target)
        return;
    CR_DEBUG("consumer", "%s: layer target %d -> %d", c->name, c->target, layer);
    c->temporal_hold = (int8_t)max_tid(c);
    c->target = layer;
    if (layer != c->layer)
        consumer_want_keyframe(c, now_ms);
}

void consumer_set_temporal(struct consumer *c, int tid)
{
    int8_t t = (int8_t)(tid < 0 ? 0 : tid > REWRITER_ALL_TIDS ? REWRITER_ALL_TIDS : tid);
    if (t == c->temporal)
        return;
    CR_DEBUG("consumer", "%s: temporal target %d -> %d", c->name, c->temporal, t);
    c->temporal = t;
}

int consumer_temporal(const struct consumer *c)
{
    const struct producer *p = c->producer;
    if (!p || c->layer < 0 || (size_t)c->layer >= p->n_layers || !p->layers[c->layer].n_temporal)
        return -1;
    int top = p->layers[c->layer].n_temporal - 1;
    return c->rw.cur_tid < top ? c->rw.cur_tid : top;
}

void consumer_tick(struct consumer *c, int64_t now_ms)
{
    struct producer *p = c->producer;
    if (!p || p->n_layers < 2)
        return;
    int best = producer_best_layer(p, now_ms);
    if (best != c->target)
        consumer_set_target(c, best, now_ms);
}

size_t consumer_on_nack(struct consumer *c, const uint16_t *seqs, size_t n,
                        const struct consumer_rtx *rtx, int64_t now_ms, int64_t now_us)
{
    struct producer *p = c->producer;
    /* Only RTX (RFC 4588): resending under the media SSRC and seq would re-protect a packet
     * whose extensions changed, reusing an AEAD-GCM nonce. Browsers all negotiate RTX. */
    if (!p || p->kind != CR_KIND_VIDEO || !c->started || !c->connected || !c->rtx_pt)
        return 0;
    size_t resent = 0;
    for (size_t i = 0; i < n && i < MAX_RTX_PER_NACK; i++) {
        const struct rewriter_sent *sent = rewriter_lookup(&c->rw, seqs[i]);
        if (!sent || (size_t)sent->layer >= p->n_layers)
            continue; /* not one we sent lately */
        size_t len;
        const uint8_t *pkt =
            packet_store_get(p->layers[sent->layer].store, sent->in_seq, now_ms, &len);
        struct rtp_view v;
        if (!pkt || rtp_parse(pkt, len, &v) != 0)
            continue;
        size_t bytes = len + CONSUMER_SRTP_OVERHEAD;
        if (!rtx_limit_allow(&c->rtx_limit, seqs[i], bytes, rtx->budget_bps, rtx->rtt_ms, now_ms))
            continue;
        for (int k = 0; k < rtx->copies; k++) {
            if (k > 0 && !rtx_limit_copy(&c->rtx_limit, bytes, rtx->budget_bps, now_ms))
                break;
            send_packet(c, &v, seqs[i], sent->out.ts, sent->out.vp8 ? &sent->out : NULL, true,
                        now_us);
            c->retransmitted++;
        }
        resent++;
    }
    return resent;
}

void consumer_on_sr(struct consumer *c, int layer, uint64_t ntp, uint32_t rtp_ts, int64_t now_ms)
{
    if (!c->started || !c->connected || layer != c->layer || c->resync)
        return;
    uint8_t *out = c->sink.scratch;
    size_t n = rtcp_write_sr(out, 256, c->ssrc, ntp, rtp_ts + c->ts_offset, (uint32_t)c->packets,
                             (uint32_t)c->octets, NULL, 0);
    if (n) {
        c->sr_ntp_mid = (uint32_t)(ntp >> 16);
        c->sr_sent_ms = now_ms;
        c->sink.send_rtcp(c->sink.ud, out, n);
    }
}

int consumer_on_report(struct consumer *c, const struct rtcp_report_block *rb, int64_t now_ms)
{
    c->fraction_lost = rb->fraction_lost;
    c->jitter = rb->jitter;
    if (!rb->lsr || rb->lsr != c->sr_ntp_mid)
        return -1;
    /* RFC 3550 §6.4.1: RTT = now − LSR − DLSR; our send time stands in for LSR */
    int64_t rtt = now_ms - c->sr_sent_ms - (int64_t)rb->dlsr * 1000 / 65536;
    return rtt >= 0 ? (int)rtt : 0;
}

void consumer_pause(struct consumer *c, bool paused, int64_t now_ms)
{
    if (c->kind != CR_KIND_VIDEO || c->paused == paused)
        return;
    CR_INFO("consumer", "%s: video %s", c->name,
            paused ? "paused: too little bandwidth" : "resumed");
    c->paused = paused;
    if (!paused) {
        c->resync = c->started; /* continue our numbering, from a keyframe */
        consumer_want_keyframe(c, now_ms);
    }
}

size_t consumer_own_header(struct consumer *c, uint8_t *out, uint8_t pt, uint16_t seq, uint32_t ts,
                           uint32_t ssrc, struct consumer_sent *sent)
{
    size_t pos = rtp_write_header(out, false, pt, seq, ts, ssrc, true);
    size_t ext_len = write_exts(c, NULL, out + pos, sent->now_us, sent);
    if (ext_len == 0)
        out[0] &= (uint8_t)~0x10;
    sent_at(sent, pos);
    return pos + ext_len;
}

void consumer_send_padding(struct consumer *c, size_t padding, uint8_t probe_id, int64_t now_us)
{
    if (!c->connected || !c->rtx_pt || padding == 0 || padding > 255)
        return;
    uint8_t *out = c->sink.scratch;
    struct consumer_sent sent = {.kind = SEND_PROBE, .tag = probe_id, .now_us = now_us};
    size_t pos =
        consumer_own_header(c, out, c->rtx_pt, c->rtx_seq++, c->rw.last_ts, c->rtx_ssrc, &sent);
    memset(out + pos, 0, padding);
    out[pos + padding - 1] = (uint8_t)padding; /* RFC 3550 §5.1: the last octet counts */
    out[0] |= 0x20;
    pos += padding;
    c->sink.send_rtp(c->sink.ud, out, pos, &sent);
}
