/* Tests relay/route/producer.c alone: a packet is taken once (a duplicate is not fanned out
 * again), its keyframe flag and VP8 descriptor (RFC 7741 §4.2) are found once for all
 * consumers, and keyframe requests reach the publisher through the listener as one PLI
 * per throttle interval (RFC 4585 §6.3.1), never for a layer whose SSRC is unknown; an
 * audio publisher's RFC 6464 levels become its loudness. */
#include "fixture.h"
#include "test.h"

static void test_take_once(void)
{
    struct producer *p = vp8_producer(1, 1);
    uint8_t pkt[256];
    size_t len = vp8_packet(pkt, 10, 0, 1000, 77, 3, 1, true);
    struct rtp_view v;
    rtp_parse(pkt, len, &v);
    struct producer_packet pp;
    CHECK(producer_on_rtp(p, 0, pkt, len, &v, 1, &pp));
    CHECK(pp.keyframe);
    CHECK(pp.vp8 == &pp.vp8_desc);
    CHECK_EQ(pp.vp8->picture_id, 77);
    CHECK_EQ(pp.vp8->tid, 1);
    CHECK(!producer_on_rtp(p, 0, pkt, len, &v, 2, &pp)); /* a duplicate */
    len = vp8_packet(pkt, 11, 0, 1000, 78, 3, 0, false);
    rtp_parse(pkt, len, &v);
    CHECK(producer_on_rtp(p, 0, pkt, len, &v, 3, &pp));
    CHECK(!pp.keyframe);
    CHECK(producer_layer_active(p, 0, 500));
    CHECK(!producer_layer_active(p, 0, 5000));
    producer_free(p);
}

static void test_keyframe_requests(void)
{
    struct producer *p = vp8_producer(1, 2);
    p->layers[1].ssrc = 0; /* not known yet */
    plis = 0;
    producer_request_keyframe(p, 0, 1000);
    CHECK_EQ(plis, 1);
    CHECK_EQ(pli_ssrc, 1000);
    producer_request_keyframe(p, 0, 1100); /* throttled */
    CHECK_EQ(plis, 1);
    producer_request_keyframe(p, 1, 1100); /* no SSRC yet: nothing to ask */
    CHECK_EQ(plis, 1);
    for (int64_t t = 1120; t <= 1980; t += 20)
        producer_tick(p, t); /* one a second for the whole track */
    CHECK_EQ(plis, 1);
    for (int64_t t = 2000; t <= 2100; t += 20)
        producer_tick(p, t); /* the held request goes out when the second ends */
    CHECK_EQ(plis, 2);
    p->layers[1].ssrc = 1001;
    producer_request_keyframe(p, 1, 2200); /* another layer shares the second */
    for (int64_t t = 2200; t <= 2980; t += 20)
        producer_tick(p, t);
    CHECK_EQ(plis, 2);
    producer_tick(p, 3000);
    CHECK_EQ(plis, 3);
    CHECK_EQ(pli_ssrc, 1001);
    producer_free(p);

    struct producer *a = opus_producer(2);
    producer_request_keyframe(a, 0, 5000); /* audio has no keyframes */
    CHECK_EQ(plis, 3);
    producer_free(a);
}

/* RFC 6464: the level an audio publisher sends becomes its loudness (no decoding): loud
 * packets raise it, silence lowers it, it falls to 0 when levels stop coming, and what a
 * reader sees is the peak of the last second, so short sounds are not missed. */
static void test_loudness(void)
{
    struct producer *p = opus_producer(5);
    p->ext_level = 1;
    uint8_t pkt[128];
    for (int i = 0; i < 40; i++) {
        size_t pos = rtp_write_header(pkt, false, 111, (uint16_t)i, (uint32_t)i * 960, 2000, true);
        struct rtp_ext_writer w;
        rtp_ext_begin(&w, pkt + pos, sizeof pkt - pos);
        uint8_t level = i < 20 ? 0x80 | 20 : 127; /* voice at -20 dBov, then silence */
        rtp_ext_add(&w, 1, &level, 1);
        pos += rtp_ext_end(&w);
        memset(pkt + pos, 0x11, 20);
        struct rtp_view v;
        CHECK_EQ(rtp_parse(pkt, pos + 20, &v), 0);
        struct producer_packet pp;
        CHECK(producer_on_rtp(p, 0, pkt, pos + 20, &v, 20 * i, &pp));
        if (i == 19)
            CHECK(p->loudness > 90); /* toward 127 - 20, averaged */
    }
    CHECK(p->loudness < 20);
    struct cr_track_info info;
    producer_info(p, &info);
    CHECK(info.loudness > 90); /* the second's peak: a reader once a second misses no word */
    producer_tick(p, 20 * 39 + 301);
    CHECK_EQ(p->loudness, 0);
    producer_tick(p, 2500); /* two quiet windows later */
    producer_tick(p, 3600);
    producer_info(p, &info);
    CHECK_EQ(info.loudness, 0);
    producer_free(p);
}

int main(void)
{
    test_loudness();
    test_take_once();
    test_keyframe_requests();
    return test_report();
}
