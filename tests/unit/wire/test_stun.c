/* Tests relay/wire/stun.c: the sample messages of RFC 5769 (§2.1 request, §2.2 IPv4 and
 * §2.3 IPv6 responses, with their MESSAGE-INTEGRITY and FINGERPRINT), the message type
 * encoding of RFC 8489 §5, writer round trips, and malformed input. This layer links no
 * crypto library, so the test carries a small SHA-1 (FIPS 180-4) and HMAC (RFC 2104) of
 * its own, checked against FIPS and RFC 2202 values first. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "test.h"
#include "wire/stun.h"

/* ---- reference SHA-1 and HMAC-SHA1 for the integrity vectors ---- */

struct sha1 {
    uint32_t h[5];
    uint8_t block[64];
    size_t fill;
    uint64_t bytes;
};

static uint32_t rol(uint32_t x, int k) { return x << k | x >> (32 - k); }

static void sha1_block(struct sha1 *s)
{
    uint32_t w[80], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 16; i++)
        w[i] = rd_be32(s->block + 4 * i);
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
}

static void sha1_init(struct sha1 *s)
{
    static const uint32_t h0[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    memcpy(s->h, h0, sizeof(h0));
    s->fill = 0;
    s->bytes = 0;
}

static void sha1_update(struct sha1 *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s->block[s->fill++] = p[i];
        s->bytes++;
        if (s->fill == 64) {
            sha1_block(s);
            s->fill = 0;
        }
    }
}

static void sha1_final(struct sha1 *s, uint8_t *out)
{
    uint64_t bits = s->bytes * 8;
    uint8_t pad = 0x80, zero = 0, len[8];
    sha1_update(s, &pad, 1);
    while (s->fill != 56)
        sha1_update(s, &zero, 1);
    wr_be64(len, bits);
    sha1_update(s, len, 8);
    for (int i = 0; i < 5; i++)
        wr_be32(out + 4 * i, s->h[i]);
}

static void ref_hmac(const uint8_t *key, size_t key_len, const uint8_t *head, size_t head_len,
                     const uint8_t *rest, size_t rest_len, uint8_t *out)
{
    uint8_t k[64] = {0}, pad[64], inner[20];
    struct sha1 s;
    if (key_len > 64) {
        sha1_init(&s);
        sha1_update(&s, key, key_len);
        sha1_final(&s, k);
    } else {
        memcpy(k, key, key_len);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    sha1_init(&s);
    sha1_update(&s, pad, 64);
    sha1_update(&s, head, head_len);
    sha1_update(&s, rest, rest_len);
    sha1_final(&s, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    sha1_init(&s);
    sha1_update(&s, pad, 64);
    sha1_update(&s, inner, sizeof(inner));
    sha1_final(&s, out);
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        char b[3] = {hex[0], hex[1], 0};
        out[n++] = (uint8_t)strtoul(b, NULL, 16);
    }
    return n;
}

static void test_reference_hmac(void)
{
    uint8_t out[20], want[20];
    struct sha1 s;
    sha1_init(&s);
    sha1_update(&s, (const uint8_t *)"abc", 3);
    sha1_final(&s, out);
    unhex("a9993e364706816aba3e25717850c26c9cd0d89d", want); /* FIPS 180-4 example */
    CHECK(memcmp(out, want, 20) == 0);
    /* RFC 2202 §3 test case 2, split across the two parts */
    ref_hmac((const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want ", 16,
             (const uint8_t *)"for nothing?", 12, out);
    unhex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", want);
    CHECK(memcmp(out, want, 20) == 0);
}

/* ---- RFC 5769 ---- */

static const char *PASSWORD = "VOkJxbRl1RmTxUk/WvJxBt";

/* §2.1: Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY",
 * MESSAGE-INTEGRITY and FINGERPRINT (padding bytes are 0x20). */
static const char *REQUEST_HEX =
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74"
    "002400046e0001ff80290008932ff9b151263b36000600096576746a3a6836765920202000080014"
    "9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf";
/* §2.2: success response with XOR-MAPPED-ADDRESS 192.0.2.1:32853 */
static const char *RESPONSE4_HEX =
    "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001"
    "a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96";
/* §2.3: success response with XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853 */
static const char *RESPONSE6_HEX =
    "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000140002"
    "a1470113a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275bfe3ed41"
    "80280004c8fb0b4c";

static void check_authentic(const struct stun_view *v)
{
    CHECK_EQ(stun_check_integrity(v, (const uint8_t *)PASSWORD, strlen(PASSWORD), ref_hmac), 0);
    CHECK_EQ(stun_check_fingerprint(v), 0);
    CHECK_EQ(stun_check_integrity(v, (const uint8_t *)"wrong", 5, ref_hmac), STUN_ERR_INTEGRITY);
}

static void test_rfc5769_request(void)
{
    uint8_t buf[256];
    size_t n = unhex(REQUEST_HEX, buf);
    struct stun_view v;
    CHECK_EQ(n, 108);
    CHECK(stun_is_message(buf, n));
    CHECK_EQ(stun_parse(buf, n, &v), 0);
    CHECK_EQ(v.method, STUN_METHOD_BINDING);
    CHECK_EQ(v.cls, STUN_REQUEST);
    CHECK(v.txid == buf + 8);
    CHECK(v.username && v.username_len == 9 && memcmp(v.username, "evtj:h6vY", 9) == 0);
    CHECK(v.has_priority && v.priority == 0x6e0001ff);
    CHECK(v.controlled && !v.controlling && v.tie_breaker == 0x932ff9b151263b36ull);
    CHECK(!v.use_candidate);
    CHECK_EQ(v.integrity_off, 108 - 8 - 24);
    CHECK_EQ(v.fingerprint_off, 108 - 8);
    CHECK_EQ(v.unknown_required, 0);
    check_authentic(&v);

    /* one flipped bit anywhere breaks the fingerprint; inside the covered part, the HMAC */
    for (size_t i = 0; i < n - 4; i++) {
        buf[i] ^= 0x01;
        struct stun_view w;
        if (stun_parse(buf, n, &w) == 0) {
            CHECK_EQ(stun_check_fingerprint(&w), STUN_ERR_FINGERPRINT);
            if (i < w.integrity_off + 4 && w.integrity_off)
                CHECK_EQ(
                    stun_check_integrity(&w, (const uint8_t *)PASSWORD, strlen(PASSWORD), ref_hmac),
                    STUN_ERR_INTEGRITY);
        }
        buf[i] ^= 0x01;
    }
}

static void test_rfc5769_responses(void)
{
    uint8_t buf[256];
    struct stun_view v;
    size_t n = unhex(RESPONSE4_HEX, buf);
    CHECK_EQ(stun_parse(buf, n, &v), 0);
    CHECK_EQ(v.cls, STUN_SUCCESS);
    CHECK_EQ(v.method, STUN_METHOD_BINDING);
    CHECK_EQ(v.xor_mapped.family, 4);
    CHECK_EQ(v.xor_mapped.port, 32853);
    CHECK(memcmp(v.xor_mapped.ip, "\xc0\x00\x02\x01", 4) == 0);
    check_authentic(&v);

    n = unhex(RESPONSE6_HEX, buf);
    CHECK_EQ(stun_parse(buf, n, &v), 0);
    CHECK_EQ(v.cls, STUN_SUCCESS);
    CHECK_EQ(v.xor_mapped.family, 6);
    CHECK_EQ(v.xor_mapped.port, 32853);
    static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    CHECK(memcmp(v.xor_mapped.ip, ip6, 16) == 0);
    check_authentic(&v);

    /* the writer encodes both addresses to the same bytes as the RFC (§14.2) */
    uint8_t out[128];
    struct stun_writer w;
    stun_writer_init(&w, out, sizeof(out), STUN_METHOD_BINDING, STUN_SUCCESS, buf + 8);
    stun_put_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &v.xor_mapped);
    CHECK_EQ(stun_finish(&w), 20 + 24);
    CHECK(memcmp(out + 20, buf + 20 + 16, 24) == 0); /* after the 16-byte SOFTWARE */
    struct stun_addr v4 = {.family = 4, .ip = {192, 0, 2, 1}, .port = 32853};
    n = unhex(RESPONSE4_HEX, buf);
    stun_writer_init(&w, out, sizeof(out), STUN_METHOD_BINDING, STUN_SUCCESS, buf + 8);
    stun_put_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &v4);
    CHECK_EQ(stun_finish(&w), 20 + 12);
    CHECK(memcmp(out + 20, buf + 20 + 16, 12) == 0);
    CHECK(memcmp(out, buf, 2) == 0); /* 0x0101: Binding success response */
}

static void test_crc32(void)
{
    CHECK_EQ(stun_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u); /* the check value */
    CHECK_EQ(stun_crc32(NULL, 0), 0);
}

/* ---- writer ---- */

static void test_round_trip(void)
{
    static const uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t buf[256];
    struct stun_writer w;
    stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_REQUEST, txid);
    stun_put_attr(&w, STUN_ATTR_USERNAME, "abcd:efg", 8);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 0x7e0000ff);
    stun_put_u64(&w, STUN_ATTR_ICE_CONTROLLING, 0x0102030405060708ull);
    stun_put_attr(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0);
    stun_put_attr(&w, 0xC057, "\x00\x01\x00\x0a", 4); /* Chrome's GOOG-NETWORK-INFO */
    stun_put_integrity(&w, (const uint8_t *)"pass", 4, ref_hmac);
    stun_put_fingerprint(&w);
    int n = stun_finish(&w);
    CHECK_EQ(n, 20 + 12 + 8 + 12 + 4 + 8 + 24 + 8);
    CHECK_EQ(rd_be16(buf + 2), n - 20);
    struct stun_view v;
    CHECK_EQ(stun_parse(buf, (size_t)n, &v), 0);
    CHECK_EQ(v.cls, STUN_REQUEST);
    CHECK(memcmp(v.txid, txid, 12) == 0);
    CHECK(v.username_len == 8 && memcmp(v.username, "abcd:efg", 8) == 0);
    CHECK(v.has_priority && v.priority == 0x7e0000ff);
    CHECK(v.controlling && !v.controlled && v.tie_breaker == 0x0102030405060708ull);
    CHECK(v.use_candidate);
    CHECK_EQ(v.unknown_required, 0);
    CHECK_EQ(stun_check_integrity(&v, (const uint8_t *)"pass", 4, ref_hmac), 0);
    CHECK_EQ(stun_check_fingerprint(&v), 0);
    CHECK_EQ(buf[20 + 4 + 8], 0); /* zero padding */

    /* classes of RFC 8489 §5 */
    stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_ERROR, txid);
    CHECK_EQ(rd_be16(buf), 0x0111);
    stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_INDICATION, txid);
    CHECK_EQ(rd_be16(buf), 0x0011);
    stun_writer_init(&w, buf, sizeof(buf), 0x003, STUN_REQUEST, txid); /* TURN Allocate */
    CHECK_EQ(stun_finish(&w), 20);
    CHECK_EQ(stun_parse(buf, 20, &v), 0);
    CHECK_EQ(v.method, 0x003);
    stun_writer_init(&w, buf, sizeof(buf), 0xFFF, STUN_ERROR, txid);
    CHECK_EQ(stun_parse(buf, 20, &v), 0);
    CHECK_EQ(v.method, 0xFFF);
    CHECK_EQ(v.cls, STUN_ERROR);

    /* an error response */
    stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_ERROR, txid);
    stun_put_attr(&w, STUN_ATTR_ERROR_CODE,
                  "\x00\x00\x04\x57"
                  "Role Conflict",
                  17);
    n = stun_finish(&w);
    CHECK_EQ(stun_parse(buf, (size_t)n, &v), 0);
    CHECK_EQ(v.error_code, 487);
    CHECK_EQ(stun_check_integrity(&v, (const uint8_t *)"pass", 4, ref_hmac), STUN_ERR_INTEGRITY);
    CHECK_EQ(stun_check_fingerprint(&v), STUN_ERR_FINGERPRINT);

    /* no room */
    stun_writer_init(&w, buf, 19, STUN_METHOD_BINDING, STUN_REQUEST, txid);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 1);
    CHECK_EQ(stun_finish(&w), STUN_ERR_SPACE);
    stun_writer_init(&w, buf, 40, STUN_METHOD_BINDING, STUN_REQUEST, txid);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 1);
    stun_put_integrity(&w, (const uint8_t *)"k", 1, ref_hmac);
    stun_put_fingerprint(&w);
    CHECK_EQ(stun_finish(&w), STUN_ERR_SPACE);
    struct stun_addr none = {0};
    stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_SUCCESS, txid);
    stun_put_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &none);
    CHECK_EQ(stun_finish(&w), STUN_ERR_SPACE);
}

/* ---- malformed ---- */

/* A request header with room for attributes; returns the writer's length. */
static size_t with_attr(uint8_t *buf, uint16_t type, const char *val, size_t len)
{
    static const uint8_t txid[12] = {0};
    struct stun_writer w;
    stun_writer_init(&w, buf, 128, STUN_METHOD_BINDING, STUN_REQUEST, txid);
    stun_put_attr(&w, type, val, len);
    return (size_t)stun_finish(&w);
}

static void test_malformed(void)
{
    uint8_t buf[256];
    struct stun_view v;
    size_t n = unhex(REQUEST_HEX, buf);

    /* every truncation fails and reads nothing past the end (ASan runs this too) */
    for (size_t i = 0; i < n; i++) {
        uint8_t *cut = malloc(i ? i : 1);
        memcpy(cut, buf, i);
        CHECK(stun_parse(cut, i, &v) < 0);
        CHECK(!stun_is_message(cut, i));
        free(cut);
    }
    CHECK_EQ(stun_parse(buf, n, &v), 0);

    uint8_t m[256];
    memcpy(m, buf, n);
    m[4] ^= 1; /* cookie */
    CHECK_EQ(stun_parse(m, n, &v), STUN_ERR_NOT_STUN);
    memcpy(m, buf, n);
    m[0] |= 0x80; /* RTP-looking first byte */
    CHECK_EQ(stun_parse(m, n, &v), STUN_ERR_NOT_STUN);
    memcpy(m, buf, n);
    m[3] += 4; /* length beyond the datagram */
    CHECK_EQ(stun_parse(m, n, &v), STUN_ERR_MALFORMED);
    m[3] -= 6; /* not a multiple of four */
    CHECK_EQ(stun_parse(m, n, &v), STUN_ERR_MALFORMED);
    memcpy(m, buf, n);
    wr_be16(m + 20 + 2, 0x0100); /* SOFTWARE overruns the message */
    CHECK_EQ(stun_parse(m, n, &v), STUN_ERR_MALFORMED);
    memcpy(m, buf, n);
    memcpy(m + n, "\x80\x22\x00\x00", 4); /* an attribute after FINGERPRINT */
    wr_be16(m + 2, (uint16_t)(n + 4 - 20));
    CHECK_EQ(stun_parse(m, n + 4, &v), STUN_ERR_MALFORMED);

    CHECK_EQ(stun_parse(buf, with_attr(buf, STUN_ATTR_PRIORITY, "abc", 3), &v), STUN_ERR_MALFORMED);
    CHECK_EQ(stun_parse(buf, with_attr(buf, STUN_ATTR_USE_CANDIDATE, "a", 1), &v),
             STUN_ERR_MALFORMED);
    CHECK_EQ(stun_parse(buf, with_attr(buf, STUN_ATTR_ICE_CONTROLLED, "1234", 4), &v),
             STUN_ERR_MALFORMED);
    CHECK_EQ(stun_parse(buf, with_attr(buf, STUN_ATTR_MESSAGE_INTEGRITY, "short", 5), &v),
             STUN_ERR_MALFORMED);
    CHECK_EQ(stun_parse(buf, with_attr(buf, STUN_ATTR_FINGERPRINT, "12345", 5), &v),
             STUN_ERR_MALFORMED);
    CHECK_EQ(stun_parse(buf, with_attr(buf, STUN_ATTR_XOR_MAPPED_ADDRESS, "\0\3\0\0abcd", 8), &v),
             STUN_ERR_MALFORMED); /* family 3 */
    CHECK_EQ(stun_parse(buf, with_attr(buf, STUN_ATTR_XOR_MAPPED_ADDRESS, "\0\2\0\0abcd", 8), &v),
             STUN_ERR_MALFORMED); /* IPv6 needs 16 bytes */
    CHECK_EQ(stun_parse(buf, with_attr(buf, STUN_ATTR_ERROR_CODE, "\0\0\7\0", 4), &v),
             STUN_ERR_MALFORMED); /* class 7 */
    CHECK_EQ(stun_parse(buf, with_attr(buf, STUN_ATTR_ERROR_CODE, "\0\0\4\144", 4), &v),
             STUN_ERR_MALFORMED); /* number 100 */
    char user[600];
    memset(user, 'u', sizeof(user));
    struct stun_writer w;
    uint8_t big[700];
    stun_writer_init(&w, big, sizeof(big), STUN_METHOD_BINDING, STUN_REQUEST, buf + 8);
    stun_put_attr(&w, STUN_ATTR_USERNAME, user, 514);
    CHECK_EQ(stun_parse(big, (size_t)stun_finish(&w), &v), STUN_ERR_MALFORMED);

    /* unknown attributes: comprehension-required ones are counted, optional ones not */
    CHECK_EQ(stun_parse(buf, with_attr(buf, 0x7777, "x", 1), &v), 0);
    CHECK_EQ(v.unknown_required, 1);
    CHECK_EQ(stun_parse(buf, with_attr(buf, 0xC001, "abcd", 4), &v), 0);
    CHECK_EQ(v.unknown_required, 0);

    /* after MESSAGE-INTEGRITY everything but FINGERPRINT is ignored; first of two wins */
    stun_writer_init(&w, big, sizeof(big), STUN_METHOD_BINDING, STUN_REQUEST, buf + 8);
    stun_put_attr(&w, STUN_ATTR_USERNAME, "first", 5);
    stun_put_attr(&w, STUN_ATTR_USERNAME, "second", 6);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 7);
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 8);
    stun_put_integrity(&w, (const uint8_t *)"k", 1, ref_hmac);
    stun_put_attr(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0);
    stun_put_attr(&w, 0x7777, "x", 1);
    stun_put_fingerprint(&w);
    n = (size_t)stun_finish(&w);
    CHECK_EQ(stun_parse(big, n, &v), 0);
    CHECK(v.username_len == 5 && memcmp(v.username, "first", 5) == 0);
    CHECK_EQ(v.priority, 7);
    CHECK(!v.use_candidate);
    CHECK_EQ(v.unknown_required, 0);
    CHECK_EQ(stun_check_fingerprint(&v), 0);
    /* integrity covers up to MESSAGE-INTEGRITY only, so trailing attributes do not break it */
    CHECK_EQ(stun_check_integrity(&v, (const uint8_t *)"k", 1, ref_hmac), 0);

    /* no attributes at all */
    CHECK_EQ(stun_parse(buf, with_attr(buf, 0, NULL, 0) - 4, &v), STUN_ERR_MALFORMED);
    static const uint8_t empty[20] = {0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42};
    CHECK_EQ(stun_parse(empty, sizeof(empty), &v), 0);
    CHECK_EQ(stun_check_integrity(&v, (const uint8_t *)"k", 1, ref_hmac), STUN_ERR_INTEGRITY);
    CHECK_EQ(stun_check_fingerprint(&v), STUN_ERR_FINGERPRINT);
}

int main(void)
{
    test_reference_hmac();
    test_crc32();
    test_rfc5769_request();
    test_rfc5769_responses();
    test_round_trip();
    test_malformed();
    return test_report();
}
