/* Loss-based bound of the send-side estimator (draft-ietf-rmcat-gcc-02 §6): packets
 * reported received or lost by transport-wide feedback are counted in windows (≥ 200
 * reports, or ≥ 50 over two seconds: at 10 % loss a window of 100 still reads 16 % one
 * time in twenty) and each closed window applies §6's rule to the bound
 * As: loss < 2 % → increase (As × 1.05), 2–10 % → hold, > 10 % → As × (1 − 0.5 p), at
 * most once per 300 ms + RTT.
 *
 * Weak school links lose packets without congestion, so the band is shifted by the loss
 * the path shows while the delay detector sees no congestion ("inherent" loss, learned
 * slowly, at most 10 %): 3 % random loss moves the band to 5–13 % and leaves the estimate
 * free to grow, while loss on top of it still cuts. (At most 5 %, a bad link's 10 % read
 * 12–16 % in its windows of 50–200 packets often enough to hold its bound at 110–150k on
 * 250 kbit/s for 15 s, and its classroom at 7.5 fps.) The bound is kept apart from the
 * delay-based rate (the estimate is the smaller of the two), so holding on loss never
 * ratchets the delay-based rate down.
 *
 * A cut goes no lower than 0.85 × the rate the path delivered (delivered_bps, set by the
 * caller): after an overshoot (a keyframe, a layer too big for the link) loss reports
 * keep arriving for a round trip after the rate came down, and cutting again on each
 * would take the estimate far below what the link plainly carries. Internal to
 * media/bwe.c. */
#ifndef CR_MEDIA_LOSS_CTRL_H
#define CR_MEDIA_LOSS_CTRL_H

#include <stdbool.h>
#include <stdint.h>

enum loss_zone { LOSS_INCREASE = 0, LOSS_HOLD = 1, LOSS_DECREASE = 2 };

struct loss_ctrl {
    int64_t bound_bps; /* As: the loss-based bound */
    int64_t min_bps, max_bps;
    uint32_t win_lost, win_total; /* the open window */
    int64_t win_start_us;         /* -1 when no window is open */
    double loss;                  /* loss fraction of the last closed window */
    double avg_loss;              /* its moving average: what retransmissions cost */
    double inherent;              /* learned random loss, 0..10 % */
    enum loss_zone zone;
    int64_t last_decrease_us;
    int64_t delivered_bps; /* the caller's acknowledged rate (0: unknown): cuts stop above */
};

void loss_ctrl_init(struct loss_ctrl *l, int64_t min_bps, int64_t max_bps);
/* Counts one feedback's reports; recovered: packets reported lost earlier and received
 * after all (they leave the loss count). current_bps: the estimate now (what a hold
 * freezes and a decrease starts from); congested: the delay detector saw overuse lately,
 * so this loss is not learned as random. Returns true when a window closed and the bound
 * was updated. */
bool loss_ctrl_on_reports(struct loss_ctrl *l, uint32_t received, uint32_t lost, uint32_t recovered,
                          int64_t current_bps, bool congested, int64_t rtt_us, int64_t now_us);
/* A probe showed the path carries bps: the bound is at least that. */
void loss_ctrl_raise(struct loss_ctrl *l, int64_t bps);

#endif
