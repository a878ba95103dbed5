/* Tests relay/base/hist.c: buckets at their bounds, quantiles, negative samples, other
 * scales. */
#include "base/hist.h"
#include "test.h"

int main(void)
{
    struct cr_hist h = {0};
    CHECK_EQ(cr_hist_quantile_us(&h, 0.99), 0);
    cr_hist_add(&h, 25); /* bounds are inclusive */
    cr_hist_add(&h, 26);
    cr_hist_add(&h, -5); /* clock step: 0 */
    CHECK_EQ(h.count[0], 2);
    CHECK_EQ(h.count[1], 1);
    CHECK_EQ(h.total, 3);
    CHECK_EQ(h.sum_us, 51);
    for (int i = 0; i < 97; i++)
        cr_hist_add(&h, 300);
    CHECK_EQ(h.count[4], 97);                    /* (250, 500] */
    CHECK_EQ(cr_hist_quantile_us(&h, 0.5), 300); /* the max caps the bound */
    CHECK_EQ(cr_hist_quantile_us(&h, 0.02), 25);
    cr_hist_add(&h, 1400);
    CHECK_EQ(cr_hist_quantile_us(&h, 0.99), 500);
    CHECK_EQ(cr_hist_quantile_us(&h, 1.0), 1400);
    cr_hist_add(&h, 900000); /* above the last bound (100 ms) */
    CHECK_EQ(h.count[CR_HIST_BUCKETS - 1], 1);
    CHECK_EQ(cr_hist_quantile_us(&h, 1.0), 900000);
    CHECK_EQ(h.max_us, 900000);
    struct cr_hist sum = {0};
    cr_hist_merge(&sum, &h);
    cr_hist_merge(&sum, &h);
    CHECK_EQ(sum.total, 2 * h.total);
    CHECK_EQ(sum.count[4], 194);
    CHECK_EQ(sum.max_us, 900000);
    CHECK_EQ(cr_hist_quantile_us(&sum, 0.5), cr_hist_quantile_us(&h, 0.5));
    struct cr_hist loss = {0}; /* per mille: 0 has a bucket of its own */
    cr_hist_add_on(&loss, cr_hist_bounds_permille, 0);
    cr_hist_add_on(&loss, cr_hist_bounds_permille, 1);
    cr_hist_add_on(&loss, cr_hist_bounds_permille, 1000);
    CHECK_EQ(loss.count[0], 1);
    CHECK_EQ(loss.count[1], 1);
    CHECK_EQ(loss.count[CR_HIST_BUCKETS - 2], 1);
    CHECK_EQ(loss.sum_us, 1001);
    struct cr_hist bps = {0};
    cr_hist_add_on(&bps, cr_hist_bounds_bps, 700000);
    cr_hist_add_on(&bps, cr_hist_bounds_bps, 50000000);
    CHECK_EQ(bps.count[6], 1); /* (500k, 700k] */
    CHECK_EQ(bps.count[CR_HIST_BUCKETS - 1], 1);
    for (unsigned i = 1; i < CR_HIST_BUCKETS - 1; i++) { /* every scale ascends */
        CHECK(cr_hist_bounds_ms[i] > cr_hist_bounds_ms[i - 1]);
        CHECK(cr_hist_bounds_bps[i] > cr_hist_bounds_bps[i - 1]);
        CHECK(cr_hist_bounds_permille[i] > cr_hist_bounds_permille[i - 1]);
    }
    return test_report();
}
