/* Tests relay/media/twcc_recorder.c against the wire parser: what we record is what a
 * sender reads back from the feedback, losses included, across a sequence wrap. */
#include <stdlib.h>

#include "media/twcc_recorder.h"
#include "test.h"
#include "wire/rtcp.h"

static struct twcc_packet_status statuses[2048];

static size_t parse(const uint8_t *buf, size_t len, struct twcc_feedback *fb)
{
    size_t pos = 0;
    struct rtcp_view v;
    struct rtcp_fb f;
    if (rtcp_next(buf, len, &pos, &v) != 1 || v.type != RTCP_RTPFB || v.count != RTCP_FMT_TWCC)
        return 0;
    if (rtcp_parse_fb(&v, &f) != 0)
        return 0;
    int n = rtcp_parse_twcc(&f, fb, statuses, 2048);
    return n < 0 ? 0 : (size_t)n;
}

int main(void)
{
    static struct twcc_recorder r;
    twcc_recorder_init(&r);
    uint8_t out[1500];
    CHECK_EQ(twcc_recorder_build(&r, out, sizeof out, 1, 2), 0);
    /* 100 packets from 65500 across the wrap, every 7th lost, 2 ms apart */
    int64_t t0 = 5000000;
    for (int i = 0; i < 100; i++)
        if (i % 7 != 3)
            twcc_recorder_on_packet(&r, (uint16_t)(65500 + i), t0 + i * 2000);
    size_t n = twcc_recorder_build(&r, out, sizeof out, 1, 2);
    CHECK(n > 0);
    struct twcc_feedback fb;
    size_t count = parse(out, n, &fb);
    CHECK_EQ(count, 100);
    CHECK_EQ(fb.base_seq, 65500);
    CHECK_EQ(fb.fb_count, 0);
    int ok = 1;
    for (size_t i = 0; i < count && i < 100; i++) {
        bool want = (i % 7 != 3);
        if (statuses[i].received != want)
            ok = 0;
        if (want && i > 0 && statuses[i - 1].received &&
            llabs((statuses[i].arrival_us - statuses[i - 1].arrival_us) - 2000) > 250)
            ok = 0;
    }
    CHECK(ok);
    /* nothing new: nothing written; then the next feedback continues the sequence */
    CHECK_EQ(twcc_recorder_build(&r, out, sizeof out, 1, 2), 0);
    twcc_recorder_on_packet(&r, (uint16_t)(65500 + 100), t0 + 300000);
    n = twcc_recorder_build(&r, out, sizeof out, 1, 2);
    CHECK_EQ(parse(out, n, &fb), 1);
    CHECK_EQ(fb.base_seq, (uint16_t)(65500 + 100));
    CHECK_EQ(fb.fb_count, 1);
    /* a packet 10 s after the last cannot share a feedback with it: the recorder splits
     * the span instead of stalling */
    twcc_recorder_on_packet(&r, (uint16_t)(65500 + 101), t0 + 400000);
    twcc_recorder_on_packet(&r, (uint16_t)(65500 + 102), t0 + 10400000);
    size_t total = 0;
    for (int i = 0; i < 4 && (n = twcc_recorder_build(&r, out, sizeof out, 1, 2)) > 0; i++)
        total += parse(out, n, &fb);
    CHECK_EQ(total, 2);
    CHECK_EQ(twcc_recorder_build(&r, out, sizeof out, 1, 2), 0);
    return test_report();
}
