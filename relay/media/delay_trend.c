/* Delay trend and overuse detector: see delay_trend.h. Burst time, threshold bounds and
 * gains, spike rule and overuse time are draft-ietf-rmcat-gcc-02's (§5.2, §5.4). The
 * §5.4 gains make the threshold rise within ~100 ms toward a |m| that exceeds it and sink
 * over ~5 s: it follows the envelope of the path's own noise, so the ±20 ms jitter of a
 * weak school link lifts it above what jitter alone produces, while a queue that really
 * builds (|m| far above, past the 15 ms spike rule) leaves it where it was. (libwebrtc's
 * later tuning reverses the gains, 0.0087 up / 0.039 down, to keep the threshold low
 * against competing TCP; on these links that reads jitter as congestion.) */
#include "media/delay_trend.h"

#include <string.h>

#define BURST_US 5000         /* §5.2 burst_time */
#define MAX_BURST_US 100000   /* a burst never spans more than this */
#define CLOCK_JUMP_US 3000000 /* a delay variation this big is a clock jump: restart */
#define REORDER_RESET 3       /* groups in a row arriving out of order: restart */
#define SMOOTHING 0.9         /* of the accumulated delay */
#define TREND_GAIN 4.0        /* m(i) = slope × min(deltas, 60) × gain */
#define MAX_DELTAS 60
#define THRESHOLD_INIT_MS 12.5 /* §5.4: del_var_th(0) */
#define THRESHOLD_MIN_MS 6.0   /* §5.4: clamped to [6, 600] */
#define THRESHOLD_MAX_MS 600.0
#define K_UP 0.01                /* §5.4 K_u, per ms: |m| above the threshold */
#define K_DOWN 0.00018           /* §5.4 K_d, per ms: |m| below it */
#define MAX_ADAPT_OFFSET_MS 15.0 /* §5.4: no update when |m| − th > 15 ms (spikes) */
#define OVERUSE_TIME_MS 10.0     /* §5.4: overuse held this long before it is signalled */

void delay_trend_init(struct delay_trend *d)
{
    memset(d, 0, sizeof *d);
    d->first_arrival_us = -1;
    d->threshold_ms = THRESHOLD_INIT_MS;
    d->last_threshold_us = -1;
    d->time_over_using_ms = -1;
    d->usage = BWE_NORMAL;
}

/* Forgets the groups and the fit (after a clock jump or persistent reordering); the
 * threshold is kept: it describes the path, not the clock. */
static void restart(struct delay_trend *d)
{
    d->cur.valid = d->prev.valid = false;
    d->reordered = 0;
    d->accumulated_ms = d->smoothed_ms = 0;
    d->first_arrival_us = -1;
    d->n = d->head = d->deltas = 0;
    d->slope = d->prev_slope = d->modified_trend_ms = 0;
    d->time_over_using_ms = -1;
    d->overuse_count = 0;
    d->usage = BWE_NORMAL;
}

/* §5.2: a packet that arrives within burst_time of the previous one, sooner than its send
 * spacing would have it (the network delivered a burst), joins the current group. */
static bool belongs_to_burst(const struct delay_group *g, int64_t send_us, int64_t arrival_us)
{
    int64_t arrival_delta = arrival_us - g->last_arrival_us;
    int64_t send_delta = send_us - g->last_send_us;
    if (send_delta == 0)
        return true;
    return arrival_delta - send_delta < 0 && arrival_delta <= BURST_US &&
           arrival_us - g->first_arrival_us < MAX_BURST_US;
}

/* Least-squares slope of the window; keeps the last one when the x values coincide. */
static double fit_slope(const struct delay_trend *d)
{
    double mx = 0, my = 0;
    for (int i = 0; i < d->n; i++) {
        mx += d->xs[i];
        my += d->ys[i];
    }
    mx /= d->n;
    my /= d->n;
    double num = 0, den = 0;
    for (int i = 0; i < d->n; i++) {
        num += (d->xs[i] - mx) * (d->ys[i] - my);
        den += (d->xs[i] - mx) * (d->xs[i] - mx);
    }
    return den == 0 ? d->slope : num / den;
}

/* §5.4 adaptive threshold: follows |m| up slowly and down fast, ignoring spikes. */
static void update_threshold(struct delay_trend *d, double m, int64_t now_us)
{
    if (d->last_threshold_us < 0)
        d->last_threshold_us = now_us;
    double am = m < 0 ? -m : m;
    if (am > d->threshold_ms + MAX_ADAPT_OFFSET_MS) {
        d->last_threshold_us = now_us;
        return;
    }
    double k = am < d->threshold_ms ? K_DOWN : K_UP;
    double dt_ms = (double)(now_us - d->last_threshold_us) / 1000.0;
    if (dt_ms > 100)
        dt_ms = 100;
    if (dt_ms < 0)
        dt_ms = 0;
    d->threshold_ms += k * (am - d->threshold_ms) * dt_ms;
    if (d->threshold_ms < THRESHOLD_MIN_MS)
        d->threshold_ms = THRESHOLD_MIN_MS;
    if (d->threshold_ms > THRESHOLD_MAX_MS)
        d->threshold_ms = THRESHOLD_MAX_MS;
    d->last_threshold_us = now_us;
}

/* §5.4 overuse detector on the modified trend m(i). */
static void detect(struct delay_trend *d, double send_delta_ms, int64_t now_us)
{
    if (d->deltas < 2) {
        d->usage = BWE_NORMAL;
        return;
    }
    double m = d->slope * (d->deltas < MAX_DELTAS ? d->deltas : MAX_DELTAS) * TREND_GAIN;
    d->modified_trend_ms = m;
    if (m > d->threshold_ms) {
        if (d->time_over_using_ms < 0)
            d->time_over_using_ms = send_delta_ms / 2;
        else
            d->time_over_using_ms += send_delta_ms;
        d->overuse_count++;
        /* §5.4: overuse only when it lasts and the trend is not already falling */
        if (d->time_over_using_ms > OVERUSE_TIME_MS && d->overuse_count > 1 &&
            d->slope >= d->prev_slope) {
            d->time_over_using_ms = 0;
            d->overuse_count = 0;
            d->usage = BWE_OVERUSE;
        }
    } else if (m < -d->threshold_ms) {
        d->time_over_using_ms = -1;
        d->overuse_count = 0;
        d->usage = BWE_UNDERUSE;
    } else {
        d->time_over_using_ms = -1;
        d->overuse_count = 0;
        d->usage = BWE_NORMAL;
    }
    d->prev_slope = d->slope;
    update_threshold(d, m, now_us);
}

/* One inter-group delta: d(i) into the smoothed accumulated delay, the fit, the detector. */
static void on_delta(struct delay_trend *d, int64_t send_delta_us, int64_t arrival_delta_us,
                     int64_t arrival_us)
{
    double delay_ms = (double)(arrival_delta_us - send_delta_us) / 1000.0;
    if (d->deltas < 1000)
        d->deltas++;
    if (d->first_arrival_us < 0)
        d->first_arrival_us = arrival_us;
    d->accumulated_ms += delay_ms;
    d->smoothed_ms = SMOOTHING * d->smoothed_ms + (1 - SMOOTHING) * d->accumulated_ms;
    d->xs[d->head] = (double)(arrival_us - d->first_arrival_us) / 1000.0;
    d->ys[d->head] = d->smoothed_ms;
    d->head = (d->head + 1) % DELAY_TREND_WINDOW;
    if (d->n < DELAY_TREND_WINDOW)
        d->n++;
    if (d->n == DELAY_TREND_WINDOW)
        d->slope = fit_slope(d);
    detect(d, (double)send_delta_us / 1000.0, arrival_us);
}

bool delay_trend_on_packet(struct delay_trend *d, int64_t send_us, int64_t arrival_us)
{
    struct delay_group *g = &d->cur;
    if (!g->valid) {
        *g = (struct delay_group){send_us, send_us, arrival_us, arrival_us, true};
        return false;
    }
    if (send_us < g->first_send_us)
        return false; /* sent before the current group: reordered feedback, skip */
    if (send_us - g->first_send_us <= BURST_US || belongs_to_burst(g, send_us, arrival_us)) {
        if (send_us > g->last_send_us)
            g->last_send_us = send_us;
        g->last_arrival_us = arrival_us;
        return false;
    }
    bool evaluated = false;
    if (d->prev.valid) {
        int64_t send_delta = g->last_send_us - d->prev.last_send_us;
        int64_t arrival_delta = g->last_arrival_us - d->prev.last_arrival_us;
        int64_t variation = arrival_delta - send_delta;
        if (variation > CLOCK_JUMP_US || variation < -CLOCK_JUMP_US) {
            restart(d);
            d->cur = (struct delay_group){send_us, send_us, arrival_us, arrival_us, true};
            return false;
        }
        if (arrival_delta < 0) {
            if (++d->reordered >= REORDER_RESET)
                restart(d);
            return false;
        }
        d->reordered = 0;
        on_delta(d, send_delta, arrival_delta, g->last_arrival_us);
        evaluated = true;
    }
    d->prev = *g;
    *g = (struct delay_group){send_us, send_us, arrival_us, arrival_us, true};
    return evaluated;
}
