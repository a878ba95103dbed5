/* Retransmission limiter: see rtx_limit.h. */
#include "media/rtx_limit.h"

#include <string.h>

#define NEVER (INT64_MIN / 2)
#define BUCKET_MS 500      /* the bucket holds this much of the budget */
#define DEFAULT_RTT_MS 100 /* before a receiver report gave one */
#define MIN_RESEND_MS 20   /* even on a LAN, no faster than this */

void rtx_limit_init(struct rtx_limit *r)
{
    memset(r, 0, sizeof *r);
    r->last_ms = NEVER;
    for (size_t i = 0; i < RTX_LIMIT_SLOTS; i++)
        r->at_ms[i] = NEVER;
}

/* Takes bytes from the bucket (refilled first); false if it holds too few. */
static bool take(struct rtx_limit *r, size_t bytes, int64_t budget_bps, int64_t now_ms)
{
    if (budget_bps <= 0)
        return true;
    int64_t cap = budget_bps * BUCKET_MS / 1000;
    if (r->last_ms == NEVER)
        r->tokens_bits = cap;
    else if (now_ms > r->last_ms)
        r->tokens_bits += budget_bps * (now_ms - r->last_ms) / 1000;
    if (r->tokens_bits > cap)
        r->tokens_bits = cap;
    r->last_ms = now_ms;
    int64_t bits = (int64_t)bytes * 8;
    if (r->tokens_bits < bits) {
        r->refused_rate++;
        return false;
    }
    r->tokens_bits -= bits;
    return true;
}

bool rtx_limit_allow(struct rtx_limit *r, uint16_t out_seq, size_t bytes, int64_t budget_bps,
                     int64_t rtt_ms, int64_t now_ms)
{
    size_t slot = out_seq % RTX_LIMIT_SLOTS;
    int64_t wait = rtt_ms > 0 ? rtt_ms : DEFAULT_RTT_MS;
    if (wait < MIN_RESEND_MS)
        wait = MIN_RESEND_MS;
    if (r->seq[slot] == out_seq && now_ms - r->at_ms[slot] < wait) {
        r->refused_recent++; /* its last copy may still be on the way */
        return false;
    }
    if (!take(r, bytes, budget_bps, now_ms))
        return false;
    r->seq[slot] = out_seq;
    r->at_ms[slot] = now_ms;
    r->allowed++;
    return true;
}

bool rtx_limit_copy(struct rtx_limit *r, size_t bytes, int64_t budget_bps, int64_t now_ms)
{
    if (!take(r, bytes, budget_bps, now_ms))
        return false;
    r->copies++;
    return true;
}
