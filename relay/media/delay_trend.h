/* Delay-based congestion signal of the send-side estimator (draft-ietf-rmcat-gcc-02 §5):
 * packets, in send order, are grouped into bursts sent within 5 ms (§5.2, with the burst
 * rule that folds a packet arriving < 5 ms after the previous one and "earlier than its
 * send spacing" into the current group); each new group gives an inter-group delay
 * variation d = (arrival delta) − (send delta). Instead of §5.3's Kalman filter the
 * accumulated variation is smoothed and a least-squares slope is fitted over the last 20
 * groups (the trendline the draft's successors use); the slope, scaled by the number of
 * samples and a gain, is compared with the adaptive threshold of §5.4 to say overuse,
 * normal or underuse. Rate control (§5.5) is media/bwe.c's. Time is passed in.
 * Internal to the estimator: media/bwe.h is the public face. */
#ifndef CR_MEDIA_DELAY_TREND_H
#define CR_MEDIA_DELAY_TREND_H

#include <stdbool.h>
#include <stdint.h>

#define DELAY_TREND_WINDOW 20 /* groups in the least-squares fit */

/* §5.4 signal */
enum bwe_usage { BWE_NORMAL = 0, BWE_UNDERUSE = 1, BWE_OVERUSE = 2 };

struct delay_group {
    int64_t first_send_us, last_send_us;
    int64_t first_arrival_us, last_arrival_us;
    bool valid;
};

struct delay_trend {
    struct delay_group cur, prev; /* state: §5.2 groups */
    int reordered;                /* consecutive groups arriving before their predecessor */
    /* trendline */
    double accumulated_ms, smoothed_ms;
    int64_t first_arrival_us;      /* x origin of the fit, -1 before the first */
    double xs[DELAY_TREND_WINDOW]; /* arrival time since origin, ms */
    double ys[DELAY_TREND_WINDOW]; /* smoothed accumulated delay, ms */
    int n, head;                   /* ring fill and next slot */
    int deltas;                    /* deltas seen, capped */
    double slope, prev_slope;      /* ms of delay per ms of arrival */
    double modified_trend_ms;      /* slope × min(deltas, 60) × gain (§5.4's m(i)) */
    /* §5.4 detector */
    double threshold_ms;       /* del_var_th, adaptive */
    int64_t last_threshold_us; /* -1 before the first update */
    double time_over_using_ms; /* -1 when not over */
    int overuse_count;
    enum bwe_usage usage;
};

void delay_trend_init(struct delay_trend *d);
/* Feeds one received packet (packets in feedback order, which is send order). Returns
 * true when it closed a group and the usage signal was re-evaluated. */
bool delay_trend_on_packet(struct delay_trend *d, int64_t send_us, int64_t arrival_us);

#endif
