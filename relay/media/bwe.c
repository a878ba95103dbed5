/* Send-side bandwidth estimate: see bwe.h. Section numbers are draft-ietf-rmcat-gcc-02's.
 * Received packets reach the delay detector in arrival order (a path with jitter reorders;
 * the detector skips a packet sent before the group it would join, §5.2). */
#include "media/bwe.h"

#include <string.h>

#include "base/log.h"

enum { RC_HOLD = 0, RC_INCREASE = 1, RC_DECREASE = 2 };

#define ACK_BIN_US 10000
#define ACK_WINDOW_BINS 50 /* 500 ms */
#define ACK_MIN_BINS 10    /* no rate before 100 ms of arrivals */
#define BETA 0.85          /* §5.5: decrease to β × the received rate */
#define ACK_CAP_FACTOR 1.5 /* growth stops at 1.5 × acked + 10 kbit/s */
#define ACK_CAP_ADD 10000
#define APP_LIMITED 0.75     /* sending less than this share of the estimate: no increase */
#define DELIVERED_ALL 0.8    /* acked over sent: the path carried all we sent, 10 % loss too */
#define CONGESTED_US 2000000 /* an overuse this recent: loss is not random, no probing */
#define FEEDBACK_TIMEOUT_US 1500000
#define FEEDBACK_STALE_US 500000
#define BURST_ECHO_US 500000 /* a REMB reacting to a burst comes back within this */
#define SOURCE_STALE_US 2000000
#define PROBE_TIMEOUT_US 1000000
#define PROBE_BACKOFF_MIN_US 1000000
#define PROBE_BACKOFF_MAX_US 5000000
#define PROBE_OVER_WANT 1.25 /* probe a little above what the caller needs */
#define PATH_CLEARED 0.6     /* the round trip fell this far below a short probe's: no backoff */
/* A probe reads what the path carries. After one fell short, the path's capacity is known:
 * for CEILING_US the next probes go only CEILING_OVER above it (or above the estimate, once
 * that has grown past it), so that they do not overflow a small queue (a school's DSL
 * router may hold 100 ms) and cost media its packets. One that got through CEILING_LIFT
 * above it (the link may have grown) raises it to what it read, and the next may go
 * CEILING_CLIMB above that: probing climbs in steps of 1.5, not leaps; of 2 after a probe
 * that arrived whole at the rate it was sent (a free path: a lifted cap); and only
 * CEILING_OVER while under the most any probe read while the ceiling stood. A ceiling cleared by
 * such a probe sent the next at twice the estimate: on a 600 kbit/s link whose ceiling was
 * 470k a probe read 530k (through a full queue), and the next, at 1.1 Mbit/s, lost 20-25
 * packets in the router's queue: a freeze every 5-10 s on the weak classroom. */
#define CEILING_OVER 1.15
#define CEILING_LIFT 1.1  /* a probe that got this far above it raises the ceiling */
#define CEILING_CLIMB 1.5 /* ... and the next may go this far above the new one, */
#define CEILING_FREE 2.0  /* this far if it read CEILING_FREE_READ of its rate at least */
#define CEILING_FREE_READ 0.98
#define CEILING_US 30000000
#define SATURATED 0.1      /* delay slope over a probe that shows the path was full, */
#define SATURATED_LOSS 0.2 /* ... or loss above the path's usual: a full queue's delay is flat */
/* RFC 6928's initial window, ten full packets a round trip: the start estimate on a long
 * path (bwe_start_window) */
#define START_WINDOW_BITS (10LL * 1200 * 8)
#define BETA_PROBE 0.95 /* stay this far under a measured capacity */
#define PROBE_PACKET 1200
#define PROBE_MIN_PACKETS 10 /* padding packets per cluster, at least */
#define PROBE_MIN_RECEIVED 8
#define SORT_CHUNK 256           /* received packets sorted by arrival at a time */
#define CLUSTER_SETTLE_US 150000 /* feedback this far past a cluster's window closes it */
#define PROBE_DRAIN_US 300000    /* after a cluster, its queue drains: not congestion */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* cr_media does not link libm; the two functions it needs, for the ranges used here */

/* 1.08^dt for 0 ≤ dt ≤ 1: e^x with x = dt·ln 1.08 ≤ 0.077, four terms (error < 1e-7) */
static double pow108(double dt)
{
    double x = dt * 0.07696104113612832;
    return 1 + x * (1 + x / 2 * (1 + x / 3 * (1 + x / 4)));
}

static double sqrt_pos(double v)
{
    if (v <= 0)
        return 0;
    double x = v > 1 ? v : 1;
    for (int i = 0; i < 64; i++) { /* Newton; converges well inside 64 steps for v < 1e18 */
        double nx = (x + v / x) / 2;
        if (nx >= x)
            break;
        x = nx;
    }
    return x;
}

void bwe_init(struct bwe *b, const struct bwe_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->cfg = *cfg;
    if (b->cfg.min_bps <= 0)
        b->cfg.min_bps = 50000;
    if (b->cfg.max_bps < b->cfg.min_bps)
        b->cfg.max_bps = b->cfg.min_bps;
    b->cfg.start_bps = clamp64(b->cfg.start_bps, b->cfg.min_bps, b->cfg.max_bps);
    if (b->cfg.probe_duration_us <= 0)
        b->cfg.probe_duration_us = 200000;
    delay_trend_init(&b->trend);
    loss_ctrl_init(&b->loss, b->cfg.min_bps, b->cfg.max_bps);
    b->acked.head = b->acked.first = b->sent.head = b->sent.first = -1;
    b->delay_bps = b->cfg.start_bps;
    b->rc_state = RC_HOLD;
    b->rc_last_us = b->last_decrease_us = b->last_overuse_us = INT64_MIN / 2;
    b->cap_kbps = -1;
    b->cap_dev = 0.4;
    b->rtt_us = 100000;
    b->last_twcc_us = b->last_timeout_cut_us = b->remb_last_us = INT64_MIN / 2;
    b->remb_probe_us = INT64_MIN / 2;
    b->next_probe_us = INT64_MIN / 2;
    b->probe_backoff_us = PROBE_BACKOFF_MIN_US;
    b->burst_from_us = b->burst_until_us = INT64_MIN / 2;
    b->estimate_bps = b->cfg.start_bps;
}

static void update_estimate(struct bwe *b)
{
    int64_t e = b->delay_bps;
    if (b->source == BWE_SRC_REMB)
        e = b->remb_bps;
    else if (b->source == BWE_SRC_TWCC && b->loss.bound_bps < e)
        e = b->loss.bound_bps;
    b->estimate_bps = clamp64(e, b->cfg.min_bps, b->cfg.max_bps);
}

void bwe_set_max(struct bwe *b, int64_t max_bps)
{
    b->cfg.max_bps = max_bps < b->cfg.min_bps ? b->cfg.min_bps : max_bps;
    b->loss.max_bps = b->cfg.max_bps;
    if (b->loss.bound_bps > b->cfg.max_bps)
        b->loss.bound_bps = b->cfg.max_bps;
    b->delay_bps = clamp64(b->delay_bps, b->cfg.min_bps, b->cfg.max_bps);
    update_estimate(b);
}

/* ---- acknowledged rate: received bytes by 10 ms bins of arrival time ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}
static size_t bin_slot(int64_t bin)
{
    return (size_t)(((bin % BWE_ACK_BINS) + BWE_ACK_BINS) % BWE_ACK_BINS);
}

static void bins_add(struct bwe_rate_bins *r, int64_t at_us, uint16_t size)
{
    int64_t bin = floor_div(at_us, ACK_BIN_US);
    if (r->head < 0 && r->first < 0) {
        r->head = r->first = bin;
    } else if (bin > r->head) {
        int64_t adv = bin - r->head;
        if (adv >= BWE_ACK_BINS) {
            memset(r->bytes, 0, sizeof r->bytes);
            if (adv > 10 * BWE_ACK_BINS) /* a jump of the receiver's clock: start over */
                r->first = bin;
        } else {
            for (int64_t k = 1; k <= adv; k++)
                r->bytes[bin_slot(r->head + k)] = 0;
        }
        r->head = bin;
    } else if (bin <= r->head - BWE_ACK_BINS) {
        return; /* older than the window */
    }
    r->bytes[bin_slot(bin)] += size;
}

/* The rate over the newest window, or `was` before ACK_MIN_BINS of it. */
static int64_t bins_rate(const struct bwe_rate_bins *r, int64_t was)
{
    if (r->first < 0 && r->head < 0)
        return was;
    int64_t bins = r->head - r->first + 1;
    if (bins < ACK_MIN_BINS)
        return was;
    if (bins > ACK_WINDOW_BINS)
        bins = ACK_WINDOW_BINS;
    uint64_t sum = 0;
    for (int64_t k = 0; k < bins; k++)
        sum += r->bytes[bin_slot(r->head - k)];
    return (int64_t)(sum * 8 * 1000000 / (uint64_t)(bins * ACK_BIN_US));
}

/* ---- §5.5 rate control ---- */

/* The link capacity seen at overuse: an average and a normalised variance, so "near the
 * last congestion point" is "within 3 deviations of it". */
static void cap_update(struct bwe *b, int64_t sample_bps)
{
    double s = (double)sample_bps / 1000.0;
    b->cap_kbps = b->cap_kbps < 0 ? s : 0.95 * b->cap_kbps + 0.05 * s;
    double norm = b->cap_kbps > 1 ? b->cap_kbps : 1;
    double err = b->cap_kbps - s;
    b->cap_dev = 0.95 * b->cap_dev + 0.05 * err * err / norm;
    b->cap_dev = b->cap_dev < 0.4 ? 0.4 : b->cap_dev > 2.5 ? 2.5 : b->cap_dev;
}

static double cap_spread_kbps(const struct bwe *b)
{
    return 3 * sqrt_pos(b->cap_dev * b->cap_kbps);
}

/* §5.5: a cut waits for the last one to show (an RTT, at most 200 ms) unless the path
 * already carries less than half the estimate. */
static bool time_to_cut(const struct bwe *b, int64_t now_us)
{
    int64_t interval = clamp64(b->rtt_us, 10000, 200000);
    return now_us - b->last_decrease_us >= interval ||
           (b->acked_bps > 0 && b->acked_bps < b->delay_bps / 2);
}

/* Sending well under the estimate, and the path delivering about what we sent (random loss
 * aside): what arrives is what we sent, not what the path carries. A path that delivers less
 * than we send is full, whatever the estimate says. */
static bool app_limited(const struct bwe *b)
{
    return b->sent_bps > 0 && (double)b->sent_bps < APP_LIMITED * (double)b->delay_bps &&
           (double)b->acked_bps >= DELIVERED_ALL * (double)b->sent_bps;
}

static void decrease(struct bwe *b, int64_t now_us)
{
    int64_t acked = b->acked_bps > 0 ? b->acked_bps : b->delay_bps;
    /* an overuse while application-limited is our own burst (a keyframe paced near the link
     * rate) in a path that is not full: back off from the estimate, not to β × what we
     * happened to send, which says nothing of the path (libwebrtc's ALR-limited backoff) */
    bool limited = app_limited(b);
    int64_t nb = (int64_t)(BETA * (double)(limited ? b->delay_bps : acked));
    if (nb > b->delay_bps && b->cap_kbps > 0)
        nb = (int64_t)(BETA * b->cap_kbps * 1000);
    if (nb < b->delay_bps)
        b->delay_bps = nb;
    if (!limited) { /* what arrived is the path's capacity only when we filled it */
        if (b->cap_kbps > 0 && (double)acked / 1000 < b->cap_kbps - cap_spread_kbps(b))
            b->cap_kbps = -1; /* far below the old point: the path changed */
        cap_update(b, acked);
    }
    CR_DEBUG("bwe",
             "%llu overuse: trend %.2f over %.2f ms, acked %lld, sent %lld%s, delay-based now %lld",
             (unsigned long long)b->log_id, b->trend.modified_trend_ms, b->trend.threshold_ms,
             (long long)b->acked_bps, (long long)b->sent_bps, limited ? " (app-limited)" : "",
             (long long)b->delay_bps);
    b->last_decrease_us = b->last_overuse_us = now_us;
    b->overuses++;
    b->rc_state = RC_HOLD;
    b->rc_last_us = now_us;
}

static void increase(struct bwe *b, int64_t now_us)
{
    if (b->cap_kbps > 0 && (double)b->acked_bps / 1000 > b->cap_kbps + cap_spread_kbps(b))
        b->cap_kbps = -1; /* well past the old point: far from congestion again */
    double dt = (double)(now_us - b->rc_last_us) / 1e6;
    dt = dt < 0 ? 0 : dt > 1 ? 1 : dt;
    b->rc_last_us = now_us;
    int64_t limit = b->acked_bps > 0
                        ? (int64_t)(ACK_CAP_FACTOR * (double)b->acked_bps) + ACK_CAP_ADD
                        : b->cfg.max_bps;
    if (b->delay_bps >= limit)
        return; /* never lowered by the cap, only not raised */
    if (b->acked_bps > 0 && (double)b->acked_bps < APP_LIMITED * (double)b->delay_bps)
        return; /* application-limited: nothing shows the path carries more; probes do that */
    double inc;
    if (b->cap_kbps > 0) {
        /* near the congestion point: about one packet per response time (§5.5) */
        int64_t bits_per_frame = b->delay_bps / 30;
        int64_t packets = (bits_per_frame + PROBE_PACKET * 8 - 1) / (PROBE_PACKET * 8);
        double packet_bits = (double)bits_per_frame / (double)(packets > 0 ? packets : 1);
        double response_s = (double)(b->rtt_us + 100000) / 1e6;
        double rate = packet_bits / response_s;
        inc = (rate > 4000 ? rate : 4000) * dt;
    } else {
        inc = (double)b->delay_bps * (pow108(dt) - 1);
        if (inc < 1000 * dt)
            inc = 1000 * dt;
    }
    int64_t nb = b->delay_bps + (int64_t)inc;
    b->delay_bps = nb < limit ? nb : limit;
}

static void rate_control(struct bwe *b, enum bwe_usage usage, int64_t now_us)
{
    switch (usage) { /* §5.5 state changes */
    case BWE_OVERUSE:
        if (time_to_cut(b, now_us))
            b->rc_state = RC_DECREASE; /* else as it was: the cut is still showing */
        break;
    case BWE_UNDERUSE:
        b->rc_state = RC_HOLD;
        break;
    case BWE_NORMAL:
        if (b->rc_state == RC_HOLD) {
            b->rc_state = RC_INCREASE;
            b->rc_last_us = now_us;
        }
        break;
    }
    if (b->rc_state == RC_DECREASE)
        decrease(b, now_us);
    else if (b->rc_state == RC_INCREASE)
        increase(b, now_us);
    else
        b->rc_last_us = now_us;
    b->delay_bps = clamp64(b->delay_bps, b->cfg.min_bps, b->cfg.max_bps);
}

/* ---- probes ---- */

static void cluster_add(struct bwe_cluster *c, const struct send_result *r)
{
    if (r->late) { /* counted lost before */
        if (c->lost > 0)
            c->lost--;
    } else {
        bool first = c->received + c->lost == 0;
        if (first || r->seq < c->first_seq) {
            c->first_seq = r->seq;
            c->min_send_us = r->send_us;
        }
        if (first || r->seq > c->last_seq) {
            c->last_seq = r->seq;
            c->max_send_us = r->send_us;
        }
        c->bytes += r->size;
    }
    if (!r->received) {
        c->lost++;
        return;
    }
    int64_t owd = r->arrival_us - r->send_us;
    if (c->received == 0) {
        c->owd0_us = owd;
        c->min_arrival_us = c->max_arrival_us = r->arrival_us;
    }
    c->recv_bytes += r->size;
    if (r->arrival_us < c->min_arrival_us)
        c->min_arrival_us = r->arrival_us;
    if (r->arrival_us > c->max_arrival_us)
        c->max_arrival_us = r->arrival_us;
    double x = (double)(r->send_us - c->start_us) / 1000, y = (double)(owd - c->owd0_us) / 1000;
    c->sx += x;
    c->sy += y;
    c->sxx += x * x;
    c->sxy += x * y;
    c->syy += y * y;
    c->received++;
}

static void probe_outcome(struct bwe *b, bool ok, int64_t now_us)
{
    b->probes_done++;
    if (ok) {
        b->probes_ok++;
        b->next_probe_us = now_us; /* climb on while the caller wants more */
        b->probe_backoff_us = PROBE_BACKOFF_MIN_US;
    } else {
        b->short_rtt_us = b->rtt_us;
        b->next_probe_us = now_us + b->probe_backoff_us;
        b->probe_backoff_us *= 2;
        if (b->probe_backoff_us > PROBE_BACKOFF_MAX_US)
            b->probe_backoff_us = PROBE_BACKOFF_MAX_US;
    }
}

/* The rate a cluster got through. Its send rate R is everything sent in its window (media
 * included) over the window's length. If the path carried less, C < R, the queue grew
 * while it was sent and the one-way delay rose with slope s = R/C − 1; so C = R / (1 + s).
 * The slope is a least-squares fit over every packet of the window, which per-packet
 * jitter of ±20 ms cannot fool the way first/last arrival times can, taken one standard
 * error high. Loss above the
 * path's usual (a queue that overflowed) takes its share off. A probe that saturated the
 * path measured its capacity and sets the estimate, down as well as up. It succeeded when
 * the path carried what the caller wanted (target / 1.25). */
static void cluster_finish(struct bwe *b, struct bwe_cluster *c, int64_t now_us)
{
    c->active = false;
    bool ok = false, above = true;
    double n = c->received, den = n * c->sxx - c->sx * c->sx;
    int64_t window = c->end_us - c->start_us;
    bool covered = (c->max_send_us - c->min_send_us) * 5 >= window * 4; /* feedback lost? */
    if (c->received >= PROBE_MIN_RECEIVED && den > 0 && covered) {
        /* reports lost with their feedback: scale by the numbers the window spans */
        double reported = c->received + c->lost, span = (double)(c->last_seq - c->first_seq + 1);
        double bytes = (double)c->bytes * (span > reported ? span / reported : 1);
        double send_bps = bytes * 8e6 / (double)(c->end_us - c->start_us);
        double slope = (n * c->sxy - c->sx * c->sy) / den;
        /* its standard error from the fit's residuals: read the capacity with that much
         * caution (tight on a clean path, wide where jitter dominates a few packets) */
        double syy = c->syy - c->sy * c->sy / n, sxx = den / n, sxy = c->sxy - c->sx * c->sy / n;
        double resid = n > 2 ? (syy - slope * sxy) / (n - 2) : 0;
        double se = resid > 0 ? sqrt_pos(resid / sxx) : 0;
        double r = send_bps / (1 + (slope + se > 0 ? slope + se : 0));
        /* and never above the rate it arrived at (as libwebrtc's probe estimator): under
         * ±20 ms of jitter the slope of a 200 ms cluster can read a full path as a free
         * one; the arrival rate cannot exceed what the path carried. The first packet's
         * bytes arrived before the span began. */
        int64_t span_us = c->max_arrival_us - c->min_arrival_us;
        bool by_arrival = false;
        if (span_us >= window / 2) {
            double recv_bps = ((double)c->recv_bytes - (double)c->recv_bytes / n) * 8e6 /
                              (double)span_us * (span > reported ? span / reported : 1);
            by_arrival = recv_bps < r;
            r = by_arrival ? recv_bps : r;
        }
        /* Loss above the path's usual takes its share off a rate read from the delay slope
         * (sent bytes, the lost among them). Not off a rate read from what arrived: that
         * is what the path carried, lost packets left out already; taking the loss off
         * again read 90 kbit/s for the first probe into a 250 kbit/s link (and paused the
         * video), and 440-500 kbit/s on a 600 kbit/s one. */
        double excess = (double)c->lost / (c->lost + c->received) - b->loss.inherent;
        if (excess > 0.05 && !by_arrival)
            r *= 1 - excess;
        ok = r * PROBE_OVER_WANT >= (double)c->target_bps;
        bool grew = !b->ceiling_bps || r >= CEILING_LIFT * (double)b->ceiling_bps;
        int64_t top = b->ceiling_bps && now_us - b->ceiling_us < CEILING_US ? b->ceiling_top : 0;
        if (ok && !grew) { /* a probe under the ceiling that got through is no news */
            ok = false;
        } else {
            /* the big steps only above the best any probe read lately: on a 600 kbit/s
             * link with 20 ms of jitter a short probe read 465k after others had read
             * 550k, the next got 543k through, and a step of 1.5 from there overflowed
             * the router's queue (12 packets, two freezes) */
            above = r >= CEILING_LIFT * (double)top;
            b->ceiling_bps = (int64_t)r;
            b->ceiling_over = !ok || !above                       ? CEILING_OVER
                              : r >= CEILING_FREE_READ * send_bps ? CEILING_FREE
                                                                  : CEILING_CLIMB;
        }
        b->ceiling_top = (int64_t)r > top ? (int64_t)r : top;
        b->ceiling_us = now_us;
        CR_DEBUG("bwe",
                 "%llu probe %u: target %lld, sent %lld, read %lld (%s, slope %.2f), lost %d of "
                 "%d, %s, ceiling %lld",
                 (unsigned long long)b->log_id, c->id, (long long)c->target_bps,
                 (long long)send_bps, (long long)r, by_arrival ? "arrival" : "delay", slope,
                 c->lost, c->lost + c->received, ok ? "ok" : "short", (long long)b->ceiling_bps);
        if (slope > SATURATED || excess > SATURATED_LOSS) {
            /* the path was full and r is what it carries: a measurement of capacity (a
             * queue that overflowed all along shows no slope: the first probe into a
             * 250 kbit/s link lost 102 of 122, read 206k, and left the estimate at the
             * 700k start for 10 s, D on 360p and 44 % loss). The
             * estimate goes a little under it, up or down (not below what the path was
             * just carrying without the probe: that is the delay detector's to judge),
             * and it is the new congestion point. */
            double excess_bits = (send_bps - r) * (double)window / 1e6;
            double spare = r - (double)b->acked_bps > r / 10 ? r - (double)b->acked_bps : r / 10;
            int64_t drain = (int64_t)(excess_bits / spare * 1e6);
            c->quiet_until_us = c->end_us + clamp64(drain, PROBE_DRAIN_US, 4 * PROBE_DRAIN_US);
            r *= BETA_PROBE;
            int64_t floor = b->acked_bps < b->delay_bps ? b->acked_bps : b->delay_bps;
            b->delay_bps =
                clamp64((int64_t)r > floor ? (int64_t)r : floor, b->cfg.min_bps, b->cfg.max_bps);
            b->cap_kbps = -1;
            cap_update(b, (int64_t)r);
            b->rc_state = RC_HOLD;
            b->rc_last_us = now_us;
        }
        bwe_probe_result(b, (int64_t)r, now_us);
    }
    probe_outcome(b, ok, now_us);
    if (ok && !above) /* a small step under what the path carried before: no haste */
        b->next_probe_us = now_us + PROBE_BACKOFF_MIN_US;
}

void bwe_probe_result(struct bwe *b, int64_t bps, int64_t now_us)
{
    if (bps <= 0)
        return;
    bps = clamp64(bps, b->cfg.min_bps, b->cfg.max_bps);
    if (bps > b->delay_bps) {
        b->delay_bps = bps;
        b->cap_kbps = -1; /* a new level: far from the old congestion point */
        b->rc_state = RC_HOLD;
        b->rc_last_us = now_us;
    }
    loss_ctrl_raise(&b->loss, bps);
    update_estimate(b);
}

int bwe_probe_next(struct bwe *b, int64_t want_bps, int64_t media_bps, int64_t now_us,
                   struct bwe_probe *out)
{
    if (want_bps > b->cfg.max_bps)
        want_bps = b->cfg.max_bps;
    if (b->short_rtt_us && (double)b->rtt_us < PATH_CLEARED * (double)b->short_rtt_us) {
        /* the queue the last short probe met has drained: the path changed, probe now,
         * in steps as after a free probe, and what was congested was the old path (a cap
         * lifted 0.6 s after an overuse waited out the 2 s without probing, then took
         * three small steps: 7 s back to 720p) */
        b->short_rtt_us = 0;
        b->next_probe_us = now_us;
        b->probe_backoff_us = PROBE_BACKOFF_MIN_US;
        b->ceiling_top = 0;
        b->last_overuse_us = INT64_MIN / 2;
    }
    if (want_bps <= b->estimate_bps || now_us < b->next_probe_us)
        return 0;
    for (int i = 0; i < BWE_CLUSTERS; i++)
        if (b->clusters[i].active)
            return 0; /* one at a time */
    if (b->source == BWE_SRC_REMB && now_us - b->remb_probe_us < SOURCE_STALE_US)
        return 0;
    if (now_us - b->last_overuse_us < CONGESTED_US || b->loss.zone == LOSS_DECREASE)
        return 0; /* never probe into congestion */
    if (b->source == BWE_SRC_TWCC && now_us - b->last_twcc_us > FEEDBACK_STALE_US)
        return 0; /* nor blind: its feedback may not come back */
    int64_t target = (int64_t)(PROBE_OVER_WANT * (double)want_bps);
    if (target > 2 * b->estimate_bps)
        target = 2 * b->estimate_bps;
    /* the first probe from a start the round trip bounded: its rate is that of the window
     * (the link may carry no more), so a step of CEILING_CLIMB, not 2 (at 2 the first probe
     * into a 600 kbit/s link lost 12 packets in its 100 ms queue) */
    if (b->windowed && !b->probes_done && target > CEILING_CLIMB * (double)b->estimate_bps)
        target = (int64_t)(CEILING_CLIMB * (double)b->estimate_bps);
    if (target > b->cfg.max_bps)
        target = b->cfg.max_bps;
    /* under a ceiling, a step above it or above the estimate when that has grown past it
     * since (the path carried more without congestion: a cleared link) */
    int64_t base = b->ceiling_bps > b->estimate_bps ? b->ceiling_bps : b->estimate_bps;
    if (b->ceiling_bps && now_us - b->ceiling_us < CEILING_US &&
        target > (int64_t)(b->ceiling_over * (double)base))
        target = (int64_t)(b->ceiling_over * (double)base);
    if (target <= b->estimate_bps)
        return 0;
    /* padding on top of what already flows (most of it: media is bursty), at least a
     * quarter */
    int64_t flowing = media_bps > 0 ? media_bps : b->acked_bps;
    int64_t pad_bps = target - flowing * 4 / 5;
    if (pad_bps < target / 4)
        pad_bps = target / 4;
    int64_t bytes = pad_bps * b->cfg.probe_duration_us / 8000000;
    int packets = (int)((bytes + PROBE_PACKET - 1) / PROBE_PACKET);
    if (packets < PROBE_MIN_PACKETS)
        packets = PROBE_MIN_PACKETS;
    uint8_t id = ++b->next_probe_id;
    if (id == 0)
        id = b->next_probe_id = 1;
    struct bwe_cluster *c = &b->clusters[id % BWE_CLUSTERS];
    *c = (struct bwe_cluster){.id = id,
                              .active = b->source != BWE_SRC_REMB,
                              .target_bps = target,
                              .start_us = now_us,
                              .end_us = now_us + b->cfg.probe_duration_us,
                              .quiet_until_us = now_us + b->cfg.probe_duration_us + PROBE_DRAIN_US};
    *out = (struct bwe_probe){.id = id,
                              .target_bps = target,
                              .duration_us = b->cfg.probe_duration_us,
                              .packets = packets,
                              .packet_size = (int)(bytes / packets)};
    b->next_probe_us = now_us + PROBE_TIMEOUT_US;
    b->probes_sent++;
    if (b->source == BWE_SRC_REMB) { /* measured by the receiver: judged at the next REMB */
        b->remb_probe_target = target;
        b->remb_probe_us = now_us;
    }
    return 1;
}

/* ---- inputs ---- */

/* Adds a reported packet to every open cluster whose send window holds it. */
static void clusters_add(struct bwe *b, const struct send_result *r)
{
    for (int i = 0; i < BWE_CLUSTERS; i++) {
        struct bwe_cluster *c = &b->clusters[i];
        if (c->active && r->send_us >= c->start_us && r->send_us < c->end_us)
            cluster_add(c, r);
    }
}

/* True when a packet was sent inside a recent probe cluster's window or while the queue it
 * built drains (300 ms until the probe is measured, then as long as its excess takes to
 * drain at the spare rate it found). */
static bool in_probe(const struct bwe *b, int64_t send_us)
{
    for (int i = 0; i < BWE_CLUSTERS; i++) {
        const struct bwe_cluster *c = &b->clusters[i];
        if (c->end_us > c->start_us && send_us >= c->start_us && send_us <= c->quiet_until_us)
            return true;
    }
    return false;
}

/* ... or while an expected burst drains. */
static bool quiet(const struct bwe *b, int64_t send_us)
{
    return (send_us >= b->burst_from_us && send_us <= b->burst_until_us) || in_probe(b, send_us);
}

/* Feeds the received packets of r[0..n) to the delay detector by arrival time (insertion
 * sort: they are nearly in order already). A probe builds a queue on purpose and measures
 * it itself, so packets sent in its window, or while its queue drains, are left out; so
 * are those of an announced burst. Returns whether the detector signalled overuse; sets
 * *evaluated when any group closed. */
static bool feed_delay(struct bwe *b, const struct send_result *r, size_t n, bool *evaluated)
{
    uint16_t order[SORT_CHUNK];
    size_t k = 0;
    bool overuse = false;
    for (size_t i = 0; i < n; i++) {
        if (!r[i].received || quiet(b, r[i].send_us))
            continue;
        size_t j = k++;
        while (j > 0 && r[order[j - 1]].arrival_us > r[i].arrival_us) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint16_t)i;
    }
    for (size_t i = 0; i < k; i++) {
        const struct send_result *p = &r[order[i]];
        if (delay_trend_on_packet(&b->trend, p->send_us, p->arrival_us)) {
            *evaluated = true;
            overuse = overuse || b->trend.usage == BWE_OVERUSE;
        }
    }
    return overuse;
}

void bwe_on_feedback(struct bwe *b, const struct send_result *r, size_t n, int64_t now_us)
{
    if (n == 0)
        return;
    uint32_t received = 0, lost = 0, recovered = 0;
    int64_t newest_send = INT64_MIN;
    bool overuse = false, evaluated = false;
    for (size_t i = 0; i < n; i++) {
        if (r[i].send_us > newest_send)
            newest_send = r[i].send_us;
        clusters_add(b, &r[i]);
        if (in_probe(b, r[i].send_us))
            ; /* a probe's overflow is its own measurement (cluster_finish), not loss to cut on */
        else if (r[i].late)
            recovered++;
        else if (r[i].received)
            received++;
        else
            lost++;
        if (r[i].kind == SEND_PROBE)
            continue;   /* probes are not what we keep sending */
        if (!r[i].late) /* a late one was counted when it was reported lost */
            bins_add(&b->sent, r[i].send_us, r[i].size);
        if (r[i].received)
            bins_add(&b->acked, r[i].arrival_us, r[i].size);
    }
    for (size_t off = 0; off < n; off += SORT_CHUNK)
        overuse = feed_delay(b, r + off, n - off < SORT_CHUNK ? n - off : SORT_CHUNK, &evaluated) ||
                  overuse;
    /* RTT plus up to one feedback interval: good enough for the response time */
    int64_t rtt = now_us - newest_send;
    if (rtt > 0)
        b->rtt_us = clamp64(b->rtt_us + (rtt - b->rtt_us) / 8, 10000, 2000000);
    b->acked_bps = bins_rate(&b->acked, b->acked_bps);
    b->sent_bps = bins_rate(&b->sent, b->sent_bps);
    b->last_twcc_us = now_us;
    if (b->source == BWE_SRC_REMB)
        b->delay_bps = b->remb_bps; /* transport-wide feedback (again): go on from there */
    b->source = BWE_SRC_TWCC;
    if (evaluated)
        rate_control(b, overuse ? BWE_OVERUSE : b->trend.usage, now_us);
    update_estimate(b);
    b->loss.delivered_bps = b->acked_bps;
    loss_ctrl_on_reports(&b->loss, received, lost, recovered, b->estimate_bps,
                         now_us - b->last_overuse_us < CONGESTED_US, b->rtt_us, now_us);
    update_estimate(b);
    for (int i = 0; i < BWE_CLUSTERS; i++) { /* reported past its window: measured */
        struct bwe_cluster *c = &b->clusters[i];
        if (c->active && newest_send > c->end_us + CLUSTER_SETTLE_US)
            cluster_finish(b, c, now_us);
    }
}

void bwe_on_remb(struct bwe *b, uint64_t bps, int64_t now_us)
{
    int64_t v = bps > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)bps;
    v = clamp64(v, b->cfg.min_bps, b->cfg.max_bps);
    b->remb_raw_bps = v;
    if (b->source == BWE_SRC_TWCC && now_us - b->last_twcc_us < SOURCE_STALE_US)
        return; /* transport-wide feedback is the better signal */
    if (b->source != BWE_SRC_REMB) {
        /* first REMB: start from it, but not above what we had */
        b->source = BWE_SRC_REMB;
        b->remb_bps = v < b->estimate_bps ? v : b->estimate_bps;
    } else if (v < b->remb_bps) {
        /* down at once; but while a burst we announced drains (and its REMB comes back),
         * the receiver's detector saw our keyframe, not a smaller path: one β step only */
        if (now_us >= b->burst_from_us && now_us <= b->burst_until_us + BURST_ECHO_US &&
            v < b->burst_floor_bps)
            v = b->burst_floor_bps < b->remb_bps ? b->burst_floor_bps : b->remb_bps;
        b->remb_bps = v;
    } else {
        double dt = (double)(now_us - b->remb_last_us) / 1e6;
        dt = dt < 0 ? 0 : dt > 1 ? 1 : dt;
        int64_t up = (int64_t)((double)b->remb_bps * pow108(dt)) + 1;
        if (now_us - b->remb_probe_us < SOURCE_STALE_US && b->remb_probe_target > 0) {
            bool ok = (double)v * PROBE_OVER_WANT >= (double)b->remb_probe_target;
            if (ok && b->remb_probe_target > up) /* the receiver confirmed a probe */
                up = b->remb_probe_target;
            b->remb_probe_target = 0;
            probe_outcome(b, ok, now_us);
        }
        b->remb_bps = v < up ? v : up;
    }
    b->remb_last_us = now_us;
    update_estimate(b);
}

void bwe_expect_burst(struct bwe *b, int64_t bytes, int64_t now_us)
{
    int64_t drain = bytes * 8 * 1000000 / (b->estimate_bps > 0 ? b->estimate_bps : 1) * 2;
    b->burst_from_us = now_us;
    b->burst_until_us = now_us + clamp64(drain, 100000, 1000000);
    b->burst_floor_bps = (int64_t)(BETA * (double)b->estimate_bps);
}

void bwe_on_rtt(struct bwe *b, int64_t rtt_us)
{
    if (rtt_us > 0)
        b->rtt_us = clamp64(rtt_us, 10000, 2000000);
}

void bwe_start_window(struct bwe *b, int64_t rtt_us)
{
    if (rtt_us <= 0 || b->source != BWE_SRC_NONE || b->probes_done)
        return; /* feedback or a probe knows better */
    bwe_on_rtt(b, rtt_us);
    int64_t window = START_WINDOW_BITS * 1000000 / b->rtt_us;
    if (window < b->delay_bps) {
        b->delay_bps = clamp64(window, b->cfg.min_bps, b->cfg.max_bps);
        b->windowed = true;
        update_estimate(b);
    }
}

void bwe_on_timer(struct bwe *b, int64_t now_us)
{
    for (int i = 0; i < BWE_CLUSTERS; i++) {
        struct bwe_cluster *c = &b->clusters[i];
        if (c->active && now_us - c->start_us > PROBE_TIMEOUT_US)
            cluster_finish(b, c, now_us);
    }
    if (b->remb_probe_target > 0 && now_us - b->remb_probe_us >= SOURCE_STALE_US) {
        b->remb_probe_target = 0;
        probe_outcome(b, false, now_us);
    }
    if (b->source == BWE_SRC_TWCC && now_us - b->last_twcc_us > SOURCE_STALE_US &&
        now_us - b->remb_last_us < SOURCE_STALE_US) {
        b->source = BWE_SRC_REMB; /* the client fell back to REMB */
        b->remb_bps = b->remb_raw_bps < b->estimate_bps ? b->remb_raw_bps : b->estimate_bps;
    }
    /* transport-wide feedback comes every 50-100 ms while we send (audio never stops);
     * when it stops, assume the worst a little at a time. REMB has no such rhythm. */
    if (b->source == BWE_SRC_TWCC && now_us - b->last_twcc_us > FEEDBACK_TIMEOUT_US &&
        now_us - b->last_timeout_cut_us >= 1000000) {
        b->delay_bps = clamp64(b->delay_bps * 4 / 5, b->cfg.min_bps, b->cfg.max_bps);
        b->last_timeout_cut_us = now_us;
    }
    update_estimate(b);
}

int64_t bwe_estimate(const struct bwe *b) { return b->estimate_bps; }

void bwe_get_stats(const struct bwe *b, struct bwe_stats *out)
{
    *out = (struct bwe_stats){
        .estimate_bps = b->estimate_bps,
        .delay_bps = b->delay_bps,
        .loss_bound_bps = b->loss.bound_bps,
        .acked_bps = b->acked_bps,
        .remb_bps = b->remb_bps,
        .rtt_us = b->rtt_us,
        .loss = b->loss.loss,
        .avg_loss = b->loss.avg_loss,
        .inherent_loss = b->loss.inherent,
        .trend_ms = b->trend.modified_trend_ms,
        .threshold_ms = b->trend.threshold_ms,
        .usage = b->trend.usage,
        .source = b->source,
        .overuses = b->overuses,
        .probes_sent = b->probes_sent,
        .probes_ok = b->probes_ok,
        .probes_done = b->probes_done,
    };
}
