/* The audio leg of a consumer: Opus in RED (RFC 2198) where the subscriber negotiated it,
 * plain Opus where it did not.
 *
 * - The publisher sends Opus, the subscriber takes RED: the relay wraps each packet
 *   itself, with copies of the one or two payloads sent before it (media/red_encoder.h
 *   says how many and why), as LiveKit does for its subscribers.
 * - The publisher sends RED (a browser does when our answer puts red first): to a RED
 *   subscriber its blocks are passed through, payload types renumbered, alongside our
 *   own redundancy (so a payload the relay lost on the way in still reaches it, and the
 *   depth follows this subscriber's loss); a subscriber without RED gets the primary.
 * Redundancy never reaches back across a switch of source or a restart of numbering
 * (seen as a change of the consumer's offsets): the receiver would take it for audio of
 * the new source. Video is not touched here; NACK and RTX stay video-only. */
#include <stdlib.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/seq.h"
#include "media/packet_store.h"
#include "media/red_encoder.h"
#include "route/consumer.h"
#include "wire/red.h"

struct consumer_red {
    struct red_encoder enc;        /* state */
    uint16_t seq_offset;           /* the consumer's offsets the ring was filled under */
    uint32_t ts_offset;            /* ... */
    uint32_t floor_ts;             /* no redundancy from before this (out) timestamp */
    uint8_t out[PACKET_STORE_MTU]; /* the RED payload being sent */
};

void consumer_set_red(struct consumer *c, uint8_t red_pt)
{
    c->red_pt = c->kind == CR_KIND_AUDIO ? red_pt : 0;
    if (!c->red_pt) {
        free(c->red);
        c->red = NULL;
        return;
    }
    if (!c->red) {
        c->red = CR_NEW(struct consumer_red);
        red_enc_reset(&c->red->enc);
        c->red->seq_offset = (uint16_t)(c->seq_offset + 1); /* differs: first packet resets */
    }
}

/* Adds to out[0..n) (our own redundancy) the publisher's redundant Opus blocks of other
 * timestamps — payloads the relay itself lost on the way in, or older ones — that are not
 * from before the floor, and sorts them oldest first. Returns the new count. */
static size_t add_publisher_blocks(const struct consumer *c, const struct red_view *in, uint32_t ts,
                                   struct red_block *out, size_t n)
{
    for (size_t i = 0; i + 1 < in->n; i++) {
        const struct red_block *b = &in->blocks[i];
        bool have = false;
        for (size_t j = 0; j < n; j++)
            have |= out[j].ts_offset == b->ts_offset;
        if (have || b->pt != c->producer->pt || ts32_newer(c->red->floor_ts, ts - b->ts_offset))
            continue;
        size_t at = n++;
        for (; at > 0 && out[at - 1].ts_offset < b->ts_offset; at--)
            out[at] = out[at - 1];
        out[at] = *b;
        out[at].pt = c->pt;
    }
    return n;
}

const struct rtp_view *consumer_audio_view(struct consumer *c, const struct rtp_view *v,
                                           uint16_t seq, uint32_t ts, struct rtp_view *out)
{
    const struct producer *p = c->producer;
    *out = *v;
    out->payload_type = c->pt;
    struct red_view in;
    bool in_red = p->red_pt && v->payload_type == p->red_pt;
    if (in_red) {
        if (red_parse(v->payload, v->payload_len, &in) != RED_OK ||
            in.blocks[in.n - 1].pt != p->pt) {
            c->sink.stats->bad_packets++;
            CR_LOG_RATE(CR_LOG_INFO, "consumer", "%s: dropped a RED packet without Opus primary",
                        c->name);
            return NULL;
        }
        out->payload = in.blocks[in.n - 1].data;
        out->payload_len = in.blocks[in.n - 1].len;
        out->padding_len = 0; /* the padding was the RED packet's */
    }
    struct consumer_red *r = c->red;
    if (!r)
        return out;
    if (r->seq_offset != c->seq_offset || r->ts_offset != c->ts_offset) {
        red_enc_reset(&r->enc);
        r->seq_offset = c->seq_offset;
        r->ts_offset = c->ts_offset;
        r->floor_ts = ts;
    }
    size_t len;
    size_t depth = red_enc_depth(c->fraction_lost);
    if (in_red) {
        struct red_block blocks[RED_ENC_MAX_DEPTH + RED_MAX_BLOCKS];
        size_t n = red_enc_redundancy(&r->enc, seq, ts, depth, c->pt, blocks);
        n = add_publisher_blocks(c, &in, ts, blocks, n);
        blocks[n++] = (struct red_block){c->pt, 0, out->payload, out->payload_len};
        len = red_write(r->out, sizeof r->out, blocks, n);
        red_enc_push(&r->enc, seq, ts, out->payload, out->payload_len);
    } else {
        len = red_enc_encode(&r->enc, depth, c->pt, seq, ts, out->payload, out->payload_len, r->out,
                             sizeof r->out);
    }
    if (!len)
        return out; /* cannot happen below the MTU; send it plain rather than not at all */
    c->sink.stats->red_out++;
    out->payload_type = c->red_pt;
    out->payload = r->out;
    out->payload_len = len;
    out->padding_len = 0;
    return out;
}
