/* Tests relay/route/consumer.c alone, with a fake sink: the rewriting (SSRC, payload type,
 * sequence numbers, timestamps and VP8 picture ids stay continuous across a switch of
 * source, RFC 3550 §5.1, RFC 7741 §4.2), simulcast layer switches only at a keyframe of the
 * target layer, NACKs answered from the producer's packet store by RTX (RFC 4588 §4),
 * pause and resume at a keyframe, the transport-wide sequence number left for the sink
 * to stamp, and FEC (ULPFEC in RED, RFC 5109): media in RED, a FEC packet after every k,
 * numbered in the stream, from which the receiver's procedure rebuilds any one lost packet
 * of its block as it was sent. */
#include "fixture.h"
#include "test.h"

#include "base/bytes.h"
#include "ulpfec_recover.h"

static struct consumer *video_consumer(struct fake_sink *f, struct producer *p, int64_t now)
{
    struct consumer_sink sink = fake_sink_of(f);
    struct consumer *c = consumer_new(CR_KIND_VIDEO, "v", &sink);
    c->pt = 100;
    c->rtx_pt = 101;
    consumer_set_connected(c, now);
    consumer_set_source(c, p, now);
    return c;
}

static void test_rewrite_and_switch_source(void)
{
    struct fake_sink f;
    struct producer *p = vp8_producer(1, 1);
    struct consumer *c = video_consumer(&f, p, 0);
    CHECK_EQ(f.keyframes, 1); /* bound and connected: a keyframe is asked for */
    uint8_t pkt[256];
    size_t len = vp8_packet(pkt, 5000, 9000, 1000, 300, 7, 0, false);
    feed(p, c, 0, pkt, len, 10);
    CHECK_EQ(f.n_rtp, 0); /* a decoder starts at a keyframe */
    for (uint16_t i = 0; i < 4; i++) {
        len = vp8_packet(pkt, (uint16_t)(5001 + i), 9000 + 3000u * i, 1000, (uint16_t)(301 + i),
                         (uint8_t)(8 + i), 0, i == 0);
        feed(p, c, 0, pkt, len, 20 + i);
    }
    CHECK_EQ(f.n_rtp, 4);
    struct rtp_view first = fake_view(&f, 0);
    CHECK_EQ(first.ssrc, c->ssrc);
    CHECK_EQ(first.payload_type, 100);
    for (size_t i = 1; i < f.n_rtp; i++) {
        struct rtp_view v = fake_view(&f, i);
        CHECK_EQ((uint16_t)(v.seq - first.seq), i);
        CHECK_EQ(v.timestamp - first.timestamp, 3000u * i);
        CHECK_EQ((fake_picture_id(&f, i) - fake_picture_id(&f, 0)) & 0x7fff, i);
    }

    /* another source: numbering and picture ids go on from ours, at its keyframe */
    struct producer *q = vp8_producer(2, 1);
    consumer_set_source(c, q, 100);
    CHECK_EQ(f.keyframes, 2);
    len = vp8_packet(pkt, 100, 555, 1000, 20000, 1, 0, false);
    feed(q, c, 0, pkt, len, 110);
    CHECK_EQ(f.n_rtp, 4);
    len = vp8_packet(pkt, 101, 3555, 1000, 20001, 2, 0, true);
    feed(q, c, 0, pkt, len, 120);
    CHECK_EQ(f.n_rtp, 5);
    struct rtp_view v = fake_view(&f, 4);
    CHECK_EQ(v.ssrc, c->ssrc);
    CHECK_EQ((uint16_t)(v.seq - first.seq), 4);
    CHECK(v.timestamp - first.timestamp > 9000u); /* advanced by the wall-clock gap */
    CHECK_EQ((fake_picture_id(&f, 4) - fake_picture_id(&f, 3)) & 0x7fff, 1);
    consumer_free(c);
    producer_free(p);
    producer_free(q);
}

static void test_simulcast_switch_at_keyframe(void)
{
    struct fake_sink f;
    struct producer *p = vp8_producer(1, 3);
    struct consumer *c = video_consumer(&f, p, 0);
    consumer_set_target(c, 0, 0);
    CHECK_EQ(f.last_layer, 0);
    uint8_t pkt[256];
    uint16_t s0 = 10, s1 = 500;
    size_t len = vp8_packet(pkt, s0++, 0, 1000, 1, 1, 0, true);
    feed(p, c, 0, pkt, len, 1);
    len = vp8_packet(pkt, s1++, 0, 1001, 1, 1, 0, true);
    feed(p, c, 1, pkt, len, 1);
    CHECK_EQ(f.n_rtp, 1); /* layer 1 is not the target */
    CHECK_EQ(c->layer, 0);

    int asked = f.keyframes;
    consumer_set_target(c, 1, 40);
    CHECK_EQ(f.keyframes, asked + 1);
    CHECK_EQ(f.last_layer, 1);
    /* the publisher ignored the request: asked again after CONSUMER_KEY_RETRY_MS, not before */
    consumer_keyframe_retry(c, 40 + CONSUMER_KEY_RETRY_MS - 1);
    CHECK_EQ(f.keyframes, asked + 1);
    consumer_keyframe_retry(c, 40 + CONSUMER_KEY_RETRY_MS);
    CHECK_EQ(f.keyframes, asked + 2);
    CHECK_EQ(f.last_layer, 1);
    len = vp8_packet(pkt, s1++, 3000, 1001, 2, 1, 0, false);
    feed(p, c, 1, pkt, len, 41);
    CHECK_EQ(f.n_rtp, 1); /* not at a delta frame of the new layer */
    len = vp8_packet(pkt, s0++, 3000, 1000, 2, 1, 0, false);
    feed(p, c, 0, pkt, len, 42);
    CHECK_EQ(f.n_rtp, 2); /* the old layer goes on meanwhile */
    CHECK_EQ(c->layer, 0);
    len = vp8_packet(pkt, s1++, 6000, 1001, 3, 2, 0, true);
    feed(p, c, 1, pkt, len, 60);
    CHECK_EQ(f.n_rtp, 3); /* switched at the keyframe */
    CHECK_EQ(c->layer, 1);
    int now_asked = f.keyframes;
    consumer_keyframe_retry(c, 60 + 10 * CONSUMER_KEY_RETRY_MS);
    CHECK_EQ(f.keyframes, now_asked); /* nothing awaited: no request */
    len = vp8_packet(pkt, s0++, 6000, 1000, 3, 2, 0, false);
    feed(p, c, 0, pkt, len, 61);
    CHECK_EQ(f.n_rtp, 3); /* the old layer is left */
    struct rtp_view a = fake_view(&f, 1), b = fake_view(&f, 2);
    CHECK_EQ((uint16_t)(b.seq - a.seq), 1);
    CHECK_EQ(b.ssrc, a.ssrc);
    consumer_free(c);
    producer_free(p);
}

static void test_nack_answered_by_rtx(void)
{
    struct fake_sink f;
    struct producer *p = vp8_producer(1, 1);
    struct consumer *c = video_consumer(&f, p, 0);
    uint8_t pkt[256];
    for (uint16_t i = 0; i < 5; i++) {
        size_t len = vp8_packet(pkt, (uint16_t)(70 + i), 100u * i, 1000, i, 0, 0, i == 0);
        feed(p, c, 0, pkt, len, 10 + i);
    }
    CHECK_EQ(f.n_rtp, 5);
    struct rtp_view lost = fake_view(&f, 2);
    uint8_t lost_payload[64];
    memcpy(lost_payload, lost.payload, lost.payload_len);
    uint16_t seqs[2] = {lost.seq, (uint16_t)(lost.seq + 1000)}; /* the second: never sent */
    CHECK_EQ(consumer_on_nack(c, seqs, 2, &(struct consumer_rtx){0, 50, 1}, 100, 100000), 1);
    CHECK_EQ(f.n_rtp, 6);
    CHECK_EQ(f.stats.layer_packets[0], 5); /* the media forwarded, by layer; not the repair */
    CHECK_EQ(c->retransmitted, 1);
    struct rtp_view r = fake_view(&f, 5);
    CHECK_EQ(r.ssrc, c->rtx_ssrc);
    CHECK_EQ(r.payload_type, 101);
    CHECK_EQ(r.timestamp, lost.timestamp);
    CHECK_EQ(rd_be16(r.payload), lost.seq); /* RFC 4588 §4: the original sequence number */
    CHECK(r.payload_len == lost.payload_len + 2 &&
          memcmp(r.payload + 2, lost_payload, lost.payload_len) == 0);
    CHECK_EQ(f.rtp[5].sent.kind, SEND_RTX);
    /* a path that loses repairs too: two copies, each its own RTX sequence number; NACKed
     * again within the round trip, nothing */
    struct rtp_view lost2 = fake_view(&f, 3);
    consumer_on_nack(c, &lost2.seq, 1, &(struct consumer_rtx){0, 50, 2}, 100, 100000);
    CHECK_EQ(f.n_rtp, 8);
    CHECK_EQ(c->retransmitted, 3);
    struct rtp_view c1 = fake_view(&f, 6), c2 = fake_view(&f, 7);
    CHECK_EQ(rd_be16(c1.payload), lost2.seq);
    CHECK_EQ(rd_be16(c2.payload), lost2.seq);
    CHECK_EQ((uint16_t)(c2.seq - c1.seq), 1);
    CHECK_EQ(consumer_on_nack(c, &lost2.seq, 1, &(struct consumer_rtx){0, 50, 2}, 120, 120000), 0);
    CHECK_EQ(f.n_rtp, 8);
    consumer_free(c);
    producer_free(p);
}

static void test_pause_resume(void)
{
    struct fake_sink f;
    struct producer *p = vp8_producer(1, 1);
    struct consumer *c = video_consumer(&f, p, 0);
    uint8_t pkt[256];
    uint16_t seq = 1;
    size_t len = vp8_packet(pkt, seq++, 0, 1000, 1, 0, 0, true);
    feed(p, c, 0, pkt, len, 1);
    consumer_pause(c, true, 2);
    len = vp8_packet(pkt, seq++, 3000, 1000, 2, 0, 0, true);
    feed(p, c, 0, pkt, len, 3);
    CHECK_EQ(f.n_rtp, 1); /* held back, keyframe or not */
    int asked = f.keyframes;
    consumer_pause(c, false, 4);
    CHECK_EQ(f.keyframes, asked + 1);
    len = vp8_packet(pkt, seq++, 6000, 1000, 3, 0, 0, false);
    feed(p, c, 0, pkt, len, 5);
    CHECK_EQ(f.n_rtp, 1); /* resumes at a keyframe */
    len = vp8_packet(pkt, seq++, 9000, 1000, 4, 0, 0, true);
    feed(p, c, 0, pkt, len, 6);
    CHECK_EQ(f.n_rtp, 2);
    CHECK_EQ((uint16_t)(fake_view(&f, 1).seq - fake_view(&f, 0).seq), 1);
    consumer_free(c);
    producer_free(p);
}

/* The consumer leaves the transport-wide seq for the sink; abs-send-time is the time given. */
static void test_extensions_for_the_sink(void)
{
    struct fake_sink f;
    struct producer *p = vp8_producer(1, 1);
    struct consumer *c = video_consumer(&f, p, 0);
    c->ext.twcc = 3;
    c->ext.abs_send_time = 2;
    c->ext.mid = 1;
    uint8_t pkt[256];
    size_t len = vp8_packet(pkt, 1, 0, 1000, 1, 0, 0, true);
    struct rtp_view v;
    rtp_parse(pkt, len, &v);
    struct producer_packet pp;
    CHECK(producer_on_rtp(p, 0, pkt, len, &v, 1, &pp));
    consumer_forward(c, &pp, 1, 1234567);
    CHECK_EQ(f.n_rtp, 1);
    struct rtp_view out = fake_view(&f, 0);
    const uint8_t *d;
    size_t n;
    CHECK(rtp_ext_find(&out, 3, &d, &n) == 0 && n == 2);
    CHECK_EQ(d - f.rtp[0].buf, f.rtp[0].sent.twcc_at);
    CHECK_EQ(f.rtp[0].sent.now_us, 1234567);
    CHECK(rtp_ext_find(&out, 2, &d, &n) == 0 && n == 3);
    CHECK_EQ(rd_be24(d), (uint32_t)((1234567ull << 18) / 1000000) & 0xffffff);
    CHECK(rtp_ext_find(&out, 1, &d, &n) == 0 && n == 1 && d[0] == 'v');
    /* the playout-delay extension: absent until asked for, then min/max in 10 ms units */
    c->ext.playout = 5;
    CHECK(rtp_ext_find(&out, 5, &d, &n) != 0);
    consumer_set_playout(c, 0); /* nothing asked yet: still nothing */
    len = vp8_packet(pkt, 2, 3000, 1000, 2, 0, 0, false);
    rtp_parse(pkt, len, &v);
    CHECK(producer_on_rtp(p, 0, pkt, len, &v, 2, &pp));
    consumer_forward(c, &pp, 2, 1234600);
    out = fake_view(&f, 1);
    CHECK(rtp_ext_find(&out, 5, &d, &n) != 0);
    consumer_set_playout(c, 290);
    len = vp8_packet(pkt, 3, 6000, 1000, 3, 0, 0, false);
    rtp_parse(pkt, len, &v);
    CHECK(producer_on_rtp(p, 0, pkt, len, &v, 3, &pp));
    consumer_forward(c, &pp, 3, 1234700);
    out = fake_view(&f, 2);
    CHECK(rtp_ext_find(&out, 5, &d, &n) == 0 && n == 3);
    CHECK_EQ(rd_be24(d), 29u << 12 | 1000u); /* 290 ms at least, 10 s at most */
    consumer_set_playout(c, 0);              /* off again: said as 0 from now on */
    len = vp8_packet(pkt, 4, 9000, 1000, 4, 0, 0, false);
    rtp_parse(pkt, len, &v);
    CHECK(producer_on_rtp(p, 0, pkt, len, &v, 4, &pp));
    consumer_forward(c, &pp, 4, 1234800);
    out = fake_view(&f, 3);
    CHECK(rtp_ext_find(&out, 5, &d, &n) == 0 && n == 3 && rd_be24(d) == 1000u);
    consumer_free(c);
    producer_free(p);
}

/* The media packet the receiver rebuilds from RED packet r: header with the media payload
 * type, extensions, payload without the RED header byte at ext_end. */
static void unred(const struct fake_packet *r, size_t ext_end, uint8_t media_pt, struct pkt *out)
{
    memcpy(out->b, r->buf, ext_end);
    out->b[1] = (uint8_t)((r->buf[1] & 0x80) | media_pt);
    memcpy(out->b + ext_end, r->buf + ext_end + 1, r->len - ext_end - 1);
    out->len = r->len - 1;
}

static void test_fec(void)
{
    struct fake_sink f;
    struct producer *p = vp8_producer(1, 1);
    struct consumer *c = video_consumer(&f, p, 0);
    c->ext.twcc = 3;
    consumer_set_fec(c, 4); /* not negotiated: stays off */
    CHECK(c->fec == NULL);
    consumer_set_fec_types(c, 120, 121);
    consumer_set_fec(c, 4);
    CHECK(c->fec != NULL);
    uint8_t pkt[256];
    for (uint16_t i = 0; i < 9; i++) { /* a keyframe, then eight frames of one packet */
        size_t len = vp8_packet(pkt, (uint16_t)(7000 + i), 3000u * i, 1000, (uint16_t)(40 + i),
                                (uint8_t)i, 0, i == 0);
        feed(p, c, 0, pkt, len, 10 + i);
    }
    /* the keyframe, its FEC at once; four frames, a FEC; four frames, a FEC */
    CHECK_EQ(f.n_rtp, 12);
    static const bool is_fec[12] = {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    struct rtp_view first = fake_view(&f, 0);
    for (size_t i = 0; i < f.n_rtp; i++) {
        struct rtp_view v = fake_view(&f, i);
        CHECK_EQ(v.payload_type, 120);
        CHECK_EQ(v.payload[0], is_fec[i] ? 121 : 100); /* RED's block: FEC or VP8 */
        CHECK_EQ((uint16_t)(v.seq - first.seq), i);    /* one stream, no gap */
        CHECK(f.rtp[i].sent.twcc_at > 0);
    }
    /* the receiver loses each media packet of the second block in turn and rebuilds it */
    size_t ext_end = (size_t)(first.payload - f.rtp[0].buf);
    static struct pkt media[4], lost;
    for (size_t i = 0; i < 4; i++)
        unred(&f.rtp[2 + i], ext_end, 100, &media[i]);
    struct rtp_view fv = fake_view(&f, 6);
    for (size_t drop = 0; drop < 4; drop++) {
        struct pkt *have[4] = {&media[0], &media[1], &media[2], &media[3]};
        have[drop] = NULL;
        size_t len = ulpfec_recover(fv.payload + 1, fv.payload_len - 1, c->ssrc, have, 4, lost.b);
        CHECK_EQ(len, media[drop].len);
        CHECK(len == media[drop].len && memcmp(lost.b, media[drop].b, len) == 0);
    }
    /* a NACK for a FEC packet's number is not answered */
    uint16_t fec_seq = fv.seq;
    size_t before = f.n_rtp;
    consumer_on_nack(c, &fec_seq, 1, &(struct consumer_rtx){0, 50, 1}, 100, 100000);
    CHECK_EQ(f.n_rtp, before);
    /* off again: plain VP8 */
    consumer_set_fec(c, 0);
    size_t len = vp8_packet(pkt, 7009, 27000, 1000, 49, 9, 0, false);
    feed(p, c, 0, pkt, len, 30);
    struct rtp_view plain = fake_view(&f, f.n_rtp - 1);
    CHECK_EQ(plain.payload_type, 100);
    CHECK_EQ((uint16_t)(plain.seq - first.seq), 12);
    consumer_free(c);
    producer_free(p);
}

/* Packets 70.. of one layer: a keyframe at 1000 ms, then three more frames. */
static void feed_keyframe_and_after(struct producer *p, struct consumer *c)
{
    uint8_t pkt[256];
    for (uint16_t i = 0; i < 4; i++) {
        size_t len = vp8_packet(pkt, (uint16_t)(70 + i), 3000u * i, 1000, i, 0, 0, i == 0);
        feed(p, c, 0, pkt, len, 1000 + 33 * i);
    }
}

/* A video consumer with RTX, fed by p from now_ms, its transport not up yet. */
static struct consumer *waiting_consumer(struct fake_sink *f, struct producer *p, int64_t now_ms)
{
    struct consumer_sink sink = fake_sink_of(f);
    struct consumer *c = consumer_new(CR_KIND_VIDEO, "v", &sink);
    c->pt = 100;
    c->rtx_pt = 101;
    consumer_set_source(c, p, now_ms);
    return c;
}

/* A transport that comes up just after a keyframe starts from it, without asking for one
 * (and so does a line fed after its transport came up);
 * after CONSUMER_CATCH_UP_MS, or with more than CONSUMER_CATCH_UP_BYTES since (and more
 * than 1.5 s of the layer's bit rate), it asks. */
static void test_catch_up(void)
{
    struct fake_sink f;
    struct producer *p = vp8_producer(1, 1);
    struct consumer *c = waiting_consumer(&f, p, 900);
    consumer_transport_near(c, 900); /* the first DTLS flight came: asked for early */
    CHECK_EQ(f.keyframes, 1);
    feed_keyframe_and_after(p, c);
    CHECK_EQ(f.n_rtp, 0); /* DTLS not done */
    consumer_set_connected(c, 1000 + CONSUMER_CATCH_UP_MS);
    CHECK_EQ(f.n_rtp, 4);
    CHECK(c->started);
    CHECK_EQ(f.keyframes, 1);
    struct rtp_view first = fake_view(&f, 0), last = fake_view(&f, 3);
    CHECK_EQ((uint16_t)(last.seq - first.seq), 3);
    CHECK_EQ(last.timestamp - first.timestamp, 9000u);
    consumer_free(c);

    /* a line fed once its transport is up (a renegotiation, a feed) starts the same way */
    struct fake_sink e;
    struct consumer_sink es = fake_sink_of(&e);
    c = consumer_new(CR_KIND_VIDEO, "v2", &es);
    c->pt = 100;
    consumer_set_connected(c, 1100);
    consumer_set_source(c, p, 1100);
    CHECK_EQ(e.n_rtp, 4);
    CHECK_EQ(e.keyframes, 0);
    consumer_free(c);

    struct fake_sink g;
    c = waiting_consumer(&g, p, 900);
    consumer_set_connected(c, 1001 + CONSUMER_CATCH_UP_MS); /* too late for that keyframe */
    CHECK_EQ(g.n_rtp, 0);
    CHECK(!c->started);
    CHECK_EQ(g.keyframes, 1);
    consumer_free(c);
    producer_free(p);

    p = vp8_producer(2, 1); /* too much since the keyframe */
    struct fake_sink h;
    c = waiting_consumer(&h, p, 900);
    uint8_t pkt[1300];
    memset(pkt, 0xab, sizeof pkt);
    for (uint16_t i = 0; i < 24; i++) {
        size_t len = vp8_packet(pkt, (uint16_t)(70 + i), 0, 1000, 1, 0, 0, i == 0);
        feed(p, c, 0, pkt, len + 1000, 1000);
    }
    consumer_set_connected(c, 1010);
    CHECK_EQ(h.n_rtp, 0);
    CHECK_EQ(h.keyframes, 1);
    consumer_free(c);

    /* ... unless the layer's bit rate says that much is what 1.5 s of it carries */
    struct fake_sink k;
    p->layers[0].bitrate_bps = 2000000;
    c = waiting_consumer(&k, p, 900);
    consumer_set_connected(c, 1010);
    CHECK_EQ(k.n_rtp, 24);
    CHECK_EQ(k.keyframes, 0);
    consumer_free(c);
    producer_free(p);
}

/* The receiver cannot ask for the first packet (it knows nothing before it): with
 * copy_first, its RTX copy follows it at once, and nothing else is sent twice. */
static void test_first_packet_copy(void)
{
    struct fake_sink f;
    struct producer *p = vp8_producer(1, 1);
    struct consumer *c = waiting_consumer(&f, p, 900);
    c->copy_first = CONSUMER_COPY_PACKET;
    feed_keyframe_and_after(p, c);
    consumer_set_connected(c, 1100);
    CHECK_EQ(f.n_rtp, 5);
    struct rtp_view first = fake_view(&f, 0), copy = fake_view(&f, 1);
    CHECK_EQ(first.payload_type, 100);
    CHECK_EQ(copy.payload_type, 101);
    CHECK_EQ(copy.ssrc, c->rtx_ssrc);
    CHECK_EQ(f.rtp[1].sent.kind, SEND_RTX);
    CHECK_EQ(rd_be16(copy.payload), first.seq); /* RFC 4588 §4 */
    CHECK(copy.payload_len == first.payload_len + 2 &&
          memcmp(copy.payload + 2, first.payload, first.payload_len) == 0);
    for (size_t i = 2; i < f.n_rtp; i++)
        CHECK_EQ(f.rtp[i].sent.kind, SEND_MEDIA);
    consumer_free(c);

    /* on a long path, the whole first frame: a keyframe of two packets, then a delta */
    producer_free(p);
    p = vp8_producer(1, 1);
    struct fake_sink g;
    c = waiting_consumer(&g, p, 2000);
    c->copy_first = CONSUMER_COPY_FRAME;
    consumer_set_connected(c, 2000);
    uint8_t pkt[256];
    for (uint16_t i = 0; i < 3; i++) {
        size_t len = vp8_packet(pkt, (uint16_t)(200 + i), 90000u + (i == 2 ? 3000u : 0), 1000,
                                (uint16_t)(40 + (i == 2)), 0, 0, i == 0);
        if (i == 0)
            pkt[1] &= 0x7f; /* no marker: the keyframe goes on in the next packet */
        feed(p, c, 0, pkt, len, 2000 + i);
    }
    CHECK_EQ(g.n_rtp, 5);
    static const uint8_t kinds[5] = {SEND_MEDIA, SEND_RTX, SEND_MEDIA, SEND_RTX, SEND_MEDIA};
    for (size_t i = 0; i < g.n_rtp && i < 5; i++)
        CHECK_EQ(g.rtp[i].sent.kind, kinds[i]);
    consumer_free(c);
    producer_free(p);
}

int main(void)
{
    test_catch_up();
    test_first_packet_copy();
    test_fec();
    test_rewrite_and_switch_source();
    test_simulcast_switch_at_keyframe();
    test_nack_answered_by_rtx();
    test_pause_resume();
    test_extensions_for_the_sink();
    return test_report();
}
