/* Tests relay/net/srtp.c against the real libsrtp2: RTP and RTCP round trips for both
 * DTLS-SRTP profiles, and rejection of tampered and replayed packets (RFC 3711 §3.3). */
#include <stdint.h>
#include <string.h>

#include "base/bytes.h"
#include "net/srtp.h"
#include "test.h"

/* Two sessions that mirror each other: a's local key is b's remote key. */
static void make_pair(enum cr_srtp_profile profile, struct cr_srtp **a, struct cr_srtp **b)
{
    struct cr_dtls_keys ka = {.profile = profile}, kb;
    ka.key_len = profile == CR_SRTP_AEAD_AES_128_GCM ? 28 : 30;
    for (size_t i = 0; i < ka.key_len; i++) {
        ka.local[i] = (uint8_t)(i * 7 + 1);
        ka.remote[i] = (uint8_t)(i * 13 + 5);
    }
    kb = ka;
    memcpy(kb.local, ka.remote, ka.key_len);
    memcpy(kb.remote, ka.local, ka.key_len);
    *a = cr_srtp_new(&ka);
    *b = cr_srtp_new(&kb);
    CHECK(*a != NULL);
    CHECK(*b != NULL);
}

/* A 12-byte RTP header (RFC 3550 §5.1) and a patterned payload. */
static size_t make_rtp(uint8_t *buf, uint16_t seq, size_t payload)
{
    buf[0] = 0x80;
    buf[1] = 96;
    wr_be16(buf + 2, seq);
    wr_be32(buf + 4, 90000u * seq);
    wr_be32(buf + 8, 0x11223344);
    for (size_t i = 0; i < payload; i++)
        buf[12 + i] = (uint8_t)(i ^ seq);
    return 12 + payload;
}

static void test_rtp(enum cr_srtp_profile profile)
{
    struct cr_srtp *a, *b;
    uint8_t pkt[1200 + CR_SRTP_MAX_TRAILER], plain[1200], copy[sizeof(pkt)];
    make_pair(profile, &a, &b);

    size_t len = make_rtp(pkt, 1000, 1188), plain_len = len;
    memcpy(plain, pkt, len);
    CHECK_EQ(cr_srtp_protect_rtp(a, pkt, &len), 0);
    CHECK_EQ(len, plain_len + (profile == CR_SRTP_AEAD_AES_128_GCM ? 16 : 10));
    CHECK(memcmp(pkt + 12, plain + 12, 16) != 0); /* payload encrypted */
    memcpy(copy, pkt, len);
    size_t copy_len = len;

    CHECK_EQ(cr_srtp_unprotect_rtp(b, pkt, &len), 0);
    CHECK_EQ(len, plain_len);
    CHECK(memcmp(pkt, plain, plain_len) == 0);

    /* replay of the same protected packet */
    len = copy_len;
    memcpy(pkt, copy, len);
    CHECK(cr_srtp_unprotect_rtp(b, pkt, &len) < 0);

    /* tampered payload of a fresh packet */
    len = make_rtp(pkt, 1001, 500);
    CHECK_EQ(cr_srtp_protect_rtp(a, pkt, &len), 0);
    pkt[40] ^= 0x01;
    CHECK(cr_srtp_unprotect_rtp(b, pkt, &len) < 0);

    /* the other direction works too, and a wrong-direction key fails */
    len = make_rtp(pkt, 7, 100);
    CHECK_EQ(cr_srtp_protect_rtp(b, pkt, &len), 0);
    memcpy(copy, pkt, len);
    copy_len = len;
    CHECK(cr_srtp_unprotect_rtp(b, copy, &copy_len) < 0); /* b's inbound key is a's */
    CHECK_EQ(cr_srtp_unprotect_rtp(a, pkt, &len), 0);
    CHECK_EQ(len, 112);

    /* allow_repeat_tx: the same packet may be protected again (NACK resend) */
    len = make_rtp(pkt, 1002, 100);
    memcpy(copy, pkt, len);
    copy_len = len;
    CHECK_EQ(cr_srtp_protect_rtp(a, pkt, &len), 0);
    CHECK_EQ(cr_srtp_protect_rtp(a, copy, &copy_len), 0);

    cr_srtp_free(a);
    cr_srtp_free(b);
}

static void test_rtcp(enum cr_srtp_profile profile)
{
    struct cr_srtp *a, *b;
    uint8_t pkt[64 + CR_SRTP_MAX_TRAILER], plain[64], copy[sizeof(pkt)];
    make_pair(profile, &a, &b);

    /* RFC 4585 §6.3.1 PLI: PT 206, FMT 1, length 2 */
    size_t len = 12, copy_len;
    pkt[0] = 0x81;
    pkt[1] = 206;
    wr_be16(pkt + 2, 2);
    wr_be32(pkt + 4, 0x01020304);
    wr_be32(pkt + 8, 0x11223344);
    memcpy(plain, pkt, len);
    CHECK_EQ(cr_srtp_protect_rtcp(a, pkt, &len), 0);
    CHECK(len > 12 + 4);
    memcpy(copy, pkt, len);
    copy_len = len;
    CHECK_EQ(cr_srtp_unprotect_rtcp(b, pkt, &len), 0);
    CHECK_EQ(len, 12);
    CHECK(memcmp(pkt, plain, 12) == 0);
    CHECK(cr_srtp_unprotect_rtcp(b, copy, &copy_len) < 0); /* replayed SRTCP index */

    len = 12;
    memcpy(pkt, plain, len);
    CHECK_EQ(cr_srtp_protect_rtcp(a, pkt, &len), 0);
    pkt[len - 1] ^= 0x80; /* tag */
    CHECK(cr_srtp_unprotect_rtcp(b, pkt, &len) < 0);

    cr_srtp_free(a);
    cr_srtp_free(b);
}

static void test_bad_keys(void)
{
    struct cr_dtls_keys k = {.profile = CR_SRTP_AEAD_AES_128_GCM, .key_len = 30};
    CHECK(cr_srtp_new(&k) == NULL); /* GCM wants 28 */
    k.profile = (enum cr_srtp_profile)0x0002;
    CHECK(cr_srtp_new(&k) == NULL);
    cr_srtp_free(NULL);
}

int main(void)
{
    CHECK_EQ(cr_srtp_global_init(), 0);
    CHECK_EQ(cr_srtp_global_init(), 0);
    test_rtp(CR_SRTP_AES128_CM_SHA1_80);
    test_rtp(CR_SRTP_AEAD_AES_128_GCM);
    test_rtcp(CR_SRTP_AES128_CM_SHA1_80);
    test_rtcp(CR_SRTP_AEAD_AES_128_GCM);
    test_bad_keys();
    return test_report();
}
