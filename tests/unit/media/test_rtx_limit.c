/* Tests for media/rtx_limit.c: once per round trip per packet, and a rate budget. */
#include "media/rtx_limit.h"
#include "test.h"

static void test_once_per_rtt(void)
{
    struct rtx_limit r;
    rtx_limit_init(&r);
    CHECK(rtx_limit_allow(&r, 100, 1200, 0, 80, 1000));
    CHECK(!rtx_limit_allow(&r, 100, 1200, 0, 80, 1050)); /* NACKed again within the RTT */
    CHECK(rtx_limit_allow(&r, 101, 1200, 0, 80, 1050));  /* another packet */
    CHECK(rtx_limit_allow(&r, 100, 1200, 0, 80, 1080));  /* a round trip later */
    CHECK(rtx_limit_allow(&r, 356, 1200, 0, 80, 1081));  /* the slot's new owner */
    CHECK_EQ(r.refused_recent, 1);
    /* unknown RTT: 100 ms; a tiny RTT: at least 20 ms */
    rtx_limit_init(&r);
    CHECK(rtx_limit_allow(&r, 7, 1200, 0, 0, 0));
    CHECK(!rtx_limit_allow(&r, 7, 1200, 0, 0, 99));
    CHECK(rtx_limit_allow(&r, 7, 1200, 0, 0, 100));
    CHECK(rtx_limit_allow(&r, 8, 1200, 0, 1, 0));
    CHECK(!rtx_limit_allow(&r, 8, 1200, 0, 1, 19));
    /* sequence numbers wrap */
    rtx_limit_init(&r);
    CHECK(rtx_limit_allow(&r, 65535, 1200, 0, 50, 0));
    CHECK(rtx_limit_allow(&r, 0, 1200, 0, 50, 0));
    CHECK(!rtx_limit_allow(&r, 65535, 1200, 0, 50, 10));
}

static void test_budget(void)
{
    struct rtx_limit r;
    rtx_limit_init(&r);
    /* 96 kbit/s: the bucket holds half a second, 48 kbit = 5 packets of 1200 bytes */
    int ok = 0;
    for (int i = 0; i < 50; i++)
        ok += rtx_limit_allow(&r, (uint16_t)i, 1200, 96000, 50, 0);
    CHECK_EQ(ok, 5);
    CHECK_EQ(r.refused_rate, 45);
    /* over 10 s of a NACK storm, no more than the budget goes out */
    int64_t bits = 0;
    for (int64_t t = 0; t < 10000; t += 10)
        for (int i = 0; i < 10; i++)
            if (rtx_limit_allow(&r, (uint16_t)(1000 + t + i), 1200, 96000, 50, t))
                bits += 9600;
    CHECK(bits <= 96000 * 10 + 48000);
    CHECK(bits >= 96000 * 9);
}

/* A second copy draws on the same bucket: 96 kbit/s holds five packets, so two repairs of
 * two copies each and a fifth packet, then nothing. */
static void test_copies(void)
{
    struct rtx_limit r;
    rtx_limit_init(&r);
    CHECK(rtx_limit_allow(&r, 1, 1200, 96000, 50, 0));
    CHECK(rtx_limit_copy(&r, 1200, 96000, 0));
    CHECK(rtx_limit_allow(&r, 2, 1200, 96000, 50, 0));
    CHECK(rtx_limit_copy(&r, 1200, 96000, 0));
    CHECK(rtx_limit_allow(&r, 3, 1200, 96000, 50, 0));
    CHECK(!rtx_limit_copy(&r, 1200, 96000, 0));
    CHECK(!rtx_limit_allow(&r, 4, 1200, 96000, 50, 0));
    CHECK_EQ(r.copies, 2);
    CHECK(rtx_limit_copy(&r, 1200, 0, 0)); /* no budget: no limit */
}

int main(void)
{
    test_once_per_rtt();
    test_budget();
    test_copies();
    return test_report();
}
