/* Tests for media/pacer.c: the rate media leaves at, the order of the classes, audio never
 * behind video, the bounded wait; time passed in. */
#include "media/pacer.h"
#include "test.h"

#define ROOM 16
#define PKT 1200

struct sink {
    int n;
    int64_t now_us;
    uint16_t seq[4096];
    uint8_t kind[4096];
    int64_t at_us[4096];
    int64_t bytes;
};

static void on_send(void *ud, uint8_t *buf, size_t len, const struct pacer_meta *m)
{
    struct sink *s = ud;
    memset(buf + len, 0xee, ROOM); /* the room after the packet is the caller's */
    if (s->n < 4096) {
        s->seq[s->n] = (uint16_t)(buf[0] << 8 | buf[1]);
        s->kind[s->n] = m->kind;
        s->at_us[s->n] = s->now_us;
    }
    s->n++;
    s->bytes += (int64_t)len;
}

/* Offers packet seq of cls; one that may leave now is "sent" into s at once. */
static bool offer(struct pacer *p, struct sink *s, enum pacer_class cls, uint16_t seq, size_t len,
                  int64_t now_us)
{
    uint8_t buf[PKT + ROOM] = {(uint8_t)(seq >> 8), (uint8_t)seq};
    struct pacer_meta m = {.kind = (uint8_t)cls, .built_us = now_us};
    s->now_us = now_us;
    bool now = pacer_offer(p, cls, buf, len, &m, now_us);
    if (now)
        on_send(s, buf, len, &m);
    return now;
}

static void run_until(struct pacer *p, struct sink *s, int64_t from_us, int64_t to_us)
{
    for (int64_t t = from_us; t <= to_us; t += 5000) {
        s->now_us = t;
        pacer_process(p, t, on_send, s);
    }
}

static void test_idle_link_no_delay(void)
{
    struct pacer p;
    struct sink s = {0};
    pacer_init(&p, 1000000, ROOM);
    /* 1 Mbit/s of media in 1200-byte packets, one every 9.6 ms: every one leaves at once */
    for (int i = 0; i < 200; i++)
        CHECK(offer(&p, &s, PACER_VIDEO, (uint16_t)i, PKT, i * 9600LL));
    CHECK(!pacer_busy(&p));
    CHECK_EQ(p.st.sent_now, 200);
    pacer_clear(&p);
}

static void test_burst_is_spread(void)
{
    struct pacer p;
    struct sink s = {0};
    pacer_init(&p, 800000, ROOM); /* 100 kB/s */
    /* a keyframe of 20 packets in one go */
    int now = 0;
    for (int i = 0; i < 20; i++)
        now += offer(&p, &s, PACER_VIDEO, (uint16_t)i, PKT, 0);
    CHECK(now <= 2); /* the 20 ms window: 2000 bytes */
    CHECK(pacer_busy(&p));
    run_until(&p, &s, 5000, 600000);
    CHECK_EQ(s.n, 20);
    for (int i = 0; i < 20; i++)
        CHECK_EQ(s.seq[i], i); /* in order */
    /* 24 kB at 100 kB/s: about 240 ms less the window, never faster than the pace */
    CHECK(s.at_us[19] >= 200000 && s.at_us[19] <= 250000);
    for (int i = 0; i + 10 < 20; i++) /* any 10 packets in a row take ≥ 10 × 12 ms - window */
        CHECK(s.at_us[i + 10] - s.at_us[i] >= 100000);
    /* a burst of 60 (720 ms at the pace) goes out within PACER_DRAIN_US, none dropped */
    struct sink s2 = {0};
    for (int i = 0; i < 60; i++)
        offer(&p, &s2, PACER_VIDEO, (uint16_t)i, PKT, 1000000);
    run_until(&p, &s2, 1005000, 2000000);
    CHECK_EQ(s2.n, 60);
    CHECK_EQ(p.st.dropped, 0);
    CHECK(s2.at_us[59] - 1000000 <= PACER_DRAIN_US + 5000);
    pacer_clear(&p);
}

static void test_audio_first(void)
{
    struct pacer p;
    struct sink s = {0};
    pacer_init(&p, 400000, ROOM);
    for (int i = 0; i < 30; i++)
        offer(&p, &s, PACER_VIDEO, (uint16_t)i, PKT, 0);
    CHECK(pacer_busy(&p));
    /* audio during the burst leaves at once, every 20 ms */
    for (int i = 0; i < 10; i++)
        CHECK(offer(&p, &s, PACER_AUDIO, (uint16_t)(1000 + i), 160, 20000LL * i));
    /* a retransmission goes before the video still waiting */
    run_until(&p, &s, 5000, 200000);
    CHECK(pacer_busy(&p));
    CHECK(!offer(&p, &s, PACER_RTX, 2000, PKT, 200000));
    int before = s.n;
    run_until(&p, &s, 205000, 2000000);
    CHECK(s.n > before);
    CHECK_EQ(s.seq[before], 2000);
    /* probe padding is never held */
    CHECK(offer(&p, &s, PACER_PADDING, 3000, 255, 2000000));
    pacer_clear(&p);
}

static void test_stale_dropped(void)
{
    struct pacer p;
    struct sink s = {0};
    pacer_init(&p, 100000, ROOM); /* 12.5 kB/s: 100 packets would take 9.6 s */
    p.max_delay_us = 100000;      /* the processing comes late: stale before it drains */
    for (int i = 0; i < 100; i++)
        offer(&p, &s, PACER_VIDEO, (uint16_t)i, PKT, 0);
    run_until(&p, &s, 150000, 2000000);
    CHECK(!pacer_busy(&p));
    CHECK_EQ(p.st.dropped, 100 - s.n);
    CHECK(p.st.dropped >= 90);
    struct pacer_stats st;
    pacer_read_stats(&p, &st);
    CHECK(st.max_wait_us <= 100000);
    /* the queue's byte bound */
    pacer_init(&p, 100000, ROOM);
    for (int i = 0; i < 1000; i++)
        offer(&p, &s, PACER_VIDEO, (uint16_t)i, PKT, 0);
    CHECK(p.bytes <= PACER_MAX_BYTES);
    CHECK(p.st.dropped >= 1000 - PACER_MAX_BYTES / PKT - 2);
    pacer_clear(&p);
    CHECK(!pacer_busy(&p));
}

static void test_rate_change(void)
{
    struct pacer p;
    struct sink s = {0};
    pacer_init(&p, 200000, ROOM);
    for (int i = 0; i < 20; i++)
        offer(&p, &s, PACER_VIDEO, (uint16_t)i, PKT, 0);
    pacer_set_rate(&p, 2000000, 0); /* the estimate jumped (a probe): 24 kB drain in ~100 ms */
    run_until(&p, &s, 5000, 200000);
    CHECK_EQ(s.n, 20);
    CHECK(s.at_us[19] <= 120000);
    pacer_set_rate(&p, 1, 300000);
    CHECK_EQ(p.pace_bps, PACER_MIN_BPS);
    pacer_clear(&p);
}

int main(void)
{
    test_idle_link_no_delay();
    test_burst_is_spread();
    test_audio_first();
    test_stale_dropped();
    test_rate_change();
    return test_report();
}
