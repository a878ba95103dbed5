/* The HTTPS certificate: self-signed when none is configured, its SHA-256 fingerprint, and a
 * pair checked and loaded into the listener's OpenSSL context (tls_cert.c). */
#ifndef CR_SIGNALING_TLS_CERT_H
#define CR_SIGNALING_TLS_CERT_H

#include <stdbool.h>
#include <stddef.h>

#define TLS_PATH_MAX 1100

struct tls_paths {
    char cert[TLS_PATH_MAX]; /* PEM certificate chain */
    char key[TLS_PATH_MAX];  /* PEM private key */
};

/* Makes a self-signed pair at p (an ECDSA P-256 key, 825 days, every one of names — IP
 * addresses or DNS names — in its subjectAltName) unless a readable one is there that stays
 * valid 30 more days. Returns 0 (*made: whether it made them) or -1 with a reason. */
int tls_cert_ensure(const struct tls_paths *p, const char *const *names, size_t n_names, bool *made,
                    char *err, size_t err_len);

/* The certificate's SHA-256 fingerprint, "AB:CD:..." (95 characters and the NUL). 0 or -1. */
int tls_cert_fingerprint(const char *cert_path, char *out, size_t cap);

/* Checks the pair on a scratch context, then loads it into ssl_ctx (an SSL_CTX *; NULL: only
 * check). Returns 0, or -1 with a reason, ssl_ctx untouched. */
int tls_cert_load(void *ssl_ctx, const struct tls_paths *p, char *err, size_t err_len);

#endif
