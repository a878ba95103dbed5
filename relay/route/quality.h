/* The quality loop of one subscribing peer: what we send it is recorded by transport-wide
 * sequence number (media/send_history), the classroom's transport-wide feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01) or REMB drives our own estimator
 * (media/bwe), and every 200 ms the layer selector (media/layer_select) splits the
 * estimate — audio first, then courseware, then camera — and chooses for each video
 * consumer its simulcast layer and VP8 temporal layers (the publisher's measured per-TID
 * shares make the fine steps, RFC 7741 §4.2), or a pause when even the lowest does not fit.
 * When the next layer up would need more than the estimate, it asks for padding probes
 * (RFC 3550 §5.1 padding on the RTX stream) to test the path first.
 *
 * Quality only decides: the peer describes its consumers (struct quality_track), and
 * applies the choices and sends the probes quality_tick returns. It reads the producers'
 * measured layers and never calls a consumer. */
#ifndef CR_ROUTE_QUALITY_H
#define CR_ROUTE_QUALITY_H

#include <stdbool.h>
#include <stdint.h>

#include "classrelay/types.h"
#include "media/bwe.h"
#include "media/layer_select.h"
#include "media/send_history.h"
#include "route/producer.h"
#include "wire/rtcp.h"

#define QUALITY_PROBE_PADDING 255 /* RFC 3550 §5.1: the padding count is one octet */

/* One consumer of the peer, as the peer describes it each tick. */
struct quality_track {
    void *key;                /* the consumer: its identity only, handed back in choices */
    const struct producer *p; /* its source; NULL: idle */
    const char *mid;          /* for the log */
    bool video;
    bool can_probe;     /* started video with RTX negotiated: padding probes may go on it */
    uint8_t max_layers; /* only the lowest N active layers by bit rate; 0: every layer */
};

/* What one video consumer is to do. */
struct quality_choice {
    void *key;           /* the consumer */
    bool paused;         /* hold video back; else: */
    int layer;           /* the producer layer to target */
    int temporal;        /* VP8 temporal layers 0..temporal (REWRITER_ALL_TIDS: all) */
    uint8_t fec_k;       /* FEC: one packet per fec_k media packets (consumer_fec.c); 0: off */
    uint16_t playout_ms; /* the least playout delay to ask for (consumer_set_playout) */
};

/* Padding probes to send now: count packets of QUALITY_PROBE_PADDING bytes, cluster id, on
 * consumer via (NULL: none). */
struct quality_probe {
    void *via;
    int count;
    uint8_t id;
};

struct quality {
    struct send_history hist;
    struct bwe bwe;
    struct layer_select ls;
    const void *slots[LS_MAX_TRACKS];            /* the consumer (key) of each selector track */
    int8_t order[LS_MAX_TRACKS][LS_MAX_SPATIAL]; /* selector layer → producer layer */
    uint8_t n_temporal[LS_MAX_TRACKS];           /* as last described; 0: not yet */
    int64_t last_select_ms;
    int64_t chosen_bps;      /* what the last choice sends in all (audio included) */
    int64_t next_bps;        /* the budget the next step up would need (0: none) */
    unsigned fec_k;          /* state: FEC as last chosen (0: off) */
    unsigned playout_ms;     /* state: the least playout delay as last chosen (0: none) */
    int64_t feedback_ms;     /* when the first report was used (0: not yet) */
    bool fec_allowed;        /* the relay's configuration allows FEC */
    bool initial_probed;     /* the first probe cluster went out */
    uint32_t probes_ok_seen; /* the estimator's count of probes that got through, as last read */
    int64_t estimate_seen;   /* its estimate, as last read */
    bool have_feedback;      /* TWCC negotiated or REMB seen: the estimate drives the layers */
    bool remb_video_only;    /* the last REMB named only video SSRCs: audio is on top */
    struct bwe_probe probe;  /* the cluster being sent */
    int64_t probe_from_us;   /* when it began (0: none is being sent) */
    int64_t probe_bytes;     /* what left toward the client since, media and padding */
};

struct quality *quality_new(void);
void quality_free(struct quality *q);
/* A packet with transport-wide seq twcc_seq and wire size size left toward the client;
 * tag: the probe cluster id for probes. */
void quality_on_sent(struct quality *q, uint16_t twcc_seq, size_t size, enum send_kind kind,
                     uint8_t tag, int64_t now_us);
void quality_on_feedback(struct quality *q, const struct rtcp_fb *fb, int64_t now_us);
/* A REMB; covers_audio: its SSRC list names an audio stream we send (or is empty). A
 * receive-side estimator per video receiver (aiortc, some players) reports the video alone,
 * and audio must not be paid for out of it. */
void quality_on_remb(struct quality *q, uint64_t bps, bool covers_audio, int64_t now_us);
void quality_on_rtt(struct quality *q, uint32_t rtt_ms);
/* The round trip the DTLS handshake took, before any feedback: a long path starts slower
 * (media/bwe.h, bwe_start_window), its keyframe catch-up paced to match. */
void quality_on_handshake_rtt(struct quality *q, int64_t rtt_us);
/* The layer a consumer of kind, with transport-wide feedback negotiated or not (twcc),
 * starts on when bound to p: with feedback negotiated, the richest that fits the estimate
 * once there is one, and the lowest before (the selector takes over from there); else the
 * best the publisher sends. */
int quality_start_layer(const struct quality *q, const struct producer *p, enum cr_kind kind,
                        bool twcc, int64_t now_ms);
/* A video consumer switches to (or resumes on) a layer of layer_bps: its keyframe is about
 * to go out at once, a queue the estimator must not read as congestion. */
void quality_on_switch(struct quality *q, uint64_t layer_bps, int64_t now_us);
/* The bit rate one video consumer's retransmissions may take (media/rtx_limit.h): a share
 * of the estimate, 0 (no limit) before there is one. */
int64_t quality_rtx_budget(const struct quality *q);
/* Copies of each repair: 2 where the path loses QUALITY_RTX_TWICE_LOSS or more on average
 * but less than QUALITY_RTX_TWICE_MAX (a repair lost again waits another round trip,
 * longer than the playout delay: a freeze; two copies make that the square of the loss),
 * else 1. Above the band the link is a bad one, full, where the copies cost what the
 * picture needed: measured on 10 % loss at 250 kbit/s, they held the camera at 15 fps and
 * did not lower the freezes; at 3 % they took them from 2.5 to 0.8 a minute. */
#define QUALITY_RTX_TWICE_LOSS 0.02
#define QUALITY_RTX_TWICE_MAX 0.07
int quality_rtx_copies(const struct quality *q);
/* The rate the peer's pacer lets media leave at (media/pacer.h): a little above the
 * estimate, and above what the layers chosen send (a single layer kept a little over the
 * estimate is the link's to carry, not the pacer's to drop); 0 (not paced) before there
 * is an estimate. */
int64_t quality_pace_bps(const struct quality *q);
/* True when the estimate chooses the peer's layers (transport-wide feedback negotiated on
 * one of its consumers: twcc_negotiated, or a REMB seen); until then consumers follow the
 * publisher's best layer. */
bool quality_drives_layers(struct quality *q, bool twcc_negotiated);
/* Periodic (each worker tick), given the peer's consumers: probe pacing into *probe, and
 * every 200 ms, once the estimate drives the layers, a choice for each video consumer in
 * out (room for LS_MAX_TRACKS). Returns the number of choices. */
size_t quality_tick(struct quality *q, const struct quality_track *tracks, size_t n, int64_t now_ms,
                    struct quality_choice *out, struct quality_probe *probe);
/* A consumer is going away: forget it. */
void quality_forget(struct quality *q, const void *key);

#endif
