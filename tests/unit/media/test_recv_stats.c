/* Tests relay/media/recv_stats.c: loss, extended sequence numbers across a wrap, jitter,
 * LSR/DLSR (RFC 3550 §6.4.1, §A.3, §A.8). */
#include "media/recv_stats.h"
#include "test.h"

static void test_no_loss_across_wrap(void)
{
    struct recv_stats s;
    recv_stats_init(&s, 1234, 90000);
    for (int i = 0; i < 100; i++)
        recv_stats_on_rtp(&s, (uint16_t)(65500 + i), (uint32_t)(i * 3000), 1000, i * 33);
    struct rtcp_report_block b;
    recv_stats_report(&s, 4000, &b);
    CHECK_EQ(b.ssrc, 1234);
    CHECK_EQ(b.fraction_lost, 0);
    CHECK_EQ(b.cumulative_lost, 0);
    CHECK_EQ(b.ext_highest_seq, 65536 + 63); /* one cycle, seq 63 */
    CHECK(b.jitter < 200); /* steady 33 ms vs 3000 ticks: ~90 ticks of rounding at most */
}

static void test_loss_fraction_per_interval(void)
{
    struct recv_stats s;
    recv_stats_init(&s, 1, 48000);
    for (int i = 0; i < 100; i++)
        if (i % 10 != 0 || i == 0) /* lose 9 of 100 */
            recv_stats_on_rtp(&s, (uint16_t)i, (uint32_t)(i * 960), 100, i * 20);
    struct rtcp_report_block b;
    recv_stats_report(&s, 2000, &b);
    CHECK_EQ(b.cumulative_lost, 9);
    CHECK_EQ(b.fraction_lost, 9 * 256 / 100);
    for (int i = 100; i < 200; i++)
        recv_stats_on_rtp(&s, (uint16_t)i, (uint32_t)(i * 960), 100, i * 20);
    recv_stats_report(&s, 4000, &b);
    CHECK_EQ(b.fraction_lost, 0); /* the new interval lost nothing */
    CHECK_EQ(b.cumulative_lost, 9);
    CHECK_EQ(recv_stats_lost(&s), 9);
}

static void test_jitter_grows_with_variation(void)
{
    struct recv_stats s;
    recv_stats_init(&s, 1, 90000);
    for (int i = 0; i < 200; i++) /* every other packet 20 ms late */
        recv_stats_on_rtp(&s, (uint16_t)i, (uint32_t)(i * 3000), 1000, i * 33 + (i % 2) * 20);
    struct rtcp_report_block b;
    recv_stats_report(&s, 8000, &b);
    CHECK(b.jitter > 1000 && b.jitter < 2500); /* ≈ 20 ms × 90 = 1800 ticks */
}

static void test_lsr_dlsr(void)
{
    struct recv_stats s;
    recv_stats_init(&s, 1, 90000);
    recv_stats_on_rtp(&s, 1, 0, 100, 0);
    recv_stats_on_sr(&s, 0x1122334455667788ULL, 1000);
    struct rtcp_report_block b;
    recv_stats_report(&s, 1500, &b);
    CHECK_EQ(b.lsr, 0x33445566);
    CHECK_EQ(b.dlsr, 32768); /* 0.5 s in 1/65536 s */
}

int main(void)
{
    test_no_loss_across_wrap();
    test_loss_fraction_per_interval();
    test_jitter_grows_with_variation();
    test_lsr_dlsr();
    return test_report();
}
