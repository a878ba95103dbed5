/* Tests relay/route/consumer_red.c through the consumer, with a fake sink: Opus toward a
 * subscriber that took RED (RFC 2198) goes out wrapped, each packet carrying the payload
 * sent before it as a redundant block; a subscriber without RED gets plain Opus. */
#include "fixture.h"
#include "test.h"

#include "wire/red.h"

static struct consumer *audio_consumer(struct fake_sink *f, struct producer *p, uint8_t red_pt)
{
    struct consumer_sink sink = fake_sink_of(f);
    struct consumer *c = consumer_new(CR_KIND_AUDIO, "a", &sink);
    c->pt = 111;
    consumer_set_red(c, red_pt);
    consumer_set_connected(c, 0);
    consumer_set_source(c, p, 0);
    return c;
}

static void test_red_wrap(void)
{
    struct fake_sink red, plain;
    struct producer *p = opus_producer(1);
    struct consumer *cr = audio_consumer(&red, p, 63);
    struct consumer *cp = audio_consumer(&plain, p, 0);
    uint8_t pkt[128];
    for (uint16_t i = 0; i < 3; i++) {
        size_t len = opus_packet(pkt, (uint16_t)(40 + i), 960u * i, (uint8_t)(0x10 + i));
        struct rtp_view v;
        rtp_parse(pkt, len, &v);
        struct producer_packet pp;
        CHECK(producer_on_rtp(p, 0, pkt, len, &v, i * 20, &pp));
        consumer_forward(cr, &pp, i * 20, i * 20000);
        consumer_forward(cp, &pp, i * 20, i * 20000);
    }
    CHECK_EQ(red.n_rtp, 3);
    CHECK_EQ(plain.n_rtp, 3);
    CHECK_EQ(red.stats.red_out, 3);
    for (size_t i = 0; i < 3; i++) {
        struct rtp_view v = fake_view(&plain, i);
        CHECK_EQ(v.payload_type, 111);
        CHECK(v.payload_len == 30 && v.payload[0] == 0x10 + i);
    }
    struct red_view rv;
    struct rtp_view v = fake_view(&red, 1);
    CHECK_EQ(v.payload_type, 63);
    CHECK_EQ(red_parse(v.payload, v.payload_len, &rv), RED_OK);
    CHECK_EQ(rv.n, 2); /* the previous payload, then the primary */
    CHECK_EQ(rv.blocks[0].ts_offset, 960);
    CHECK_EQ(rv.blocks[0].pt, 111);
    CHECK(rv.blocks[0].len == 30 && rv.blocks[0].data[0] == 0x10);
    CHECK(rv.blocks[1].len == 30 && rv.blocks[1].data[0] == 0x11);
    v = fake_view(&red, 2);
    CHECK_EQ(red_parse(v.payload, v.payload_len, &rv), RED_OK);
    CHECK(rv.n >= 2 && rv.blocks[rv.n - 1].data[0] == 0x12);
    CHECK_EQ((uint16_t)(fake_view(&red, 2).seq - fake_view(&red, 0).seq), 2);
    consumer_free(cr);
    consumer_free(cp);
    producer_free(p);
}

int main(void)
{
    test_red_wrap();
    return test_report();
}
