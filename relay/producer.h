/* A producer: one incoming track (one m-line a client sends on). Its packets arrive once,
 * decrypted once, are stored once for retransmission, and are handed to each consumer.
 * It answers keyframe requests from its consumers by asking the publisher, throttled. */
#ifndef CR_RELAY_PRODUCER_H
#define CR_RELAY_PRODUCER_H

#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "media/keyframe.h"
#include "media/packet_store.h"
#include "media/recv_stats.h"
#include "wire/codec.h"
#include "wire/rtp.h"

struct peer;
struct consumer;

struct producer {
    uint64_t id;
    struct peer *peer; /* borrowed: the publishing peer owns the producer */
    enum cr_kind kind;
    char source[CR_SOURCE_MAX];
    char mid[CR_MID_MAX];
    enum codec_id codec;
    uint8_t pt;     /* the publisher's payload type */
    uint8_t rtx_pt; /* 0: no RTX negotiated */
    uint32_t clock_rate;
    uint8_t channels;
    char fmtp[160]; /* the publisher's fmtp (H.264 profile) */
    uint32_t ssrc;  /* 0 until learned from SDP or the first packet */
    uint32_t rtx_ssrc;
    uint8_t ext_level, ext_cvo;  /* extension ids whose values consumers copy through */
    struct recv_stats stats;     /* state */
    struct packet_store *store;  /* owned */
    struct keyframe_throttle kf; /* state */
    struct consumer **consumers; /* owned array of borrowed pointers */
    size_t n_consumers, cap_consumers;
    bool have_sr;
    uint64_t sr_ntp; /* the publisher's last SR: NTP and RTP time */
    uint32_t sr_rtp;
    int64_t last_keyframe_ms;
};

struct producer *producer_new(struct peer *peer, uint64_t id, enum cr_kind kind, const char *source,
                              const char *mid);
/* Detaches every consumer (they go idle) and frees. */
void producer_free(struct producer *p);
void producer_attach(struct producer *p, struct consumer *c);
void producer_detach(struct producer *p, struct consumer *c);
/* One decrypted RTP packet of this track (pkt/len the whole packet, v its view). */
void producer_on_rtp(struct producer *p, const uint8_t *pkt, size_t len, const struct rtp_view *v,
                     int64_t now_ms);
void producer_on_sr(struct producer *p, uint64_t ntp, uint32_t rtp_ts, int64_t now_ms);
/* A consumer needs a keyframe: ask the publisher unless throttled. */
void producer_request_keyframe(struct producer *p, int64_t now_ms);
void producer_tick(struct producer *p, int64_t now_ms);
void producer_info(const struct producer *p, struct cr_track_info *out);

#endif
