/* A histogram of durations in microseconds over fixed, roughly logarithmic buckets, cheap
 * enough to feed with every forwarded packet (a short comparison chain, no allocation).
 * Quantiles are read from the buckets: the upper bound of the bucket that holds them. */
#ifndef CR_BASE_HIST_H
#define CR_BASE_HIST_H

#include <stdint.h>

#define CR_HIST_BUCKETS 16 /* the last one holds everything above the last bound */

/* Upper bounds (inclusive) of the first CR_HIST_BUCKETS - 1 buckets, in µs. */
extern const uint32_t cr_hist_bounds_us[CR_HIST_BUCKETS - 1];

struct cr_hist {
    uint64_t count[CR_HIST_BUCKETS];
    uint64_t total;  /* samples */
    uint64_t sum_us; /* of the samples */
    uint64_t max_us;
};

/* One sample; a negative one (clock steps) counts as 0. */
void cr_hist_add(struct cr_hist *h, int64_t us);
/* Adds the samples of src to dst. */
void cr_hist_merge(struct cr_hist *dst, const struct cr_hist *src);
/* The bound at or below which a share q (0..1) of the samples fall; 0 without samples;
 * above the last bound, max_us. */
uint64_t cr_hist_quantile_us(const struct cr_hist *h, double q);

#endif
