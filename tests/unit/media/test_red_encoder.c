/* Tests relay/media/red_encoder.c: each packet carries the one or two payloads sent just
 * before it (RFC 2198), and nothing across a gap in sequence numbers, a DTX pause longer
 * than the 14-bit offset, a payload too long for a RED block, a reordered packet or a
 * reset; the depth chosen from the subscriber's reported loss; sequence wrap. */
#include <string.h>

#include "media/red_encoder.h"
#include "test.h"

#define PT 111
#define FRAME 960 /* 20 ms at 48 kHz */

static struct red_encoder enc;
static uint8_t out[1500];

/* Encodes a 10-byte payload filled with `fill`; returns the parsed result. */
static size_t encode(size_t depth, uint16_t seq, uint32_t ts, uint8_t fill, struct red_view *v)
{
    uint8_t payload[10];
    memset(payload, fill, sizeof payload);
    size_t n = red_enc_encode(&enc, depth, PT, seq, ts, payload, sizeof payload, out, sizeof out);
    CHECK(n > 0);
    CHECK_EQ(red_parse(out, n, v), RED_OK);
    CHECK_EQ(v->blocks[v->n - 1].len, 10);
    CHECK_EQ(v->blocks[v->n - 1].data[0], fill);
    return v->n - 1; /* redundant blocks */
}

static void test_depth_one_and_two(void)
{
    struct red_view v;
    red_enc_reset(&enc);
    CHECK_EQ(encode(1, 100, 5000, 'a', &v), 0); /* nothing before the first */
    CHECK_EQ(encode(1, 101, 5000 + FRAME, 'b', &v), 1);
    CHECK_EQ(v.blocks[0].ts_offset, FRAME);
    CHECK_EQ(v.blocks[0].pt, PT);
    CHECK_EQ(v.blocks[0].data[0], 'a');
    CHECK_EQ(encode(2, 102, 5000 + 2 * FRAME, 'c', &v), 2);
    CHECK_EQ(v.blocks[0].ts_offset, 2 * FRAME); /* oldest first */
    CHECK_EQ(v.blocks[0].data[0], 'a');
    CHECK_EQ(v.blocks[1].ts_offset, FRAME);
    CHECK_EQ(v.blocks[1].data[0], 'b');
    CHECK_EQ(encode(1, 103, 5000 + 3 * FRAME, 'd', &v), 1);
    CHECK_EQ(v.blocks[0].data[0], 'c');
}

static void test_gaps(void)
{
    struct red_view v;
    red_enc_reset(&enc);
    encode(2, 10, 0, 'a', &v);
    encode(2, 11, FRAME, 'b', &v);
    /* 12 was lost on the way in: 13 carries 11 (two back), not 10 */
    CHECK_EQ(encode(2, 13, 3 * FRAME, 'd', &v), 1);
    CHECK_EQ(v.blocks[0].data[0], 'b');
    CHECK_EQ(v.blocks[0].ts_offset, 2 * FRAME);
    /* with depth 1 two back is too far */
    CHECK_EQ(encode(1, 15, 5 * FRAME, 'f', &v), 0);
    /* a DTX pause: the next payload is 400 ms on, beyond the 14-bit offset */
    CHECK_EQ(encode(2, 16, 5 * FRAME + 19200, 'g', &v), 0);
    CHECK_EQ(encode(2, 17, 5 * FRAME + 19200 + FRAME, 'h', &v), 1);
    /* a reset (switch of source) forgets everything */
    red_enc_reset(&enc);
    CHECK_EQ(encode(2, 18, 5 * FRAME + 19200 + 2 * FRAME, 'i', &v), 0);
}

static void test_big_reordered_and_wrap(void)
{
    struct red_view v;
    static uint8_t big[RED_MAX_BLOCK_LEN + 1];
    red_enc_reset(&enc);
    encode(2, 65534, 0, 'a', &v);
    /* a payload too long for a block is sent as primary but never repeated */
    size_t n = red_enc_encode(&enc, 2, PT, 65535, FRAME, big, sizeof big, out, sizeof out);
    CHECK_EQ(n, 4 + 10 + 1 + sizeof big);          /* carries 'a' */
    CHECK_EQ(encode(2, 0, 2 * FRAME, 'c', &v), 1); /* 65535 not kept: 'a', across the wrap */
    CHECK_EQ(v.blocks[0].data[0], 'a');
    CHECK_EQ(v.blocks[0].ts_offset, 2 * FRAME);
    CHECK_EQ(encode(2, 1, 3 * FRAME, 'd', &v), 1); /* 'a' was overwritten by 'c' */
    CHECK_EQ(v.blocks[0].data[0], 'c');
    /* a late packet (seq 0 again) is sent but does not replace newer payloads */
    red_enc_push(&enc, 0, 2 * FRAME, (const uint8_t *)"zzzzzzzzzz", 10);
    CHECK_EQ(encode(2, 2, 4 * FRAME, 'e', &v), 2);
    CHECK_EQ(v.blocks[0].data[0], 'c');
    CHECK_EQ(v.blocks[1].data[0], 'd');
    /* the same timestamp as 'e' (offset 0) cannot be described: only 'd' goes */
    struct red_block b[RED_ENC_MAX_DEPTH];
    CHECK_EQ(red_enc_redundancy(&enc, 3, 4 * FRAME, 2, PT, b), 1);
    CHECK_EQ(b[0].data[0], 'd');
    CHECK_EQ(red_enc_redundancy(&enc, 3, 5 * FRAME, 9, PT, b), 2); /* depth capped at 2 */
}

static void test_depth_policy(void)
{
    CHECK_EQ(red_enc_depth(0), 1);
    CHECK_EQ(red_enc_depth(4), 1);   /* 1.6 % */
    CHECK_EQ(red_enc_depth(5), 2);   /* 2 % */
    CHECK_EQ(red_enc_depth(8), 2);   /* 3 % */
    CHECK_EQ(red_enc_depth(255), 2); /* the most we carry */
}

int main(void)
{
    test_depth_one_and_two();
    test_gaps();
    test_big_reordered_and_wrap();
    test_depth_policy();
    return test_report();
}
