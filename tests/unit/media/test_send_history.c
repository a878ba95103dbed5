/* Tests relay/media/send_history.c: feedback is matched to what was sent (send time, size,
 * kind, tag, arrival or lost) across a sequence wrap and a wrap of the feedback's 24-bit
 * reference time; duplicated, reordered, unknown and too-old reports are skipped; real
 * feedback bytes from media/twcc_recorder.c round-trip through wire/rtcp.h. */
#include <stdio.h>

#include "media/send_history.h"
#include "media/twcc_recorder.h"
#include "test.h"
#include "wire/rtcp.h"

#define REF_PERIOD_US ((int64_t)(1 << 24) * 64000)

static struct send_history h;
static struct send_result res[4096];
static struct twcc_packet_status st[4096];

/* Statuses for seqs [first, first+count): received at base + 1 ms × i unless i % lose_every
 * == lose_at. */
static struct twcc_feedback make_fb(uint16_t first, int count, int64_t ref_us, int lose_every,
                                    int lose_at)
{
    for (int i = 0; i < count; i++) {
        st[i].seq = (uint16_t)(first + i);
        st[i].received = !(lose_every && i % lose_every == lose_at);
        st[i].arrival_us = st[i].received ? ref_us + 1000 * i : 0;
    }
    return (struct twcc_feedback){
        .base_seq = first, .status_count = (uint16_t)count, .reference_us = ref_us};
}

static void test_match(void)
{
    send_history_init(&h);
    for (int i = 0; i < 10; i++)
        send_history_on_sent(&h, (uint16_t)(100 + i), 1000 + i, i == 9 ? SEND_PROBE : SEND_MEDIA,
                             (uint8_t)(i % 3), 5000000 + i * 2000);
    struct twcc_feedback fb = make_fb(100, 10, 64000000, 4, 1);
    size_t n = send_history_on_feedback(&h, &fb, st, 10, res);
    CHECK_EQ(n, 10);
    CHECK_EQ(res[0].send_us, 5000000);
    CHECK_EQ(res[3].size, 1003);
    CHECK_EQ(res[3].tag, 0);
    CHECK_EQ(res[4].tag, 1);
    CHECK_EQ(res[9].kind, SEND_PROBE);
    CHECK(res[0].received && !res[1].received && !res[5].received && res[6].received);
    CHECK_EQ(res[2].arrival_us, 64000000 + 2000);
    CHECK_EQ(res[1].seq + 1, res[2].seq);
    /* the same feedback again (a duplicate): nothing new */
    CHECK_EQ(send_history_on_feedback(&h, &fb, st, 10, res), 0);
    CHECK_EQ(h.duplicates, 10);
    /* seqs never sent (ahead of the newest) are unknown */
    fb = make_fb(110, 5, 64000000, 0, 0);
    CHECK_EQ(send_history_on_feedback(&h, &fb, st, 5, res), 0);
    CHECK_EQ(h.unknown, 5);
}

static void test_reorder_and_wrap(void)
{
    send_history_init(&h);
    /* 40 packets across the 16-bit wrap */
    for (int i = 0; i < 40; i++)
        send_history_on_sent(&h, (uint16_t)(65520 + i), 1200, SEND_MEDIA, 0, i * 1000);
    /* the second half's feedback arrives first */
    struct twcc_feedback fb = make_fb((uint16_t)(65520 + 20), 20, 1000000, 0, 0);
    size_t n = send_history_on_feedback(&h, &fb, st, 20, res);
    CHECK_EQ(n, 20);
    int64_t later = res[0].seq;
    fb = make_fb(65520, 20, 1000000 - 20000, 0, 0);
    n = send_history_on_feedback(&h, &fb, st, 20, res);
    CHECK_EQ(n, 20);
    CHECK_EQ(res[0].seq + 20, later); /* unwrapped: consecutive across the wrap */
    CHECK_EQ(res[19].send_us, 19000);
    CHECK_EQ((uint16_t)res[15].seq, 65535);
}

static void test_bounds(void)
{
    send_history_init(&h);
    for (int i = 0; i < 3 * SEND_HISTORY_SLOTS; i++)
        send_history_on_sent(&h, (uint16_t)i, 100, SEND_MEDIA, 0, i * 100);
    /* the first two thousand-odd are gone */
    struct twcc_feedback fb = make_fb(0, 100, 0, 0, 0);
    CHECK_EQ(send_history_on_feedback(&h, &fb, st, 100, res), 0);
    int newest = 3 * SEND_HISTORY_SLOTS - 1;
    fb = make_fb((uint16_t)(newest - 99), 100, 0, 0, 0);
    CHECK_EQ(send_history_on_feedback(&h, &fb, st, 100, res), 100);
    /* a jump in the sent numbers forgets the slots it skipped */
    send_history_init(&h);
    for (int i = 0; i < 10; i++)
        send_history_on_sent(&h, (uint16_t)i, 100, SEND_MEDIA, 0, i);
    send_history_on_sent(&h, (uint16_t)(SEND_HISTORY_SLOTS + 5), 100, SEND_MEDIA, 0, 99);
    fb = make_fb(5, 1, 0, 0, 0);
    CHECK_EQ(send_history_on_feedback(&h, &fb, st, 1, res), 0); /* too old now */
    fb = make_fb((uint16_t)(SEND_HISTORY_SLOTS + 3), 3, 0, 0, 0);
    CHECK_EQ(send_history_on_feedback(&h, &fb, st, 3, res), 1); /* only the one sent */
}

static void test_reference_wrap(void)
{
    send_history_init(&h);
    for (int i = 0; i < 20; i++)
        send_history_on_sent(&h, (uint16_t)i, 500, SEND_MEDIA, 0, i * 10000);
    /* the receiver's clock sits just under the signed 24-bit reference limit; the next
     * feedback's reference reads back negative */
    int64_t top = (int64_t)((1 << 23) - 1) * 64000;
    struct twcc_feedback fb = make_fb(0, 10, top, 0, 0);
    size_t n = send_history_on_feedback(&h, &fb, st, 10, res);
    CHECK_EQ(n, 10);
    int64_t last = res[9].arrival_us;
    fb = make_fb(10, 10, top + 64000 - REF_PERIOD_US, 0, 0);
    CHECK(fb.reference_us < 0);
    n = send_history_on_feedback(&h, &fb, st, 10, res);
    CHECK_EQ(n, 10);
    CHECK(res[0].arrival_us > last);
    CHECK_EQ(res[0].arrival_us - last, 64000 - 9000);
}

/* What the browser would send, built by our own recorder and parsed by the wire layer. */
static void test_wire_roundtrip(void)
{
    static struct twcc_recorder r;
    twcc_recorder_init(&r);
    send_history_init(&h);
    int64_t rx_offset = 777000000; /* the receiver's clock is not ours */
    for (int i = 0; i < 200; i++) {
        uint16_t seq = (uint16_t)(65400 + i);
        send_history_on_sent(&h, seq, 900, SEND_MEDIA, 2, 1000000 + i * 5000);
        if (i % 10 != 7)
            twcc_recorder_on_packet(&r, seq, rx_offset + 1000000 + i * 5000 + 40000);
    }
    uint8_t buf[1500];
    size_t len = twcc_recorder_build(&r, buf, sizeof buf, 1, 2);
    CHECK(len > 0);
    size_t pos = 0;
    struct rtcp_view v;
    struct rtcp_fb f;
    struct twcc_feedback fb;
    CHECK_EQ(rtcp_next(buf, len, &pos, &v), 1);
    CHECK_EQ(rtcp_parse_fb(&v, &f), 0);
    int count = rtcp_parse_twcc(&f, &fb, st, 4096);
    CHECK_EQ(count, 200);
    size_t n = send_history_on_feedback(&h, &fb, st, (size_t)count, res);
    CHECK_EQ(n, 200);
    int lost = 0;
    for (size_t i = 0; i < n; i++) {
        lost += !res[i].received;
        if (res[i].received && i > 0 && res[i - 1].received)
            CHECK_EQ(res[i].arrival_us - res[i - 1].arrival_us, 5000); /* 250 µs units */
    }
    CHECK_EQ(lost, 20);
}

/* Send times are kept in 32 bits: across their wrap (every 71 minutes of µs) they come back
 * whole. */
static void test_send_time_wrap(void)
{
    send_history_init(&h);
    int64_t t0 = (3LL << 32) - 300; /* a relay up for 3 × 71 minutes */
    for (int i = 0; i < 6; i++)
        send_history_on_sent(&h, (uint16_t)(7 + i), 1200, SEND_MEDIA, 0, t0 + 100 * i);
    struct twcc_feedback fb = make_fb(7, 6, 64000000, 0, 0);
    size_t n = send_history_on_feedback(&h, &fb, st, 6, res);
    CHECK_EQ(n, 6);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(res[i].send_us, t0 + 100 * (int64_t)i);
}

int main(void)
{
    test_match();
    test_send_time_wrap();
    test_reorder_and_wrap();
    test_bounds();
    test_reference_wrap();
    test_wire_roundtrip();
    printf("sizeof(struct send_history) = %zu bytes (%d slots of %zu)\n",
           sizeof(struct send_history), SEND_HISTORY_SLOTS, sizeof(struct send_history_entry));
    return test_report();
}
