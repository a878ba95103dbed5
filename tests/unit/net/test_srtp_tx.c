/* Tests relay/net/srtp_tx.c against Debian's stock libsrtp2 (its own transforms and key
 * derivation, RFC 3711 §4.3): the same master key, the same packets, both DTLS-SRTP
 * profiles; every protected packet must be the same bytes. The packets cover what the
 * index estimate must get right (RFC 3711 §3.3.1): a stream starting above 2^15, one
 * wrapping its sequence number (ROC 1), a packet sent again with its old index after the
 * wrap (a NACK answer), up to ten SSRCs interleaved; and headers with CSRCs and an
 * extension, a header without payload, and packets too short for their header. */
#include <srtp2/srtp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/bytes.h"
#include "net/srtp_tx.h"
#include "srtp_stock.h"
#include "test.h"

#define ROOM 1400

static uint8_t master[30];

/* An RTP packet: shape 0 plain, 1 two CSRCs, 2 a one-byte-header extension of two words,
 * 3 both, 4 a header alone. */
static size_t make_rtp(uint8_t *buf, uint32_t ssrc, uint16_t seq, int shape)
{
    size_t h = 12;
    buf[0] = 0x80;
    buf[1] = 96;
    wr_be16(buf + 2, seq);
    wr_be32(buf + 4, 3000u * seq);
    wr_be32(buf + 8, ssrc);
    if (shape == 1 || shape == 3) {
        buf[0] |= 2;
        wr_be32(buf + h, 0xaabbccdd);
        wr_be32(buf + h + 4, 0x01020304);
        h += 8;
    }
    if (shape == 2 || shape == 3) {
        buf[0] |= 0x10;
        wr_be16(buf + h, 0xbede);
        wr_be16(buf + h + 2, 2);
        memset(buf + h + 4, 0x5a, 8);
        h += 12;
    }
    size_t payload = shape == 4 ? 0 : 1 + (seq * 37u + ssrc) % 1200;
    for (size_t i = 0; i < payload; i++)
        buf[h + i] = (uint8_t)(i * 7 + seq);
    return h + payload;
}

struct step {
    uint32_t ssrc;
    uint16_t seq;
};

/* Protects each step with both and compares the bytes. */
static void compare(bool gcm, const struct step *steps, size_t n)
{
    srtp_t ref = test_srtp_session(gcm, false, master);
    enum cr_srtp_profile profile = gcm ? CR_SRTP_AEAD_AES_128_GCM : CR_SRTP_AES128_CM_SHA1_80;
    struct cr_srtp_tx *tx = cr_srtp_tx_new(profile, master, gcm ? 28 : 30);
    CHECK(tx != NULL);
    if (!tx)
        return;
    for (size_t i = 0; i < n; i++) {
        uint8_t a[ROOM], b[ROOM];
        size_t len = make_rtp(a, steps[i].ssrc, steps[i].seq, (int)(i % 5));
        memcpy(b, a, len);
        int ref_len = (int)len;
        CHECK_EQ(srtp_protect(ref, b, &ref_len), srtp_err_status_ok);
        CHECK_EQ(cr_srtp_tx_protect(tx, a, &len), 0);
        CHECK_EQ(len, ref_len);
        if (len != (size_t)ref_len || memcmp(a, b, len) != 0) {
            fprintf(stderr, "step %zu (ssrc %u seq %u): bytes differ\n", i, steps[i].ssrc,
                    steps[i].seq);
            CHECK(false);
        }
    }
    cr_srtp_tx_free(tx);
    srtp_dealloc(ref);
}

static void test_indexes(bool gcm)
{
    struct step s[600];
    size_t n = 0;
    for (int i = 0; i < 120; i++) { /* one from 40000 up, one wrapping at 65535 */
        s[n++] = (struct step){0x1111, (uint16_t)(40000 + i)};
        s[n++] = (struct step){0x2222, (uint16_t)(65500 + i)};
    }
    s[n++] = (struct step){0x2222, 65534}; /* sent again after the wrap: ROC 0 */
    s[n++] = (struct step){0x2222, 3};     /* again, ROC 1 */
    s[n++] = (struct step){0x1111, 40010};
    for (int i = 0; i < 100; i++) /* a third from 7, with a reordered pair */
        s[n++] = (struct step){0x3333, (uint16_t)(7 + (i ^ (i == 50 || i == 51)))};
    for (int i = 0; i < 150; i++) /* more streams than the state holds in itself */
        s[n++] = (struct step){0x4000u + (uint32_t)(i % 10), (uint16_t)(65520 + i / 10)};
    compare(gcm, s, n);
}

static void test_bad_input(void)
{
    struct cr_srtp_tx *tx = cr_srtp_tx_new(CR_SRTP_AEAD_AES_128_GCM, master, 28);
    uint8_t buf[ROOM];
    size_t len = 11;
    memset(buf, 0, sizeof buf);
    buf[0] = 0x80;
    CHECK(cr_srtp_tx_protect(tx, buf, &len) < 0); /* shorter than a header */
    len = make_rtp(buf, 1, 1, 4);
    buf[0] |= 0x0f; /* 15 CSRCs in 12 bytes */
    CHECK(cr_srtp_tx_protect(tx, buf, &len) < 0);
    len = make_rtp(buf, 1, 1, 2);
    wr_be16(buf + 14, 500); /* an extension longer than the packet */
    CHECK(cr_srtp_tx_protect(tx, buf, &len) < 0);
    cr_srtp_tx_free(tx);
    CHECK(cr_srtp_tx_new(CR_SRTP_AEAD_AES_128_GCM, master, 30) == NULL); /* a CM key */
    CHECK(cr_srtp_tx_new((enum cr_srtp_profile)0x77, master, 30) == NULL);
}

int main(void)
{
    for (size_t i = 0; i < sizeof master; i++)
        master[i] = (uint8_t)(i * 29 + 17);
    CHECK_EQ(srtp_init(), srtp_err_status_ok);
    test_indexes(false);
    test_indexes(true);
    test_bad_input();
    CHECK_EQ(srtp_shutdown(), srtp_err_status_ok);
    return test_report();
}
