/* Cascade links: see link.h (RFC 8445, RFC 5764, RFC 3550 §6.4.1). Their RTCP (NACK, PLI) is
 * answered in peer_rtcp.c. */
#include "route/link.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "net/dtls.h"
#include "route/ctx.h"
#include "route/peer.h"
#include "wire/rtcp.h"
#include "wire/sdp_mirror.h"

static size_t mirror_lines(const struct peer *source, struct sdp_mirror_line *lines,
                           struct cr_link_offer *out)
{
    size_t n = 0;
    for (size_t i = 0; i < source->n_mlines; i++) {
        const struct mline *m = &source->mlines[i];
        const struct producer *p = m->producer;
        if (m->role != MLINE_RECV || !p)
            continue;
        lines[n] = (struct sdp_mirror_line){.mid = m->mid, .n_ssrcs = p->n_layers};
        for (size_t l = 0; l < p->n_layers; l++)
            lines[n].ssrcs[l] = p->layers[l].ssrc;
        struct cr_mline_hint *h = &out->hints[n];
        snprintf(h->mid, sizeof h->mid, "%s", m->mid);
        snprintf(h->source, sizeof h->source, "%s", p->source);
        n++;
    }
    out->n_hints = n;
    return n;
}

int link_attach(struct peer *link, struct peer *source, struct cr_link_offer *out)
{
    struct sdp_mirror_line lines[SDP_MAX_MEDIA];
    size_t n = source->offer_sdp ? mirror_lines(source, lines, out) : 0;
    if (!n) {
        snprintf(out->err, sizeof out->err, "peer %llu publishes nothing",
                 (unsigned long long)source->id);
        return CR_ERR_ARG;
    }
    struct strbuf cands;
    strbuf_init(&cands);
    cr_ice_write_candidates(link->ice, &cands);
    struct sdp_mirror mr = {
        .sess_id = link->id,
        .ufrag = cr_ice_local_ufrag(link->ice),
        .pwd = cr_ice_local_pwd(link->ice),
        .fingerprint = cr_dtls_cert_fingerprint(link->ctx->cert),
        .candidates = cands.s,
        .lines = lines,
        .n_lines = n,
    };
    struct strbuf sdp;
    strbuf_init(&sdp);
    int written = sdp_mirror_offer(source->offer_sdp, &mr, &sdp);
    strbuf_free(&cands);
    if (written <= 0) {
        strbuf_free(&sdp);
        snprintf(out->err, sizeof out->err, "peer %llu's offer has none of its tracks",
                 (unsigned long long)source->id);
        return CR_ERR_INTERNAL;
    }
    out->sdp = strbuf_take(&sdp);
    out->link_id = link->id;
    link->link_of = source;
    if (!source->links)
        source->links = g_ptr_array_new();
    g_ptr_array_add(source->links, link);
    CR_INFO("link", "link %llu mirrors peer %llu (%zu lines)", (unsigned long long)link->id,
            (unsigned long long)source->id, n);
    return CR_OK;
}

void link_mirror_rtp(struct peer *source, const struct producer_packet *pkt)
{
    const struct rtp_view *v = pkt->v;
    const uint8_t *buf = v->payload - v->header_len; /* the packet as the source took it */
    size_t len = v->header_len + v->payload_len + v->padding_len;
    uint8_t *out = source->ctx->scratch;
    if (len + CR_SRTP_MAX_TRAILER > CONSUMER_SCRATCH)
        return;
    for (guint i = 0; i < source->links->len; i++) {
        struct peer *link = g_ptr_array_index(source->links, i);
        if (!link->srtp)
            continue;
        memcpy(out, buf, len); /* sealed in place, once per link */
        peer_send_rtp(link, out, len);
        link->ctx->stats.link_rtp_out++;
    }
}

void link_mirror_sr(struct peer *source, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts)
{
    uint8_t *out = source->ctx->scratch;
    size_t n = rtcp_write_sr(out, 64, ssrc, ntp, rtp_ts, 0, 0, NULL, 0);
    for (guint i = 0; n && i < source->links->len; i++) {
        struct peer *link = g_ptr_array_index(source->links, i);
        if (i)
            n = rtcp_write_sr(out, 64, ssrc, ntp, rtp_ts, 0, 0, NULL, 0); /* sealed in place */
        peer_send_rtcp(link, out, n);
    }
}

void link_detach(struct peer *peer)
{
    if (peer->link_of) { /* a link: its source forgets it */
        g_ptr_array_remove_fast(peer->link_of->links, peer);
        peer->link_of = NULL;
    }
    if (peer->is_link)
        peer->ctx->stats.links--;
    if (!peer->links)
        return;
    for (guint i = 0; i < peer->links->len; i++) { /* a source: its links close */
        struct peer *link = g_ptr_array_index(peer->links, i);
        link->link_of = NULL;
        if (link->dtls && link->state == CR_PEER_CONNECTED)
            cr_dtls_close(link->dtls);
        peer_set_state(link, CR_PEER_CLOSED);
    }
    g_ptr_array_free(peer->links, TRUE);
    peer->links = NULL;
}
