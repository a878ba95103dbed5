/* Peer: transport and packet routing; see peer.h. RFC 7983 demultiplexing, DTLS-SRTP
 * (RFC 5764), RTP routing by SSRC, mid or rid (RFC 8843 §9.2, RFC 8852), and the sink its
 * consumers send through, which stamps the transport-wide sequence number
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01). Negotiation is in negotiate.c, RTCP
 * in peer_rtcp.c. Everything runs on the worker thread. */
#include "route/peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/log.h"
#include "media/pacer.h"
#include "route/ctx.h"
#include "route/quality.h"
#include "wire/demux.h"
#include "wire/rtp.h"

#define CONNECT_TIMEOUT_MS 30000
#define REPORT_INTERVAL_MS 1000
#define TWCC_INTERVAL_MS 50

const char *peer_state_name(enum cr_peer_state state)
{
    static const char *names[] = {"new", "connecting", "connected", "failed", "closed"};
    return (unsigned)state < 5 ? names[state] : "unknown";
}

/* The peer reached a stage of its start: timed from its creation into ctx->join, once. */
static void peer_join(struct peer *peer, enum cr_join_stage stage)
{
    if (peer->join_timed & (1u << stage))
        return;
    peer->join_timed |= (uint8_t)(1u << stage);
    cr_hist_add_on(&peer->ctx->join[stage], cr_hist_bounds_ms, cr_now_ms() - peer->created_ms);
}

void peer_set_state(struct peer *peer, enum cr_peer_state state)
{
    if (peer->state == state)
        return;
    CR_INFO("peer", "%llu %s → %s", (unsigned long long)peer->id, peer_state_name(peer->state),
            peer_state_name(state));
    peer->state = state;
    if (state == CR_PEER_CONNECTED)
        peer_join(peer, CR_JOIN_CONNECTED);
    struct route_ctx *rc = peer->ctx;
    if (rc->events.on_peer_state)
        rc->events.on_peer_state(rc->events_user, peer->id, state);
}

/* ---- DTLS ---- */

#define COPY_FRAME_RTT_US 250000

#define DTLS_HELD_MAX 16

static void hold(GPtrArray **held, const uint8_t *buf, size_t len)
{
    if (!*held)
        *held = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    if ((*held)->len < DTLS_HELD_MAX)
        g_ptr_array_add(*held, g_bytes_new(buf, len));
}

/* Our first handshake datagram left now: the handshake's round trip counts from here. */
static void note_sent(struct peer *peer)
{
    if (!peer->dtls_sent_us)
        peer->dtls_sent_us = cr_now_us();
}

/* Sends what *held holds and empties it; returns false (keeping it) while ICE has no pair. */
static bool send_held(struct peer *peer, GPtrArray **held)
{
    if (!*held)
        return true;
    if (cr_ice_get_state(peer->ice) != CR_ICE_CONNECTED)
        return false;
    for (size_t i = 0; i < (*held)->len; i++) {
        gsize len;
        const uint8_t *data = g_bytes_get_data(g_ptr_array_index(*held, i), &len);
        cr_ice_send(peer->ice, data, len);
    }
    note_sent(peer);
    g_ptr_array_free(*held, TRUE);
    *held = NULL;
    return true;
}

/* A handshake datagram goes twice: now (or when ICE has a pair) and again at the next tick,
 * 20 ms on (the last flight's copy at once: dtls_connected). On a link losing 10 % a lost flight
 * costs the waiting side's retransmission timeout (for our last flight the browser's, about a
 * second) and, when our Finished is the one lost, the keyframe sent right behind it too (the
 * browser drops SRTP it has no keys for yet: one more keyframe request and round trip). Two copies
 * make that 1 %, for about 3 KB a join; the browser drops the copy it does not need (RFC 6347
 * §4.1.2.6, replay). */
static void dtls_send(void *user, const uint8_t *buf, size_t len)
{
    struct peer *peer = user;
    if (peer->state != CR_PEER_CONNECTED) /* the handshake: its last flight comes before */
        hold(&peer->dtls_copies, buf, len);
    if (cr_ice_send(peer->ice, buf, len) == 0) {
        note_sent(peer);
        return;
    }
    /* The browser (controlling) sends its ClientHello as soon as its pair is writable,
     * before it nominates; until libnice selects the pair our flight has nowhere to go. */
    hold(&peer->dtls_held, buf, len);
}

/* The copies go once what they copy has gone (nothing held for want of a pair). */
static void send_copies(struct peer *peer)
{
    if (!peer->dtls_held)
        send_held(peer, &peer->dtls_copies);
}

/* The peer's first handshake flight (a ClientHello to us as server, a ServerHello to us
 * as client): the keys come one round trip from now as server, at once as client (false
 * start), so a keyframe asked for now comes about then or is replayed from the packet store
 * (consumer_set_connected starts from it). Asked at ICE connected it
 * came too early on a slow link (DTLS took 580 ms there), and, requests being throttled,
 * the next was a second away. */
static void dtls_first_heard(struct peer *peer)
{
    peer->dtls_heard = true;
    int64_t now = cr_now_ms();
    for (size_t i = 0; i < peer->n_mlines; i++)
        if (peer->mlines[i].consumer)
            consumer_transport_near(peer->mlines[i].consumer, now);
}

static bool twcc_negotiated(const struct peer *peer)
{
    bool twcc = false;
    for (size_t i = 0; i < peer->n_mlines; i++)
        twcc |= peer->mlines[i].consumer && peer->mlines[i].consumer->ext.twcc;
    return twcc;
}

static void set_pace(struct peer *peer, int64_t now_us)
{
    int64_t pace = peer->quality ? quality_pace_bps(peer->quality) : 0;
    pacer_set_rate(peer->pacer, pace ? pace : PACER_UNPACED_BPS, now_us);
}

/* Before the keyframe catch-up leaves: the handshake's round trip (ours, from our first
 * flight to the keys: one round trip, as server or client; more after a lost flight, which
 * only makes the start more careful) sets the start
 * estimate of a long path, and the pacer's rate from it. Sent unpaced, a catch-up of 13
 * packets met a 250 kbit/s link's 3 KB queue at once and lost most of itself. */
static void start_pace(struct peer *peer, int64_t rtt_us, int64_t now_us)
{
    if (!peer->pacer || !peer->quality)
        return;
    if (rtt_us > 0)
        quality_on_handshake_rtt(peer->quality, rtt_us);
    quality_drives_layers(peer->quality, twcc_negotiated(peer));
    set_pace(peer, now_us);
    CR_DEBUG("peer", "%llu handshake took %lld ms: media paced at %lld bit/s to start",
             (unsigned long long)peer->id, (long long)rtt_us / 1000,
             (long long)peer->pacer->pace_bps);
}

/* Keyframe requests made before the keys went nowhere: each video stream this peer publishes
 * is asked again now (a relay's mirror, route/link.h, names its SSRCs in the offer, and the
 * subscribers that made the other relay pull the lesson wait for that keyframe). */
static void ask_keyframes(struct peer *peer)
{
    if (!peer->pli_held)
        return;
    peer->pli_held = false;
    for (size_t i = 0; i < peer->n_mlines; i++) {
        const struct producer *p = peer->mlines[i].producer;
        for (size_t l = 0; p && p->kind == CR_KIND_VIDEO && l < p->n_layers; l++)
            if (p->layers[l].ssrc)
                peer_send_pli(peer, p->layers[l].ssrc);
    }
}

/* The keys: as server when the handshake is done, as client when our Finished is out (a
 * round trip earlier: dtls.h). Media starts here; data channels wait for dtls_connected. */
static void dtls_keys(void *user, const struct cr_dtls_keys *keys)
{
    struct peer *peer = user;
    peer->srtp = cr_srtp_new(keys);
    if (!peer->srtp) {
        peer_set_state(peer, CR_PEER_FAILED);
        return;
    }
    CR_INFO("peer", "%llu DTLS done, SRTP profile %s", (unsigned long long)peer->id,
            keys->profile == CR_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80");
    peer_set_state(peer, CR_PEER_CONNECTED);
    /* our last flight's copy goes now, ahead of the media that follows (the keyframe
     * catch-up): sent behind it, a lost Finished left the browser without keys for that
     * keyframe, and it never asks for packets from before its first (a PLI, 0.6 s later) */
    send_copies(peer);
    int64_t now_us = cr_now_us();
    int64_t rtt_us = peer->dtls_sent_us ? now_us - peer->dtls_sent_us : 0;
    start_pace(peer, rtt_us, now_us);
    int64_t now = now_us / 1000;
    ask_keyframes(peer);
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct consumer *c = peer->mlines[i].consumer;
        if (!c)
            continue;
        /* where a repair takes longer than the browser waits for a first keyframe before it
         * asks for another (200 ms), the whole first frame goes twice */
        if (c->copy_first && rtt_us >= COPY_FRAME_RTT_US)
            c->copy_first = CONSUMER_COPY_FRAME;
        consumer_set_connected(c, now);
    }
}

static void dtls_connected(void *user)
{
    struct peer *peer = user;
    peer->dtls_in_ms = cr_now_ms(); /* the quiet that lets it go (retire_dtls) counts from here */
    peer_data_start(peer);
}

static void dtls_failed(void *user, const char *why)
{
    struct peer *peer = user;
    CR_WARN("peer", "%llu DTLS failed: %s", (unsigned long long)peer->id, why);
    peer_set_state(peer, CR_PEER_FAILED);
}

static void dtls_closed(void *user)
{
    struct peer *peer = user;
    peer_set_state(peer, CR_PEER_CLOSED);
}

static void dtls_data(void *user, const uint8_t *buf, size_t len)
{
    peer_data_input(user, buf, len);
}

static const struct cr_dtls_callbacks dtls_cb = {
    .send = dtls_send,
    .on_keys = dtls_keys,
    .on_connected = dtls_connected,
    .on_failed = dtls_failed,
    .on_closed = dtls_closed,
    .on_data = dtls_data,
};

int peer_start_dtls(struct peer *peer, const char *fp_alg, const char *fp_hex)
{
    peer->dtls = cr_dtls_new(peer->ctx->cert, peer->dtls_client ? CR_DTLS_CLIENT : CR_DTLS_SERVER,
                             fp_alg, fp_hex, &dtls_cb, peer);
    if (!peer->dtls)
        return -1;
    peer_set_state(peer, CR_PEER_CONNECTING);
    if (peer->dtls_client && cr_ice_get_state(peer->ice) == CR_ICE_CONNECTED)
        cr_dtls_start(peer->dtls);
    return 0;
}

/* ---- ICE ---- */

static void ice_state(void *user, enum cr_ice_state state)
{
    struct peer *peer = user;
    if (state == CR_ICE_FAILED) {
        peer_set_state(peer, CR_PEER_FAILED);
        return;
    }
    if (state == CR_ICE_CONNECTED) {
        peer_join(peer, CR_JOIN_ICE);
        send_held(peer, &peer->dtls_held);
    }
    if (state == CR_ICE_CONNECTED && peer->dtls && peer->dtls_client &&
        peer->state != CR_PEER_CONNECTED) {
        cr_dtls_start(peer->dtls);
    }
}

static void ice_candidate(void *user, const char *candidate)
{
    struct peer *peer = user;
    struct route_ctx *rc = peer->ctx;
    const char *mid = peer->n_mlines ? peer->mlines[0].mid : "0";
    if (rc->events.on_local_candidate)
        rc->events.on_local_candidate(rc->events_user, peer->id, mid, candidate);
}

/* Where an RTP packet goes: a producer, its layer, and whether it is the RTX stream. */
struct route {
    struct producer *p;
    int layer;
    bool rtx;
};

static bool route_by_ssrc(struct peer *peer, uint32_t ssrc, struct route *r)
{
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct producer *p = peer->mlines[i].producer;
        for (size_t l = 0; p && l < p->n_layers; l++) {
            if (p->layers[l].ssrc == ssrc || (p->layers[l].rtx_ssrc == ssrc && ssrc)) {
                *r = (struct route){p, (int)l, p->layers[l].rtx_ssrc == ssrc};
                return true;
            }
        }
    }
    return false;
}

static bool ext_equals(const struct rtp_view *v, uint8_t id, const char *s)
{
    const uint8_t *d;
    size_t len;
    return id && rtp_ext_find(v, id, &d, &len) == 0 && len == strlen(s) && memcmp(d, s, len) == 0;
}

/* The m-line the packet's mid extension names, or NULL. */
static struct mline *by_mid(struct peer *peer, const struct rtp_view *v)
{
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct mline *m = &peer->mlines[i];
        if (m->producer && ext_equals(v, m->ext_mid, m->mid))
            return m;
    }
    return NULL;
}

/* RFC 8843 §9.2: without SSRCs in the offer or a mid extension in the packet, a payload
 * type that only one m-line of the BUNDLE group uses names that line. */
static struct mline *by_payload_type(struct peer *peer, uint8_t pt)
{
    struct mline *found = NULL;
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct producer *p = peer->mlines[i].producer;
        if (!p || (p->pt != pt && p->rtx_pt != pt && (!p->red_pt || p->red_pt != pt)))
            continue;
        if (found)
            return NULL; /* ambiguous */
        found = &peer->mlines[i];
    }
    return found;
}

/* The layer a new SSRC belongs to: by rid or repaired rid (RFC 8852) on a simulcast
 * line, else the only layer. -1 if it names no layer of this line. */
static int layer_of(const struct mline *m, const struct rtp_view *v, bool *rtx)
{
    const struct producer *p = m->producer;
    *rtx = p->rtx_pt && v->payload_type == p->rtx_pt;
    if (p->n_layers == 1)
        return 0;
    for (size_t l = 0; l < p->n_layers; l++) {
        if (ext_equals(v, m->ext_rid, p->layers[l].rid)) {
            *rtx = false;
            return (int)l;
        }
        if (ext_equals(v, m->ext_rrid, p->layers[l].rid)) {
            *rtx = true;
            return (int)l;
        }
    }
    return -1;
}

/* Finds where an RTP packet goes: by SSRC, else (the first packets of a stream whose SSRC
 * the offer did not announce) by the mid extension or payload type, then rid. */
static bool route(struct peer *peer, const struct rtp_view *v, struct route *r)
{
    if (route_by_ssrc(peer, v->ssrc, r))
        return true;
    struct mline *m = by_mid(peer, v);
    if (!m && !(m = by_payload_type(peer, v->payload_type)))
        return false;
    bool rtx;
    int layer = layer_of(m, v, &rtx);
    if (layer < 0)
        return false;
    struct producer_layer *l = &m->producer->layers[layer];
    uint32_t *slot = rtx ? &l->rtx_ssrc : &l->ssrc;
    if (*slot)
        return false; /* a second SSRC for one stream */
    *slot = v->ssrc;
    if (!rtx)
        l->stats.ssrc = v->ssrc;
    CR_INFO("peer", "%llu track %llu (mid %s%s%s) has %sSSRC %u", (unsigned long long)peer->id,
            (unsigned long long)m->producer->id, m->mid, l->rid[0] ? " rid " : "", l->rid,
            rtx ? "RTX " : "", v->ssrc);
    *r = (struct route){m->producer, layer, rtx};
    return true;
}

/* An RTX packet (RFC 4588) that answers one of our NACKs (media/nack_list.h) becomes the
 * original again, in buf; others (padding probes, resends we did not ask for) end here. */
static bool rtx_repair(struct peer *peer, const struct route *r, uint8_t *buf, size_t *len,
                       struct rtp_view *v)
{
    const struct producer_layer *l = &r->p->layers[r->layer];
    uint16_t osn;
    if (!l->nack || !l->ssrc || rtp_rtx_osn(v, &osn) != 0 || !nack_list_wants(l->nack, osn))
        return false;
    if (rtp_rtx_unwrap(buf, len, v, r->p->pt, l->ssrc) != 0 || rtp_parse(buf, *len, v) != 0)
        return false;
    peer->ctx->stats.repaired_in++;
    return true;
}

static void on_rtp(struct peer *peer, uint8_t *buf, size_t len, int64_t now_us)
{
    struct cr_relay_stats *st = &peer->ctx->stats;
    struct rtp_view v;
    if (cr_srtp_unprotect_rtp(peer->srtp, buf, &len) != 0 || rtp_parse(buf, len, &v) != 0) {
        st->bad_packets++;
        CR_LOG_RATE(CR_LOG_WARN, "peer", "%llu: dropped an RTP packet failing SRTP or parsing",
                    (unsigned long long)peer->id);
        return;
    }
    if (peer->twcc) {
        /* the transport-wide extension id is one per BUNDLE transport in practice; take
         * it from the m-line the packet belongs to */
        for (size_t i = 0; i < peer->n_mlines; i++) {
            const uint8_t *d;
            size_t l;
            uint8_t id = peer->mlines[i].ext_twcc;
            if (id && rtp_ext_find(&v, id, &d, &l) == 0 && l == 2) {
                twcc_recorder_on_packet(peer->twcc, rd_be16(d), now_us);
                break;
            }
        }
    }
    struct route r;
    if (!route(peer, &v, &r)) {
        st->bad_packets++;
        CR_LOG_RATE(CR_LOG_INFO, "peer", "%llu: RTP with unknown SSRC %u pt %u",
                    (unsigned long long)peer->id, v.ssrc, v.payload_type);
        return;
    }
    peer->srtp_heard = true;
    st->rtp_in++;
    st->bytes_in += len;
    if (r.rtx && !rtx_repair(peer, &r, buf, &len, &v))
        return; /* retransmissions we did not ask for, or padding probes */
    if (v.payload_type != r.p->pt && (!r.p->red_pt || v.payload_type != r.p->red_pt)) {
        st->bad_packets++;
        return;
    }
    if (r.p->red_pt && v.payload_type == r.p->red_pt)
        st->red_in++;
    int64_t now_ms = now_us / 1000;
    struct producer_packet pkt;
    const struct nack_list *nack = r.p->layers[r.layer].nack;
    uint64_t missed = nack ? nack->missed : 0;
    bool fresh = producer_on_rtp(r.p, r.layer, buf, len, &v, now_ms, &pkt);
    if (nack && nack->missed != missed)
        peer_send_nacks(peer, r.p, now_ms); /* a gap: asked for at once */
    if (!fresh)
        return;
    if (peer->paused_kinds & (1u << r.p->kind))
        return; /* a paused lesson or muted classroom: kept for stats and NACK, not sent */
    peer->listener.on_rtp(peer->listener.ud, r.p, &pkt, now_ms, now_us);
}

static void ice_recv(void *user, uint8_t *buf, size_t len)
{
    struct peer *peer = user;
    struct cr_relay_stats *st = &peer->ctx->stats;
    switch (demux_classify(buf, len)) {
    case DEMUX_DTLS:
        peer->dtls_in_ms = cr_now_ms();
        if (peer->dtls && !peer->dtls_heard && peer->state != CR_PEER_CONNECTED)
            dtls_first_heard(peer);
        if (peer->dtls)
            cr_dtls_input(peer->dtls, buf, len);
        return;
    case DEMUX_RTP:
        if (peer->srtp)
            on_rtp(peer, buf, len, cr_now_us());
        return;
    case DEMUX_RTCP:
        if (peer->srtp && cr_srtp_unprotect_rtcp(peer->srtp, buf, &len) == 0) {
            peer->srtp_heard = true;
            st->rtcp_in++;
            peer_on_rtcp(peer, buf, len, cr_now_us());
            return;
        }
        break;
    default:
        break;
    }
    st->bad_packets++;
    CR_LOG_RATE(CR_LOG_WARN, "peer", "%llu: dropped an unexpected or malformed packet",
                (unsigned long long)peer->id);
}

static const struct cr_ice_callbacks ice_cb = {
    .on_state = ice_state,
    .on_candidate = ice_candidate,
    .on_recv = ice_recv,
};

static struct peer *peer_make(struct route_ctx *ctx, struct room *room, const char *room_name,
                              uint64_t id, const struct peer_listener *listener, bool link)
{
    struct peer *peer = CR_NEW(struct peer);
    peer->id = id;
    peer->ctx = ctx;
    peer->room = room;
    peer->room_name = room_name;
    peer->listener = *listener;
    peer->created_ms = cr_now_ms();
    peer->rtcp_ssrc = g_random_int();
    peer->is_link = link;
    const struct cr_relay_config *rc = ctx->config;
    struct cr_ice_config ic = {.mux = link ? NULL : ctx->mux,
                               .public_ip = rc->public_ip,
                               .bind_ip = rc->bind_ip,
                               .port_min = rc->port_min,
                               .port_max = rc->port_max,
                               .tcp = rc->ice_tcp && !link,
                               .controlling = link,
                               .log = {.room = room_name, .peer = id}};
    peer->ice = cr_ice_new(ctx->main, &ic, &ice_cb, peer);
    if (!peer->ice) {
        free(peer);
        return NULL;
    }
    if (link)
        ctx->stats.links++;
    return peer;
}

struct peer *peer_new(struct route_ctx *ctx, struct room *room, const char *room_name, uint64_t id,
                      const struct peer_listener *listener)
{
    return peer_make(ctx, room, room_name, id, listener, false);
}

struct peer *peer_new_link(struct route_ctx *ctx, struct room *room, const char *room_name,
                           uint64_t id, const struct peer_listener *listener)
{
    return peer_make(ctx, room, room_name, id, listener, true);
}

void peer_free(struct peer *peer)
{
    if (!peer)
        return;
    CR_LOG_SCOPE(peer->room_name, peer->id, NULL);
    peer_data_free(peer); /* its ABORT still goes out over DTLS */
    if (peer->dtls && peer->state == CR_PEER_CONNECTED)
        cr_dtls_close(peer->dtls);
    for (size_t i = 0; i < peer->n_mlines; i++) {
        peer_drop_consumer(peer, &peer->mlines[i]);
        peer_drop_producer(peer, &peer->mlines[i]);
    }
    quality_free(peer->quality);
    if (peer->pacing)
        peer->ctx->pacing--;
    if (peer->pacer)
        pacer_clear(peer->pacer);
    free(peer->pacer);
    cr_ice_free(peer->ice);
    if (peer->dtls_held)
        g_ptr_array_free(peer->dtls_held, TRUE);
    if (peer->dtls_copies)
        g_ptr_array_free(peer->dtls_copies, TRUE);
    cr_dtls_free(peer->dtls);
    cr_srtp_free(peer->srtp);
    free(peer->twcc);
    free(peer->offer_sdp);
    free(peer);
}

int peer_add_candidate(struct peer *peer, const char *candidate)
{
    if (!candidate || !candidate[0]) {
        cr_ice_remote_gathering_done(peer->ice);
        return CR_OK;
    }
    return cr_ice_add_remote_candidate(peer->ice, candidate) == 0 ? CR_OK : CR_ERR_ARG;
}

void peer_send_rtp(struct peer *peer, uint8_t *buf, size_t len)
{
    if (!peer->srtp || cr_srtp_protect_rtp(peer->srtp, buf, &len) != 0)
        return;
    if (cr_ice_send(peer->ice, buf, len) == 0) {
        peer->ctx->stats.rtp_out++;
        peer->ctx->stats.bytes_out += len;
    }
}

void peer_send_rtcp(struct peer *peer, uint8_t *buf, size_t len)
{
    if (!peer->srtp || cr_srtp_protect_rtcp(peer->srtp, buf, &len) != 0)
        return;
    if (cr_ice_send(peer->ice, buf, len) == 0)
        peer->ctx->stats.rtcp_out++;
}

/* ---- the sink of its consumers, the listener of its producers ---- */

/* A packet leaves now. The transport-wide sequence number belongs to the transport:
 * stamped here, in the order packets leave, and recorded for the estimator (quality.h) with
 * the size on the wire and the moment it leaves. That moment is read here rather than taken
 * from the fan-out's one time: a delay-based estimator reads any wait between the two (a
 * worker preempted mid fan-out, a pacer's queue) as queueing on the link. Probes keep the
 * time of the tick that paced them. A packet that waited in the pacer gets a new
 * abs-send-time too. */
static void transmit(struct peer *peer, uint8_t *buf, size_t len, const struct pacer_meta *m,
                     bool waited)
{
    int64_t at = 0;
    if (m->twcc_at || (waited && m->abs_at))
        at = m->kind == SEND_PROBE ? m->built_us : cr_now_us();
    if (waited && m->abs_at)
        wr_be24(buf + m->abs_at, rtp_abs_send_time(at));
    if (m->kind == SEND_MEDIA && !waited) { /* the forwarding delay: arrival (the fan-out's
                                               time) → now; a pacer's wait is its own */
        if (!at)
            at = cr_now_us();
        cr_hist_add(&peer->ctx->forward_delay, at - m->built_us);
    }
    if (m->twcc_at) {
        uint16_t seq = peer->twcc_seq++;
        wr_be16(buf + m->twcc_at, seq);
        if (peer->quality)
            quality_on_sent(peer->quality, seq, len + CONSUMER_SRTP_OVERHEAD, m->kind, m->tag, at);
    }
    peer_send_rtp(peer, buf, len);
}

static void pace_send(void *ud, uint8_t *buf, size_t len, const struct pacer_meta *m)
{
    transmit(ud, buf, len, m, true);
}

/* Keeps ctx->pacing, the count of peers whose pacer holds packets, true, and counts what
 * the pacer dropped. */
static void pace_note(struct peer *peer)
{
    peer->ctx->stats.pace_dropped += peer->pacer->st.dropped - peer->pace_dropped;
    peer->pace_dropped = peer->pacer->st.dropped;
    bool busy = pacer_busy(peer->pacer);
    if (busy != peer->pacing) {
        peer->pacing = busy;
        peer->ctx->pacing += busy ? 1u : (unsigned)-1;
    }
}

void peer_pace(struct peer *peer, int64_t now_us)
{
    if (!peer->pacing)
        return;
    peer->ctx->stats.paced += pacer_process(peer->pacer, now_us, pace_send, peer);
    pace_note(peer);
}

static enum pacer_class pace_class(const struct consumer_sent *sent)
{
    if (sent->kind == SEND_PROBE || sent->kind == SEND_PADDING)
        return PACER_PADDING;
    if (sent->audio)
        return PACER_AUDIO;
    return sent->kind == SEND_RTX ? PACER_RTX : PACER_VIDEO;
}

/* What a consumer built goes to the pacer, which lets it leave now or queues a copy. */
static void sink_send_rtp(void *ud, uint8_t *buf, size_t len, const struct consumer_sent *sent)
{
    struct peer *peer = ud;
    if (!sent->audio && sent->kind == SEND_MEDIA && !(peer->join_timed & 1u << CR_JOIN_FIRST_VIDEO))
        peer_join(peer, CR_JOIN_FIRST_VIDEO);
    struct pacer_meta m = {.twcc_at = (uint16_t)sent->twcc_at,
                           .abs_at = (uint16_t)sent->abs_at,
                           .kind = (uint8_t)sent->kind,
                           .tag = sent->tag,
                           .built_us = sent->now_us};
    if (!peer->pacer || pacer_offer(peer->pacer, pace_class(sent), buf, len, &m, sent->now_us))
        transmit(peer, buf, len, &m, false);
    else
        pace_note(peer);
}

static void sink_send_rtcp(void *ud, uint8_t *buf, size_t len) { peer_send_rtcp(ud, buf, len); }

static void sink_keyframe_wanted(void *ud, struct producer *p, int layer, int64_t now_ms)
{
    producer_request_keyframe(p, layer, now_ms);
}

static void sink_layer_switch(void *ud, uint64_t layer_bps, int64_t now_us)
{
    struct peer *peer = ud;
    if (peer->quality)
        quality_on_switch(peer->quality, layer_bps, now_us);
}

static int sink_start_layer(void *ud, const struct consumer *c, const struct producer *p,
                            int64_t now_ms)
{
    struct peer *peer = ud;
    return peer->quality ? quality_start_layer(peer->quality, p, c->kind, c->ext.twcc != 0, now_ms)
                         : producer_best_layer(p, now_ms);
}

struct consumer *peer_new_consumer(struct peer *peer, enum cr_kind kind, const char *mid)
{
    struct consumer_sink sink = {
        .ud = peer,
        .scratch = peer->ctx->scratch,
        .stats = &peer->ctx->stats,
        .send_rtp = sink_send_rtp,
        .send_rtcp = sink_send_rtcp,
        .keyframe_wanted = sink_keyframe_wanted,
        .layer_switch = sink_layer_switch,
        .start_layer = sink_start_layer,
    };
    struct consumer *c = consumer_new(kind, mid, &sink);
    snprintf(c->name, sizeof c->name, "%llu/%s", (unsigned long long)peer->id, mid);
    if (peer->srtp)
        consumer_set_connected(c, cr_now_ms());
    return c;
}

void peer_drop_consumer(struct peer *peer, struct mline *m)
{
    if (!m->consumer)
        return;
    if (peer->quality)
        quality_forget(peer->quality, m->consumer);
    peer->listener.bind(peer->listener.ud, m->consumer, NULL, 0);
    consumer_free(m->consumer);
    m->consumer = NULL;
}

static void keyframe_needed(void *ud, uint32_t ssrc)
{
    struct peer *peer = ud;
    peer_send_pli(peer, ssrc);
    peer->ctx->stats.keyframe_requests++;
}

struct producer *peer_new_producer(struct peer *peer, enum cr_kind kind, const char *source,
                                   const char *mid)
{
    struct producer_listener l = {.ud = peer, .keyframe_needed = keyframe_needed};
    struct producer *p = producer_new(route_next_id(peer->ctx), peer->id, kind, source, mid, &l);
    peer->listener.producer_added(peer->listener.ud, p);
    return p;
}

void peer_drop_producer(struct peer *peer, struct mline *m)
{
    if (!m->producer)
        return;
    peer->listener.producer_closed(peer->listener.ud, m->producer);
    producer_free(m->producer);
    m->producer = NULL;
}

void peer_pause(struct peer *peer, unsigned kinds, bool paused, int64_t now_ms)
{
    unsigned was = peer->paused_kinds;
    peer->paused_kinds = paused ? was | kinds : was & ~kinds;
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct producer *p = peer->mlines[i].role == MLINE_RECV ? peer->mlines[i].producer : NULL;
        if (!p || p->kind != CR_KIND_VIDEO || !(was & ~peer->paused_kinds & (1u << p->kind)))
            continue;
        for (size_t l = 0; l < p->n_layers; l++)
            producer_request_keyframe(p, (int)l, now_ms);
    }
}

/* Transport-wide feedback to a publisher. The media SSRC must be one of the publisher's:
 * libwebrtc drops feedback naming an SSRC it does not send, and its estimate then decays. */
static void send_twcc(struct peer *peer)
{
    uint32_t media_ssrc = 0;
    for (size_t i = 0; i < peer->n_mlines && !media_ssrc; i++)
        for (size_t l = 0; peer->mlines[i].producer && l < peer->mlines[i].producer->n_layers; l++)
            media_ssrc = media_ssrc ? media_ssrc : peer->mlines[i].producer->layers[l].ssrc;
    uint8_t *out = peer->ctx->scratch;
    size_t n;
    while ((n = twcc_recorder_build(peer->twcc, out, 1200, peer->rtcp_ssrc, media_ssrc)) > 0)
        peer_send_rtcp(peer, out, n);
}

/* The quality loop's tick: describe the consumers, then send the probes and apply the
 * layer choices it returns. */
static void tick_quality(struct peer *peer, int64_t now_ms)
{
    _Static_assert(LS_MAX_TRACKS >= SDP_MAX_MEDIA, "a selector slot for every line");
    struct quality_track tracks[SDP_MAX_MEDIA];
    size_t n = 0;
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct consumer *c = peer->mlines[i].consumer;
        if (!c)
            continue;
        tracks[n++] = (struct quality_track){
            .key = c,
            .p = c->producer,
            .mid = c->mid,
            .video = c->kind == CR_KIND_VIDEO,
            /* probes ride a line that carries video: padding on an idle line (a stage
               line between turns) would reach a receiver that expects nothing */
            .can_probe = c->kind == CR_KIND_VIDEO && c->rtx_pt && c->started && c->producer,
            .max_layers = c->max_layers,
        };
    }
    struct quality_choice choices[LS_MAX_TRACKS];
    struct quality_probe probe;
    size_t m = quality_tick(peer->quality, tracks, n, now_ms, choices, &probe);
    for (int i = 0; i < probe.count; i++)
        consumer_send_padding(probe.via, QUALITY_PROBE_PADDING, probe.id, now_ms * 1000);
    for (size_t i = 0; i < m; i++) {
        struct consumer *c = choices[i].key;
        consumer_pause(c, choices[i].paused, now_ms);
        consumer_set_fec(c, choices[i].fec_k);
        consumer_set_playout(c, choices[i].playout_ms);
        if (!choices[i].paused) {
            consumer_set_target(c, choices[i].layer, now_ms);
            consumer_set_temporal(c, choices[i].temporal);
        }
    }
}

/* Once a second at debug level: what the classroom's link looks like to the relay (the
 * evidence behind its layer choices: docs/benchmarks.md reads these lines). */
static void log_link(struct peer *peer, int64_t now_ms)
{
    if (cr_log_get_level() < CR_LOG_DEBUG || now_ms - peer->last_quality_log_ms < 1000)
        return;
    peer->last_quality_log_ms = now_ms;
    struct bwe_stats bs;
    bwe_get_stats(&peer->quality->bwe, &bs);
    char pair[96];
    cr_ice_describe_pair(peer->ice, pair, sizeof pair);
    CR_DEBUG("link",
             "%llu %s: estimate %lld (delay %lld, loss bound %lld, acked %lld), loss %.1f%% "
             "(avg %.1f%%), rtt %lld ms, chosen %lld, next step %lld, pace %lld, queued %lld B, "
             "paced drops %llu, probes %u/%u, overuses %u",
             (unsigned long long)peer->id, pair, (long long)bs.estimate_bps,
             (long long)bs.delay_bps, (long long)bs.loss_bound_bps, (long long)bs.acked_bps,
             bs.loss * 100, bs.avg_loss * 100, (long long)(bs.rtt_us / 1000),
             (long long)peer->quality->chosen_bps, (long long)peer->quality->next_bps,
             (long long)peer->pacer->st.pace_bps, (long long)peer->pacer->st.queue_bytes,
             (unsigned long long)peer->pacer->st.dropped, bs.probes_ok, bs.probes_sent,
             bs.overuses);
}

/* A WHIP or WHEP client without data channels needs DTLS only for its handshake. Once both
 * ends are surely done with it (its own SRTP or SRTCP shows it has the keys, or no DTLS came
 * for DTLS_QUIET_MS, longer than a client resends a flight whose answer it missed: 1 + 2 +
 * 4 s), the association's memory (about 30 KiB) goes. The cost: no close_notify when the
 * relay closes it (the client notices by consent). */
#define DTLS_QUIET_MS 10000

static void retire_dtls(struct peer *peer, int64_t now_ms)
{
    if (peer->fixed && !peer->data && !peer->dtls_retired && peer->state == CR_PEER_CONNECTED &&
        peer->dtls_in_ms && (peer->srtp_heard || now_ms - peer->dtls_in_ms >= DTLS_QUIET_MS) &&
        !peer->dtls_copies && cr_dtls_retire(peer->dtls)) {
        peer->dtls_retired = true;
        peer->ctx->dtls_retired++;
        CR_DEBUG("peer", "%llu: DTLS state given back", (unsigned long long)peer->id);
    }
}

void peer_tick(struct peer *peer, int64_t now_ms)
{
    CR_LOG_SCOPE(peer->room_name, peer->id, NULL);
    send_copies(peer);
    if (peer->dtls && peer->state != CR_PEER_FAILED) { /* a false start's last flight too */
        int t = cr_dtls_timeout_ms(peer->dtls);
        if (t == 0)
            cr_dtls_on_timeout(peer->dtls);
    }
    retire_dtls(peer, now_ms);
    if (peer->state != CR_PEER_CONNECTED) {
        if (peer->state != CR_PEER_FAILED && now_ms - peer->created_ms > CONNECT_TIMEOUT_MS) {
            CR_WARN("peer", "%llu did not connect within %d s", (unsigned long long)peer->id,
                    CONNECT_TIMEOUT_MS / 1000);
            peer_set_state(peer, CR_PEER_FAILED);
        }
        return;
    }
    bool estimated = peer->quality && quality_drives_layers(peer->quality, twcc_negotiated(peer));
    for (size_t i = 0; i < peer->n_mlines; i++) {
        if (peer->mlines[i].producer) {
            producer_tick(peer->mlines[i].producer, now_ms);
            peer_send_nacks(peer, peer->mlines[i].producer, now_ms);
        }
        if (peer->mlines[i].consumer && !estimated)
            consumer_tick(peer->mlines[i].consumer, now_ms);
        if (peer->mlines[i].consumer)
            consumer_keyframe_retry(peer->mlines[i].consumer, now_ms);
    }
    if (peer->quality) {
        tick_quality(peer, now_ms);
        if (peer->pacer)
            log_link(peer, now_ms);
    }
    if (peer->pacer) {
        set_pace(peer, now_ms * 1000);
        peer_pace(peer, now_ms * 1000);
    }
    if (peer->twcc && now_ms - peer->last_twcc_ms >= TWCC_INTERVAL_MS) {
        peer->last_twcc_ms = now_ms;
        send_twcc(peer);
    }
    if (now_ms - peer->last_report_ms >= REPORT_INTERVAL_MS) {
        peer->last_report_ms = now_ms;
        peer_send_reports(peer, now_ms);
        int64_t estimate = peer->quality ? bwe_estimate(&peer->quality->bwe) : 0;
        if (estimate > 0) /* once a second: what the link to each classroom carries */
            cr_hist_add_on(&peer->ctx->estimate, cr_hist_bounds_bps, estimate);
    }
}
