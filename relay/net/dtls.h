/* DTLS 1.2 for DTLS-SRTP (RFC 5764) over OpenSSL memory BIOs: no sockets here. The
 * caller feeds records in with cr_dtls_input and gets records out through cb->send.
 * The remote certificate is checked against the fingerprint from SDP (RFC 8122 §5), and
 * on success the SRTP keying material is exported (RFC 5764 §4.2), by a client a round trip
 * early (RFC 7918 false start: see on_keys). Application data (the
 * SCTP of data channels, RFC 8261) goes both ways once connected.
 * Time is the caller's: cr_dtls_timeout_ms says when to call cr_dtls_on_timeout. */
#ifndef CR_NET_DTLS_H
#define CR_NET_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SRTP protection profiles (IANA DTLS-SRTP values, RFC 5764 §4.1.2, RFC 7714 §14.2). */
enum cr_srtp_profile {
    CR_SRTP_AES128_CM_SHA1_80 = 0x0001,
    CR_SRTP_AEAD_AES_128_GCM = 0x0007,
};

/* The process-wide certificate: ECDSA P-256, self-signed, made at start-up. */
struct cr_dtls_cert;
struct cr_dtls_cert *cr_dtls_cert_new(void);
void cr_dtls_cert_free(struct cr_dtls_cert *cert);
/* "sha-256 AB:CD:..." as it goes after "a=fingerprint:". */
const char *cr_dtls_cert_fingerprint(const struct cr_dtls_cert *cert);
/* Replaces the SRTP profiles offered (client) or accepted (server), most preferred first,
 * for connections made afterwards. Default: AEAD_AES_128_GCM, then AES128_CM_SHA1_80.
 * Returns 0, or -1 for an empty list or an unknown profile. */
int cr_dtls_cert_set_srtp_profiles(struct cr_dtls_cert *cert, const enum cr_srtp_profile *profiles,
                                   size_t n);

#define CR_SRTP_MAX_KEY 32 /* master key + salt, longest profile: 16 + 14 (GCM: 16 + 12) */

struct cr_dtls_keys {
    enum cr_srtp_profile profile;
    uint8_t local[CR_SRTP_MAX_KEY];  /* key || salt for what we send */
    uint8_t remote[CR_SRTP_MAX_KEY]; /* key || salt for what we receive */
    size_t key_len;                  /* bytes used in local and remote */
};

struct cr_dtls_callbacks {
    void (*send)(void *user, const uint8_t *buf, size_t len);
    /* The SRTP keys, once. As the server: when the handshake is done. As the client: as soon
     * as our last flight is out, a round trip before the server's Finished arrives (a false
     * start, RFC 7918 §3, §4: only with an ECDHE key exchange and an AEAD cipher, and the
     * server's certificate already matched to its fingerprint). SRTP sent behind that flight
     * reaches a server that has just derived the same keys. */
    void (*on_keys)(void *user, const struct cr_dtls_keys *keys);
    /* The handshake is done (after on_keys): application data can go both ways. */
    void (*on_connected)(void *user);
    void (*on_failed)(void *user, const char *why);
    void (*on_closed)(void *user); /* the peer sent close_notify */
    /* Application data after the handshake (SCTP for data channels, RFC 8261): one
     * record's payload. NULL: dropped and counted. */
    void (*on_data)(void *user, const uint8_t *buf, size_t len);
};

enum cr_dtls_role { CR_DTLS_SERVER, CR_DTLS_CLIENT };

struct cr_dtls;
/* fp_alg/fp_hex: the remote fingerprint from SDP ("sha-256", "AB:CD:..."). */
struct cr_dtls *cr_dtls_new(struct cr_dtls_cert *cert, enum cr_dtls_role role, const char *fp_alg,
                            const char *fp_hex, const struct cr_dtls_callbacks *cb, void *user);
void cr_dtls_free(struct cr_dtls *dtls);
/* Client role: sends the ClientHello. Server role: nothing to do (waits). */
int cr_dtls_start(struct cr_dtls *dtls);
/* Feeds one received DTLS datagram; may call send, on_keys, on_connected, on_failed,
 * on_closed. */
int cr_dtls_input(struct cr_dtls *dtls, const uint8_t *buf, size_t len);
/* Milliseconds until cr_dtls_on_timeout should be called, or -1 for no timer. */
int cr_dtls_timeout_ms(struct cr_dtls *dtls);
void cr_dtls_on_timeout(struct cr_dtls *dtls);
/* Sends buf as one application data record (at most CR_DTLS_MAX_DATA bytes) once
 * connected. Returns 0, or -1 (not connected, too long, OpenSSL refused). */
#define CR_DTLS_MAX_DATA 16384
int cr_dtls_send_data(struct cr_dtls *dtls, const uint8_t *buf, size_t len);
/* For an association that will never carry application data (a peer without data channels
 * that cannot renegotiate), once both ends are surely past the handshake (the peer's SRTP
 * authenticated with the keys): frees OpenSSL's state, about 30 KiB. Afterwards datagrams
 * are dropped (counted), cr_dtls_send_data fails and cr_dtls_close sends nothing. Returns
 * true if it did so (connected, not inside a call of its own). */
bool cr_dtls_retire(struct cr_dtls *dtls);
/* Sends close_notify. */
void cr_dtls_close(struct cr_dtls *dtls);

#endif
