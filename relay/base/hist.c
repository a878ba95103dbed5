/* Fixed-bucket histogram of microseconds; see hist.h. */
#include "base/hist.h"

const uint32_t cr_hist_bounds_us[CR_HIST_BUCKETS - 1] = {
    25, 50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 20000, 50000, 100000};
const uint32_t cr_hist_bounds_ms[CR_HIST_BUCKETS - 1] = {
    50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 15000, 30000};
const uint32_t cr_hist_bounds_bps[CR_HIST_BUCKETS - 1] = {
    100000,  150000,  200000,  300000,  400000,  500000,  700000,  1000000,
    1500000, 2000000, 3000000, 4000000, 6000000, 8000000, 12000000};
const uint32_t cr_hist_bounds_permille[CR_HIST_BUCKETS - 1] = {
    0, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000};

void cr_hist_add(struct cr_hist *h, int64_t us) { cr_hist_add_on(h, cr_hist_bounds_us, us); }

void cr_hist_add_on(struct cr_hist *h, const uint32_t *bounds, int64_t sample)
{
    uint64_t v = sample > 0 ? (uint64_t)sample : 0;
    unsigned i = 0;
    while (i < CR_HIST_BUCKETS - 1 && v > bounds[i])
        i++;
    h->count[i]++;
    h->total++;
    h->sum_us += v;
    if (v > h->max_us)
        h->max_us = v;
}

void cr_hist_merge(struct cr_hist *dst, const struct cr_hist *src)
{
    for (unsigned i = 0; i < CR_HIST_BUCKETS; i++)
        dst->count[i] += src->count[i];
    dst->total += src->total;
    dst->sum_us += src->sum_us;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
}

uint64_t cr_hist_quantile_us(const struct cr_hist *h, double q)
{
    if (!h->total)
        return 0;
    uint64_t want = (uint64_t)(q * (double)h->total + 0.999999), seen = 0;
    if (want == 0)
        want = 1;
    for (unsigned i = 0; i < CR_HIST_BUCKETS - 1; i++) {
        seen += h->count[i];
        if (seen >= want)
            return cr_hist_bounds_us[i] < h->max_us ? cr_hist_bounds_us[i] : h->max_us;
    }
    return h->max_us;
}
