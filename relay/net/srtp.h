/* SRTP and SRTCP (RFC 3711; AEAD-AES-GCM RFC 7714) over libsrtp2, one session per peer
 * connection with wildcard SSRCs in both directions. Protect and unprotect work in place. */
#ifndef CR_NET_SRTP_H
#define CR_NET_SRTP_H

#include <stddef.h>
#include <stdint.h>

#include "net/dtls.h"

/* Room to leave after an RTP/RTCP packet for the SRTP auth tag / SRTCP index. */
#define CR_SRTP_MAX_TRAILER 32

/* Must be called once per process before any session (idempotent, thread-safe). */
int cr_srtp_global_init(void);

struct cr_srtp;
struct cr_srtp *cr_srtp_new(const struct cr_dtls_keys *keys);
void cr_srtp_free(struct cr_srtp *srtp);

/* In place. *len is updated; buf must have room for *len + CR_SRTP_MAX_TRAILER bytes.
 * Return 0, or negative (the packet must be dropped and counted). */
int cr_srtp_protect_rtp(struct cr_srtp *srtp, uint8_t *buf, size_t *len);
int cr_srtp_unprotect_rtp(struct cr_srtp *srtp, uint8_t *buf, size_t *len);
int cr_srtp_protect_rtcp(struct cr_srtp *srtp, uint8_t *buf, size_t *len);
int cr_srtp_unprotect_rtcp(struct cr_srtp *srtp, uint8_t *buf, size_t *len);

#endif
