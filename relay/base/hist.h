/* A histogram of durations in microseconds over fixed, roughly logarithmic buckets, cheap
 * enough to feed with every forwarded packet (a short comparison chain, no allocation).
 * Quantiles are read from the buckets: the upper bound of the bucket that holds them.
 * The same counts serve other scales (cr_hist_add_on): a table of bounds in another unit,
 * for bit rates, loss and join times (then sum_us and max_us are in that unit). */
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
/* One sample on another scale: bounds holds CR_HIST_BUCKETS - 1 ascending upper bounds
 * (inclusive) in the sample's unit. cr_hist_quantile_us does not apply to such a one. */
void cr_hist_add_on(struct cr_hist *h, const uint32_t *bounds, int64_t v);

/* Scales for cr_hist_add_on: milliseconds from 50 ms to 30 s (join stages), bits a second
 * from 100 kbit/s to 12 Mbit/s (estimates), and per mille from 0 to 100 % (loss). */
extern const uint32_t cr_hist_bounds_ms[CR_HIST_BUCKETS - 1];
extern const uint32_t cr_hist_bounds_bps[CR_HIST_BUCKETS - 1];
extern const uint32_t cr_hist_bounds_permille[CR_HIST_BUCKETS - 1];
/* Adds the samples of src to dst. */
void cr_hist_merge(struct cr_hist *dst, const struct cr_hist *src);
/* The bound at or below which a share q (0..1) of the samples fall; 0 without samples;
 * above the last bound, max_us. */
uint64_t cr_hist_quantile_us(const struct cr_hist *h, double q);

#endif
