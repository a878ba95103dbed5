/* A producer: one incoming track (one m-line a client sends on). A simulcast track
 * (RFC 8853) has up to three layers, each its own RTP stream (rid, SSRC, RTX SSRC);
 * any other track has one. Each layer's packets arrive once, are decrypted once, stored
 * once for retransmission, and are offered to every consumer of the track, which takes
 * the layer it follows (and switches to its target layer at a keyframe). Keyframe
 * requests from consumers go to the publisher per layer, throttled. */
#ifndef CR_RELAY_PRODUCER_H
#define CR_RELAY_PRODUCER_H

#include <stdbool.h>
#include <stdint.h>

#include "classrelay/types.h"
#include "media/keyframe.h"
#include "media/packet_store.h"
#include "media/recv_stats.h"
#include "wire/codec.h"
#include "wire/rtp.h"

#define PRODUCER_MAX_LAYERS 3
#define PRODUCER_MAX_TIDS 4 /* VP8 TID is 2 bits */

struct peer;
struct consumer;

/* One RTP stream of a track: the whole track, or one simulcast layer. */
struct producer_layer {
    char rid[16];                /* "" when the track is not simulcast */
    uint32_t ssrc, rtx_ssrc;     /* 0 until learned from SDP or the first packets */
    struct recv_stats stats;     /* state */
    struct packet_store *store;  /* owned (video) */
    struct keyframe_throttle kf; /* state */
    bool have_sr;
    uint64_t sr_ntp; /* the publisher's last SR for this stream */
    uint32_t sr_rtp;
    uint64_t window_bytes; /* bitrate measurement */
    int64_t window_start_ms;
    uint32_t bitrate_bps; /* measured over the last window; 0 when idle */
    int64_t last_packet_ms;
    /* VP8 temporal layers (RFC 7741 §4.2 TID), measured like the bitrate */
    uint8_t n_temporal;  /* highest TID seen + 1; 0: no TIDs */
    uint8_t window_tids; /* bit t: TID t seen in this window */
    uint64_t window_tid_bytes[PRODUCER_MAX_TIDS];
    uint16_t temporal_permille[PRODUCER_MAX_TIDS]; /* cumulative share of TIDs 0..t, smoothed;
                                                    * 0: not measured yet */
};

struct producer {
    uint64_t id;
    struct peer *peer; /* borrowed: the publishing peer owns the producer */
    enum cr_kind kind;
    char source[CR_SOURCE_MAX];
    char mid[CR_MID_MAX];
    enum codec_id codec;
    uint8_t pt;     /* the publisher's payload type */
    uint8_t rtx_pt; /* 0: no RTX negotiated */
    uint8_t red_pt; /* audio: RED (RFC 2198) carrying our Opus pt; 0: not negotiated */
    uint32_t clock_rate;
    uint8_t channels;
    char fmtp[160];             /* the publisher's fmtp (H.264 profile) */
    uint8_t ext_level, ext_cvo; /* extension ids whose values consumers copy through */
    struct producer_layer layers[PRODUCER_MAX_LAYERS];
    size_t n_layers;
    struct consumer **consumers; /* owned array of borrowed pointers */
    size_t n_consumers, cap_consumers;
};

struct producer *producer_new(struct peer *peer, uint64_t id, enum cr_kind kind, const char *source,
                              const char *mid);
/* Detaches every consumer (they go idle) and frees. */
void producer_free(struct producer *p);
/* Declares the simulcast layers by rid, in the order of a=simulcast (n ≤ 3). */
void producer_set_layers(struct producer *p, const char *const *rids, size_t n);
void producer_attach(struct producer *p, struct consumer *c);
void producer_detach(struct producer *p, struct consumer *c);
/* One decrypted RTP packet of a layer (pkt/len the whole packet, v its view). */
void producer_on_rtp(struct producer *p, int layer, const uint8_t *pkt, size_t len,
                     const struct rtp_view *v, int64_t now_ms);
void producer_on_sr(struct producer *p, int layer, uint64_t ntp, uint32_t rtp_ts, int64_t now_ms);
/* A consumer needs a keyframe of a layer: ask the publisher unless throttled. */
void producer_request_keyframe(struct producer *p, int layer, int64_t now_ms);
void producer_tick(struct producer *p, int64_t now_ms);
/* The layer with the highest measured bitrate that is sending now; the last declared
 * layer when none is measured yet. */
int producer_best_layer(const struct producer *p, int64_t now_ms);
/* True when the layer received a packet within the last second. */
bool producer_layer_active(const struct producer *p, int layer, int64_t now_ms);
void producer_info(const struct producer *p, struct cr_track_info *out);

#endif
