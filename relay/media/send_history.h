/* Send history of one subscriber transport: every packet the relay sends toward a
 * classroom carries a transport-wide sequence number (draft-holmer-rmcat-transport-wide-
 * cc-extensions-01 §2), and this ring remembers, per number, when it left (µs, our clock),
 * its size and what it was (media of a track or layer, RTX, padding, a probe cluster).
 * When the browser's transport-wide feedback arrives (§3.1, parsed by wire/rtcp.h), each
 * reported status is matched to its sent packet, giving the estimator one record per
 * packet: send time, arrival time (the receiver's clock) or lost, size.
 *
 * What it leaves to others: interpreting the records (media/bwe.h), writing the header
 * extension (the consumer), parsing feedback bytes (wire/). Bounded: SEND_HISTORY_SLOTS
 * entries of 8 bytes (4 KiB); at 1.5 Mbit/s plus audio (~210 packets/s) that covers
 * ~2.4 s, more than feedback lags on a link that still carries video. Sequence numbers are
 * unwrapped with base/seq.h; the feedback's 24-bit reference time (§3.1, 64 ms units, wraps after
 * ~12 days of the receiver's clock) is unwrapped here too, so arrival times never jump. */
#ifndef CR_MEDIA_SEND_HISTORY_H
#define CR_MEDIA_SEND_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/seq.h"
#include "wire/rtcp.h"

#define SEND_HISTORY_SLOTS                                                                         \
    512 /* a power of two: 1.7 s of a 3 Mbit/s line (the estimate tops at 2.5), where feedback     \
           comes every 50-100 ms (4 KiB a classroom) */

/* What a sent packet was. Probes are padding or RTX sent as a cluster at a target rate;
 * their tag is the cluster id (media/bwe.h measures them). */
enum send_kind {
    SEND_MEDIA = 0,
    SEND_RTX = 1,     /* a retransmission answering a NACK */
    SEND_PADDING = 2, /* padding not part of a probe */
    SEND_PROBE = 3,
};

struct send_history_entry { /* 8 bytes: 1024 of them per classroom */
    uint32_t send_lo;       /* the low 32 bits of the send time in µs (the ring holds seconds, not
                               the 71 minutes they wrap in: the full time is the newest's, less
                               the difference) */
    uint16_t size;          /* bytes of the RTP packet on the wire */
    uint8_t kind : 4;       /* enum send_kind */
    uint8_t state : 4;      /* empty / sent / reported lost / reported received */
    uint8_t tag; /* media/RTX: track or layer of the caller's choice; probe: cluster id */
};

struct send_history {
    struct send_history_entry ring[SEND_HISTORY_SLOTS]; /* state: by unwrapped seq mod slots */
    struct seq16_unwrap sent_unwrap;                    /* state: unwraps sent seqs */
    int64_t newest_us;                                  /* state: the newest send time */
    int64_t ref_offset_us; /* state: added to feedback times to undo the 24-bit wrap */
    int64_t last_ref_us;   /* state: last unwrapped reference time */
    bool have_ref;
    /* counters, for stats */
    uint64_t sent, reported, unknown, duplicates, feedbacks;
};

/* One sent packet matched with its feedback. */
struct send_result {
    int64_t seq;        /* unwrapped transport-wide seq */
    int64_t send_us;    /* our clock */
    int64_t arrival_us; /* the receiver's clock (unwrapped); valid when received */
    uint16_t size;
    uint8_t kind, tag;
    bool received;
    bool late; /* reported lost before, received after all (a reordering path) */
};

void send_history_init(struct send_history *h);
/* Records a packet just sent with transport-wide seq twcc_seq (sizes past 65535 are
 * clamped; no RTP packet is that big). */
void send_history_on_sent(struct send_history *h, uint16_t twcc_seq, size_t size,
                          enum send_kind kind, uint8_t tag, int64_t now_us);
/* Matches n parsed statuses of one feedback to sent packets. Writes one result per status
 * that names a packet still in the history and not reported before (feedback lost,
 * duplicated or reordered costs nothing) into out (room for n), in feedback order, and
 * returns how many. A packet reported lost and later received (a browser reports a late
 * packet again, as Chromium's receiver does) comes out once more, with `late` set. */
size_t send_history_on_feedback(struct send_history *h, const struct twcc_feedback *fb,
                                const struct twcc_packet_status *st, size_t n,
                                struct send_result *out);

#endif
