/* Tests for media/nack_list.c: gaps found, asked for once a round trip, repaired, given up. */
#include "media/nack_list.h"
#include "test.h"

static void test_gap_asked_and_repaired(void)
{
    struct nack_list l;
    nack_list_init(&l);
    uint16_t out[16];
    CHECK(!nack_list_on_packet(&l, 100, 0));
    CHECK(!nack_list_on_packet(&l, 101, 5));
    CHECK_EQ(nack_list_due(&l, 5, 80, out, 16), 0);
    CHECK(!nack_list_on_packet(&l, 104, 10)); /* 102 and 103 missing */
    CHECK(nack_list_wants(&l, 102) && nack_list_wants(&l, 103) && !nack_list_wants(&l, 104));
    CHECK_EQ(nack_list_due(&l, 10, 80, out, 16), 2); /* asked for at once */
    CHECK_EQ(out[0], 102);
    CHECK_EQ(out[1], 103);
    CHECK_EQ(nack_list_due(&l, 50, 80, out, 16), 0); /* not again within the round trip */
    CHECK(nack_list_on_packet(&l, 103, 60));         /* repaired */
    CHECK(!nack_list_on_packet(&l, 103, 61));        /* a duplicate */
    CHECK_EQ(nack_list_due(&l, 90, 80, out, 16), 1); /* 102 again, a round trip later */
    CHECK_EQ(out[0], 102);
    CHECK_EQ(l.missed, 2);
    CHECK_EQ(l.repaired, 1);
}

static void test_give_up(void)
{
    struct nack_list l;
    nack_list_init(&l);
    uint16_t out[16];
    nack_list_on_packet(&l, 1, 0);
    nack_list_on_packet(&l, 3, 0); /* 2 missing */
    size_t asked = 0;
    for (int64_t t = 0; t <= 2000; t += 5)
        asked += nack_list_due(&l, t, 1, out, 16); /* a tiny RTT: every 20 ms at most */
    CHECK_EQ(asked, NACK_LIST_MAX_TRIES);
    CHECK_EQ(l.n, 0);
    CHECK_EQ(l.given_up, 1);
    /* too old: a long round trip gives up at the age limit */
    nack_list_on_packet(&l, 5, 3000); /* 4 missing */
    asked = 0;
    for (int64_t t = 3000; t <= 5000; t += 5)
        asked += nack_list_due(&l, t, 400, out, 16);
    CHECK_EQ(asked, 3); /* at 0, 400 and 800 ms; gone after 1 s */
    CHECK(!nack_list_wants(&l, 4));
}

static void test_wide_gap_and_wrap(void)
{
    struct nack_list l;
    nack_list_init(&l);
    uint16_t out[NACK_LIST_MAX];
    nack_list_on_packet(&l, 65534, 0);
    nack_list_on_packet(&l, 1, 0); /* 65535 and 0 missing across the wrap */
    CHECK_EQ(nack_list_due(&l, 0, 50, out, NACK_LIST_MAX), 2);
    CHECK_EQ(out[0], 65535);
    CHECK_EQ(out[1], 0);
    nack_list_on_packet(&l, 1000, 10); /* an outage: not asked for packet by packet */
    CHECK_EQ(l.n, 0);
    CHECK_EQ(l.reset, 1);
    /* a list full of misses drops its oldest */
    for (uint16_t s = 1002; s <= 1002 + 2 * NACK_LIST_MAX; s += 2)
        nack_list_on_packet(&l, s, 20);
    CHECK_EQ(l.n, NACK_LIST_MAX);
    CHECK(!nack_list_wants(&l, 1001));
    CHECK(nack_list_wants(&l, 1001 + 2 * NACK_LIST_MAX));
    /* an old packet that was never missing changes nothing */
    CHECK(!nack_list_on_packet(&l, 900, 30));
}

int main(void)
{
    test_gap_asked_and_repaired();
    test_give_up();
    test_wide_gap_and_wrap();
    return test_report();
}
