/* Loss-based bound: see loss_ctrl.h. */
#include "media/loss_ctrl.h"

#include <string.h>

#define WIN_PACKETS 200    /* a window closes at this many reports... */
#define WIN_MIN_PACKETS 50 /* ...or after WIN_US with at least this many */
#define WIN_US 2000000
#define LOW_LOSS 0.02               /* §6: below, increase */
#define HIGH_LOSS 0.10              /* §6: above, decrease */
#define INCREASE_FACTOR 1.05        /* §6: As(i) = 1.05 × As(i−1) */
#define INHERENT_MAX 0.10           /* random loss we accept as the path's own */
#define INHERENT_GAIN 0.2           /* EWMA weight of one window */
#define AVG_GAIN 0.3                /* the same for the average loss */
#define DECREASE_INTERVAL_US 300000 /* §6 (and libwebrtc): + RTT between decreases */

void loss_ctrl_init(struct loss_ctrl *l, int64_t min_bps, int64_t max_bps)
{
    memset(l, 0, sizeof *l);
    l->min_bps = min_bps;
    l->max_bps = max_bps;
    l->bound_bps = max_bps; /* no loss seen yet: no bound */
    l->win_start_us = -1;
    l->last_decrease_us = INT64_MIN / 2;
    l->zone = LOSS_INCREASE;
}

void loss_ctrl_raise(struct loss_ctrl *l, int64_t bps)
{
    if (bps > l->max_bps)
        bps = l->max_bps;
    if (l->zone != LOSS_DECREASE && bps > l->bound_bps)
        l->bound_bps = bps;
}

static void apply(struct loss_ctrl *l, double p, int64_t current_bps, int64_t rtt_us,
                  int64_t now_us)
{
    double low = LOW_LOSS + l->inherent, high = HIGH_LOSS + l->inherent;
    if (p < low) {
        l->zone = LOSS_INCREASE;
        double b = (double)l->bound_bps * INCREASE_FACTOR + 1000;
        l->bound_bps = b > (double)l->max_bps ? l->max_bps : (int64_t)b;
    } else if (p <= high) {
        if (l->zone == LOSS_INCREASE && current_bps < l->bound_bps)
            l->bound_bps = current_bps; /* §6 hold: no higher than where we are */
        l->zone = LOSS_HOLD;
    } else if (now_us - l->last_decrease_us >= DECREASE_INTERVAL_US + rtt_us) {
        /* §6: As(i) = As(i−1) × (1 − 0.5 p) */
        int64_t from = current_bps < l->bound_bps ? current_bps : l->bound_bps;
        l->bound_bps = (int64_t)((double)from * (1 - 0.5 * p));
        int64_t floor = l->delivered_bps * 85 / 100; /* what the path carried, less a β */
        if (l->bound_bps < floor)
            l->bound_bps = floor < from ? floor : from;
        if (l->bound_bps < l->min_bps)
            l->bound_bps = l->min_bps;
        l->last_decrease_us = now_us;
        l->zone = LOSS_DECREASE;
    }
}

bool loss_ctrl_on_reports(struct loss_ctrl *l, uint32_t received, uint32_t lost, uint32_t recovered,
                          int64_t current_bps, bool congested, int64_t rtt_us, int64_t now_us)
{
    l->win_lost -= recovered < l->win_lost ? recovered : l->win_lost;
    if (received + lost == 0)
        return false;
    if (l->win_start_us < 0)
        l->win_start_us = now_us;
    l->win_lost += lost;
    l->win_total += received + lost;
    bool full = l->win_total >= WIN_PACKETS ||
                (l->win_total >= WIN_MIN_PACKETS && now_us - l->win_start_us >= WIN_US);
    if (!full)
        return false;
    double p = (double)l->win_lost / l->win_total;
    l->loss = p;
    l->avg_loss += AVG_GAIN * (p - l->avg_loss);
    l->win_lost = l->win_total = 0;
    l->win_start_us = -1;
    if (!congested) {
        double x = p < INHERENT_MAX ? p : INHERENT_MAX;
        l->inherent += INHERENT_GAIN * (x - l->inherent);
    }
    apply(l, p, current_bps, rtt_us, now_us);
    return true;
}
