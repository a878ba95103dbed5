/* RTCP of one peer: what it receives (RFC 3550 §6.4 SR/RR, RFC 4585 §6.2.1 NACK and
 * §6.3.1 PLI, RFC 5104 §4.3.1 FIR) and what it owes publishers (RR, REMB, and NACKs for what
 * their links lost). Subscribers' keyframe requests are passed to the producer (which throttles
 * them); their NACKs are answered here from the packet store and never reach the teacher. */
#include <string.h>

#include "base/log.h"
#include "route/ctx.h"
#include "route/peer.h"
#include "route/quality.h"
#include "wire/rtcp.h"

#define MAX_NACK_SEQS 256

static struct consumer *consumer_by_ssrc(struct peer *peer, uint32_t ssrc)
{
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct consumer *c = peer->mlines[i].consumer;
        if (c && (c->ssrc == ssrc || c->rtx_ssrc == ssrc))
            return c;
    }
    return NULL;
}

static struct producer *producer_by_ssrc(struct peer *peer, uint32_t ssrc, int *layer)
{
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct producer *p = peer->mlines[i].producer;
        for (size_t l = 0; p && l < p->n_layers; l++) {
            if (p->layers[l].ssrc == ssrc) {
                *layer = (int)l;
                return p;
            }
        }
    }
    return NULL;
}

/* The packets a cascade link's far end asked for, from its source's store as they were
 * first sent (the same sequence numbers: a plain retransmission, route/link.h). */
static void link_resend(struct peer *link, const struct producer_layer *l, const uint16_t *seqs,
                        size_t n, int64_t now_ms)
{
    uint8_t *out = link->ctx->scratch;
    for (size_t i = 0; i < n && l->store; i++) {
        size_t len = 0;
        const uint8_t *pkt = packet_store_get(l->store, seqs[i], now_ms, &len);
        if (!pkt || len + CR_SRTP_MAX_TRAILER > CONSUMER_SCRATCH)
            continue;
        memcpy(out, pkt, len);
        peer_send_rtp(link, out, len);
        link->ctx->stats.nacks_repaired++;
    }
}

/* Feedback on a cascade link: about its source's streams, which it mirrors verbatim. */
static void on_link_feedback(struct peer *link, const struct rtcp_view *v, int64_t now_ms)
{
    struct rtcp_fb fb;
    int layer = 0;
    struct producer *p;
    if (!link->link_of || rtcp_parse_fb(v, &fb) != 0 ||
        !(p = producer_by_ssrc(link->link_of, fb.media_ssrc, &layer)))
        return;
    if (v->type == RTCP_PSFB && (v->count == RTCP_FMT_PLI || v->count == RTCP_FMT_FIR)) {
        link->ctx->stats.keyframe_requests_in++;
        producer_request_keyframe(p, layer, now_ms); /* throttled with everyone else's */
    } else if (v->type == RTCP_RTPFB && v->count == RTCP_FMT_NACK) {
        uint16_t seqs[MAX_NACK_SEQS];
        size_t n = rtcp_nack_seqs(&fb, seqs, MAX_NACK_SEQS);
        link->ctx->stats.link_nacks_in += n;
        link_resend(link, &p->layers[layer], seqs, n, now_ms);
    }
}

static void on_feedback(struct peer *peer, const struct rtcp_view *v, int64_t now_us)
{
    if (peer->is_link) {
        on_link_feedback(peer, v, now_us / 1000);
        return;
    }
    int64_t now_ms = now_us / 1000;
    struct rtcp_fb fb;
    if (rtcp_parse_fb(v, &fb) != 0)
        return;
    struct consumer *c = consumer_by_ssrc(peer, fb.media_ssrc);
    if (v->type == RTCP_PSFB && (v->count == RTCP_FMT_PLI || v->count == RTCP_FMT_FIR)) {
        if (v->count == RTCP_FMT_FIR) {
            uint32_t ssrc;
            uint8_t seqnr;
            if (rtcp_fir_entries(&fb, &ssrc, &seqnr, 1) == 1)
                c = consumer_by_ssrc(peer, ssrc);
        }
        peer->ctx->stats.keyframe_requests_in++;
        if (c && c->producer)
            producer_request_keyframe(c->producer, c->layer >= 0 ? c->layer : c->target, now_ms);
    } else if (v->type == RTCP_RTPFB && v->count == RTCP_FMT_NACK && c) {
        uint16_t seqs[MAX_NACK_SEQS];
        size_t n = rtcp_nack_seqs(&fb, seqs, MAX_NACK_SEQS);
        peer->ctx->stats.nacks_in += n;
        struct consumer_rtx rtx = {
            .budget_bps = peer->quality ? quality_rtx_budget(peer->quality) : 0,
            .rtt_ms = peer->rtt_ms,
            .copies = peer->quality ? quality_rtx_copies(peer->quality) : 1,
        };
        peer->ctx->stats.nacks_repaired += consumer_on_nack(c, seqs, n, &rtx, now_ms, now_us);
    } else if (v->type == RTCP_RTPFB && v->count == RTCP_FMT_TWCC && peer->quality) {
        quality_on_feedback(peer->quality, &fb, now_ms * 1000);
    } else if (v->type == RTCP_PSFB && v->count == RTCP_FMT_AFB && peer->quality) {
        uint64_t bps;
        size_t n_ssrcs;
        uint32_t ssrcs[8];
        if (rtcp_parse_remb(&fb, &bps, ssrcs, 8, &n_ssrcs) == 0) {
            bool covers_audio = n_ssrcs == 0;
            for (size_t i = 0; i < n_ssrcs && i < 8; i++) {
                struct consumer *rc = consumer_by_ssrc(peer, ssrcs[i]);
                covers_audio |= rc && rc->kind == CR_KIND_AUDIO;
            }
            quality_on_remb(peer->quality, bps, covers_audio, now_ms * 1000);
        }
    }
}

/* Report blocks about what we send this client (RFC 3550 §6.4): loss, jitter, RTT. */
static void on_reports(struct peer *peer, const struct rtcp_view *v, int64_t now_ms)
{
    const uint8_t *reports = NULL;
    uint8_t n = 0;
    struct rtcp_rr rr;
    struct rtcp_sr sr;
    if (v->type == RTCP_RR && rtcp_parse_rr(v, &rr) == 0) {
        reports = rr.reports;
        n = rr.n_reports;
    } else if (v->type == RTCP_SR && rtcp_parse_sr(v, &sr) == 0) {
        reports = sr.reports;
        n = sr.n_reports;
    }
    for (int i = 0; i < n; i++) {
        struct rtcp_report_block rb;
        rtcp_report_block_at(reports, i, &rb);
        struct consumer *c = consumer_by_ssrc(peer, rb.ssrc);
        if (c)
            cr_hist_add_on(&peer->ctx->loss, cr_hist_bounds_permille,
                           (int64_t)rb.fraction_lost * 1000 / 256);
        int rtt = c ? consumer_on_report(c, &rb, now_ms) : -1;
        if (rtt >= 0) {
            peer->rtt_ms = peer->rtt_ms ? (peer->rtt_ms * 7 + (uint32_t)rtt) / 8 : (uint32_t)rtt;
            if (peer->quality)
                quality_on_rtt(peer->quality, peer->rtt_ms);
        }
    }
}

/* RFC 3611 §4.5: an RRTR is answered at once (DLRR 0), so that a receive-only browser
 * knows its round trip: its NACK timing and the time its jitter buffer allows for a
 * repair depend on it, and it has no SR of its own to learn it from. */
static void answer_rrtr(struct peer *peer, const struct rtcp_view *v)
{
    uint32_t ssrc;
    uint64_t ntp;
    if (rtcp_parse_xr_rrtr(v, &ssrc, &ntp) != 0)
        return;
    uint8_t *out = peer->ctx->scratch;
    size_t n = rtcp_write_xr_dlrr(out, 64, peer->rtcp_ssrc, ssrc, (uint32_t)(ntp >> 16), 0);
    if (n)
        peer_send_rtcp(peer, out, n);
}

void peer_on_rtcp(struct peer *peer, const uint8_t *buf, size_t len, int64_t now_us)
{
    int64_t now_ms = now_us / 1000;
    size_t pos = 0;
    struct rtcp_view v;
    int r;
    while ((r = rtcp_next(buf, len, &pos, &v)) == 1) {
        if (v.type == RTCP_RR || v.type == RTCP_SR)
            on_reports(peer, &v, now_ms);
        if (v.type == RTCP_SR) {
            struct rtcp_sr sr;
            struct producer *p;
            int layer;
            if (rtcp_parse_sr(&v, &sr) == 0 && (p = producer_by_ssrc(peer, sr.ssrc, &layer))) {
                producer_on_sr(p, layer, sr.ntp, sr.rtp_ts, now_ms);
                peer->listener.on_sr(peer->listener.ud, p, layer, sr.ntp, sr.rtp_ts, now_ms);
            }
        } else if (v.type == RTCP_RTPFB || v.type == RTCP_PSFB) {
            on_feedback(peer, &v, now_us);
        } else if (v.type == RTCP_XR) {
            answer_rrtr(peer, &v);
        }
    }
    if (r < 0) {
        peer->ctx->stats.bad_packets++;
        CR_LOG_RATE(CR_LOG_WARN, "peer", "%llu: malformed RTCP compound",
                    (unsigned long long)peer->id);
    }
}

void peer_send_pli(struct peer *peer, uint32_t media_ssrc)
{
    if (!peer->srtp) { /* no keys yet: asked for again when they come (peer.c, dtls_keys) */
        peer->pli_held = true;
        return;
    }
    uint8_t *out = peer->ctx->scratch;
    size_t n = rtcp_write_pli(out, 64, peer->rtcp_ssrc, media_ssrc);
    if (n)
        peer_send_rtcp(peer, out, n);
}

void peer_send_nacks(struct peer *peer, struct producer *p, int64_t now_ms)
{
    for (size_t i = 0; i < p->n_layers; i++) {
        struct producer_layer *l = &p->layers[i];
        if (!l->nack || !l->nack->n || !l->ssrc)
            continue;
        uint16_t seqs[NACK_LIST_MAX];
        size_t n = nack_list_due(l->nack, now_ms, peer->rtt_ms, seqs, NACK_LIST_MAX);
        uint8_t *out = peer->ctx->scratch;
        size_t len = n ? rtcp_write_nack(out, 1200, peer->rtcp_ssrc, l->ssrc, seqs, n) : 0;
        if (!len)
            continue;
        peer_send_rtcp(peer, out, len);
        peer->ctx->stats.nacks_out += n;
    }
}

/* Opus in-band FEC (RFC 6716 §2.1.7) is added by the publisher's encoder in proportion to
 * the loss its receiver reports show, but it is the classrooms' links that lose: the
 * fraction lost we report for an audio track is the worst of the relay's own and that of
 * its subscribers that take plain Opus (those that take RED are covered by the relay's
 * redundancy, consumer_red.c). Only the fraction is raised, not the cumulative count the
 * publisher's bandwidth estimate reads (libwebrtc uses the fraction for the Opus encoder). */
static uint8_t audio_fraction_lost(struct peer *peer, const struct producer *p, uint8_t own)
{
    uint8_t theirs = peer->listener.subscriber_loss(peer->listener.ud, p);
    return theirs > own ? theirs : own;
}

/* Receiver reports for what this peer publishes, with a REMB cap when it takes REMB. */
void peer_send_reports(struct peer *peer, int64_t now_ms)
{
    struct rtcp_report_block blocks[31]; /* RFC 3550 §6.4.2: at most 31 blocks */
    uint32_t ssrcs[31];
    int n = 0;
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct producer *p = peer->mlines[i].producer;
        for (size_t l = 0; p && l < p->n_layers && n < 31; l++) {
            if (!p->layers[l].ssrc)
                continue;
            recv_stats_report(&p->layers[l].stats, now_ms, &blocks[n]);
            if (p->kind == CR_KIND_AUDIO)
                blocks[n].fraction_lost = audio_fraction_lost(peer, p, blocks[n].fraction_lost);
            ssrcs[n++] = p->layers[l].ssrc;
        }
    }
    if (n == 0)
        return;
    uint8_t *out = peer->ctx->scratch;
    size_t len = rtcp_write_rr(out, 1000, peer->rtcp_ssrc, blocks, n);
    if (len && peer->remb)
        len +=
            rtcp_write_remb(out + len, 1000 - len, peer->rtcp_ssrc,
                            (uint64_t)peer->ctx->config->max_publish_kbps * 1000, ssrcs, (size_t)n);
    if (len)
        peer_send_rtcp(peer, out, len);
}
