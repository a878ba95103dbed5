/* Tests relay/wire/rtp.c: fixed header, CSRCs, extension block and padding bounds
 * (RFC 3550 §5.1, §5.3.1), one- and two-byte extension elements (RFC 8285 §4.2, §4.3)
 * including padding and id 15, the header and one-byte extension writers, and RTX OSN. */
#include <stdlib.h>

#include "test.h"
#include "wire/rtp.h"

/* A Chrome VP8 packet: X=1, PT 96, seq 0x1234, ts 0xdeadbeef, ssrc 0x11223344, one-byte
 * extensions abs-send-time (id 2, 3 bytes), TWCC (id 3, 2 bytes), mid (id 4, "1"). */
static const uint8_t chrome_vp8[] = {
    0x90, 0x60, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
    0x11, 0x22, 0x33, 0x44, 0xbe, 0xde, 0x00, 0x03, /* 3 words of elements */
    0x22, 0xaa, 0xbb, 0xcc,                         /* id 2, L=2: 3 bytes */
    0x31, 0x01, 0x02,                               /* id 3, L=1: 2 bytes */
    0x40, '1',                                      /* id 4, L=0: 1 byte */
    0x00, 0x00, 0x00,                               /* padding */
    0x90, 0xe0, 0x9d, 0x01, 0x2a,                   /* VP8 payload */
};

/* The fixed header fields and the first payload byte of a parsed packet. */
static void check_header(const struct rtp_view *v, int marker, int pt, uint16_t seq, uint32_t ts,
                         uint32_t ssrc, size_t payload_len, uint8_t first)
{
    CHECK_EQ(v->marker, marker);
    CHECK_EQ(v->payload_type, pt);
    CHECK_EQ(v->seq, seq);
    CHECK_EQ(v->timestamp, ts);
    CHECK_EQ(v->ssrc, ssrc);
    CHECK_EQ(v->payload_len, payload_len);
    CHECK(payload_len == 0 || v->payload[0] == first);
}

static void test_parse_basic(void)
{
    struct rtp_view v;
    CHECK_EQ(rtp_parse(chrome_vp8, sizeof chrome_vp8, &v), 0);
    CHECK_EQ(v.version, 2);
    CHECK_EQ(v.padding, 0);
    CHECK_EQ(v.extension, 1);
    CHECK_EQ(v.csrc_count, 0);
    CHECK_EQ(v.marker, 0);
    CHECK_EQ(v.payload_type, 96);
    CHECK_EQ(v.seq, 0x1234);
    CHECK_EQ(v.timestamp, 0xdeadbeef);
    CHECK_EQ(v.ssrc, 0x11223344);
    CHECK_EQ(v.ext_profile, 0xbede);
    CHECK_EQ(v.ext_len, 12);
    CHECK(v.ext == chrome_vp8 + 16);
    CHECK_EQ(v.header_len, 28);
    CHECK(v.payload == chrome_vp8 + 28);
    CHECK_EQ(v.payload_len, 5);

    /* no extension, marker, CSRCs */
    uint8_t p[] = {0x82, 0xef, 0,   1,   0,   0,   0,   2,   0,   0,   0,
                   3,    0xa,  0xa, 0xa, 0xa, 0xb, 0xb, 0xb, 0xb, 0x55};
    CHECK_EQ(rtp_parse(p, sizeof p, &v), 0);
    CHECK_EQ(v.marker, 1);
    CHECK_EQ(v.payload_type, 111);
    CHECK_EQ(v.csrc_count, 2);
    CHECK(v.ext == NULL);
    CHECK_EQ(v.ext_len, 0);
    CHECK_EQ(v.header_len, 20);
    CHECK_EQ(v.payload_len, 1);
    /* empty payload is legal */
    CHECK_EQ(rtp_parse(p, 20, &v), 0);
    CHECK_EQ(v.payload_len, 0);
}

static void test_parse_padding(void)
{
    struct rtp_view v;
    uint8_t p[20] = {0xa0, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 0, 0, 0, 4};
    CHECK_EQ(rtp_parse(p, sizeof p, &v), 0);
    CHECK_EQ(v.padding, 1);
    CHECK_EQ(v.padding_len, 4);
    CHECK_EQ(v.payload_len, 4);
    p[19] = 8; /* all of the body is padding: a padding-only probe packet */
    CHECK_EQ(rtp_parse(p, sizeof p, &v), 0);
    CHECK_EQ(v.payload_len, 0);
    p[19] = 9; /* more padding than body */
    CHECK(rtp_parse(p, sizeof p, &v) < 0);
    p[19] = 0; /* a zero count is malformed */
    CHECK(rtp_parse(p, sizeof p, &v) < 0);
    p[19] = 255;
    CHECK(rtp_parse(p, sizeof p, &v) < 0);
    /* padding bit with no body at all */
    CHECK(rtp_parse(p, 12, &v) < 0);
}

static void test_parse_malformed(void)
{
    struct rtp_view v;
    uint8_t b[64];
    memcpy(b, chrome_vp8, sizeof chrome_vp8);
    for (size_t n = 0; n < 28; n++) /* every truncation inside the header */
        CHECK(rtp_parse(b, n, &v) < 0);
    CHECK(rtp_parse(NULL, 0, &v) < 0);
    b[0] = 0x50; /* version 1 */
    CHECK(rtp_parse(b, sizeof chrome_vp8, &v) < 0);
    b[0] = 0xd0; /* version 3 */
    CHECK(rtp_parse(b, sizeof chrome_vp8, &v) < 0);
    b[0] = 0x9f; /* 15 CSRCs do not fit */
    CHECK(rtp_parse(b, sizeof chrome_vp8, &v) < 0);
    b[0] = 0x90;
    b[15] = 0x09; /* extension longer than the packet */
    CHECK(rtp_parse(b, sizeof chrome_vp8, &v) < 0);
    b[14] = 0xff;
    b[15] = 0xff;
    CHECK(rtp_parse(b, sizeof chrome_vp8, &v) < 0);
    b[14] = 0;
    b[15] = 4; /* extension exactly to the end: empty payload */
    CHECK_EQ(rtp_parse(b, 32, &v), 0);
    CHECK_EQ(v.payload_len, 0);
}

static void test_ext_one_byte(void)
{
    struct rtp_view v;
    const uint8_t *d;
    size_t len;
    CHECK_EQ(rtp_parse(chrome_vp8, sizeof chrome_vp8, &v), 0);
    CHECK_EQ(rtp_ext_find(&v, 2, &d, &len), 0);
    CHECK_EQ(len, 3);
    CHECK_EQ(d[0], 0xaa);
    CHECK_EQ(d[2], 0xcc);
    CHECK_EQ(rtp_ext_find(&v, 3, &d, &len), 0);
    CHECK_EQ(len, 2);
    CHECK_EQ(d[1], 0x02);
    CHECK_EQ(rtp_ext_find(&v, 4, &d, &len), 0);
    CHECK_EQ(len, 1);
    CHECK_EQ(d[0], '1');
    CHECK_EQ(rtp_ext_find(&v, 5, &d, &len), -1);
    CHECK_EQ(rtp_ext_find(&v, 0, &d, &len), -1);
    CHECK_EQ(rtp_ext_find(&v, 15, &d, &len), -1);

    size_t pos = 0;
    uint8_t id, ids[4];
    int n = 0;
    while (n < 4 && rtp_ext_next(&v, &pos, &id, &d, &len) == 1)
        ids[n++] = id;
    CHECK_EQ(n, 3);
    CHECK_EQ(ids[0], 2);
    CHECK_EQ(ids[2], 4);
    CHECK_EQ(rtp_ext_next(&v, &pos, &id, &d, &len), 0);

    /* padding between elements, then id 15 stops everything after it */
    uint8_t ext[] = {0x00, 0x10, 0x77, 0x00, 0xf0, 0x20, 0x55, 0x00};
    struct rtp_view e = {.extension = 1, .ext_profile = 0xbede, .ext = ext, .ext_len = 8};
    CHECK_EQ(rtp_ext_find(&e, 1, &d, &len), 0);
    CHECK_EQ(d[0], 0x77);
    CHECK_EQ(rtp_ext_find(&e, 2, &d, &len), -1);
    /* id 0 with a nonzero length nibble is still one byte of padding (found by fuzzing) */
    uint8_t pad1[] = {0x22, 0, 0, 0, 0x01, 0x06, 0x40, 0x31, 0x05, 0x00, 0x00, 0x00};
    struct rtp_view p1 = {.extension = 1, .ext_profile = 0xbede, .ext = pad1, .ext_len = 12};
    pos = 0;
    n = 0;
    while (rtp_ext_next(&p1, &pos, &id, &d, &len) == 1)
        ids[n < 3 ? n++ : n] = id;
    CHECK_EQ(n, 2);
    CHECK_EQ(ids[0], 2);
    CHECK_EQ(ids[1], 4); /* 0x01, 0x06 and 0x05 have id 0: skipped */
    /* an element running past the block is malformed */
    uint8_t bad[] = {0x10, 0x77, 0x3f, 0x00};
    struct rtp_view b = {.extension = 1, .ext_profile = 0xbede, .ext = bad, .ext_len = 4};
    pos = 0;
    CHECK_EQ(rtp_ext_next(&b, &pos, &id, &d, &len), 1);
    CHECK_EQ(rtp_ext_next(&b, &pos, &id, &d, &len), -1);
    CHECK_EQ(rtp_ext_find(&b, 3, &d, &len), -1);
    /* no extension, or an opaque profile: nothing to iterate */
    struct rtp_view none = {0};
    pos = 0;
    CHECK_EQ(rtp_ext_next(&none, &pos, &id, &d, &len), 0);
    struct rtp_view opaque = {.extension = 1, .ext_profile = 0x1234, .ext = ext, .ext_len = 8};
    CHECK_EQ(rtp_ext_next(&opaque, &pos, &id, &d, &len), 0);
}

static void test_ext_two_byte(void)
{
    /* RFC 8285 §4.3: 0x100 + appbits; id, length (0 allowed), data; 0 bytes pad */
    const uint8_t pkt[] = {
        0x90, 0x60, 0,    1,    0,    0,    0,    1,    0,
        0,    0,    1,    0x10, 0x00, 0x00, 0x03, 0x05, 0x00, /* id 5, empty */
        0x00,                                                 /* padding */
        0xc8, 0x04, 1,    2,    3,    4,                      /* id 200, 4 bytes */
        0x11, 0x01, 0x99, 0x00,                               /* id 17, 1 byte; padding */
        0xff,                                                 /* payload */
    };
    struct rtp_view v;
    const uint8_t *d;
    size_t len;
    CHECK_EQ(rtp_parse(pkt, sizeof pkt, &v), 0);
    CHECK_EQ(v.ext_profile, 0x1000);
    CHECK_EQ(rtp_ext_find(&v, 5, &d, &len), 0);
    CHECK_EQ(len, 0);
    CHECK_EQ(rtp_ext_find(&v, 200, &d, &len), 0);
    CHECK_EQ(len, 4);
    CHECK_EQ(d[3], 4);
    CHECK_EQ(rtp_ext_find(&v, 17, &d, &len), 0);
    CHECK_EQ(d[0], 0x99);
    CHECK_EQ(rtp_ext_find(&v, 15, &d, &len), -1);
    /* appbits in the profile are allowed */
    struct rtp_view w = v;
    w.ext_profile = 0x100f;
    CHECK_EQ(rtp_ext_find(&w, 200, &d, &len), 0);
    /* truncated element header and data */
    uint8_t t1[] = {0x05};
    struct rtp_view x = {.extension = 1, .ext_profile = 0x1000, .ext = t1, .ext_len = 1};
    CHECK_EQ(rtp_ext_find(&x, 5, &d, &len), -1);
    uint8_t t2[] = {0x05, 0x03, 0x01, 0x02};
    x.ext = t2;
    x.ext_len = 4;
    CHECK_EQ(rtp_ext_find(&x, 5, &d, &len), -1);
}

static void test_writers(void)
{
    uint8_t buf[64];
    memset(buf, 0xee, sizeof buf);
    CHECK_EQ(rtp_write_header(buf, true, 96, 65535, 0x01020304, 0xcafebabe, true), 12);
    struct rtp_ext_writer w;
    rtp_ext_begin(&w, buf + 12, sizeof buf - 12);
    const uint8_t ast[3] = {1, 2, 3}, tw[2] = {0xab, 0xcd}, mid[1] = {'0'};
    uint8_t big[17] = {0};
    CHECK_EQ(rtp_ext_add(&w, 2, ast, 3), 0);
    CHECK_EQ(rtp_ext_add(&w, 3, tw, 2), 0);
    CHECK_EQ(rtp_ext_add(&w, 4, mid, 1), 0);
    CHECK(rtp_ext_add(&w, 0, mid, 1) < 0);
    CHECK(rtp_ext_add(&w, 15, mid, 1) < 0);
    CHECK(rtp_ext_add(&w, 5, big, 0) < 0);
    CHECK(rtp_ext_add(&w, 5, big, 17) < 0);
    CHECK_EQ(rtp_ext_add(&w, 14, big, 16), 0);
    size_t ext = rtp_ext_end(&w);
    CHECK_EQ(ext, 4 + 28); /* 4 + 3 + 2 + 17 = 26 → 28 */
    memcpy(buf + 12 + ext, "\x42", 1);

    struct rtp_view v;
    const uint8_t *d;
    size_t len;
    CHECK_EQ(rtp_parse(buf, 12 + ext + 1, &v), 0);
    check_header(&v, 1, 96, 65535, 0x01020304, 0xcafebabe, 1, 0x42);
    CHECK_EQ(rtp_ext_find(&v, 2, &d, &len), 0);
    CHECK_EQ(len, 3);
    CHECK_EQ(d[2], 3);
    CHECK_EQ(rtp_ext_find(&v, 3, &d, &len), 0);
    CHECK_EQ(d[0], 0xab);
    CHECK_EQ(rtp_ext_find(&v, 4, &d, &len), 0);
    CHECK_EQ(rtp_ext_find(&v, 14, &d, &len), 0);
    CHECK_EQ(len, 16);

    /* no element: no block */
    rtp_ext_begin(&w, buf + 12, 40);
    CHECK_EQ(rtp_ext_end(&w), 0);
    /* capacity: 4-byte header + 4 bytes of elements, padding included */
    rtp_ext_begin(&w, buf, 8);
    CHECK_EQ(rtp_ext_add(&w, 1, ast, 3), 0);
    CHECK(rtp_ext_add(&w, 2, ast, 1) < 0);
    CHECK_EQ(rtp_ext_end(&w), 8);
    rtp_ext_begin(&w, buf, 8);
    CHECK_EQ(rtp_ext_add(&w, 1, ast, 1), 0);
    CHECK(rtp_ext_add(&w, 2, ast, 2) < 0); /* 2 + 3 = 5 > 4 */
    CHECK_EQ(rtp_ext_add(&w, 2, ast, 1), 0);
    CHECK_EQ(rtp_ext_end(&w), 8);
    CHECK_EQ(buf[4 + 0], 0x10);
    CHECK_EQ(buf[4 + 2], 0x20);
    rtp_ext_begin(&w, buf, 3);
    CHECK(rtp_ext_add(&w, 1, ast, 1) < 0);
    rtp_ext_begin(&w, buf, SIZE_MAX); /* the 16-bit length field bounds the block */
    CHECK_EQ(w.cap, 4u * 0xffff);

    /* without extension the X bit stays clear */
    rtp_write_header(buf, false, 127, 0, 0, 0, false);
    CHECK_EQ(buf[0], 0x80);
    CHECK_EQ(buf[1], 127);
}

static void test_rtx_osn(void)
{
    const uint8_t pkt[] = {0x80, 97, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0xfe, 0xdc, 0x90};
    struct rtp_view v;
    uint16_t osn = 0;
    CHECK_EQ(rtp_parse(pkt, sizeof pkt, &v), 0);
    CHECK_EQ(rtp_rtx_osn(&v, &osn), 0);
    CHECK_EQ(osn, 0xfedc);
    CHECK_EQ(rtp_parse(pkt, 13, &v), 0);
    CHECK_EQ(rtp_rtx_osn(&v, &osn), -1);
    CHECK_EQ(rtp_parse(pkt, 12, &v), 0);
    CHECK_EQ(rtp_rtx_osn(&v, &osn), -1);
}

static void test_rtx_unwrap(void)
{
    /* marker set, RTX pt 97, seq 9, ssrc 2; OSN 0xfedc; payload 0x90 0x91; 2 bytes padding */
    uint8_t pkt[] = {0xa0, 0x80 | 97, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0xfe, 0xdc, 0x90, 0x91, 0, 2};
    size_t len = sizeof pkt;
    struct rtp_view v;
    CHECK_EQ(rtp_parse(pkt, len, &v), 0);
    CHECK_EQ(rtp_rtx_unwrap(pkt, &len, &v, 96, 0x11223344), 0);
    CHECK_EQ(len, sizeof pkt - 2);
    CHECK_EQ(rtp_parse(pkt, len, &v), 0);
    check_header(&v, 1, 96, 0xfedc, 1, 0x11223344, 2, 0x90);
    CHECK_EQ(v.padding_len, 2);
    /* a padding-only RTX packet (a probe) has no OSN */
    uint8_t probe[] = {0xa0, 97, 0, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4};
    len = sizeof probe;
    CHECK_EQ(rtp_parse(probe, len, &v), 0);
    CHECK_EQ(rtp_rtx_unwrap(probe, &len, &v, 96, 1), -1);
}

int main(void)
{
    test_parse_basic();
    test_parse_padding();
    test_parse_malformed();
    test_ext_one_byte();
    test_ext_two_byte();
    test_writers();
    test_rtx_osn();
    test_rtx_unwrap();
    return test_report();
}
