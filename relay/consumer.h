/* A consumer: one outgoing track for one subscriber (one m-line the client receives on).
 * It rewrites SSRC, payload type, sequence numbers, timestamps and header extensions into
 * the subscriber's own numbering, so the subscriber sees one continuous stream even when
 * the consumer is switched to another producer (a layer or a source). Video starts at a
 * keyframe. NACKs are answered from the producer's packet store, by RTX when negotiated. */
#ifndef CR_RELAY_CONSUMER_H
#define CR_RELAY_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "wire/codec.h"
#include "wire/rtp.h"

struct peer;
struct producer;

struct consumer_exts { /* the subscriber's extension ids for this m-line; 0: not negotiated */
    uint8_t mid, abs_send_time, twcc, level, cvo;
};

struct consumer {
    struct peer *peer;         /* borrowed: the subscribing peer owns the consumer */
    struct producer *producer; /* borrowed; NULL while idle */
    enum cr_kind kind;
    char mid[CR_MID_MAX];
    uint8_t pt, rtx_pt;      /* the subscriber's payload types (rtx 0: none) */
    uint32_t ssrc, rtx_ssrc; /* ours, announced in the answer */
    uint32_t clock_rate;
    struct consumer_exts ext;
    /* state of the rewriting */
    bool started;        /* first packet (a keyframe, for video) sent */
    bool resync;         /* next packet starts a new source: recompute offsets */
    uint16_t seq_offset; /* out seq = in seq + seq_offset */
    uint32_t ts_offset;  /* out ts = in ts + ts_offset */
    uint16_t last_seq;   /* last out seq sent */
    uint32_t last_ts;
    int64_t last_sent_ms;
    uint16_t rtx_seq;
    uint64_t packets, octets; /* counters for SR */
    uint64_t retransmitted;
};

struct consumer *consumer_new(struct peer *peer, enum cr_kind kind, const char *mid);
void consumer_free(struct consumer *c);
/* Feeds the consumer from producer p (NULL: idle). Switching keeps numbering continuous
 * and asks for a keyframe. */
void consumer_bind(struct consumer *c, struct producer *p, int64_t now_ms);
/* Forwards one packet of the bound producer. */
void consumer_forward(struct consumer *c, const struct rtp_view *v, bool keyframe, int64_t now_ms);
/* The subscriber lost these (out) sequence numbers. */
void consumer_on_nack(struct consumer *c, const uint16_t *seqs, size_t n, int64_t now_ms);
/* The publisher's SR, translated into this consumer's SSRC and timestamps. */
void consumer_send_sr(struct consumer *c, uint64_t ntp, uint32_t rtp_ts);
/* The subscriber's transport came up: restart from a keyframe. */
void consumer_on_connected(struct consumer *c, int64_t now_ms);

#endif
