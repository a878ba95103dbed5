/* SDP offer/answer for one peer (RFC 8829 JSEP answerer; RFC 8843 BUNDLE; RFC 5761
 * rtcp-mux; RFC 5764 DTLS-SRTP with RFC 4145 setup roles; RFC 8285 extmap; RFC 8841 for
 * the data channel line, one per transport, carried by peer_data.c). The client
 * always offers; we answer.
 *
 * Two passes: plan() reads the whole offer and decides every m-line without touching the
 * peer, so a bad offer is refused with a clear reason and changes nothing; apply() then
 * creates, rebinds or closes producers and consumers and writes the answer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "media/pacer.h"
#include "route/ctx.h"
#include "route/peer.h"
#include "route/quality.h"
#include "wire/codec.h"
#include "wire/rtp.h"
#include "wire/sdp.h"

#define MAX_OFFER_BYTES (64 * 1024)
#define EXT_CVO "urn:3gpp:video-orientation"

/* The decision for one m-line. */
struct line_plan {
    const struct sdp_session *session;
    size_t index; /* of m in session */
    const struct sdp_media *m;
    enum mline_role role;
    enum cr_kind kind;
    const struct sdp_codec *codec, *rtx;
    const struct sdp_codec *red;           /* audio: RED over the chosen Opus, when offered */
    const struct sdp_codec *vred, *ulpfec; /* video we send: RED and ULPFEC (RFC 5109), when
                                              offered together (the relay's FEC) */
    enum codec_id codec_id;
    struct producer *source;            /* SEND lines: the producer to feed it (NULL: inactive) */
    const char *hint_source;            /* RECV lines: the hinted source name */
    char rids[PRODUCER_MAX_LAYERS][16]; /* RECV lines: simulcast layers (RFC 8853) */
    size_t n_rids;
    const struct cr_mline_hint *hint;
    bool follow; /* SEND lines: hint->follow, fed later by the control plane */
};

static void fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* The line's own hint, else the hint for every line (mid "*"), else none. */
static const struct cr_mline_hint *find_hint(struct sdp_str mid, const struct cr_mline_hint *hints,
                                             size_t n)
{
    const struct cr_mline_hint *every = NULL;
    for (size_t i = 0; i < n; i++) {
        if (sdp_str_eq(mid, hints[i].mid))
            return &hints[i];
        if (strcmp(hints[i].mid, "*") == 0)
            every = &hints[i];
    }
    return every;
}

static bool h264_mode1(const struct sdp_codec *c)
{
    struct sdp_str pm = sdp_fmtp_get(c->fmtp, "packetization-mode");
    return sdp_str_eq(pm, "1");
}

/* Usable codecs: opus for audio; VP8 and H.264 (packetization-mode 1) for video. */
static bool usable(const struct sdp_codec *c, enum cr_kind kind, enum codec_id *id)
{
    *id = codec_from_name(c->name.p, c->name.len);
    if (kind == CR_KIND_AUDIO)
        return *id == CODEC_OPUS;
    return *id == CODEC_VP8 || (*id == CODEC_H264 && h264_mode1(c));
}

static const struct sdp_codec *rtx_for(const struct sdp_media *m, uint8_t pt)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].apt == pt && sdp_str_ieq(m->codecs[i].name, "rtx"))
            return &m->codecs[i];
    return NULL;
}

/* RFC 2198 §5 with the JSEP usage (RFC 8829 §5.1.3): "red/48000/2" whose fmtp lists
 * only the Opus payload type, e.g. "111/111" (Chromium offers one RED for Opus). */
static const struct sdp_codec *red_for(const struct sdp_media *m, uint8_t opus_pt)
{
    for (size_t i = 0; i < m->n_codecs; i++) {
        const struct sdp_codec *c = &m->codecs[i];
        if (!sdp_str_ieq(c->name, "red") || c->clock_rate != 48000 || !c->fmtp.len)
            continue;
        bool only_opus = true;
        const char *p = c->fmtp.p, *end = c->fmtp.p + c->fmtp.len;
        while (p < end && only_opus) {
            unsigned pt = 0;
            size_t digits = 0;
            for (; p < end && *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
                pt = pt * 10 + (unsigned)(*p - '0');
            only_opus = digits && pt == opus_pt && (p == end || *p == '/');
            if (p < end)
                p++;
        }
        if (only_opus)
            return c;
    }
    return NULL;
}

/* The offer's codec named name at 90 kHz, NULL if none. */
static const struct sdp_codec *video_codec_named(const struct sdp_media *m, const char *name)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (sdp_str_ieq(m->codecs[i].name, name) && m->codecs[i].clock_rate == 90000)
            return &m->codecs[i];
    return NULL;
}

/* Whether video FEC may be sent (the relay's fec setting; on without a configuration, as
 * in the unit tests). red/ulpfec are answered only then: Chromium's jitter buffer stops
 * waiting a round trip for NACK repairs once a stream is FEC-protected, so a classroom that
 * negotiated FEC but gets none freezes on every loss (docs/benchmarks.md). */
static bool fec_allowed(const struct peer *peer)
{
    return !peer->ctx->config || peer->ctx->config->fec;
}

/* Picks the codec for a line: for a SEND line the one matching its producer (an exact
 * H.264 profile-level-id first), otherwise the offerer's first usable one; with video FEC
 * allowed, RED and ULPFEC too. */
static bool choose_codec(struct line_plan *lp, bool fec_allowed)
{
    const struct sdp_media *m = lp->m;
    const struct producer *p = lp->source;
    const struct sdp_codec *best = NULL;
    /* an idle line that will follow someone: the codec its tracks will have (by default
     * VP8, what the pages publish), where offered */
    enum codec_id want = CODEC_VP8;
    if (lp->hint && lp->hint->codec[0])
        want = codec_from_name(lp->hint->codec, strlen(lp->hint->codec));
    bool idle_follow = !p && lp->follow && lp->kind == CR_KIND_VIDEO;
    for (size_t i = 0; idle_follow && !best && i < m->n_codecs; i++) {
        enum codec_id id;
        if (usable(&m->codecs[i], lp->kind, &id) && id == want)
            best = &m->codecs[i];
    }
    for (size_t i = 0; !best && i < m->n_codecs; i++) {
        const struct sdp_codec *c = &m->codecs[i];
        enum codec_id id;
        if (!usable(c, lp->kind, &id) || (p && id != p->codec))
            continue;
        if (p && id == CODEC_H264) {
            struct sdp_str want =
                sdp_fmtp_get((struct sdp_str){p->fmtp, strlen(p->fmtp)}, "profile-level-id");
            struct sdp_str have = sdp_fmtp_get(c->fmtp, "profile-level-id");
            if (want.len && have.len == want.len && strncasecmp(want.p, have.p, want.len) == 0) {
                best = c;
                break;
            }
        }
        if (!best)
            best = c;
        if (!p || id != CODEC_H264)
            break;
    }
    if (!best)
        return false;
    lp->codec = best;
    lp->codec_id = codec_from_name(best->name.p, best->name.len);
    lp->rtx = lp->kind == CR_KIND_VIDEO ? rtx_for(m, best->pt) : NULL;
    lp->red = lp->kind == CR_KIND_AUDIO ? red_for(m, best->pt) : NULL;
    bool fec = fec_allowed && lp->kind == CR_KIND_VIDEO && lp->role == MLINE_SEND;
    lp->vred = fec ? video_codec_named(m, "red") : NULL;
    lp->ulpfec = fec ? video_codec_named(m, "ulpfec") : NULL;
    if (!lp->vred || !lp->ulpfec)
        lp->vred = lp->ulpfec = NULL;
    return true;
}

static bool bound_elsewhere(struct peer *peer, struct producer *p, size_t except)
{
    for (size_t i = 0; i < peer->n_mlines; i++) {
        struct consumer *c = peer->mlines[i].consumer;
        if (i != except && c && c->producer == p)
            return true;
    }
    return false;
}

/* Chooses the producer for a line the client receives on: the hinted one, else the one
 * already feeding it, else the first of the room of the same kind not yet taken. */
static struct producer *pick_source(struct peer *peer, size_t idx, enum cr_kind kind,
                                    const struct cr_mline_hint *hint, struct line_plan *plans,
                                    size_t n_plans)
{
    const struct peer_listener *room = &peer->listener;
    if (hint && hint->track_id) {
        struct producer *p = room->find_producer(room->ud, hint->track_id);
        return p && p->kind == kind ? p : NULL;
    }
    if (idx < peer->n_mlines && peer->mlines[idx].consumer && peer->mlines[idx].consumer->producer)
        return peer->mlines[idx].consumer->producer;
    struct producer *p;
    for (size_t i = 0; (p = room->producer_at(room->ud, i)); i++) {
        if (p->kind != kind || p->peer_id == peer->id || bound_elsewhere(peer, p, idx))
            continue;
        bool planned = false;
        for (size_t j = 0; j < n_plans; j++)
            planned |= plans[j].source == p;
        if (!planned)
            return p;
    }
    return NULL;
}

/* A line the control plane feeds keeps what it was fed across a renegotiation. */
static struct producer *followed(struct peer *peer, size_t idx)
{
    const struct mline *ml = idx < peer->n_mlines ? &peer->mlines[idx] : NULL;
    return ml && ml->follow && ml->consumer ? ml->consumer->producer : NULL;
}

/* RFC 8853: a video line the client sends with a=simulcast:send and rids becomes a track
 * of up to three layers, in a=rid order (the first three; more are not taken). */
static void plan_simulcast(struct line_plan *lp)
{
    const struct sdp_media *m = lp->m;
    lp->n_rids = 0;
    if (lp->kind != CR_KIND_VIDEO || !m->simulcast.len)
        return;
    for (size_t i = 0; i < m->n_rids && lp->n_rids < PRODUCER_MAX_LAYERS; i++)
        if (m->rids[i].send && m->rids[i].id.len && m->rids[i].id.len < 16)
            sdp_str_copy(m->rids[i].id, lp->rids[lp->n_rids++], 16);
    if (lp->n_rids < 2)
        lp->n_rids = 0;
}

/* RFC 8841 §4: the data channel line, "m=application <port> UDP/DTLS/SCTP
 * webrtc-datachannel" (TCP/DTLS/SCTP when ICE runs over TCP: one transport for all); or
 * its older form (draft-ietf-mmusic-sctp-sdp-05, aiortc): "DTLS/SCTP <sctp port>" with
 * a=sctpmap:<sctp port> webrtc-datachannel. */
static bool is_data_line(const struct sdp_media *m)
{
    if (!sdp_str_eq(m->type, "application"))
        return false;
    if (m->sctpmap)
        return sdp_str_eq(m->proto, "DTLS/SCTP");
    return sdp_str_eq(m->fmts, "webrtc-datachannel") &&
           (sdp_str_eq(m->proto, "UDP/DTLS/SCTP") || sdp_str_eq(m->proto, "TCP/DTLS/SCTP"));
}

/* One SCTP association per transport: a second data channel line is rejected. */
static bool data_line_taken(const struct line_plan *plans, size_t before)
{
    for (size_t k = 0; k < before; k++)
        if (plans[k].role == MLINE_DATA)
            return true;
    return false;
}

static int plan_line(struct peer *peer, size_t i, const struct sdp_session *s,
                     struct line_plan *plans, const struct cr_mline_hint *hints, size_t n_hints,
                     char *err, size_t err_len)
{
    const struct sdp_media *m = &s->media[i];
    struct line_plan *lp = &plans[i];
    char mid[CR_MID_MAX];
    sdp_str_copy(m->mid, mid, sizeof mid);
    lp->session = s;
    lp->index = i;
    lp->m = m;
    lp->role = MLINE_REJECTED;
    if (m->mid.len == 0 || m->mid.len >= CR_MID_MAX) {
        fail(err, err_len, "m-line %zu: a=mid is required (at most 31 characters)", i);
        return CR_ERR_BAD_SDP;
    }
    if (i < peer->n_mlines && strcmp(peer->mlines[i].mid, mid) != 0) {
        fail(err, err_len, "m-line with mid %s is where mid %s was: m-lines cannot be reordered",
             mid, peer->mlines[i].mid);
        return CR_ERR_BAD_SDP;
    }
    bool audio = sdp_str_eq(m->type, "audio"), video = sdp_str_eq(m->type, "video");
    bool rtp = m->proto.len >= 3 && memmem(m->proto.p, m->proto.len, "RTP", 3);
    if (m->port == 0 && !m->bundle_only)
        return CR_OK; /* rejected by the client */
    if (is_data_line(m)) {
        lp->role = data_line_taken(plans, i) ? MLINE_REJECTED : MLINE_DATA;
        return CR_OK;
    }
    if (!(audio || video) || !rtp)
        return CR_OK; /* rejected: media that is not RTP audio or video */
    if (!m->rtcp_mux) {
        fail(err, err_len, "m-line mid %s: rtcp-mux is required", mid);
        return CR_ERR_BAD_SDP;
    }
    lp->kind = audio ? CR_KIND_AUDIO : CR_KIND_VIDEO;
    lp->hint = find_hint(m->mid, hints, n_hints);
    if (m->dir == SDP_SENDONLY || m->dir == SDP_SENDRECV) {
        lp->role = MLINE_RECV;
        lp->hint_source = lp->hint && lp->hint->source[0] ? lp->hint->source : NULL;
        plan_simulcast(lp);
    } else if (m->dir == SDP_RECVONLY) {
        lp->role = MLINE_SEND;
        lp->follow = lp->hint && lp->hint->follow;
        lp->source = lp->follow && !lp->hint->track_id
                         ? followed(peer, i)
                         : pick_source(peer, i, lp->kind, lp->hint, plans, i);
    } else {
        lp->role = MLINE_IDLE;
    }
    if (!choose_codec(lp, fec_allowed(peer))) {
        if (lp->source) { /* the subscriber cannot decode this track: leave the line idle */
            CR_WARN("peer", "%llu mid %s: no codec in common with track %llu",
                    (unsigned long long)peer->id, mid, (unsigned long long)lp->source->id);
            lp->source = NULL;
            if (choose_codec(lp, false))
                return CR_OK;
        }
        fail(err, err_len, "m-line mid %s: no supported codec (we take %s)", mid,
             audio ? "opus" : "VP8 or H264 with packetization-mode=1");
        return CR_ERR_BAD_SDP;
    }
    return CR_OK;
}

static int check_transport(struct peer *peer, const struct sdp_session *s, char *err,
                           size_t err_len)
{
    size_t accepted = 0;
    const struct sdp_media *first = NULL;
    for (size_t i = 0; i < s->n_media; i++) {
        if (s->media[i].port == 0 && !s->media[i].bundle_only)
            continue;
        accepted++;
        if (!first)
            first = &s->media[i];
    }
    if (!first) {
        fail(err, err_len, "the offer has no usable m-line");
        return CR_ERR_BAD_SDP;
    }
    if (accepted > 1 && s->n_bundle == 0) {
        fail(err, err_len, "BUNDLE is required (a=group:BUNDLE)");
        return CR_ERR_BAD_SDP;
    }
    if (!first->ice_ufrag.len || !first->ice_pwd.len || first->ice_ufrag.len > 256 ||
        first->ice_pwd.len > 256) {
        fail(err, err_len, "missing or oversized ice-ufrag/ice-pwd");
        return CR_ERR_BAD_SDP;
    }
    if (!first->fingerprint.len || !first->fingerprint_alg.len || first->fingerprint.len > 200) {
        fail(err, err_len, "missing DTLS fingerprint (a=fingerprint)");
        return CR_ERR_BAD_SDP;
    }
    return CR_OK;
}

/* Creates DTLS on the first offer, sets ICE credentials and candidates. */
int peer_apply_transport(struct peer *peer, const struct sdp_session *s, char *err, size_t err_len)
{
    const struct sdp_media *first = NULL;
    for (size_t i = 0; i < s->n_media && !first; i++)
        if (s->media[i].port != 0 || s->media[i].bundle_only)
            first = &s->media[i];
    char ufrag[257], pwd[257], alg[32], fp[201];
    sdp_str_copy(first->ice_ufrag, ufrag, sizeof ufrag);
    sdp_str_copy(first->ice_pwd, pwd, sizeof pwd);
    sdp_str_copy(first->fingerprint_alg, alg, sizeof alg);
    sdp_str_copy(first->fingerprint, fp, sizeof fp);
    if (!peer->dtls) {
        /* RFC 5763 §5: an answer to actpass should be active. As the DTLS client every lost
         * flight is resent on our timer: the browser (BoringSSL) resends its own only when
         * its timer fires, about 2 × the ICE round trip; as the server we waited on it twice
         * (its ClientHello and its second flight) */
        peer->dtls_client =
            sdp_str_eq(first->setup, "passive") || sdp_str_eq(first->setup, "actpass");
        if (peer_start_dtls(peer, alg, fp) != 0) {
            fail(err, err_len, "unusable DTLS fingerprint %s %s", alg, fp);
            return CR_ERR_BAD_SDP;
        }
    }
    if (cr_ice_set_remote_credentials(peer->ice, ufrag, pwd) != 0) {
        fail(err, err_len, "ICE refused the remote credentials");
        return CR_ERR_INTERNAL;
    }
    for (size_t i = 0; i < s->n_media; i++) {
        const struct sdp_media *m = &s->media[i];
        for (size_t c = 0; c < m->n_candidates; c++) {
            char cand[512];
            sdp_str_copy(m->candidates[c], cand, sizeof cand);
            cr_ice_add_remote_candidate(peer->ice, cand);
        }
        if (m->end_of_candidates)
            cr_ice_remote_gathering_done(peer->ice);
    }
    return CR_OK;
}

/* The id of extension uri on this line. In one BUNDLE transport an id names one
 * extension (RFC 8843 §9.2, RFC 8285 §6); an offer that reuses an id for two URIs on
 * different lines (aiortc does) gets the extension refused on the later line. */
static uint8_t ext_id(const struct line_plan *lp, const char *uri)
{
    uint8_t id = sdp_ext_id(lp->m, uri);
    for (size_t i = 0; id && i < lp->index; i++) {
        const struct sdp_media *o = &lp->session->media[i];
        for (size_t e = 0; e < o->n_exts; e++)
            if (o->exts[e].id == id && !sdp_str_eq(o->exts[e].uri, uri))
                return 0;
    }
    return id;
}

static void set_consumer_params(struct consumer *c, const struct line_plan *lp)
{
    c->pt = lp->codec->pt;
    c->codec = lp->codec_id;
    c->rtx_pt = lp->rtx ? lp->rtx->pt : 0;
    c->copy_first = lp->kind == CR_KIND_VIDEO && c->rtx_pt ? CONSUMER_COPY_PACKET : 0;
    consumer_set_red(c, lp->red ? lp->red->pt : 0);
    consumer_set_fec_types(c, lp->vred ? lp->vred->pt : 0, lp->ulpfec ? lp->ulpfec->pt : 0);
    c->ext.mid = ext_id(lp, RTP_EXT_MID);
    c->ext.abs_send_time = ext_id(lp, RTP_EXT_ABS_SEND_TIME);
    c->ext.twcc = ext_id(lp, RTP_EXT_TWCC);
    c->ext.level = lp->kind == CR_KIND_AUDIO ? ext_id(lp, RTP_EXT_AUDIO_LEVEL) : 0;
    c->ext.cvo = lp->kind == CR_KIND_VIDEO ? ext_id(lp, EXT_CVO) : 0;
    c->ext.playout = lp->kind == CR_KIND_VIDEO ? ext_id(lp, RTP_EXT_PLAYOUT_DELAY) : 0;
}

static void set_producer_params(struct producer *p, const struct line_plan *lp)
{
    const struct sdp_media *m = lp->m;
    p->codec = lp->codec_id;
    p->pt = lp->codec->pt;
    p->rtx_pt = lp->rtx ? lp->rtx->pt : 0;
    p->red_pt = lp->red ? lp->red->pt : 0;
    p->clock_rate = lp->codec->clock_rate ? lp->codec->clock_rate : 90000;
    p->channels = lp->codec->channels;
    sdp_str_copy(lp->codec->fmtp, p->fmtp, sizeof p->fmtp);
    p->ext_level = lp->kind == CR_KIND_AUDIO ? ext_id(lp, RTP_EXT_AUDIO_LEVEL) : 0;
    p->ext_cvo = lp->kind == CR_KIND_VIDEO ? ext_id(lp, EXT_CVO) : 0;
    if (lp->n_rids) {
        const char *rids[PRODUCER_MAX_LAYERS];
        for (size_t i = 0; i < lp->n_rids; i++)
            rids[i] = lp->rids[i];
        producer_set_layers(p, rids, lp->n_rids); /* SSRCs come with the first packets, */
        if (m->n_sim_ssrcs == lp->n_rids)         /* unless a relay's mirror names them */
            for (size_t i = 0; i < lp->n_rids; i++)
                p->layers[i].ssrc = p->layers[i].stats.ssrc = m->sim_ssrcs[i];
        return;
    }
    struct producer_layer *l = &p->layers[0];
    if (m->fid_ssrcs[0]) {
        l->ssrc = m->fid_ssrcs[0];
        l->rtx_ssrc = m->fid_ssrcs[1];
    } else if (m->n_ssrcs && !l->ssrc) {
        l->ssrc = m->ssrcs[0].ssrc;
    }
    l->stats.ssrc = l->ssrc;
}

static const char *default_source(struct peer *peer, enum cr_kind kind)
{
    if (kind == CR_KIND_AUDIO)
        return "mic";
    for (size_t i = 0; i < peer->n_mlines; i++)
        if (peer->mlines[i].producer && peer->mlines[i].producer->kind == CR_KIND_VIDEO)
            return "screen";
    return "camera";
}

/* Brings m-line i of the peer in line with its plan; returns true if tracks changed. */
static bool apply_line(struct peer *peer, size_t i, const struct line_plan *lp, int64_t now)
{
    struct mline *ml = &peer->mlines[i];
    bool changed = false;
    if (i >= peer->n_mlines) {
        memset(ml, 0, sizeof *ml);
        sdp_str_copy(lp->m->mid, ml->mid, sizeof ml->mid);
        peer->n_mlines = i + 1;
    }
    if (ml->producer && lp->role != MLINE_RECV) {
        peer_drop_producer(peer, ml);
        changed = true;
    }
    if (ml->consumer && lp->role != MLINE_SEND)
        peer_drop_consumer(peer, ml);
    ml->role = lp->role;
    ml->kind = lp->kind;
    ml->follow = lp->follow;
    if (lp->role == MLINE_DATA) {
        peer_data_want(peer, lp->m->sctp_port);
        return changed;
    }
    ml->ext_mid = ext_id(lp, RTP_EXT_MID);
    ml->ext_twcc = ext_id(lp, RTP_EXT_TWCC);
    ml->ext_rid = lp->n_rids ? ext_id(lp, RTP_EXT_RID) : 0;
    ml->ext_rrid = lp->n_rids ? ext_id(lp, RTP_EXT_RRID) : 0;
    if (lp->role == MLINE_RECV) {
        if (!ml->producer) {
            const char *src = lp->hint_source ? lp->hint_source : default_source(peer, lp->kind);
            ml->producer = peer_new_producer(peer, lp->kind, src, ml->mid);
            changed = true;
        }
        set_producer_params(ml->producer, lp);
        if (ml->ext_twcc && !peer->twcc) {
            peer->twcc = cr_malloc(sizeof *peer->twcc);
            twcc_recorder_init(peer->twcc);
        }
        if (lp->kind == CR_KIND_VIDEO && (lp->codec->fb & SDP_FB_GOOG_REMB))
            peer->remb = true;
    } else if (lp->role == MLINE_SEND) {
        if (!ml->consumer)
            ml->consumer = peer_new_consumer(peer, lp->kind, ml->mid);
        if (!peer->quality) {
            peer->quality = quality_new();
            peer->quality->bwe.log_id = peer->id;
            peer->quality->fec_allowed = fec_allowed(peer);
            peer->pacer = cr_malloc(sizeof *peer->pacer);
            pacer_init(peer->pacer, PACER_UNPACED_BPS, CR_SRTP_MAX_TRAILER);
        }
        set_consumer_params(ml->consumer, lp);
        peer->listener.bind(peer->listener.ud, ml->consumer, lp->source, now);
    }
    return changed;
}

/* What the caller learns of m-line i once it is applied. */
static void report_line(const struct peer *peer, size_t i, const struct line_plan *lp,
                        struct cr_offer_line *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->mid, sizeof out->mid, "%s", peer->mlines[i].mid);
    out->kind = lp->kind;
    out->rejected = lp->role == MLINE_REJECTED;
    out->client_sends = lp->role == MLINE_RECV;
    out->client_receives = lp->role == MLINE_SEND;
    out->data = lp->role == MLINE_DATA;
    if (lp->codec && (out->client_sends || out->client_receives))
        snprintf(out->codec, sizeof out->codec, "%s", codec_name(lp->codec_id));
    const struct producer *p = lp->role == MLINE_RECV ? peer->mlines[i].producer : lp->source;
    if (p && (out->client_sends || out->client_receives)) {
        out->track_id = p->id;
        snprintf(out->source, sizeof out->source, "%s", p->source);
    }
}

/* An endpoint with one purpose refuses an offer that does not serve it, before anything
 * else is read of it: counted over the media m-lines with a=mid that are not rejected
 * (port 0 without a=bundle-only, RFC 8843 §6). */
static int check_demand(const struct sdp_session *s, enum cr_offer_demand demand, char *err,
                        size_t err_len)
{
    size_t sending = 0, receiving = 0;
    for (size_t i = 0; i < s->n_media; i++) {
        const struct sdp_media *m = &s->media[i];
        bool media = sdp_str_eq(m->type, "audio") || sdp_str_eq(m->type, "video");
        if (m->mid.len == 0 || (m->port == 0 && !m->bundle_only) || !media)
            continue; /* a data channel, or what we reject, carries no media either way */
        sending += m->dir == SDP_SENDRECV || m->dir == SDP_SENDONLY;
        receiving += m->dir == SDP_RECVONLY;
    }
    if (demand == CR_DEMAND_SENDS && sending == 0) {
        fail(err, err_len,
             "a WHIP offer must send media (sendonly or sendrecv m-lines with a=mid)");
        return CR_ERR_BAD_SDP;
    }
    if (demand == CR_DEMAND_RECEIVES_ONLY && (sending > 0 || receiving == 0)) {
        fail(err, err_len,
             "a WHEP offer must be recvonly: it must only receive (recvonly m-lines with a=mid, "
             "at least one)");
        return CR_ERR_BAD_SDP;
    }
    return CR_OK;
}

/* ---- the answer ---- */

/* RFC 7587 §6.1: Opus parameters as offered (stereo, sprop-stereo, usedtx, minptime,
 * maxaveragebitrate, ...) with useinbandfec=1: toward a publisher it asks its encoder for
 * in-band FEC (which the encoder adds when receiver reports show loss, see peer_rtcp.c);
 * toward a subscriber it says the stream may carry FEC for its decoder to use. */
static void opus_fmtp(struct sdp_str offered, char *out, size_t cap)
{
    struct strbuf b;
    strbuf_init(&b);
    /* an absent fmtp has p == NULL: NULL + 0 is undefined in C, so no end pointer then */
    const char *p = offered.p, *end = offered.p ? offered.p + offered.len : offered.p;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        while (p < stop && *p == ' ')
            p++;
        size_t len = (size_t)(stop - p);
        if (len && !(len >= 12 && strncasecmp(p, "useinbandfec", 12) == 0))
            strbuf_printf(&b, "%.*s;", (int)len, p);
        p = stop + (semi != NULL);
    }
    strbuf_puts(&b, "useinbandfec=1");
    char *text = strbuf_take(&b);
    snprintf(out, cap, "%s", text);
    free(text);
}

static void write_codec(struct strbuf *b, const struct sdp_codec *c, uint32_t fb_mask)
{
    char name[32];
    sdp_str_copy(c->name, name, sizeof name);
    strbuf_printf(b, "a=rtpmap:%u %s/%u", c->pt, name, c->clock_rate);
    if (c->channels)
        strbuf_printf(b, "/%u", c->channels);
    strbuf_puts(b, "\r\n");
    uint32_t fb = c->fb & fb_mask;
    if (fb & SDP_FB_GOOG_REMB)
        strbuf_printf(b, "a=rtcp-fb:%u goog-remb\r\n", c->pt);
    if (fb & SDP_FB_TRANSPORT_CC)
        strbuf_printf(b, "a=rtcp-fb:%u transport-cc\r\n", c->pt);
    if (fb & SDP_FB_CCM_FIR)
        strbuf_printf(b, "a=rtcp-fb:%u ccm fir\r\n", c->pt);
    if (fb & SDP_FB_NACK)
        strbuf_printf(b, "a=rtcp-fb:%u nack\r\n", c->pt);
    if (fb & SDP_FB_NACK_PLI)
        strbuf_printf(b, "a=rtcp-fb:%u nack pli\r\n", c->pt);
    char fmtp[256];
    if (codec_from_name(c->name.p, c->name.len) == CODEC_OPUS)
        opus_fmtp(c->fmtp, fmtp, sizeof fmtp);
    else
        sdp_str_copy(c->fmtp, fmtp, sizeof fmtp);
    if (fmtp[0])
        strbuf_printf(b, "a=fmtp:%u %s\r\n", c->pt, fmtp);
}

static void write_exts(struct strbuf *b, const struct line_plan *lp)
{
    bool audio = lp->kind == CR_KIND_AUDIO;
    bool send = lp->role == MLINE_SEND;
    const char *uris[] = {RTP_EXT_MID, RTP_EXT_TWCC, audio ? RTP_EXT_AUDIO_LEVEL : EXT_CVO,
                          send ? RTP_EXT_ABS_SEND_TIME : NULL,
                          send && !audio ? RTP_EXT_PLAYOUT_DELAY : NULL};
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        uint8_t id = uris[i] ? ext_id(lp, uris[i]) : 0;
        if (id)
            strbuf_printf(b, "a=extmap:%u %s\r\n", id, uris[i]);
    }
    const char *simulcast_uris[] = {RTP_EXT_RID, RTP_EXT_RRID};
    for (size_t i = 0; i < 2 && lp->n_rids; i++) {
        uint8_t id = ext_id(lp, simulcast_uris[i]);
        if (id)
            strbuf_printf(b, "a=extmap:%u %s\r\n", id, simulcast_uris[i]);
    }
}

/* RFC 8830 msid and RFC 5576 ssrc lines of what we send on a line: named after its track,
 * or, for a line the control plane feeds, after the line (its track changes, the
 * receiver's track stays). */
static void write_ssrcs(struct strbuf *b, const struct peer *peer, const struct consumer *c,
                        const struct producer *p, bool follow)
{
    char stream[48], track[48];
    if (follow) {
        snprintf(stream, sizeof stream, "cr-follow-%llu", (unsigned long long)peer->id);
        snprintf(track, sizeof track, "cr-follow-%llu-%s", (unsigned long long)peer->id, c->mid);
    } else {
        snprintf(stream, sizeof stream, "cr-%llu", (unsigned long long)p->peer_id);
        snprintf(track, sizeof track, "cr-track-%llu", (unsigned long long)p->id);
    }
    strbuf_printf(b, "a=msid:%s %s\r\n", stream, track);
    if (c->rtx_pt)
        strbuf_printf(b, "a=ssrc-group:FID %u %u\r\n", c->ssrc, c->rtx_ssrc);
    strbuf_printf(b, "a=ssrc:%u cname:classrelay\r\na=ssrc:%u msid:%s %s\r\n", c->ssrc, c->ssrc,
                  stream, track);
    if (c->rtx_pt)
        strbuf_printf(b, "a=ssrc:%u cname:classrelay\r\na=ssrc:%u msid:%s %s\r\n", c->rtx_ssrc,
                      c->rtx_ssrc, stream, track);
}

/* The transport lines every accepted m-line carries (RFC 8829 §5.3.1). */
static void write_transport(struct strbuf *b, struct peer *peer, const char *mid)
{
    strbuf_printf(b,
                  "c=IN IP4 0.0.0.0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                  "a=ice-options:trickle\r\na=fingerprint:%s\r\na=setup:%s\r\na=mid:%s\r\n",
                  cr_ice_local_ufrag(peer->ice), cr_ice_local_pwd(peer->ice),
                  cr_dtls_cert_fingerprint(peer->ctx->cert),
                  peer->dtls_client ? "active" : "passive", mid);
}

static void write_candidates(struct strbuf *b, struct peer *peer)
{
    cr_ice_write_candidates(peer->ice, b);
    strbuf_puts(b, "a=end-of-candidates\r\n");
}

/* RFC 8841 §5, §6: our SCTP port and the largest message we take (in the offer's form). */
static void write_data_media(struct strbuf *b, struct peer *peer, const struct sdp_media *m,
                             const char *proto, const char *mid, bool first)
{
    if (m->sctpmap)
        strbuf_printf(b, "m=application 9 %s %u\r\n", proto, CR_SCTP_PORT);
    else
        strbuf_printf(b, "m=application 9 %s webrtc-datachannel\r\n", proto);
    write_transport(b, peer, mid);
    if (m->sctpmap)
        strbuf_printf(b, "a=sctpmap:%u webrtc-datachannel %u\r\n", CR_SCTP_PORT,
                      CR_SCTP_MAX_STREAMS);
    else
        strbuf_printf(b, "a=sctp-port:%u\r\n", CR_SCTP_PORT);
    strbuf_printf(b, "a=max-message-size:%u\r\n", CR_SCTP_MAX_MESSAGE);
    if (first)
        write_candidates(b, peer);
}

static void write_media(struct strbuf *b, struct peer *peer, const struct line_plan *lp,
                        const struct mline *ml, bool first)
{
    const struct sdp_media *m = lp->m;
    char type[16], proto[64], mid[CR_MID_MAX];
    sdp_str_copy(m->type, type, sizeof type);
    sdp_str_copy(m->proto, proto, sizeof proto);
    sdp_str_copy(m->mid, mid, sizeof mid);
    if (lp->role == MLINE_REJECTED) {
        char fmts[128];
        sdp_str_copy(m->fmts, fmts, sizeof fmts);
        strbuf_printf(b, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\n", type, proto,
                      fmts[0] ? fmts : "0", mid);
        return;
    }
    if (lp->role == MLINE_DATA) {
        write_data_media(b, peer, m, proto, mid, first);
        return;
    }
    /* RED listed first: a browser publisher then sends it (JSEP: the answer's order is
     * the preference), and a subscriber knows it is what we send */
    strbuf_printf(b, "m=%s 9 %s", type, proto);
    if (lp->red)
        strbuf_printf(b, " %u", lp->red->pt);
    strbuf_printf(b, " %u", lp->codec->pt);
    if (lp->rtx)
        strbuf_printf(b, " %u", lp->rtx->pt);
    if (lp->vred)
        strbuf_printf(b, " %u %u", lp->vred->pt, lp->ulpfec->pt);
    strbuf_puts(b, "\r\n");
    write_transport(b, peer, mid);
    write_exts(b, lp);
    bool sending = lp->role == MLINE_SEND && ml->consumer && (ml->consumer->producer || lp->follow);
    strbuf_printf(b, "a=%s\r\na=rtcp-mux\r\n",
                  lp->role == MLINE_RECV ? "recvonly"
                  : sending              ? "sendonly"
                                         : "inactive");
    if (m->rtcp_rsize)
        strbuf_puts(b, "a=rtcp-rsize\r\n");
    if (m->xr_rrtr) /* a receive-only browser learns its round trip from our DLRR */
        strbuf_puts(b, "a=rtcp-xr:rcvr-rtt=all\r\n");
    uint32_t fb = SDP_FB_TRANSPORT_CC * (ext_id(lp, RTP_EXT_TWCC) != 0);
    if (lp->kind == CR_KIND_VIDEO)
        fb |= SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_CCM_FIR |
              (lp->role == MLINE_RECV ? SDP_FB_GOOG_REMB : 0);
    if (lp->red)
        write_codec(b, lp->red, 0);
    write_codec(b, lp->codec, fb);
    if (lp->rtx)
        write_codec(b, lp->rtx, 0);
    if (lp->vred) {
        write_codec(b, lp->vred, 0);
        write_codec(b, lp->ulpfec, 0);
    }
    if (sending)
        write_ssrcs(b, peer, ml->consumer, ml->consumer->producer, lp->follow);
    if (lp->n_rids) {
        for (size_t i = 0; i < lp->n_rids; i++)
            strbuf_printf(b, "a=rid:%s recv\r\n", lp->rids[i]);
        strbuf_puts(b, "a=simulcast:recv ");
        for (size_t i = 0; i < lp->n_rids; i++)
            strbuf_printf(b, "%s%s", i ? ";" : "", lp->rids[i]);
        strbuf_puts(b, "\r\n");
    }
    if (first)
        write_candidates(b, peer);
}

static char *write_answer(struct peer *peer, const struct sdp_session *s,
                          const struct line_plan *plans)
{
    struct strbuf b;
    strbuf_init(&b);
    strbuf_printf(&b, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\ns=ClassRelay\r\nt=0 0\r\n",
                  (unsigned long long)(peer->id * 1000003ULL + 4242),
                  (unsigned long long)peer->offers);
    strbuf_puts(&b, "a=group:BUNDLE");
    for (size_t i = 0; i < s->n_media; i++)
        if (plans[i].role != MLINE_REJECTED)
            strbuf_printf(&b, " %s", peer->mlines[i].mid);
    strbuf_puts(&b, "\r\na=msid-semantic: WMS *\r\n");
    if (cr_ice_is_lite(peer->ice))
        strbuf_puts(&b, "a=ice-lite\r\n"); /* RFC 8839 §5.3: the browser controls */
    bool first = true;
    for (size_t i = 0; i < s->n_media; i++) {
        write_media(&b, peer, &plans[i], &peer->mlines[i],
                    first && plans[i].role != MLINE_REJECTED);
        if (plans[i].role != MLINE_REJECTED)
            first = false;
    }
    return strbuf_take(&b);
}

/* The offer's ICE username fragment (of its first accepted line, as apply_transport). */
static void offer_ufrag(const struct sdp_session *s, char *out, size_t cap)
{
    for (size_t i = 0; i < s->n_media; i++) {
        if (s->media[i].port != 0 || s->media[i].bundle_only) {
            sdp_str_copy(s->media[i].ice_ufrag, out, cap);
            return;
        }
    }
}

/* Plans every line and checks the transport and the demand, touching nothing. */
static int plan(struct peer *peer, const struct sdp_session *s, const struct cr_mline_hint *hints,
                size_t n_hints, enum cr_offer_demand demand, struct line_plan *plans,
                struct cr_answer *out)
{
    if (s->n_media < peer->n_mlines) {
        fail(out->err, sizeof out->err, "the offer dropped m-lines of the previous offer");
        return CR_ERR_BAD_SDP;
    }
    int r = check_demand(s, demand, out->err, sizeof out->err);
    if (r == CR_OK)
        r = check_transport(peer, s, out->err, sizeof out->err);
    for (size_t i = 0; r == CR_OK && i < s->n_media; i++)
        r = plan_line(peer, i, s, plans, hints, n_hints, out->err, sizeof out->err);
    return r;
}

/* A publisher's offer is kept for the links that mirror it (link.h); others keep none. */
static void keep_offer(struct peer *peer, const char *offer)
{
    free(peer->offer_sdp);
    peer->offer_sdp = NULL;
    for (size_t i = 0; i < peer->n_mlines && !peer->offer_sdp; i++)
        if (peer->mlines[i].producer)
            peer->offer_sdp = cr_strdup(offer);
}

int peer_negotiate(struct peer *peer, const char *offer, const struct cr_mline_hint *hints,
                   size_t n_hints, enum cr_offer_demand demand, struct cr_answer *out)
{
    _Static_assert(CR_OFFER_MAX_LINES == SDP_MAX_MEDIA, "one result per m-line");
    CR_LOG_SCOPE(peer->room_name, peer->id, NULL);
    size_t len = strlen(offer);
    if (len > MAX_OFFER_BYTES) {
        fail(out->err, sizeof out->err, "offer too large (more than %d bytes)", MAX_OFFER_BYTES);
        return CR_ERR_BAD_SDP;
    }
    /* RFC 8866 §5.1: an SDP description begins with "v=0" on a line of its own */
    if (len < 3 || memcmp(offer, "v=0", 3) != 0 ||
        (offer[3] && offer[3] != '\r' && offer[3] != '\n')) {
        fail(out->err, sizeof out->err, "not an SDP offer: the first line must be v=0");
        return CR_ERR_BAD_SDP;
    }
    struct sdp_session *s = cr_malloc(sizeof *s);
    struct line_plan *plans = cr_calloc(SDP_MAX_MEDIA, sizeof *plans);
    int line = 0, r = sdp_parse(offer, len, s, &line);
    if (r == SDP_OK && s->n_media == 0) {
        fail(out->err, sizeof out->err, "the offer has no m-lines");
        r = CR_ERR_BAD_SDP;
        goto out;
    }
    if (r != SDP_OK) {
        fail(out->err, sizeof out->err, "%s at line %d",
             r == SDP_ERR_LIMIT ? "SDP has more lines of a kind than we take" : "SDP syntax error",
             line);
        r = CR_ERR_BAD_SDP;
        goto out;
    }
    if ((r = plan(peer, s, hints, n_hints, demand, plans, out)) != CR_OK)
        goto out;
    if (peer->offers == 0) /* WHIP, WHEP: this offer is the only one (see peer.h, fixed) */
        peer->fixed = demand != CR_DEMAND_NONE;
    if ((r = peer_apply_transport(peer, s, out->err, sizeof out->err)) != CR_OK)
        goto out;
    bool changed = false;
    int64_t now = cr_now_ms();
    for (size_t i = 0; i < s->n_media; i++) {
        changed |= apply_line(peer, i, &plans[i], now);
        report_line(peer, i, &plans[i], &out->lines[i]);
    }
    out->n_lines = s->n_media;
    offer_ufrag(s, out->ice_ufrag, sizeof out->ice_ufrag);
    peer->offers++;
    out->sdp = write_answer(peer, s, plans);
    keep_offer(peer, offer);
    if (changed)
        peer->listener.tracks_changed(peer->listener.ud);
    r = CR_OK;
out:
    free(plans);
    free(s);
    return r;
}
