/* OpenSSL-backed transforms for libsrtp2 (RFC 3711 AES-CM and HMAC-SHA1, RFC 7714
 * AES-GCM), installed in place of the library's own with srtp_replace_cipher_type and
 * srtp_replace_auth_type. Debian's libsrtp2 is built on NSS, which makes and destroys a
 * crypto context per packet: protecting a 1200-byte packet with AES128_CM_SHA1_80 cost
 * 5-7 µs there (docs/benchmarks.md, "SRTP protect cost"). Packets protected either way are
 * the same bytes (tests/unit/net/test_srtp_ossl.c checks it against the stock library). */
#ifndef CR_NET_SRTP_OSSL_H
#define CR_NET_SRTP_OSSL_H

/* After srtp_init, before any session: replaces AES-ICM-128, AES-GCM-128 and HMAC-SHA1.
 * libsrtp2 runs each type's known-answer test as it takes it. 0, or -1 (the library's own
 * stay where a replacement was refused). */
int cr_srtp_ossl_install(void);

#endif
