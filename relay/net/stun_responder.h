/* The STUN side of an ICE pair whose socket ice.c reads itself (RFC 8445 §7.3, RFC 7675):
 * answers the peer's authenticated Binding requests and keeps our consent to send fresh.
 * Sockets, addresses and timers stay with the caller; time is a parameter. */
#ifndef CR_NET_STUN_RESPONDER_H
#define CR_NET_STUN_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CR_STUN_CONSENT_INTERVAL_MS 5000 /* RFC 7675 §5.1: every 4-6 s (5 s ± 20 %) */
#define CR_STUN_CONSENT_TIMEOUT_MS 30000 /* RFC 7675 §5.1: consent lost after 30 s */
#define CR_STUN_MAX_MESSAGE 640          /* our requests and responses fit in this */

struct cr_stun_responder_config {
    const char *local_ufrag, *local_pwd;   /* ours: checks to us are keyed with local_pwd */
    const char *remote_ufrag, *remote_pwd; /* the peer's: our consent requests use these */
    bool controlling;                      /* our ICE role (RFC 8445 §6.1.1) */
    uint32_t priority;                     /* PRIORITY for our requests (RFC 8445 §7.1.1) */
};

enum cr_stun_result {
    CR_STUN_BAD,     /* malformed, wrong credentials, bad integrity or fingerprint: drop, count */
    CR_STUN_IGNORED, /* valid but nothing to do: indications, responses we did not ask for */
    CR_STUN_REPLY,   /* an authentic Binding request: send the reply to its source */
    CR_STUN_CONSENT, /* an authentic success response to one of our consent requests */
};

struct cr_stun_responder;

/* Copies the credentials; consent counts as fresh at now_ms. */
struct cr_stun_responder *cr_stun_responder_new(const struct cr_stun_responder_config *config,
                                                int64_t now_ms);
void cr_stun_responder_free(struct cr_stun_responder *r);

/* Handles one datagram that stun_is_message() accepted, received from `from`. On
 * CR_STUN_REPLY, reply (CR_STUN_MAX_MESSAGE bytes) holds *reply_len bytes to send back to
 * `from`, and *nominate says whether the request carried USE-CANDIDATE (RFC 8445 §7.3.1.5).
 * Consent responses count only from `consent_to`, where our requests go. */
enum cr_stun_result cr_stun_responder_input(struct cr_stun_responder *r, const uint8_t *buf,
                                            size_t len, const struct sockaddr *from,
                                            const struct sockaddr *consent_to, int64_t now_ms,
                                            uint8_t *reply, size_t *reply_len, bool *nominate);

/* RFC 7675 §5.1: when a consent request is due at now_ms, writes it into out
 * (CR_STUN_MAX_MESSAGE bytes) and returns its length; else 0. */
size_t cr_stun_responder_consent_request(struct cr_stun_responder *r, int64_t now_ms, uint8_t *out);
/* True once no authentic response came for the consent timeout. */
bool cr_stun_responder_consent_expired(const struct cr_stun_responder *r, int64_t now_ms);
/* Shorter intervals for tests; production uses the RFC's defaults above. */
void cr_stun_responder_set_timing(struct cr_stun_responder *r, int interval_ms, int timeout_ms);

/* HMAC-SHA1 over head and rest (wire/stun.h's stun_hmac_fn), with OpenSSL. */
void cr_stun_hmac_sha1(const uint8_t *key, size_t key_len, const uint8_t *head, size_t head_len,
                       const uint8_t *rest, size_t rest_len, uint8_t *out);

#endif
