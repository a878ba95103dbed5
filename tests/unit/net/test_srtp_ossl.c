/* Tests relay/net/srtp_ossl.c against Debian's stock libsrtp2 in one process: RTP and RTCP
 * packets of several sizes are protected with the library's own transforms, then, once
 * the OpenSSL ones are installed (libsrtp2 runs their known-answer tests: RFC 3711 B.2,
 * the GCM specification's case 4, RFC 2202), protected again with the same keys, for both
 * DTLS-SRTP profiles: the bytes must be the same; the stock packets must unprotect with
 * the new transforms, and a packet with one bit flipped must not. */
#include <srtp2/srtp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/bytes.h"
#include "net/srtp_ossl.h"
#include "srtp_stock.h"
#include "test.h"

#define N 40
#define ROOM 1400

struct sample {
    uint8_t plain[ROOM], sealed[ROOM];
    int plain_len, sealed_len;
};

static struct sample rtp[2][N], rtcp[2][N];

static srtp_t session(int gcm, bool inbound)
{
    static uint8_t key[SRTP_AES_ICM_128_KEY_LEN_WSALT];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 11 + 3);
    return test_srtp_session(gcm, inbound, key);
}

static int make_rtp(uint8_t *buf, int i)
{
    int len = 12 + 1 + i * 29 % 1200;
    buf[0] = 0x80;
    buf[1] = 96;
    wr_be16(buf + 2, (uint16_t)(1000 + i));
    wr_be32(buf + 4, (uint32_t)(90000 + 3000 * i));
    wr_be32(buf + 8, 0x11223344);
    for (int k = 12; k < len; k++)
        buf[k] = (uint8_t)(k * 7 + i);
    return len;
}

static int make_rtcp(uint8_t *buf, int i)
{
    int words = 6 + i % 5; /* a receiver report with room after it */
    buf[0] = 0x81;
    buf[1] = 201;
    wr_be16(buf + 2, (uint16_t)(words - 1));
    wr_be32(buf + 4, 0x55667788);
    for (int k = 8; k < words * 4; k++)
        buf[k] = (uint8_t)(k * 5 + i);
    return words * 4;
}

/* Keeps a protected packet as the sample's (record), or checks it is the same bytes. */
static void keep_or_compare(struct sample *x, const uint8_t *buf, int len, bool record)
{
    if (record) {
        memcpy(x->sealed, buf, (size_t)len);
        x->sealed_len = len;
    } else {
        CHECK(len == x->sealed_len && memcmp(buf, x->sealed, (size_t)len) == 0);
    }
}

/* Protects every sample with a fresh outbound session: into sealed (record) or compared
 * with it. */
static void seal_all(int gcm, bool record)
{
    srtp_t out = session(gcm, false);
    for (int i = 0; i < N; i++) {
        uint8_t buf[ROOM];
        struct sample *r = &rtp[gcm][i], *c = &rtcp[gcm][i];
        r->plain_len = make_rtp(r->plain, i);
        memcpy(buf, r->plain, (size_t)r->plain_len);
        int len = r->plain_len;
        CHECK_EQ(srtp_protect(out, buf, &len), srtp_err_status_ok);
        keep_or_compare(r, buf, len, record);
        c->plain_len = make_rtcp(c->plain, i);
        memcpy(buf, c->plain, (size_t)c->plain_len);
        len = c->plain_len;
        CHECK_EQ(srtp_protect_rtcp(out, buf, &len), srtp_err_status_ok);
        keep_or_compare(c, buf, len, record);
    }
    srtp_dealloc(out);
}

/* The recorded (stock) packets unprotect with the installed transforms; a flipped bit
 * fails authentication. */
static void open_all(int gcm)
{
    srtp_t in = session(gcm, true);
    for (int i = 0; i < N; i++) {
        uint8_t buf[ROOM];
        struct sample *r = &rtp[gcm][i], *c = &rtcp[gcm][i];
        int len = r->sealed_len;
        memcpy(buf, r->sealed, (size_t)len);
        CHECK_EQ(srtp_unprotect(in, buf, &len), srtp_err_status_ok);
        CHECK(len == r->plain_len && memcmp(buf, r->plain, (size_t)len) == 0);
        len = c->sealed_len;
        memcpy(buf, c->sealed, (size_t)len);
        CHECK_EQ(srtp_unprotect_rtcp(in, buf, &len), srtp_err_status_ok);
        CHECK(len == c->plain_len && memcmp(buf, c->plain, (size_t)len) == 0);
    }
    srtp_dealloc(in);
    in = session(gcm, true);
    uint8_t buf[ROOM];
    int len = rtp[gcm][3].sealed_len;
    memcpy(buf, rtp[gcm][3].sealed, (size_t)len);
    buf[len / 2] ^= 0x08;
    CHECK_EQ(srtp_unprotect(in, buf, &len), srtp_err_status_auth_fail);
    len = rtcp[gcm][3].sealed_len;
    memcpy(buf, rtcp[gcm][3].sealed, (size_t)len);
    buf[10] ^= 0x01;
    CHECK_EQ(srtp_unprotect_rtcp(in, buf, &len), srtp_err_status_auth_fail);
    srtp_dealloc(in);
}

int main(void)
{
    CHECK_EQ(srtp_init(), srtp_err_status_ok);
    seal_all(0, true); /* the stock transforms */
    seal_all(1, true);
    CHECK_EQ(cr_srtp_ossl_install(), 0);
    for (int gcm = 0; gcm < 2; gcm++) {
        seal_all(gcm, false);
        open_all(gcm);
    }
    CHECK_EQ(srtp_shutdown(), srtp_err_status_ok);
    return test_report();
}
