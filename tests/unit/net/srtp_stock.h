/* A libsrtp2 session for the unit tests that compare with the library itself
 * (test_srtp_ossl.c, test_srtp_tx.c): a wildcard SSRC in one direction, one DTLS-SRTP
 * profile for RTP and RTCP alike, a 1024-packet replay window, and a packet sent again
 * allowed (as NACK answers do). key: key || salt, kept by the caller. */
#ifndef CR_TEST_SRTP_STOCK_H
#define CR_TEST_SRTP_STOCK_H

#include <srtp2/srtp.h>
#include <stdbool.h>
#include <string.h>

#include "test.h"

static inline srtp_t test_srtp_session(bool gcm, bool inbound, uint8_t *key)
{
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    if (gcm) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    } else {
        srtp_crypto_policy_set_rtp_default(&p.rtp);
        srtp_crypto_policy_set_rtcp_default(&p.rtcp);
    }
    p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    p.key = key;
    p.window_size = 1024;
    p.allow_repeat_tx = 1;
    srtp_t s = NULL;
    CHECK_EQ(srtp_create(&s, &p), srtp_err_status_ok);
    return s;
}

#endif
