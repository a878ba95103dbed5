/* SRTP and SRTCP sessions over libsrtp2 (RFC 3711 §3-4; AEAD_AES_128_GCM per RFC 7714 §8-10).
 *
 * Each peer connection has two srtp_t sessions: inbound RTP and RTCP (any SSRC, the remote
 * key) and outbound RTCP (any SSRC, the local key), both from the DTLS-SRTP export (RFC 5764
 * §4.2, keys as key || salt). Two sessions, not one with two policies, because libsrtp2 allows
 * one wildcard-SSRC template per session (srtp_add_stream refuses a second with bad_param).
 * The replay window is 1024 packets (RFC 3711 §3.3.2 asks for at least 64). Outbound RTP,
 * the forwarding path's transform, goes through srtp_tx.h, on the same OpenSSL transforms
 * without libsrtp2's per-packet lookups; it sends a packet again with its old index, as NACK
 * answers do without RTX (same plaintext, so no GCM nonce reuse with different data). Protect
 * and unprotect work in place. Failures (replay, authentication) are returned, never logged
 * here: they come from the network, one per packet, and the caller counts them. Key
 * negotiation is dtls.c's; routing is the caller's. The ciphers and the MAC are OpenSSL's,
 * installed in libsrtp2 at the first init (srtp_ossl.h). */
#include "net/srtp.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <srtp2/srtp.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "net/srtp_ossl.h"
#include "net/srtp_tx.h"

struct cr_srtp {
    srtp_t in;             /* owned: ssrc_any_inbound, remote key */
    srtp_t out;            /* owned: ssrc_any_outbound, local key: RTCP */
    struct cr_srtp_tx *tx; /* owned: RTP, local key */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_fail;

static void global_init_once(void)
{
    init_status = srtp_init();
    if (init_status != srtp_err_status_ok)
        CR_ERROR("srtp", "srtp_init failed: error %d", (int)init_status);
    else if (cr_srtp_ossl_install() != 0) /* the library's own stay: slower, as correct */
        CR_WARN("srtp", "OpenSSL transforms refused: libsrtp2's own in use");
}

int cr_srtp_global_init(void)
{
    pthread_once(&init_once, global_init_once);
    return init_status == srtp_err_status_ok ? 0 : -1;
}

/* Sets both crypto policies of p for the negotiated profile; -1 if the profile is unknown
 * or the key length does not match it. */
static int set_profile(srtp_policy_t *p, const struct cr_dtls_keys *keys)
{
    switch (keys->profile) {
    case CR_SRTP_AES128_CM_SHA1_80: /* RFC 5764 §4.1.2: 128-bit key, 112-bit salt */
        if (keys->key_len != SRTP_AES_ICM_128_KEY_LEN_WSALT)
            return -1;
        srtp_crypto_policy_set_rtp_default(&p->rtp);
        srtp_crypto_policy_set_rtcp_default(&p->rtcp);
        return 0;
    case CR_SRTP_AEAD_AES_128_GCM: /* RFC 7714 §12: 128-bit key, 96-bit salt, 16-byte tag */
        if (keys->key_len != SRTP_AES_GCM_128_KEY_LEN_WSALT)
            return -1;
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
        return 0;
    }
    return -1;
}

/* One session with a wildcard policy for direction (ssrc_any_inbound/outbound). */
static int make_session(srtp_t *session, const struct cr_dtls_keys *keys, const uint8_t *key,
                        srtp_ssrc_type_t direction)
{
    srtp_policy_t policy;
    uint8_t copy[CR_SRTP_MAX_KEY];

    memset(&policy, 0, sizeof(policy));
    if (set_profile(&policy, keys) < 0) {
        CR_WARN("srtp", "unsupported profile 0x%04x with key length %zu", (unsigned)keys->profile,
                keys->key_len);
        return -1;
    }
    memcpy(copy, key, keys->key_len); /* libsrtp2 takes a non-const key */
    policy.ssrc.type = direction;
    policy.key = copy;
    policy.window_size = 1024;
    policy.allow_repeat_tx = 1;
    policy.next = NULL;
    srtp_err_status_t err = srtp_create(session, &policy);
    memset(copy, 0, sizeof(copy));
    if (err != srtp_err_status_ok) {
        CR_WARN("srtp", "srtp_create failed: error %d", (int)err);
        *session = NULL;
        return -1;
    }
    return 0;
}

struct cr_srtp *cr_srtp_new(const struct cr_dtls_keys *keys)
{
    if (cr_srtp_global_init() < 0)
        return NULL;
    if (keys->key_len > CR_SRTP_MAX_KEY) {
        CR_WARN("srtp", "key length %zu too long", keys->key_len);
        return NULL;
    }
    struct cr_srtp *s = CR_NEW(struct cr_srtp);
    if (make_session(&s->in, keys, keys->remote, ssrc_any_inbound) < 0 ||
        make_session(&s->out, keys, keys->local, ssrc_any_outbound) < 0 ||
        !(s->tx = cr_srtp_tx_new(keys->profile, keys->local, keys->key_len))) {
        cr_srtp_free(s);
        return NULL;
    }
    return s;
}

void cr_srtp_free(struct cr_srtp *srtp)
{
    if (!srtp)
        return;
    if (srtp->in)
        srtp_dealloc(srtp->in);
    if (srtp->out)
        srtp_dealloc(srtp->out);
    cr_srtp_tx_free(srtp->tx);
    free(srtp);
}

typedef srtp_err_status_t (*srtp_op)(srtp_t, void *, int *);

/* Runs one libsrtp2 operation in place, converting lengths between size_t and int. */
static int run(srtp_t session, srtp_op op, uint8_t *buf, size_t *len)
{
    if (*len > (size_t)(INT_MAX - CR_SRTP_MAX_TRAILER))
        return -1;
    int n = (int)*len;
    if (op(session, buf, &n) != srtp_err_status_ok)
        return -1;
    *len = (size_t)n;
    return 0;
}

int cr_srtp_protect_rtp(struct cr_srtp *srtp, uint8_t *buf, size_t *len)
{
    return cr_srtp_tx_protect(srtp->tx, buf, len);
}

int cr_srtp_unprotect_rtp(struct cr_srtp *srtp, uint8_t *buf, size_t *len)
{
    return run(srtp->in, srtp_unprotect, buf, len);
}

int cr_srtp_protect_rtcp(struct cr_srtp *srtp, uint8_t *buf, size_t *len)
{
    return run(srtp->out, srtp_protect_rtcp, buf, len);
}

int cr_srtp_unprotect_rtcp(struct cr_srtp *srtp, uint8_t *buf, size_t *len)
{
    return run(srtp->in, srtp_unprotect_rtcp, buf, len);
}
