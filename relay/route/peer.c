/* Peer: transport and packet routing; see peer.h. Negotiation is in negotiate.c, RTCP in
 * peer_rtcp.c. Everything runs on the worker thread. */
#include "peer.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/log.h"
#include "consumer.h"
#include "producer.h"
#include "quality.h"
#include "room.h"
#include "wire/demux.h"
#include "wire/rtp.h"
#include "worker.h"

#define CONNECT_TIMEOUT_MS 30000
#define REPORT_INTERVAL_MS 1000
#define TWCC_INTERVAL_MS 50

void peer_set_state(struct peer *peer, enum cr_peer_state state)
{
    if (peer->state == state)
        return;
    CR_INFO("peer", "%llu %s → %s", (unsigned long long)peer->id, cr_peer_state_name(peer->state),
            cr_peer_state_name(state));
    peer->state = state;
    struct cr_worker *w = peer->worker;
    if (w->events.on_peer_state)
        w->events.on_peer_state(w->events_user, peer->id, state);
}

/* ---- DTLS ---- */

#define DTLS_HELD_MAX 16

static void dtls_send(void *user, const uint8_t *buf, size_t len)
{
    struct peer *peer = user;
    if (cr_ice_send(peer->ice, buf, len) == 0)
        return;
    /* The browser (controlling) sends its ClientHello as soon as its pair is writable,
     * before it nominates; until libnice selects the pair our flight has nowhere to go. */
    if (!peer->dtls_held)
        peer->dtls_held = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    if (peer->dtls_held->len < DTLS_HELD_MAX)
        g_ptr_array_add(peer->dtls_held, g_bytes_new(buf, len));
}

static void flush_dtls_held(struct peer *peer)
{
    if (!peer->dtls_held)
        return;
    for (size_t i = 0; i < peer->dtls_held->len; i++) {
        gsize len;
        const uint8_t *data = g_bytes_get_data(g_ptr_array_index(peer->dtls_held, i), &len);
        cr_ice_send(peer->ice, data, len);
    }
    g_ptr_array_free(peer->dtls_held, TRUE);
    peer->dtls_held = NULL;
}

static void dtls_connected(void *user, const struct cr_dtls_keys *keys)
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
    int64_t now = cr_now_ms();
    for (size_t i = 0; i < peer->n_mlines; i++)
        if (peer->mlines[i].consumer)
            consumer_on_connected(peer->mlines[i].consumer, now);
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

static const struct cr_dtls_callbacks dtls_cb = {
    .send = dtls_send,
    .on_connected = dtls_connected,
    .on_failed = dtls_failed,
    .on_closed = dtls_closed,
};

int peer_start_dtls(struct peer *peer, const char *fp_alg, const char *fp_hex)
{
    peer->dtls =
        cr_dtls_new(peer->worker->cert, peer->dtls_client ? CR_DTLS_CLIENT : CR_DTLS_SERVER, fp_alg,
                    fp_hex, &dtls_cb, peer);
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
    if (state == CR_ICE_CONNECTED)
        flush_dtls_held(peer);
    if (state == CR_ICE_CONNECTED && peer->dtls && peer->dtls_client &&
        peer->state != CR_PEER_CONNECTED) {
        cr_dtls_start(peer->dtls);
    }
}

static void ice_candidate(void *user, const char *candidate)
{
    struct peer *peer = user;
    struct cr_worker *w = peer->worker;
    const char *mid = peer->n_mlines ? peer->mlines[0].mid : "0";
    if (w->events.on_local_candidate)
        w->events.on_local_candidate(w->events_user, peer->id, mid, candidate);
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

static void on_rtp(struct peer *peer, uint8_t *buf, size_t len, int64_t now_ms)
{
    struct cr_worker *w = peer->worker;
    struct rtp_view v;
    if (cr_srtp_unprotect_rtp(peer->srtp, buf, &len) != 0 || rtp_parse(buf, len, &v) != 0) {
        w->stats.bad_packets++;
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
                twcc_recorder_on_packet(peer->twcc, rd_be16(d), cr_now_us());
                break;
            }
        }
    }
    struct route r;
    if (!route(peer, &v, &r)) {
        w->stats.bad_packets++;
        CR_LOG_RATE(CR_LOG_INFO, "peer", "%llu: RTP with unknown SSRC %u pt %u",
                    (unsigned long long)peer->id, v.ssrc, v.payload_type);
        return;
    }
    w->stats.rtp_in++;
    w->stats.bytes_in += len;
    if (r.rtx)
        return; /* retransmissions we did not ask for, or padding probes */
    if (v.payload_type != r.p->pt && (!r.p->red_pt || v.payload_type != r.p->red_pt)) {
        w->stats.bad_packets++;
        return;
    }
    if (r.p->red_pt && v.payload_type == r.p->red_pt)
        w->stats.red_in++;
    producer_on_rtp(r.p, r.layer, buf, len, &v, now_ms);
}

static void ice_recv(void *user, uint8_t *buf, size_t len)
{
    struct peer *peer = user;
    struct cr_worker *w = peer->worker;
    switch (demux_classify(buf, len)) {
    case DEMUX_DTLS:
        if (peer->dtls)
            cr_dtls_input(peer->dtls, buf, len);
        return;
    case DEMUX_RTP:
        if (peer->srtp)
            on_rtp(peer, buf, len, cr_now_ms());
        return;
    case DEMUX_RTCP:
        if (peer->srtp && cr_srtp_unprotect_rtcp(peer->srtp, buf, &len) == 0) {
            w->stats.rtcp_in++;
            peer_on_rtcp(peer, buf, len, cr_now_ms());
            return;
        }
        break;
    default:
        break;
    }
    w->stats.bad_packets++;
    CR_LOG_RATE(CR_LOG_WARN, "peer", "%llu: dropped an unexpected or malformed packet",
                (unsigned long long)peer->id);
}

static const struct cr_ice_callbacks ice_cb = {
    .on_state = ice_state,
    .on_candidate = ice_candidate,
    .on_recv = ice_recv,
};

struct peer *peer_alloc(struct room *room, uint64_t id)
{
    struct peer *peer = CR_NEW(struct peer);
    peer->id = id;
    peer->room = room;
    peer->worker = room->worker;
    peer->created_ms = cr_now_ms();
    peer->rtcp_ssrc = g_random_int();
    return peer;
}

struct peer *peer_new(struct room *room, uint64_t id)
{
    struct peer *peer = peer_alloc(room, id);
    struct cr_relay_config *rc = &room->worker->config;
    struct cr_ice_config ic = {.public_ip = rc->public_ip,
                               .bind_ip = rc->bind_ip,
                               .port_min = rc->port_min,
                               .port_max = rc->port_max,
                               .tcp = rc->ice_tcp};
    peer->ice = cr_ice_new(room->worker->ctx, &ic, &ice_cb, peer);
    if (!peer->ice) {
        free(peer);
        return NULL;
    }
    return peer;
}

void peer_free(struct peer *peer)
{
    if (!peer)
        return;
    if (peer->dtls && peer->state == CR_PEER_CONNECTED)
        cr_dtls_close(peer->dtls);
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct mline *m = &peer->mlines[i];
        consumer_free(m->consumer);
        if (m->producer) {
            room_remove_producer(peer->room, m->producer);
            producer_free(m->producer);
        }
    }
    quality_free(peer->quality);
    cr_ice_free(peer->ice);
    if (peer->dtls_held)
        g_ptr_array_free(peer->dtls_held, TRUE);
    cr_dtls_free(peer->dtls);
    cr_srtp_free(peer->srtp);
    tap_free(peer->tap);
    free(peer->twcc);
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
    struct cr_worker *w = peer->worker;
    if (peer->tap) {
        if (tap_send(peer->tap, buf, len) == 0) {
            w->stats.rtp_out++;
            w->stats.bytes_out += len;
        }
        return;
    }
    if (!peer->srtp || cr_srtp_protect_rtp(peer->srtp, buf, &len) != 0)
        return;
    if (cr_ice_send(peer->ice, buf, len) == 0) {
        w->stats.rtp_out++;
        w->stats.bytes_out += len;
    }
}

void peer_send_rtcp(struct peer *peer, uint8_t *buf, size_t len)
{
    if (!peer->srtp || cr_srtp_protect_rtcp(peer->srtp, buf, &len) != 0)
        return;
    if (cr_ice_send(peer->ice, buf, len) == 0)
        peer->worker->stats.rtcp_out++;
}

/* Transport-wide feedback to a publisher. The media SSRC must be one of the publisher's:
 * libwebrtc drops feedback naming an SSRC it does not send, and its estimate then decays. */
static void send_twcc(struct peer *peer)
{
    uint32_t media_ssrc = 0;
    for (size_t i = 0; i < peer->n_mlines && !media_ssrc; i++)
        for (size_t l = 0; peer->mlines[i].producer && l < peer->mlines[i].producer->n_layers; l++)
            media_ssrc = media_ssrc ? media_ssrc : peer->mlines[i].producer->layers[l].ssrc;
    uint8_t *out = peer->worker->scratch;
    size_t n;
    while ((n = twcc_recorder_build(peer->twcc, out, 1200, peer->rtcp_ssrc, media_ssrc)) > 0)
        peer_send_rtcp(peer, out, n);
}

void peer_tick(struct peer *peer, int64_t now_ms)
{
    if (peer->dtls && peer->state != CR_PEER_CONNECTED && peer->state != CR_PEER_FAILED) {
        int t = cr_dtls_timeout_ms(peer->dtls);
        if (t == 0)
            cr_dtls_on_timeout(peer->dtls);
    }
    if (peer->state != CR_PEER_CONNECTED) {
        if (peer->state != CR_PEER_FAILED && now_ms - peer->created_ms > CONNECT_TIMEOUT_MS) {
            CR_WARN("peer", "%llu did not connect within %d s", (unsigned long long)peer->id,
                    CONNECT_TIMEOUT_MS / 1000);
            peer_set_state(peer, CR_PEER_FAILED);
        }
        return;
    }
    bool estimated = peer->quality && quality_drives_layers(peer);
    for (size_t i = 0; i < peer->n_mlines; i++) {
        if (peer->mlines[i].producer)
            producer_tick(peer->mlines[i].producer, now_ms);
        if (peer->mlines[i].consumer && !estimated)
            consumer_tick(peer->mlines[i].consumer, now_ms);
    }
    if (peer->quality)
        quality_tick(peer, now_ms);
    if (peer->twcc && now_ms - peer->last_twcc_ms >= TWCC_INTERVAL_MS) {
        peer->last_twcc_ms = now_ms;
        send_twcc(peer);
    }
    if (now_ms - peer->last_report_ms >= REPORT_INTERVAL_MS) {
        peer->last_report_ms = now_ms;
        peer_send_reports(peer, now_ms);
    }
}
