/* Tests relay/wire/codec.c: names, the VP8 descriptor in all its optional forms
 * (RFC 7741 §4.2), the VP9 descriptor (draft-ietf-payload-vp9 §4.2) with flexible-mode
 * references and a scalability structure, and keyframe detection for VP8, H.264 (single
 * NAL, STAP-A, FU-A) and VP9, including every truncation. */
#include "test.h"
#include "wire/codec.h"

static void test_names(void)
{
    CHECK_EQ(codec_from_name("VP8", 3), CODEC_VP8);
    CHECK_EQ(codec_from_name("vp8", 3), CODEC_VP8);
    CHECK_EQ(codec_from_name("Vp9", 3), CODEC_VP9);
    CHECK_EQ(codec_from_name("h264", 4), CODEC_H264);
    CHECK_EQ(codec_from_name("OPUS", 4), CODEC_OPUS);
    CHECK_EQ(codec_from_name("rtx", 3), CODEC_RTX);
    CHECK_EQ(codec_from_name("RED", 3), CODEC_RED);
    CHECK_EQ(codec_from_name("ulpfec", 6), CODEC_ULPFEC);
    CHECK_EQ(codec_from_name("VP8/90000", 3), CODEC_VP8); /* a slice of SDP */
    CHECK_EQ(codec_from_name("VP8", 2), CODEC_UNKNOWN);
    CHECK_EQ(codec_from_name("H265", 4), CODEC_UNKNOWN);
    CHECK_EQ(codec_from_name("AV1", 3), CODEC_UNKNOWN);
    CHECK_EQ(codec_from_name("", 0), CODEC_UNKNOWN);
    CHECK_EQ(codec_from_name(NULL, 3), CODEC_UNKNOWN);
    CHECK_EQ(codec_from_name("unknown", 7), CODEC_UNKNOWN);
    for (int id = CODEC_OPUS; id <= CODEC_ULPFEC; id++) {
        const char *n = codec_name((enum codec_id)id);
        CHECK_EQ(codec_from_name(n, strlen(n)), id);
    }
    CHECK_STR(codec_name(CODEC_VP8), "VP8");
    CHECK_STR(codec_name(CODEC_OPUS), "opus");
    CHECK_STR(codec_name(CODEC_UNKNOWN), "unknown");
    CHECK_STR(codec_name((enum codec_id)99), "unknown");
}

static void test_vp8(void)
{
    struct vp8_desc d;
    /* no extension: S=1, PID=0, keyframe tag (P=0) */
    const uint8_t k0[] = {0x10, 0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a};
    CHECK_EQ(vp8_parse(k0, sizeof k0, &d), 0);
    CHECK(d.start_of_partition && d.keyframe);
    CHECK(!d.has_picture_id && !d.has_tl0picidx && !d.has_tid);
    CHECK_EQ(d.desc_len, 1);
    CHECK(codec_is_keyframe_start(CODEC_VP8, k0, sizeof k0));
    /* inter frame (P=1) */
    const uint8_t p0[] = {0x10, 0x31, 0x05};
    CHECK_EQ(vp8_parse(p0, sizeof p0, &d), 0);
    CHECK(d.start_of_partition && !d.keyframe);
    CHECK(!codec_is_keyframe_start(CODEC_VP8, p0, sizeof p0));
    /* continuation packet (S=0) of a keyframe, and S=1 with PID 1 */
    const uint8_t c0[] = {0x00, 0x50}, c1[] = {0x11, 0x50};
    CHECK_EQ(vp8_parse(c0, sizeof c0, &d), 0);
    CHECK(!d.start_of_partition && !d.keyframe);
    CHECK_EQ(vp8_parse(c1, sizeof c1, &d), 0);
    CHECK(!d.start_of_partition);
    CHECK(!codec_is_keyframe_start(CODEC_VP8, c1, sizeof c1));

    /* Chrome: X, I with M (15-bit picture id) */
    const uint8_t chrome[] = {0x90, 0x80, 0x92, 0x34, 0x50, 0x00};
    CHECK_EQ(vp8_parse(chrome, sizeof chrome, &d), 0);
    CHECK(d.has_picture_id);
    CHECK_EQ(d.picture_id, 0x1234);
    CHECK_EQ(d.desc_len, 4);
    CHECK(d.keyframe);
    /* I (7-bit), L, T with Y, K */
    const uint8_t full[] = {0xb0, 0xf0, 0x7f, 0x05, 0xa3, 0x9d};
    CHECK_EQ(vp8_parse(full, sizeof full, &d), 0);
    CHECK_EQ(d.picture_id, 127);
    CHECK(d.has_tl0picidx && d.tl0picidx == 5);
    CHECK(d.has_tid && d.tid == 2 && d.layer_sync == 1);
    CHECK_EQ(d.desc_len, 5);
    CHECK(!d.keyframe); /* 0x9d has P=1 */
    /* K without T: the byte is there, but no temporal id */
    const uint8_t konly[] = {0x90, 0x10, 0x1f, 0x50};
    CHECK_EQ(vp8_parse(konly, sizeof konly, &d), 0);
    CHECK(!d.has_tid);
    CHECK_EQ(d.desc_len, 3);
    CHECK(d.keyframe);
    /* X with nothing set */
    const uint8_t x0[] = {0x90, 0x00, 0x50};
    CHECK_EQ(vp8_parse(x0, sizeof x0, &d), 0);
    CHECK_EQ(d.desc_len, 2);

    /* every truncation fails: descriptor cut or no payload after it */
    for (size_t n = 0; n < sizeof chrome - 1; n++) {
        CHECK(vp8_parse(chrome, n, &d) < 0);
        CHECK(!codec_is_keyframe_start(CODEC_VP8, chrome, n));
    }
    for (size_t n = 0; n < sizeof full - 1; n++)
        CHECK(vp8_parse(full, n, &d) < 0);
    CHECK(vp8_parse(NULL, 4, &d) < 0);
}

static void test_vp8_write_ids(void)
{
    struct vp8_desc d;
    /* 15-bit picture id and TL0PICIDX: both renumbered, the rest untouched */
    uint8_t a[] = {0x90, 0xe0, 0x92, 0x34, 0x07, 0x40, 0x50};
    CHECK_EQ(vp8_parse(a, sizeof a, &d), 0);
    CHECK_EQ(d.picture_id_bits, 15);
    CHECK_EQ(vp8_write_ids(a, sizeof a, 0x7ffe, 0xff), 0);
    CHECK_EQ(vp8_parse(a, sizeof a, &d), 0);
    CHECK_EQ(d.picture_id, 0x7ffe);
    CHECK_EQ(d.tl0picidx, 0xff);
    CHECK(d.has_tid && d.tid == 1 && !d.layer_sync);
    CHECK_EQ(a[5], 0x40);
    CHECK_EQ(a[6], 0x50);
    /* 7-bit picture id: the low 7 bits; M stays clear */
    uint8_t b[] = {0x90, 0x80, 0x05, 0x50};
    CHECK_EQ(vp8_parse(b, sizeof b, &d), 0);
    CHECK_EQ(d.picture_id_bits, 7);
    CHECK_EQ(vp8_write_ids(b, sizeof b, 0x1234, 9), 0);
    CHECK_EQ(b[2], 0x34);
    /* no extension, or only TL0PICIDX */
    uint8_t c[] = {0x10, 0x50};
    CHECK_EQ(vp8_write_ids(c, sizeof c, 1, 2), 0);
    CHECK(c[0] == 0x10 && c[1] == 0x50);
    uint8_t e[] = {0x90, 0x40, 0x01, 0x50};
    CHECK_EQ(vp8_parse(e, sizeof e, &d), 0);
    CHECK_EQ(d.picture_id_bits, 0);
    CHECK_EQ(vp8_write_ids(e, sizeof e, 1, 2), 0);
    CHECK_EQ(e[2], 2);
    /* truncated descriptors are refused */
    uint8_t t[] = {0x90, 0xc0, 0x92, 0x34, 0x07};
    for (size_t n = 0; n < sizeof t; n++)
        CHECK(vp8_write_ids(t, n, 1, 2) < 0);
    CHECK(vp8_write_ids(NULL, 3, 1, 2) < 0);
}

static void test_h264(void)
{
    const uint8_t idr[] = {0x65, 0x88, 0x84}, sps[] = {0x67, 0x42, 0xc0, 0x1f},
                  pps[] = {0x68, 0xce}, slice[] = {0x41, 0x9a}, sei[] = {0x06, 0x05};
    CHECK(codec_is_keyframe_start(CODEC_H264, idr, sizeof idr));
    CHECK(codec_is_keyframe_start(CODEC_H264, sps, sizeof sps));
    CHECK(!codec_is_keyframe_start(CODEC_H264, pps, sizeof pps));
    CHECK(!codec_is_keyframe_start(CODEC_H264, slice, sizeof slice));
    CHECK(!codec_is_keyframe_start(CODEC_H264, sei, sizeof sei));
    const uint8_t forbidden[] = {0xe5, 0x88};
    CHECK(!codec_is_keyframe_start(CODEC_H264, forbidden, sizeof forbidden));

    /* STAP-A: SPS + PPS (Chrome sends these before an IDR) */
    const uint8_t stap[] = {0x78, 0x00, 0x04, 0x67, 0x42, 0xc0, 0x1f, 0x00, 0x02, 0x68, 0xce};
    CHECK(codec_is_keyframe_start(CODEC_H264, stap, sizeof stap));
    const uint8_t stap_idr_last[] = {0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x65, 0x88};
    CHECK(codec_is_keyframe_start(CODEC_H264, stap_idr_last, sizeof stap_idr_last));
    const uint8_t stap_none[] = {0x78, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x06, 0x05};
    CHECK(!codec_is_keyframe_start(CODEC_H264, stap_none, sizeof stap_none));
    for (size_t n = 1; n < sizeof stap; n++) /* torn aggregates are not keyframes */
        CHECK(!codec_is_keyframe_start(CODEC_H264, stap, n) || n == 7);
    const uint8_t stap_zero[] = {0x78, 0x00, 0x00, 0x00, 0x02, 0x67, 0x42};
    CHECK(!codec_is_keyframe_start(CODEC_H264, stap_zero, sizeof stap_zero));
    const uint8_t stap_big[] = {0x78, 0x00, 0x04, 0x67, 0x42, 0xff, 0xff, 0x65};
    CHECK(!codec_is_keyframe_start(CODEC_H264, stap_big, sizeof stap_big));

    /* FU-A: start of an IDR / SPS, middle of an IDR, start of a non-IDR */
    const uint8_t fu_start[] = {0x7c, 0x85, 0x88}, fu_sps[] = {0x7c, 0x87, 0x42},
                  fu_mid[] = {0x7c, 0x05, 0x88}, fu_end[] = {0x7c, 0x45, 0x88},
                  fu_p[] = {0x5c, 0x81, 0x9a};
    CHECK(codec_is_keyframe_start(CODEC_H264, fu_start, sizeof fu_start));
    CHECK(codec_is_keyframe_start(CODEC_H264, fu_sps, sizeof fu_sps));
    CHECK(!codec_is_keyframe_start(CODEC_H264, fu_mid, sizeof fu_mid));
    CHECK(!codec_is_keyframe_start(CODEC_H264, fu_end, sizeof fu_end));
    CHECK(!codec_is_keyframe_start(CODEC_H264, fu_p, sizeof fu_p));
    CHECK(!codec_is_keyframe_start(CODEC_H264, fu_start, 2));
    CHECK(!codec_is_keyframe_start(CODEC_H264, fu_start, 1));
    /* STAP-B, MTAP16/24, FU-B, reserved */
    const uint8_t other[] = {25, 26, 27, 29, 0, 30, 31};
    for (size_t i = 0; i < sizeof other; i++) {
        uint8_t p[] = {(uint8_t)(0x60 | other[i]), 0x85, 0x00, 0x02, 0x65, 0x88};
        CHECK(!codec_is_keyframe_start(CODEC_H264, p, sizeof p));
    }
    CHECK(!codec_is_keyframe_start(CODEC_H264, NULL, 3));
    CHECK(!codec_is_keyframe_start(CODEC_H264, idr, 0));
}

static void test_vp9(void)
{
    struct vp9_desc d;
    /* I (15-bit), B: a non-layered keyframe start */
    const uint8_t k[] = {0x88, 0x81, 0x23, 0x82, 0x49};
    CHECK_EQ(vp9_parse(k, sizeof k, &d), 0);
    CHECK(d.has_picture_id && d.picture_id == 0x123);
    CHECK(d.begin_frame && !d.end_frame && !d.inter_picture && !d.has_layer);
    CHECK_EQ(d.desc_len, 3);
    CHECK(codec_is_keyframe_start(CODEC_VP9, k, sizeof k));
    /* Chrome keyframe: I, B, E, V with SS (1 layer, Y: 1280x720, G: 1 group, R=1) */
    const uint8_t ss[] = {0x8e, 0x80, 0x01, 0x18, 0x05, 0x00, 0x02, 0xd0, 0x01, 0x04, 0x01, 0x82};
    CHECK_EQ(vp9_parse(ss, sizeof ss, &d), 0);
    CHECK_EQ(d.desc_len, 11);
    CHECK(d.end_frame);
    CHECK(codec_is_keyframe_start(CODEC_VP9, ss, sizeof ss));
    for (size_t n = 0; n < sizeof ss - 1; n++)
        CHECK(vp9_parse(ss, n, &d) < 0);
    /* SS with 3 spatial layers and no Y/G */
    const uint8_t ss3[] = {0x0a, 0x40, 0x82};
    CHECK_EQ(vp9_parse(ss3, sizeof ss3, &d), 0);
    CHECK_EQ(d.desc_len, 2);
    /* L, non-flexible: layer byte + TL0PICIDX; spatial layer 0 vs 1 */
    const uint8_t l0[] = {0xa8, 0x05, 0x50, 0x07, 0x82};
    CHECK_EQ(vp9_parse(l0, sizeof l0, &d), 0);
    CHECK(d.has_layer && d.tid == 2 && d.switching_up && d.sid == 0 && !d.inter_layer);
    CHECK_EQ(d.tl0picidx, 7);
    CHECK_EQ(d.desc_len, 4);
    CHECK(codec_is_keyframe_start(CODEC_VP9, l0, sizeof l0));
    const uint8_t l1[] = {0xa8, 0x05, 0x03, 0x07, 0x82};
    CHECK_EQ(vp9_parse(l1, sizeof l1, &d), 0);
    CHECK(d.sid == 1 && d.inter_layer);
    CHECK(!codec_is_keyframe_start(CODEC_VP9, l1, sizeof l1));
    /* inter-picture, and not the beginning of a frame */
    const uint8_t p[] = {0xc8, 0x05, 0x86}, nb[] = {0x80, 0x05, 0x86};
    CHECK(!codec_is_keyframe_start(CODEC_VP9, p, sizeof p));
    CHECK(!codec_is_keyframe_start(CODEC_VP9, nb, sizeof nb));
    /* flexible mode: layer byte without TL0PICIDX, two chained P_DIFFs */
    const uint8_t flex[] = {0xf8, 0x05, 0x20, 0x03, 0x04, 0x86};
    CHECK_EQ(vp9_parse(flex, sizeof flex, &d), 0);
    CHECK(d.flexible && d.inter_picture && d.tid == 1);
    CHECK_EQ(d.desc_len, 5);
    const uint8_t flex4[] = {0xd8, 0x05, 0x03, 0x03, 0x03, 0x02, 0x86};
    CHECK(vp9_parse(flex4, sizeof flex4, &d) < 0); /* at most 3 references */
    CHECK(vp9_parse(k, 0, &d) < 0);
    CHECK(vp9_parse(NULL, 2, &d) < 0);
}

static void test_other_codecs(void)
{
    const uint8_t opus[] = {0xfc, 0xff, 0xfe};
    CHECK(!codec_is_keyframe_start(CODEC_OPUS, opus, sizeof opus));
    CHECK(!codec_is_keyframe_start(CODEC_UNKNOWN, opus, sizeof opus));
    CHECK(!codec_is_keyframe_start(CODEC_RTX, opus, sizeof opus));
}

int main(void)
{
    test_names();
    test_vp8();
    test_vp8_write_ids();
    test_h264();
    test_vp9();
    test_other_codecs();
    return test_report();
}
