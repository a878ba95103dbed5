/* Send-side bandwidth estimate toward one classroom (bits/s), after draft-ietf-rmcat-
 * gcc-02, written for this relay. The relay is the sender: it stamps transport-wide
 * sequence numbers, media/send_history.h matches the browser's feedback (draft-holmer-
 * rmcat-transport-wide-cc-extensions-01) to what was sent, and this module turns the
 * matched records into an estimate:
 *   - delay-based (§5): media/delay_trend.h says overuse / normal / underuse; the AIMD rate
 *     controller of §5.5 cuts to 0.85 × the acknowledged rate on overuse, grows 8 %/s when
 *     far from the last congestion point and by about a packet per response time near it
 *     (the point is an average of the acked rates at overuse, with its deviation), holds
 *     on underuse; growth is capped at 1.5 × the acknowledged rate + 10 kbit/s, and stops
 *     while we send less than 75 % of the estimate (an SFU forwards one layer: nothing then
 *     shows the path carries more).
 *   - loss-based (§6, media/loss_ctrl.h), learning the path's random loss first;
 *   - the acknowledged rate: bytes reported received over the last 500 ms of arrival time
 *     (probe padding left out: it says nothing of what we keep sending);
 *   - probes: a 200 ms cluster of padding/RTX on top of the media (bwe_probe_next tells the
 *     caller when and how much), measured from the slope of one-way delay over the cluster
 *     (C = R / (1 + s)), which ±20 ms of per-packet jitter does not fool; a result above the
 *     estimate raises it (bwe_probe_result), one that saturated the path sets it. Probes are
 *     the only way above the send rate, which is how a classroom climbs to a higher layer
 *     after a cap is lifted. Their own queue, and that of a keyframe the caller announces
 *     (bwe_expect_burst), is not read as congestion.
 *   - REMB (draft-alvestrand-rmcat-remb-03) for clients without transport-cc: the
 *     receiver's number, taken at once when lower and followed at ≤ 8 %/s when higher
 *     (at once up to a probe's rate when it confirms a probe).
 *   - transport-wide feedback that stops for 1.5 s cuts the estimate by 20 % a second.
 * The estimate is min(delay-based, loss bound) within [min, max]. Time is passed in (µs,
 * the sender's clock); arrival times are the receiver's and only their differences count.
 * Layer choice is media/layer_select.h's. */
#ifndef CR_MEDIA_BWE_H
#define CR_MEDIA_BWE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/delay_trend.h"
#include "media/loss_ctrl.h"
#include "media/send_history.h"

struct bwe_config {
    int64_t min_bps;           /* floor; default 50 kbit/s */
    int64_t start_bps;         /* before any feedback; default 500 kbit/s */
    int64_t max_bps;           /* ceiling; default 2.5 Mbit/s (the top layer + audio + room) */
    int64_t probe_duration_us; /* one probe cluster; default 200 ms */
};
#define BWE_CONFIG_DEFAULT                                                                         \
    ((struct bwe_config){                                                                          \
        .min_bps = 50000, .start_bps = 500000, .max_bps = 2500000, .probe_duration_us = 200000})

enum bwe_source { BWE_SRC_NONE = 0, BWE_SRC_TWCC = 1, BWE_SRC_REMB = 2 };

/* One probe cluster to send now. The cluster is everything sent in the next duration_us
 * (media included), each padding packet recorded in the send history as SEND_PROBE with
 * tag = id. A caller that sees what it sends tops that up with padding to target_bps as it
 * goes (route/quality.c: media is bursty, and padding at a fixed rate on top of it sent
 * 1.4-1.7 × the target); one that cannot may add `packets` padding packets of about
 * `packet_size` bytes, spread evenly, planned from media_bps. */
struct bwe_probe {
    uint8_t id;
    int64_t target_bps;
    int64_t duration_us;
    int packets;
    int packet_size;
};

#define BWE_ACK_BINS 64 /* 10 ms bins of bytes: a 500 ms window and slack */
#define BWE_CLUSTERS 4  /* probe clusters measured at once */

struct bwe_cluster { /* state: one probe cluster being measured */
    uint8_t id;
    bool active;
    int64_t target_bps, start_us, end_us; /* the send-time window */
    int64_t quiet_until_us;               /* its queue drains: no delay signal till then */
    int received, lost;
    int64_t bytes;                          /* reported sent in the window, received or not */
    int64_t first_seq, last_seq;            /* of the reports in the window */
    int64_t min_send_us, max_send_us;       /* of the reports in the window */
    int64_t owd0_us;                        /* first one-way delay seen: the regression's origin */
    int64_t recv_bytes;                     /* of the packets received */
    int64_t min_arrival_us, max_arrival_us; /* their arrival span, the receiver's clock */
    double sx, sy, sxx, sxy, syy;           /* one-way delay (ms) against send time (ms) */
};

struct bwe_rate_bins { /* state: bytes per 10 ms bin of one clock, the newest window */
    uint32_t bytes[BWE_ACK_BINS];
    int64_t head, first; /* newest and first bin, -1 before any */
};

struct bwe {
    struct bwe_config cfg;
    uint64_t log_id;          /* the receiver's id in log lines (route/ sets it) */
    struct delay_trend trend; /* state: §5.2–5.4 */
    struct loss_ctrl loss;    /* state: §6 */
    /* acknowledged rate (by the receiver's arrival times) and sent rate (by our send times,
     * received or lost, probes left out) of the packets feedback reported */
    struct bwe_rate_bins acked, sent;
    int64_t acked_bps; /* 0 until 100 ms of arrivals were seen */
    int64_t sent_bps;  /* 0 until 100 ms of sends were reported */
    /* §5.5 rate control */
    int64_t delay_bps;
    int rc_state; /* hold / increase / decrease */
    int64_t rc_last_us, last_decrease_us, last_overuse_us;
    double cap_kbps, cap_dev; /* link capacity at overuse (average, normalised variance) */
    int64_t rtt_us;
    /* REMB */
    int64_t remb_bps, remb_raw_bps, remb_last_us;
    /* feedback */
    int64_t last_twcc_us, last_timeout_cut_us;
    /* probes */
    struct bwe_cluster clusters[BWE_CLUSTERS];
    uint8_t next_probe_id;
    int64_t next_probe_us, probe_backoff_us, remb_probe_target, remb_probe_us;
    int64_t short_rtt_us; /* the round trip when the last probe fell short (0: none since) */
    int64_t ceiling_bps, ceiling_us; /* what the last probe that found the path's limit read */
    double ceiling_over;             /* how far above it the next probe may go */
    bool windowed;                   /* the start estimate came from bwe_start_window */
    int64_t ceiling_top;             /* the most a probe read while a ceiling stood */
    int64_t burst_from_us, burst_until_us; /* an expected burst's quiet window */
    int64_t burst_floor_bps;               /* REMB goes no lower while it lasts */
    enum bwe_source source;
    int64_t estimate_bps;
    uint32_t overuses, probes_sent, probes_ok, probes_done; /* done: measured, either way */
};

struct bwe_stats {
    int64_t estimate_bps, delay_bps, loss_bound_bps, acked_bps, remb_bps, rtt_us;
    double loss, avg_loss, inherent_loss; /* fractions, 0..1: last window, average, random */
    double trend_ms, threshold_ms;
    enum bwe_usage usage;
    enum bwe_source source;
    uint32_t overuses, probes_sent, probes_ok, probes_done;
};

void bwe_init(struct bwe *b, const struct bwe_config *cfg);
/* Changes the ceiling (e.g. to what the subscribed tracks could use at most). */
void bwe_set_max(struct bwe *b, int64_t max_bps);
/* Matched records of one transport-wide feedback packet (send_history_on_feedback). */
void bwe_on_feedback(struct bwe *b, const struct send_result *r, size_t n, int64_t now_us);
/* A REMB from a client that does not send transport-wide feedback (ignored while
 * transport-wide feedback is fresh). */
void bwe_on_remb(struct bwe *b, uint64_t bps, int64_t now_us);
/* An RTT measured elsewhere (RTCP RR/DLSR), preferred to the feedback's own. */
void bwe_on_rtt(struct bwe *b, int64_t rtt_us);
/* Before any feedback: the path's round trip, measured by the caller (the DTLS
 * handshake). A long path starts no faster than ten full packets a round trip (RFC 6928's
 * initial window): a 250 kbit/s school link with a 450 ms round trip starts at 213k, not
 * at the start estimate, and its first probe (twice the estimate) does not lose 80 % of
 * itself in the router's queue. Ignored once feedback or a probe has come. */
void bwe_start_window(struct bwe *b, int64_t rtt_us);
/* A probe showed the path carries bps: the estimate may jump there. bwe_on_feedback calls
 * it for the clusters it measures; the caller may too for a measurement of its own. */
void bwe_probe_result(struct bwe *b, int64_t bps, int64_t now_us);
/* Whether to send a probe cluster now, toward want_bps (the rate the caller's next step
 * needs, 0 for none), with media_bps of media flowing meanwhile (0: take the acked rate):
 * returns 1 and fills *out, or 0. Probes climb at most 2× the estimate at a time, never
 * while congested, and back off (1, 2, 4, 5 s) after a probe that fell short, until the
 * round trip falls under 0.6 × what it was then (the path changed). */
int bwe_probe_next(struct bwe *b, int64_t want_bps, int64_t media_bps, int64_t now_us,
                   struct bwe_probe *out);
/* The caller is about to send a burst of `bytes` at once: the keyframe that follows a
 * layer switch. Like a probe's queue, the queue it builds is expected, so the delay
 * detector ignores packets sent until it has drained (twice its serialisation at the
 * estimate, 100 ms..1 s), and a REMB that answers it cuts by one β step at most; a layer
 * the path cannot carry still shows after that. */
void bwe_expect_burst(struct bwe *b, int64_t bytes, int64_t now_us);
/* Periodic (every 100 ms or so): feedback that stopped for > 1.5 s cuts the estimate by
 * 20 % a second; unfinished probe clusters time out. */
void bwe_on_timer(struct bwe *b, int64_t now_us);
int64_t bwe_estimate(const struct bwe *b);
void bwe_get_stats(const struct bwe *b, struct bwe_stats *out);

#endif
