/* Shared between dtls_cert.c (the certificate and its SSL_CTX) and dtls.c (connections);
 * not for use outside relay/net/. */
#ifndef CR_NET_DTLS_PRIV_H
#define CR_NET_DTLS_PRIV_H

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "net/dtls.h"

struct cr_dtls_cert {
    SSL_CTX *ctx;          /* owned; holds the key and the certificate */
    char fingerprint[128]; /* "sha-256 AB:CD:..." (8 + 32 * 3 bytes used) */
};

/* The digest for an SDP fingerprint hash name ("sha-256", any case), or NULL. */
const EVP_MD *cr_dtls_md_by_name(const char *name);

#endif
