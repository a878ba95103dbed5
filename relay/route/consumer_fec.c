/* The video leg's forward error correction toward one classroom: ULPFEC (RFC 5109) in RED
 * (RFC 2198 §3, RFC 5109 §10.1), which Chromium decodes when the red/90000 and
 * ulpfec/90000 of its offer were answered (negotiate.c).
 *
 * While the quality loop has it on (a round trip long against the frame interval and a
 * steady random loss, route/quality.c), every media packet goes in RED, because the
 * receiver's FEC decoder only knows the packets it saw in RED; after the last packet of a
 * frame, one FEC packet follows for each block of k consecutive media packets completed
 * (and for the last, partial block after a keyframe, or once it waited FEC_MAX_WAIT_MS),
 * numbered in the stream's own sequence (rewriter_reserve) and paced as video.
 *
 * Each packet is protected as the receiver rebuilds it from RED: the media payload type,
 * the extensions as built, the payload. The transport-wide sequence number and the
 * abs-send-time are stamped later, as the packet leaves; they sit at the same place in
 * every packet (mid, abs-send-time and transport-cc come first, in that order), so a
 * rebuilt packet is wrong only in its own copy of them. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "route/consumer.h"
#include "wire/ulpfec.h"

#define FEC_BLOCKS 6        /* blocks open at once: a keyframe of 6 k packets */
#define FEC_MAX_WAIT_MS 100 /* a partial block goes out after this (small frames) */
#define FEC_K_MIN 2
#define FEC_K_MAX 24

struct consumer_fec {
    unsigned k;
    struct ulpfec_acc acc[FEC_BLOCKS]; /* acc[0..n): full blocks, the last one open */
    size_t n;
    int64_t open_ms; /* when the last block took its first packet */
    uint32_t key_ts; /* the keyframe being sent: its last block goes out whole */
    bool key;
    uint64_t sent; /* FEC packets sent */
};

void consumer_set_fec(struct consumer *c, unsigned k)
{
    if (c->kind != CR_KIND_VIDEO || !c->vred_pt || !c->ulpfec_pt)
        k = 0;
    if (!k) {
        free(c->fec);
        c->fec = NULL;
        return;
    }
    k = k < FEC_K_MIN ? FEC_K_MIN : k > FEC_K_MAX ? FEC_K_MAX : k;
    if (!c->fec) {
        c->fec = cr_calloc(1, sizeof *c->fec);
        CR_DEBUG("consumer", "%s: FEC on, one per %u packets", c->name, k);
    }
    c->fec->k = k;
}

void consumer_set_fec_types(struct consumer *c, uint8_t red_pt, uint8_t ulpfec_pt)
{
    c->vred_pt = c->kind == CR_KIND_VIDEO ? red_pt : 0;
    c->ulpfec_pt = c->kind == CR_KIND_VIDEO ? ulpfec_pt : 0;
    if (c->fec && (!c->vred_pt || !c->ulpfec_pt))
        consumer_set_fec(c, 0);
}

void consumer_fec_keyframe(struct consumer *c, uint32_t ts)
{
    c->fec->key = true;
    c->fec->key_ts = ts;
}

void consumer_fec_protect(struct consumer *c, const uint8_t *pkt, size_t ext_end, size_t len,
                          int64_t now_ms)
{
    struct consumer_fec *f = c->fec;
    uint8_t hdr[12];
    memcpy(hdr, pkt, 12);
    hdr[1] = (uint8_t)((pkt[1] & 0x80) | c->pt); /* as rebuilt from RED: the media type */
    if (f->n == 0 || (f->acc[f->n - 1].n >= f->k && f->n < FEC_BLOCKS)) {
        f->open_ms = now_ms;
        ulpfec_begin(&f->acc[f->n++]);
    }
    /* the extensions, then the payload after the RED header byte at ext_end */
    ulpfec_add(&f->acc[f->n - 1], hdr, pkt + 12, ext_end - 12, pkt + ext_end + 1,
               len - ext_end - 1);
}

/* Sends the FEC packet of block a after the frame of timestamp ts. */
static void send_block(struct consumer *c, const struct ulpfec_acc *a, uint32_t ts, int64_t now_us)
{
    uint8_t *out = c->sink.scratch;
    struct consumer_sent sent = {.kind = SEND_MEDIA, .now_us = now_us};
    size_t pos =
        consumer_own_header(c, out, c->vred_pt, rewriter_reserve(&c->rw), ts, c->ssrc, &sent);
    out[pos++] = c->ulpfec_pt; /* RED's primary block header: F = 0, the FEC type */
    size_t n = ulpfec_finish(a, out + pos, CONSUMER_SCRATCH - CR_SRTP_MAX_TRAILER - pos);
    if (!n)
        return;
    c->fec->sent++;
    c->sink.send_rtp(c->sink.ud, out, pos + n, &sent);
}

void consumer_fec_flush(struct consumer *c, uint32_t ts, int64_t now_ms, int64_t now_us)
{
    struct consumer_fec *f = c->fec;
    if (!f->n)
        return;
    bool key_end = f->key && f->key_ts == ts;
    if (key_end)
        f->key = false;
    bool all = f->acc[f->n - 1].n >= f->k || key_end || now_ms - f->open_ms >= FEC_MAX_WAIT_MS;
    size_t done = all ? f->n : f->n - 1;
    for (size_t i = 0; i < done; i++)
        send_block(c, &f->acc[i], ts, now_us);
    if (done < f->n) { /* the open block waits for more packets */
        f->acc[0] = f->acc[f->n - 1];
        f->n = 1;
    } else {
        f->n = 0;
    }
}
