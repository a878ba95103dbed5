/* Fuzz entry point for relay/net/srtp.c over OpenSSL's transforms (srtp_ossl.c): the input
 * goes to SRTP and SRTCP unprotect as a hostile datagram would (never read or written out
 * of bounds, never accepted without the key), and, taken as a plain RTP or RTCP packet, it
 * must protect and unprotect back to itself. The first byte picks the DTLS-SRTP profile. */
#include <stdlib.h>
#include <string.h>

#include "net/srtp.h"

#define MAX_PACKET 2048

static struct cr_srtp *session(enum cr_srtp_profile profile, int flip)
{
    struct cr_dtls_keys k = {.profile = profile};
    k.key_len = profile == CR_SRTP_AEAD_AES_128_GCM ? 28 : 30;
    for (size_t i = 0; i < k.key_len; i++) {
        k.local[i] = (uint8_t)(flip ? i * 13 + 5 : i * 7 + 1);
        k.remote[i] = (uint8_t)(flip ? i * 7 + 1 : i * 13 + 5);
    }
    return cr_srtp_new(&k);
}

/* Protects a copy of data (as RTP or RTCP) with a, unprotects it with b: the same bytes. */
static void round_trip(struct cr_srtp *a, struct cr_srtp *b, const uint8_t *data, size_t size,
                       int rtcp)
{
    uint8_t buf[MAX_PACKET + CR_SRTP_MAX_TRAILER];
    memcpy(buf, data, size);
    size_t len = size;
    int rc = rtcp ? cr_srtp_protect_rtcp(a, buf, &len) : cr_srtp_protect_rtp(a, buf, &len);
    if (rc != 0)
        return; /* not a packet the library takes */
    if (len > size + CR_SRTP_MAX_TRAILER)
        abort();
    rc = rtcp ? cr_srtp_unprotect_rtcp(b, buf, &len) : cr_srtp_unprotect_rtp(b, buf, &len);
    if (rc != 0 || len != size || memcmp(buf, data, size) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_PACKET || cr_srtp_global_init() != 0)
        return 0;
    enum cr_srtp_profile profile =
        data[0] & 1 ? CR_SRTP_AEAD_AES_128_GCM : CR_SRTP_AES128_CM_SHA1_80;
    data++;
    size--;
    struct cr_srtp *a = session(profile, 0), *b = session(profile, 1);
    if (!a || !b)
        abort();
    uint8_t *hostile = malloc(size + CR_SRTP_MAX_TRAILER); /* exact: overreads are caught */
    size_t len = size;
    memcpy(hostile, data, size);
    if (cr_srtp_unprotect_rtp(b, hostile, &len) == 0 && len > size)
        abort();
    len = size;
    memcpy(hostile, data, size);
    if (cr_srtp_unprotect_rtcp(b, hostile, &len) == 0 && len > size)
        abort();
    free(hostile);
    round_trip(a, b, data, size, 0);
    round_trip(a, b, data, size, 1);
    cr_srtp_free(a);
    cr_srtp_free(b);
    return 0;
}
