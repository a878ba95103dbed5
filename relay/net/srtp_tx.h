/* Outbound SRTP for RTP, the forwarding path's one transform per packet per subscriber
 * (RFC 3711 §3.3, §4.1.1, §4.2, §4.3; AEAD_AES_128_GCM per RFC 7714 §8-§11), straight on
 * OpenSSL. libsrtp2 does the rest (net/srtp.c); this is what it did for outbound RTP
 * without its per-packet stream lookup, key-limit and replay bookkeeping, whose scattered
 * state cost a cache miss or more per packet once hundreds of subscribers share a core.
 * Session keys are derived once (AES-CM PRF, key derivation rate 0). Each SSRC keeps its
 * packet index, estimated from the sequence number as libsrtp2's sender does (and every
 * receiver), so a packet may be sent again with its old index (a NACK answer without RTX:
 * the same bytes, no GCM nonce reused for other data). */
#ifndef CR_NET_SRTP_TX_H
#define CR_NET_SRTP_TX_H

#include <stddef.h>
#include <stdint.h>

#include "net/dtls.h"

struct cr_srtp_tx;

/* From the local master key || salt of the negotiated profile; NULL if the profile or the
 * key length is unknown, or OpenSSL refuses. */
struct cr_srtp_tx *cr_srtp_tx_new(enum cr_srtp_profile profile, const uint8_t *key, size_t key_len);
void cr_srtp_tx_free(struct cr_srtp_tx *tx);

/* Protects one RTP packet in place: buf has room for *len + 16 bytes (the tag). 0, or
 * negative for a packet too short for its header or a failing cipher. */
int cr_srtp_tx_protect(struct cr_srtp_tx *tx, uint8_t *buf, size_t *len);

#endif
