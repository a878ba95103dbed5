/* A producer: one incoming track (one m-line a client sends on). A simulcast track
 * (RFC 8853) has up to three layers, each its own RTP stream (rid, SSRC, RTX SSRC);
 * any other track has one. Each layer's packets arrive once, are decrypted once, stored
 * once for retransmission (video), checked once for a keyframe and, for VP8, parsed once
 * for its payload descriptor (RFC 7741 §4.2) and measured per temporal layer. The producer
 * does not forward: producer_on_rtp says whether a packet is new, and the room fans it out
 * to the consumers it binds to the track (room.h). Keyframe requests are throttled per
 * layer here and go to the publisher through the listener given at creation (the peer
 * sends the PLI, RFC 4585 §6.3.1). */
#ifndef CR_ROUTE_PRODUCER_H
#define CR_ROUTE_PRODUCER_H

#include <stdbool.h>
#include <stdint.h>

#include "classrelay/types.h"
#include "media/keyframe.h"
#include "media/nack_list.h"
#include "media/packet_store.h"
#include "media/recv_stats.h"
#include "wire/codec.h"
#include "wire/rtp.h"

#define PRODUCER_MAX_LAYERS CR_LAYERS_MAX
#define PRODUCER_MAX_TIDS 4 /* VP8 TID is 2 bits */

/* Upward notices of a producer, given at creation (the publishing peer implements them). */
struct producer_listener {
    void *ud;
    /* Ask the publisher for a keyframe of RTP stream ssrc; already throttled. */
    void (*keyframe_needed)(void *ud, uint32_t ssrc);
};

/* One RTP stream of a track: the whole track, or one simulcast layer. */
struct producer_layer {
    char rid[16];               /* "" when the track is not simulcast */
    uint32_t ssrc, rtx_ssrc;    /* 0 until learned from SDP or the first packets */
    struct recv_stats stats;    /* state */
    struct packet_store *store; /* owned (video) */
    struct nack_list *nack;     /* owned (video): what the publisher's link lost */
    bool have_sr;
    uint64_t sr_ntp; /* the publisher's last SR for this stream */
    uint32_t sr_rtp;
    uint64_t window_bytes; /* bitrate measurement */
    int64_t window_start_ms;
    uint32_t bitrate_bps; /* measured over the last window; 0 when idle */
    int64_t last_packet_ms;
    uint16_t key_seq; /* video: the first packet of the last keyframe */
    int64_t key_ms;   /* when it arrived; 0: none yet */
    /* VP8 temporal layers (RFC 7741 §4.2 TID), measured like the bitrate */
    uint8_t n_temporal;  /* highest TID seen + 1; 0: no TIDs */
    uint8_t window_tids; /* bit t: TID t seen in this window */
    uint64_t window_tid_bytes[PRODUCER_MAX_TIDS];
    uint16_t temporal_permille[PRODUCER_MAX_TIDS]; /* cumulative share of TIDs 0..t, smoothed;
                                                    * 0: not measured yet */
};

struct producer {
    uint64_t id;
    uint64_t peer_id; /* the publishing peer (which owns the producer) */
    bool mirror;      /* a track of another worker's part of the room, fed through it
                         (route/shard.h); its room owns it */
    uint32_t order;   /* its place among the lesson's tracks, the same on every part */
    uint8_t part_loss[CR_WORKERS_MAX]; /* the worst loss (/256) of plain Opus subscribers on
                                          each other part, as it last reported (shard.h) */
    struct producer_listener listener;
    enum cr_kind kind;
    char source[CR_SOURCE_MAX];
    char mid[CR_MID_MAX];
    enum codec_id codec;
    struct keyframe_throttle kf; /* state: requests to the publisher, every layer together */
    uint8_t pt;                  /* the publisher's payload type */
    uint8_t rtx_pt;              /* 0: no RTX negotiated */
    uint8_t red_pt;              /* audio: RED (RFC 2198) carrying our Opus pt; 0: not negotiated */
    uint32_t clock_rate;
    uint8_t channels;
    char fmtp[160];             /* the publisher's fmtp (H.264 profile) */
    uint8_t ext_level, ext_cvo; /* extension ids whose values consumers copy through */
    /* audio: how loud the publisher is, from the RFC 6464 level it sends (no decoding):
     * 127 minus -dBov, averaged over about 8 packets; 0 when silent or quiet for 300 ms */
    uint8_t loudness;
    int64_t loud_ms;    /* state: the last packet that carried a level */
    uint8_t loud_peak;  /* state: the highest loudness in the current second */
    uint8_t loud_shown; /* state: ... and in the second before (what producer_info says) */
    int64_t loud_window_ms;
    struct producer_layer layers[PRODUCER_MAX_LAYERS];
    size_t n_layers;
};

/* One packet as the producer took it, for the fan-out: what every consumer needs and
 * nobody should work out twice. */
struct producer_packet {
    int layer;
    const struct rtp_view *v;   /* borrowed: the decrypted packet */
    bool keyframe;              /* video: the packet starts a keyframe */
    const struct vp8_desc *vp8; /* VP8 payload descriptor (points at vp8_desc); NULL: none */
    struct vp8_desc vp8_desc;
};

struct producer *producer_new(uint64_t id, uint64_t peer_id, enum cr_kind kind, const char *source,
                              const char *mid, const struct producer_listener *listener);
/* The owner unbinds its consumers first (room.h). producer_free(NULL) does nothing. */
void producer_free(struct producer *p);
/* Declares the simulcast layers by rid, in the order of a=simulcast (n ≤ 3). */
void producer_set_layers(struct producer *p, const char *const *rids, size_t n);
/* One decrypted RTP packet of a layer (pkt/len the whole packet, v its view): counted,
 * stored, inspected. Returns true and fills out when it is to be forwarded, false for a
 * duplicate. */
bool producer_on_rtp(struct producer *p, int layer, const uint8_t *pkt, size_t len,
                     const struct rtp_view *v, int64_t now_ms, struct producer_packet *out);
void producer_on_sr(struct producer *p, int layer, uint64_t ntp, uint32_t rtp_ts, int64_t now_ms);
/* Hands fn the stored packets of layer from its last keyframe to the newest, in order (as
 * producer_on_rtp described them), when that keyframe arrived at most max_age_ms ago and
 * they come to at most max_bytes; returns how many, 0 when it did not. A subscriber whose
 * transport came up just after a keyframe starts from it instead of waiting up to a second
 * for the next (requests are throttled). */
size_t producer_replay_keyframe(const struct producer *p, int layer, int64_t max_age_ms,
                                size_t max_bytes, int64_t now_ms,
                                void (*fn)(void *ud, const struct producer_packet *pkt), void *ud);
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
