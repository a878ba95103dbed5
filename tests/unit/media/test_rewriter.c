/* Tests relay/media/rewriter.c: dropping VP8 temporal layers TL2 then TL1 leaves the
 * outgoing sequence numbers and picture ids gap-free; going up waits for a TL0 frame, a
 * keyframe or a layer-sync frame of the next layer; a switch to another source (simulcast
 * layer) continues seq, timestamp, picture id and TL0PICIDX; 16-bit seq and 15-bit (and
 * 7-bit) picture ids wrap; late packets keep their frame's numbering or leave a counted
 * hole; a NACK after drops maps back to the packet it was made from; and a number reserved
 * after a frame (a FEC packet) pushes the next frames one on, a NACK for it finding
 * nothing, a late packet of the frame before keeping its own. */
#include "media/rewriter.h"
#include "test.h"

static struct rewriter rw;
static struct rewriter_sent sent_map[REWRITER_SENT];

/* One publisher stream (a simulcast layer) as the producer would parse it. */
struct src {
    int8_t layer;
    uint16_t seq, pid;
    uint32_t ts;
    uint8_t tl0;
    uint8_t pid_bits;
};

#define MAX_OUT 512
static struct rewriter_out outs[MAX_OUT];
static uint16_t out_in_seq[MAX_OUT];
static int n_out;

static struct vp8_desc desc(const struct src *s, int tid, bool sync, bool key, bool first)
{
    return (struct vp8_desc){.start_of_partition = first,
                             .keyframe = key && first,
                             .has_picture_id = true,
                             .has_tl0picidx = true,
                             .has_tid = true,
                             .picture_id = s->pid,
                             .picture_id_bits = s->pid_bits ? s->pid_bits : 15,
                             .tl0picidx = s->tl0,
                             .tid = (uint8_t)tid,
                             .layer_sync = sync,
                             .desc_len = 6};
}

/* Offers one frame of n packets; returns how many were forwarded (all or none). */
static int frame(struct src *s, int tid, bool sync, bool key, int n, int max_tid)
{
    if (tid == 0)
        s->tl0++;
    int fwd = 0;
    for (int i = 0; i < n; i++) {
        struct vp8_desc d = desc(s, tid, sync, key, i == 0);
        struct rewriter_in in = {s->seq, s->ts, s->layer, key && i == 0, &d};
        struct rewriter_out o;
        if (rewriter_packet(&rw, &in, max_tid, &o)) {
            if (n_out < MAX_OUT) {
                out_in_seq[n_out] = s->seq;
                outs[n_out++] = o;
            }
            fwd++;
        }
        s->seq++;
    }
    s->ts += 3000;
    s->pid = (uint16_t)((s->pid + 1) & (s->pid_bits == 7 ? 0x7f : 0x7fff));
    return fwd;
}

/* L1T3: TL0 TL2 TL1 TL2, repeated; 3 packets a frame. */
static int gop(struct src *s, int max_tid)
{
    static const int tids[4] = {0, 2, 1, 2};
    int fwd = 0;
    for (int i = 0; i < 4; i++)
        fwd += frame(s, tids[i], false, false, 3, max_tid) ? 1 : 0;
    return fwd;
}

/* Every outgoing packet follows the one before: seq + 1; a new picture (new ts) takes the
 * next picture id (mask: 15 or 7 bits); TL0PICIDX never goes back. */
static int gaps(int from, uint16_t mask)
{
    int bad = 0;
    for (int i = from + 1; i < n_out; i++) {
        const struct rewriter_out *a = &outs[i - 1], *b = &outs[i];
        bad += b->seq != (uint16_t)(a->seq + 1);
        if (b->ts != a->ts)
            bad += b->picture_id != ((a->picture_id + 1) & mask);
        else
            bad += b->picture_id != a->picture_id;
        bad += (uint8_t)(b->tl0picidx - a->tl0picidx) > 1;
    }
    return bad;
}

static void test_drop_tl2_then_tl1(void)
{
    rewriter_init(&rw, 1000, 90000, sent_map, REWRITER_SENT);
    n_out = 0;
    struct src a = {.layer = 2, .seq = 500, .pid = 300, .ts = 7000, .tl0 = 10};
    CHECK_EQ(frame(&a, 0, false, true, 5, REWRITER_ALL_TIDS), 5);
    CHECK_EQ(outs[0].seq, 1000);
    CHECK_EQ(outs[0].ts, 90000);
    CHECK(outs[0].vp8);
    CHECK_EQ(outs[0].picture_id, 300); /* the first source keeps its picture ids */
    CHECK_EQ(outs[0].tl0picidx, 11);
    CHECK_EQ(gop(&a, REWRITER_ALL_TIDS), 4);
    CHECK_EQ(gop(&a, 1), 2); /* TL2 dropped at once: TL0 and TL1 left */
    CHECK_EQ(gop(&a, 1), 2);
    CHECK_EQ(gop(&a, 0), 1); /* then TL1 */
    CHECK_EQ(gop(&a, 0), 1);
    CHECK_EQ(gaps(0, 0x7fff), 0);
    CHECK_EQ(rw.dropped, 3 * (2 + 2 + 3 + 3));
    CHECK_EQ(rw.holes, 0);
    CHECK_EQ(rw.cur_tid, 0);
    /* timestamps are the publisher's, shifted: dropped frames leave a time gap only (the
     * last frame sent is the last TL0, four frames back) */
    CHECK_EQ(outs[n_out - 1].ts - outs[0].ts, a.ts - 4 * 3000 - 7000);
}

static void test_upgrade_waits(void)
{
    rewriter_init(&rw, 0, 0, sent_map, REWRITER_SENT);
    n_out = 0;
    struct src a = {.layer = 0, .seq = 10, .pid = 5, .ts = 100, .tl0 = 0};
    frame(&a, 0, false, true, 2, 0);
    frame(&a, 2, false, false, 2, 0);
    frame(&a, 1, false, false, 2, 0);
    CHECK_EQ(rw.cur_tid, 0);
    /* wanted up to TL2: a TL2 or TL1 frame without Y cannot be decoded: still dropped */
    CHECK_EQ(frame(&a, 2, false, false, 2, 2), 0);
    CHECK_EQ(frame(&a, 1, false, false, 2, 2), 0);
    /* a TL2 sync frame refers to TL0, but the TL1 frames between are missing: wait */
    CHECK_EQ(frame(&a, 2, true, false, 2, 2), 0);
    /* a TL1 sync frame: up to TL1 */
    CHECK_EQ(frame(&a, 1, true, false, 2, 2), 2);
    CHECK_EQ(rw.cur_tid, 1);
    CHECK_EQ(frame(&a, 2, false, false, 2, 2), 0);
    /* a TL0 frame: everything after it decodes, up to the target */
    CHECK_EQ(frame(&a, 0, false, false, 2, 2), 2);
    CHECK_EQ(rw.cur_tid, 2);
    CHECK_EQ(frame(&a, 2, false, false, 2, 2), 2);
    CHECK_EQ(frame(&a, 1, false, false, 2, 2), 2);
    /* down within a GOP: at the next frame */
    CHECK_EQ(frame(&a, 2, false, false, 2, 1), 0);
    CHECK_EQ(frame(&a, 1, false, false, 2, 1), 2);
    CHECK_EQ(frame(&a, 0, false, true, 2, 0), 2);
    CHECK_EQ(frame(&a, 2, false, false, 2, 2), 0);
    /* a keyframe takes the target at once */
    CHECK_EQ(frame(&a, 0, false, true, 2, 2), 2);
    CHECK_EQ(frame(&a, 2, false, false, 2, 2), 2);
    CHECK_EQ(gaps(0, 0x7fff), 0);
}

static void test_spatial_switch(void)
{
    rewriter_init(&rw, 60000, 1, sent_map, REWRITER_SENT);
    n_out = 0;
    struct src hi = {.layer = 2, .seq = 100, .pid = 4000, .ts = 50000, .tl0 = 200};
    struct src lo = {.layer = 0, .seq = 9000, .pid = 31000, .ts = 50000, .tl0 = 17};
    frame(&hi, 0, false, true, 4, REWRITER_ALL_TIDS);
    gop(&hi, 1); /* ends on a dropped TL2 frame */
    lo.ts = hi.ts;
    int before = n_out;
    rewriter_switch(&rw, 2700);
    frame(&lo, 0, false, true, 3, 1); /* the new layer's keyframe */
    gop(&lo, 1);
    CHECK_EQ(gaps(0, 0x7fff), 0); /* seq and picture id run on across the switch */
    CHECK_EQ(outs[before].ts, outs[before - 1].ts + 2700);
    CHECK_EQ(outs[before].tl0picidx, (uint8_t)(outs[before - 1].tl0picidx + 1));
    /* and back, after a pause: same rules */
    before = n_out;
    rewriter_switch(&rw, 90000);
    hi.ts = lo.ts + 100000;
    frame(&hi, 0, false, true, 2, REWRITER_ALL_TIDS);
    gop(&hi, REWRITER_ALL_TIDS);
    CHECK_EQ(gaps(0, 0x7fff), 0);
    CHECK_EQ(outs[before].ts, outs[before - 1].ts + 90000);
    /* a late packet of the old source's layer, older than the switch, is not sent */
    struct vp8_desc d = desc(&hi, 0, false, false, false);
    struct rewriter_in in = {(uint16_t)(hi.seq - 40), hi.ts - 30000, 2, false, &d};
    struct rewriter_out o;
    CHECK(!rewriter_packet(&rw, &in, REWRITER_ALL_TIDS, &o));
}

static void test_wrap(void)
{
    rewriter_init(&rw, 65530, 0xfffff000u, sent_map, REWRITER_SENT);
    n_out = 0;
    struct src a = {.layer = 1, .seq = 65500, .pid = 0x7ff0, .ts = 0xffff0000u, .tl0 = 250};
    frame(&a, 0, false, true, 3, 1);
    for (int i = 0; i < 20; i++)
        gop(&a, i % 3 == 2 ? 0 : 1);
    CHECK_EQ(gaps(0, 0x7fff), 0);
    CHECK(outs[n_out - 1].seq < 200); /* wrapped */
    CHECK(outs[n_out - 1].picture_id < 0x7ff0);
    /* 7-bit picture ids wrap at 128 */
    struct src b = {.layer = 0, .seq = 3, .pid = 120, .ts = 0, .tl0 = 0, .pid_bits = 7};
    rewriter_switch(&rw, 3000);
    int before = n_out;
    frame(&b, 0, false, true, 1, 0);
    for (int i = 0; i < 10; i++)
        gop(&b, 0);
    CHECK_EQ(gaps(before, 0x7f), 0);
    CHECK_EQ(outs[before].picture_id, (outs[before - 1].picture_id + 1) & 0x7f);
}

static void test_reorder(void)
{
    rewriter_init(&rw, 100, 0, sent_map, REWRITER_SENT);
    n_out = 0;
    struct vp8_desc k = {.start_of_partition = true,
                         .keyframe = true,
                         .has_picture_id = true,
                         .has_tid = true,
                         .picture_id = 50,
                         .picture_id_bits = 15,
                         .tid = 0};
    struct vp8_desc t0 = k, t2 = k, t0b = k;
    t0.keyframe = false;
    t0.picture_id = 51; /* frame 51: TL0, seq 12..13 */
    t2.keyframe = false;
    t2.tid = 2;
    t2.picture_id = 52; /* frame 52: TL2 (dropped), seq 14..15 */
    t0b.keyframe = false;
    t0b.picture_id = 53; /* frame 53: TL0, seq 16 */
    struct rewriter_out o;
#define PKT(seq, ts, d)                                                                            \
    rewriter_packet(&rw, &(struct rewriter_in){seq, ts, 0, (d)->keyframe, d}, 0, &o)
    CHECK(PKT(10, 0, &k));
    CHECK(PKT(11, 0, &k));
    CHECK(PKT(12, 3000, &t0));
    CHECK_EQ(o.seq, 102);
    CHECK(!PKT(14, 6000, &t2)); /* before 13: the dropped frame overtakes */
    CHECK(PKT(13, 3000, &t0));  /* late, but its frame keeps its numbering */
    CHECK_EQ(o.seq, 103);
    CHECK_EQ(o.picture_id, 51);
    CHECK(PKT(16, 9000, &t0b)); /* seq 15 not here yet: it will be a hole... */
    CHECK_EQ(o.seq, 105);
    CHECK_EQ(o.picture_id, 52); /* ...but the picture ids stay continuous */
    CHECK(!PKT(15, 6000, &t2));
    CHECK_EQ(rw.holes, 1);
    CHECK_EQ(rw.dropped, 2);
    /* a late unknown frame older than a drop is not numbered (its number was taken) */
    struct vp8_desc old = t0;
    old.picture_id = 49;
    CHECK(!PKT(9, 0 - 3000u, &old));
    CHECK(PKT(17, 9000, &t0b));
    CHECK_EQ(o.seq, 106);
#undef PKT
}

static void test_nack_after_drops(void)
{
    rewriter_init(&rw, 40000, 0, sent_map, REWRITER_SENT);
    n_out = 0;
    struct src a = {.layer = 2, .seq = 1234, .pid = 7, .ts = 0, .tl0 = 0};
    frame(&a, 0, false, true, 4, 0);
    for (int i = 0; i < 5; i++)
        gop(&a, 0);
    CHECK(rw.dropped > 0);
    for (int i = 0; i < n_out; i++) {
        const struct rewriter_sent *s = rewriter_lookup(&rw, outs[i].seq);
        CHECK(s != NULL);
        if (!s)
            continue;
        CHECK_EQ(s->in_seq, out_in_seq[i]);
        CHECK_EQ(s->layer, 2);
        CHECK_EQ(s->out.ts, outs[i].ts);
        CHECK_EQ(s->out.picture_id, outs[i].picture_id);
        CHECK_EQ(s->out.tl0picidx, outs[i].tl0picidx);
    }
    CHECK(rewriter_lookup(&rw, (uint16_t)(outs[n_out - 1].seq + 1)) == NULL);
    CHECK(rewriter_lookup(&rw, (uint16_t)(outs[0].seq - 1)) == NULL);
    rewriter_forget_sent(&rw);
    CHECK(rewriter_lookup(&rw, outs[0].seq) == NULL);
    /* an old slot reused by a newer packet does not answer for the old seq */
    rewriter_init(&rw, 0, 0, sent_map, REWRITER_SENT);
    n_out = 0;
    struct src b = {.layer = 0, .seq = 0, .pid = 0, .ts = 0};
    frame(&b, 0, false, true, REWRITER_SENT + 1, 0);
    CHECK(rewriter_lookup(&rw, 0) == NULL);
    CHECK(rewriter_lookup(&rw, REWRITER_SENT) != NULL);
}

static void test_not_vp8(void)
{
    rewriter_init(&rw, 7, 70, sent_map, REWRITER_SENT);
    struct rewriter_out o;
    for (uint16_t i = 0; i < 5; i++) {
        struct rewriter_in in = {(uint16_t)(65534 + i), 960u * i, 0, false, NULL};
        CHECK(rewriter_packet(&rw, &in, 0, &o));
        CHECK_EQ(o.seq, 7 + i);
        CHECK_EQ(o.ts, 70 + 960 * i);
        CHECK(!o.vp8);
    }
}

static void test_reserve(void)
{
    rewriter_init(&rw, 100, 0, sent_map, REWRITER_SENT);
    n_out = 0;
    struct src s = {.layer = 0, .seq = 5000, .pid = 10, .ts = 90000};
    frame(&s, 0, false, true, 3, REWRITER_ALL_TIDS); /* out 100..102 */
    CHECK_EQ(rewriter_reserve(&rw), 103);
    CHECK(rewriter_lookup(&rw, 103) == NULL);
    frame(&s, 2, false, false, 2, REWRITER_ALL_TIDS); /* out 104, 105 */
    CHECK_EQ(outs[3].seq, 104);
    CHECK_EQ(outs[4].seq, 105);
    CHECK_EQ(rewriter_lookup(&rw, 105)->in_seq, 5004);
    /* a late packet of the first frame keeps its number */
    struct vp8_desc d = desc(&s, 0, false, false, false);
    struct rewriter_in late = {5001, 90000, 0, false, &d};
    struct rewriter_out o;
    d.picture_id = 10;
    CHECK(rewriter_packet(&rw, &late, REWRITER_ALL_TIDS, &o));
    CHECK_EQ(o.seq, 101);
    /* a drop after the reserved number still closes its gap */
    frame(&s, 2, false, false, 2, 1); /* dropped */
    frame(&s, 0, false, false, 1, 1);
    CHECK_EQ(outs[n_out - 1].seq, 106);
    /* a switch continues after it */
    CHECK_EQ(rewriter_reserve(&rw), 107);
    rewriter_switch(&rw, 3000);
    struct src s2 = {.layer = 1, .seq = 9000, .pid = 500, .ts = 7777};
    frame(&s2, 0, false, true, 1, REWRITER_ALL_TIDS);
    CHECK_EQ(outs[n_out - 1].seq, 108);
}

int main(void)
{
    test_reserve();
    test_drop_tl2_then_tl1();
    test_upgrade_waits();
    test_spatial_switch();
    test_wrap();
    test_reorder();
    test_nack_after_drops();
    test_not_vp8();
    printf("sizeof(struct rewriter) = %zu bytes\n", sizeof(struct rewriter));
    return test_report();
}
