/* A consumer: one outgoing track for one subscriber (one m-line the client receives on,
 * or a recording tap). It rewrites SSRC, payload type, sequence numbers, timestamps and
 * header extensions (RFC 3550 §5.1, RFC 8285) into the subscriber's own numbering, so the
 * subscriber sees one continuous stream even when the consumer is switched to another
 * producer (a source) or another simulcast layer. Video starts, and changes layer, only at
 * a keyframe of the layer it goes to: until then it keeps forwarding the layer it is on.
 * For VP8 with temporal layers (RFC 7741 §4.2) it forwards only those up to its temporal
 * target, and media/rewriter.h keeps the sequence numbers and picture ids it sends gap-free
 * across the drops. NACKs (RFC 4585 §6.2.1) are answered from the producer's packet store,
 * by RTX (RFC 4588).
 *
 * A consumer knows nothing of its transport: it builds each packet in the buffer its sink
 * lends it and hands it to the sink (struct consumer_sink, given at creation), which
 * stamps the transport-wide sequence number, protects and sends it. The room binds it to a
 * producer (room_bind) and offers it the producer's packets; the owner (a peer or a tap)
 * tells it when its transport can send and what the quality loop chose for it. */
#ifndef CR_ROUTE_CONSUMER_H
#define CR_ROUTE_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include "classrelay/types.h"
#include "media/packet_store.h"
#include "media/rewriter.h"
#include "media/rtx_limit.h"
#include "media/send_history.h"
#include "net/srtp.h"
#include "route/producer.h"
#include "wire/codec.h"
#include "wire/rtcp.h"
#include "wire/rtp.h"

/* The buffer a sink lends: the largest packet we build, and room to protect it in place. */
#define CONSUMER_SCRATCH (PACKET_STORE_MTU + 128 + CR_SRTP_MAX_TRAILER)
/* What SRTP adds to a packet on the wire (the AEAD tag, or a 10-byte HMAC): counted in
 * what the link carries. */
#define CONSUMER_SRTP_OVERHEAD 16

struct consumer;
struct consumer_red;
struct consumer_fec;

/* What the sink must know of an RTP packet it is handed. */
struct consumer_sent {
    size_t twcc_at;      /* offset of the 2-byte transport-wide sequence number to stamp
                            (draft-holmer-rmcat-transport-wide-cc-extensions-01); 0: none */
    size_t abs_at;       /* offset of the 3-byte abs-send-time, restamped if the packet
                            leaves later than built (a pacer's queue); 0: none */
    bool audio;          /* an audio packet: never paced behind video */
    enum send_kind kind; /* media, RTX or probe (media/send_history.h) */
    uint8_t tag;         /* probes: the cluster id */
    int64_t now_us;      /* when it was built: the fan-out's one time (abs-send-time), or
                            the pacing tick's for probes */
};

/* Where a consumer's packets go, and its upward notices; given at creation, copied. */
struct consumer_sink {
    void *ud;
    uint8_t *scratch;             /* borrowed: CONSUMER_SCRATCH bytes each packet is built in */
    struct cr_relay_stats *stats; /* borrowed: the relay's counters (red_out, bad_packets) */
    /* Sends the RTP packet in buf[0..len); buf has CR_SRTP_MAX_TRAILER bytes after it. */
    void (*send_rtp)(void *ud, uint8_t *buf, size_t len, const struct consumer_sent *sent);
    /* Sends the RTCP compound in buf[0..len) (same room rule). */
    void (*send_rtcp)(void *ud, uint8_t *buf, size_t len);
    /* A keyframe of layer of producer p is wanted (the producer throttles). */
    void (*keyframe_wanted)(void *ud, struct producer *p, int layer, int64_t now_ms);
    /* Optional: video switches to (or resumes on) a layer of layer_bps; its keyframe goes
     * out at once, a burst the bandwidth estimator should expect. */
    void (*layer_switch)(void *ud, uint64_t layer_bps, int64_t now_us);
    /* Optional: the layer to start on when bound to p; NULL: the best p sends. */
    int (*start_layer)(void *ud, const struct consumer *c, const struct producer *p,
                       int64_t now_ms);
};

struct consumer_exts { /* the subscriber's extension ids for this m-line; 0: not negotiated */
    uint8_t mid, abs_send_time, twcc, level, cvo, playout;
};

struct consumer {
    struct consumer_sink sink;
    struct producer *producer; /* borrowed; NULL while idle; set by the room (room_bind) */
    enum cr_kind kind;
    char mid[CR_MID_MAX];
    char name[40];           /* how logs name it: "<peer id>/<mid>" (peer.c), else the mid */
    uint8_t pt, rtx_pt;      /* the subscriber's payload types (rtx 0: none) */
    enum codec_id codec;     /* what pt is: only a producer of this codec may feed it */
    uint32_t ssrc, rtx_ssrc; /* ours, announced in the answer */
    uint32_t clock_rate;
    struct consumer_exts ext;
    /* audio: the subscriber's RED (RFC 2198) payload type (0: none) and, owned, the RED
     * encoder state while it is set (consumer_red.c) */
    uint8_t red_pt;
    struct consumer_red *red;
    /* video: the subscriber's RED and ULPFEC payload types (0: not negotiated) and, owned,
     * the FEC state while the quality loop has FEC on (consumer_fec.c) */
    uint8_t vred_pt, ulpfec_pt;
    struct consumer_fec *fec;
    /* video: the least playout delay asked of the receiver (playout-delay extension), in
     * 10 ms; 0: none asked; playout_set: asked once (then always said, 0 included) */
    uint16_t playout_min;
    bool playout_set;
    /* video: what of the start goes again at once as RTX: 0 nothing; CONSUMER_COPY_PACKET
     * the first packet (the receiver cannot ask for a packet before its first), set with the
     * negotiated RTX (negotiate.c); CONSUMER_COPY_FRAME the whole first frame (a long path:
     * peer.c) */
    uint8_t copy_first;
    bool copying;   /* state: within the first frame, copying it */
    bool connected; /* the sink can send (SRTP keys in place, or a tap) */
    /* state of the rewriting */
    int layer;            /* the producer layer being forwarded; -1 before the first */
    int target;           /* the layer wanted; switched to at its next keyframe */
    bool paused;          /* video held back: the link cannot carry even the lowest layer */
    bool started;         /* first packet (a keyframe, for video) sent */
    bool resync;          /* next packet starts a new source: recompute offsets */
    int8_t temporal;      /* the highest VP8 temporal layer wanted (REWRITER_ALL_TIDS: all) */
    int8_t temporal_hold; /* its cap on the old layer while a spatial switch waits */
    uint8_t max_layers;   /* the control plane's cap: the lowest N active simulcast layers by
                             bit rate (a small tile); 0: every layer */
    struct rewriter rw;   /* state: seq, ts, picture ids, temporal drops, NACK map */
    uint16_t seq_offset;  /* out seq = in seq + seq_offset, for the last packet sent */
    uint32_t ts_offset;   /* out ts = in ts + ts_offset (read by consumer_red.c, SRs) */
    int64_t last_sent_ms;
    uint16_t rtx_seq;
    uint64_t packets, octets; /* counters for SR */
    uint64_t retransmitted;
    struct rtx_limit rtx_limit; /* state: which NACKs get an answer */
    uint8_t fraction_lost;      /* the subscriber's last receiver report */
    uint32_t jitter;            /* in timestamp units */
    uint32_t sr_ntp_mid;        /* the middle 32 bits of the last SR we sent (RFC 3550 LSR) */
    int64_t sr_sent_ms;
    int64_t key_asked_ms;        /* when a keyframe was last asked for (consumer_want_keyframe) */
    struct rewriter_sent sent[]; /* rw's NACK map, allocated with the consumer: by kind */
};

enum { CONSUMER_COPY_PACKET = 1, CONSUMER_COPY_FRAME = 2 };

struct consumer *consumer_new(enum cr_kind kind, const char *mid, const struct consumer_sink *sink);
/* The room unbinds it first (room_bind(..., NULL)). consumer_free(NULL) does nothing. */
void consumer_free(struct consumer *c);
/* The room's half of room_bind: feeds the consumer from producer p (NULL: idle). Switching
 * keeps numbering continuous and asks for a keyframe. */
void consumer_set_source(struct consumer *c, struct producer *p, int64_t now_ms);
/* The sink can send from now on (transport up, or a tap): restart from a keyframe, the
 * target layer's last one if it came at most CONSUMER_CATCH_UP_MS ago (and its frames
 * since come to CONSUMER_CATCH_UP_BYTES at most, or to CONSUMER_CATCH_UP_RATE_MS of the
 * layer's measured bit rate when that is more), else the next. */
void consumer_set_connected(struct consumer *c, int64_t now_ms);
/* The teacher is asked for a keyframe once a second at most (media/keyframe.h): one that
 * came within that second is as new as the next could be. At 600 ms a classroom on a weak
 * link whose handshake ended 730 ms after the last keyframe waited 350 ms for the next. */
#define CONSUMER_CATCH_UP_MS 1000
#define CONSUMER_CATCH_UP_BYTES 24000
/* A keyframe and what followed it within a second come to about 1.5 s of the stream (a
 * 720p keyframe is 0.3-0.5 s of it), and a fresh keyframe would cost the link as much as
 * replaying them: the bound that counts for a big layer. Measured: with a single-layer
 * 1.5 Mbit/s camera (keyframes of 40-60 KB) 3 joins in 5 waited about 1 s for the next
 * keyframe under the fixed bound alone (docs/benchmarks.md). */
#define CONSUMER_CATCH_UP_RATE_MS 1500
#define CONSUMER_CATCH_UP_MAX (512u << 10)
/* The transport is nearly up (DTLS done a round trip from now): a keyframe asked for now
 * comes about when the subscriber can take it, and consumer_set_connected starts from it. */
void consumer_transport_near(struct consumer *c, int64_t now_ms);
/* Asks for a keyframe of the layer wanted (video, bound and connected). */
void consumer_want_keyframe(struct consumer *c, int64_t now_ms);
/* Asks again, once CONSUMER_KEY_RETRY_MS have passed, while the consumer still waits for a
 * keyframe (to start, or to switch to its target layer): a publisher may ignore a request
 * that comes soon after its last keyframe (Chrome does, within a few hundred ms), and would
 * never send the one this consumer waits for. Called on every tick. */
void consumer_keyframe_retry(struct consumer *c, int64_t now_ms);
#define CONSUMER_KEY_RETRY_MS 1000
/* Offers one packet of the bound producer (its layer, keyframe flag and VP8 descriptor as
 * the producer found them); now_us: read once per fan-out. */
void consumer_forward(struct consumer *c, const struct producer_packet *pkt, int64_t now_ms,
                      int64_t now_us);
/* Asks for another layer: the switch happens at that layer's next keyframe, requested
 * now. */
void consumer_set_target(struct consumer *c, int layer, int64_t now_ms);
/* Asks for VP8 temporal layers 0..tid (REWRITER_ALL_TIDS: all): down at the next frame,
 * up where the decoder can follow (media/rewriter.h). While a spatial switch waits for its
 * keyframe, the old layer keeps no more temporal layers than it had. */
void consumer_set_temporal(struct consumer *c, int tid);
/* The temporal layer being forwarded: -1 when the stream carries no temporal ids. */
int consumer_temporal(const struct consumer *c);
/* Holds video back (the classroom keeps its audio), or resumes it at a keyframe. */
void consumer_pause(struct consumer *c, bool paused, int64_t now_ms);
/* Sends one padding-only packet of `padding` bytes (≤ 255) on the RTX stream, as a
 * bandwidth probe of cluster probe_id (RFC 3550 §5.1 padding, RFC 4588 stream). */
void consumer_send_padding(struct consumer *c, size_t padding, uint8_t probe_id, int64_t now_us);
/* Periodic: without a bandwidth estimate the target is the best layer the publisher
 * sends, so a layer the publisher stops sending is left for one it still sends. */
void consumer_tick(struct consumer *c, int64_t now_ms);
/* How a consumer answers NACKs (media/rtx_limit.h): budget_bps, the bit rate repairs may
 * take (0: no limit); rtt_ms, the subscriber's round trip; copies, 1, or 2 on a path that
 * loses repairs too (each copy sent while the budget holds). */
struct consumer_rtx {
    int64_t budget_bps;
    uint32_t rtt_ms;
    int copies;
};
/* The subscriber lost these (out) sequence numbers. Returns how many of them were resent
 * (the others: not ours lately, gone from the store, or over the budget). */
size_t consumer_on_nack(struct consumer *c, const uint16_t *seqs, size_t n,
                        const struct consumer_rtx *rtx, int64_t now_ms, int64_t now_us);
/* The publisher's SR for a layer, translated into this consumer's SSRC and timestamps
 * when it is the layer being forwarded (RFC 3550 §6.4.1). */
void consumer_on_sr(struct consumer *c, int layer, uint64_t ntp, uint32_t rtp_ts, int64_t now_ms);
/* A report block from the subscriber about this consumer's stream (RFC 3550 §6.4.2).
 * Returns the round-trip time in ms when the block echoes our last SR, else -1. */
int consumer_on_report(struct consumer *c, const struct rtcp_report_block *rb, int64_t now_ms);

/* consumer_red.c — audio only. Sends this subscriber Opus wrapped in RED with payload
 * type red_pt (0: plain Opus; frees the RED state). */
void consumer_set_red(struct consumer *c, uint8_t red_pt);
/* consumer_fec.c: FEC toward this subscriber (video; ULPFEC in RED). The types come from
 * the negotiation (0: none, FEC stays off); set_fec turns it on with one FEC packet per k
 * media packets (2..24; 0: off). protect: a media packet built in RED in pkt (its
 * extensions end at ext_end, its RED header is the byte there, len in all), before it is
 * sent; keyframe: the frame of timestamp ts starts a keyframe; flush: after the last packet
 * of frame ts, sends the FEC packets due. */
void consumer_set_fec_types(struct consumer *c, uint8_t red_pt, uint8_t ulpfec_pt);
void consumer_set_fec(struct consumer *c, unsigned k);
/* Video: asks the receiver to hold each frame at least min_ms before it plays (the
 * playout-delay header extension, when negotiated), so that a repair a round trip away
 * still comes in time; 0 after a non-zero value asks for nothing more (the receiver's own
 * jitter buffer decides again). */
void consumer_set_playout(struct consumer *c, unsigned min_ms);
void consumer_fec_protect(struct consumer *c, const uint8_t *pkt, size_t ext_end, size_t len,
                          int64_t now_ms);
void consumer_fec_keyframe(struct consumer *c, uint32_t ts);
void consumer_fec_flush(struct consumer *c, uint32_t ts, int64_t now_ms, int64_t now_us);
/* Writes into out the RTP header and extensions of a packet of the consumer's own (padding,
 * FEC) with pt, seq, ts on ssrc; sent->now_us given, its offsets filled. Returns where the
 * payload goes. */
size_t consumer_own_header(struct consumer *c, uint8_t *out, uint8_t pt, uint16_t seq, uint32_t ts,
                           uint32_t ssrc, struct consumer_sent *sent);
/* The packet to send for audio packet v at (seq, ts): RED built by the relay, the
 * publisher's RED passed through or unwrapped to its Opus primary, or v as it is. Fills
 * and returns out (payload_type: the subscriber's payload type to send), or NULL to drop
 * v. The payload stays valid until the next call. */
const struct rtp_view *consumer_audio_view(struct consumer *c, const struct rtp_view *v,
                                           uint16_t seq, uint32_t ts, struct rtp_view *out);

#endif
