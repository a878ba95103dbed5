/* The DTLS certificate and its OpenSSL context (RFC 5764 §4.1, RFC 8122 §5, RFC 8827 §6.5).
 *
 * One ECDSA P-256 key and self-signed certificate per process, made at start-up, with its
 * sha-256 fingerprint in the SDP form "sha-256 AB:CD:..." (RFC 8122 §5). The SSL_CTX that
 * carries them is configured once for DTLS-SRTP: DTLS 1.2 at least, the use_srtp extension
 * preferring AEAD_AES_128_GCM (RFC 7714 §14.2; ~4x cheaper than AES-CM/HMAC-SHA1 with
 * Debian's NSS-backed libsrtp2) over AES128_CM_SHA1_80 (RFC 5764 §4.1.2), a peer
 * certificate required in both roles but not chain-verified (self-signed everywhere: the
 * SDP fingerprint is the check, done by dtls.c after the handshake). Connections are
 * dtls.c's. */
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/log.h"
#include "net/dtls_priv.h"

/* RFC 8122 §5 names; RFC 8827 §6.5 wants sha-256 from us, peers may use any. */
const EVP_MD *cr_dtls_md_by_name(const char *name)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } algs[] = {
        {"sha-1", EVP_sha1},     {"sha-224", EVP_sha224}, {"sha-256", EVP_sha256},
        {"sha-384", EVP_sha384}, {"sha-512", EVP_sha512},
    };
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (strcasecmp(name, algs[i].name) == 0)
            return algs[i].md();
    return NULL;
}

/* Logs the newest OpenSSL error with what we were doing, and empties the queue. */
static void log_openssl(const char *what)
{
    char err[256] = "no OpenSSL error queued";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, err, sizeof(err));
    ERR_clear_error();
    CR_ERROR("dtls", "%s: %s", what, err);
}

/* Accepts every certificate at the TLS level: ours and the browsers' are self-signed. The
 * real check is the fingerprint comparison once the handshake is done (dtls.c). */
static int accept_any_cert(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    (void)store;
    return 1;
}

/* A self-signed certificate for pkey: random positive 63-bit serial, CN "ClassRelay",
 * valid from a day ago (clock skew) for 30 days. */
static X509 *make_x509(EVP_PKEY *pkey)
{
    X509 *x = X509_new();
    BIGNUM *serial = BN_new();
    if (!x || !serial)
        goto fail;
    if (!BN_rand(serial, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -24L * 3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600) || !X509_set_pubkey(x, pkey))
        goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"ClassRelay",
                                    -1, -1, 0) ||
        !X509_set_issuer_name(x, name) || !X509_sign(x, pkey, EVP_sha256()))
        goto fail;
    BN_free(serial);
    return x;
fail:
    log_openssl("cannot make the DTLS certificate");
    BN_free(serial);
    X509_free(x);
    return NULL;
}

/* "sha-256 AB:CD:..." (RFC 8122 §5: uppercase hex pairs joined by colons). */
static int format_fingerprint(X509 *x, char *out, size_t cap)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!X509_digest(x, EVP_sha256(), md, &len) || cap < 8 + 3 * (size_t)len)
        return -1;
    char *p = out + sprintf(out, "sha-256 ");
    for (unsigned int i = 0; i < len; i++)
        p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
    return 0;
}

static SSL_CTX *make_ctx(X509 *x, EVP_PKEY *pkey)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    if (!ctx) {
        log_openssl("SSL_CTX_new(DTLS_method) failed");
        return NULL;
    }
    if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) || !SSL_CTX_use_certificate(ctx, x) ||
        !SSL_CTX_use_PrivateKey(ctx, pkey) || !SSL_CTX_check_private_key(ctx)) {
        log_openssl("cannot configure the DTLS context");
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* Returns 0 on success, unlike the rest of OpenSSL. */
    if (SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0) {
        log_openssl("SSL_CTX_set_tlsext_use_srtp failed");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_cert);
    SSL_CTX_set_read_ahead(ctx, 1);
    /* We size records ourselves (SSL_set_mtu in dtls.c); memory BIOs know no path MTU. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU);
    return ctx;
}

struct cr_dtls_cert *cr_dtls_cert_new(void)
{
    struct cr_dtls_cert *cert = NULL;
    X509 *x = NULL;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    if (!pkey) {
        log_openssl("cannot make the ECDSA P-256 key");
        return NULL;
    }
    x = make_x509(pkey);
    if (!x)
        goto fail;
    cert = CR_NEW(struct cr_dtls_cert);
    if (format_fingerprint(x, cert->fingerprint, sizeof(cert->fingerprint)) < 0) {
        log_openssl("cannot digest the DTLS certificate");
        goto fail;
    }
    cert->ctx = make_ctx(x, pkey);
    if (!cert->ctx)
        goto fail;
    X509_free(x); /* the context holds its own references */
    EVP_PKEY_free(pkey);
    return cert;
fail:
    free(cert);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return NULL;
}

void cr_dtls_cert_free(struct cr_dtls_cert *cert)
{
    if (!cert)
        return;
    SSL_CTX_free(cert->ctx); /* live connections keep their own reference */
    free(cert);
}

const char *cr_dtls_cert_fingerprint(const struct cr_dtls_cert *cert) { return cert->fingerprint; }

int cr_dtls_cert_set_srtp_profiles(struct cr_dtls_cert *cert, const enum cr_srtp_profile *profiles,
                                   size_t n)
{
    char list[128] = "";
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *name = profiles[i] == CR_SRTP_AEAD_AES_128_GCM    ? "SRTP_AEAD_AES_128_GCM"
                           : profiles[i] == CR_SRTP_AES128_CM_SHA1_80 ? "SRTP_AES128_CM_SHA1_80"
                                                                      : NULL;
        if (!name || strlen(list) + strlen(name) + 2 > sizeof(list))
            return -1;
        if (i)
            strcat(list, ":");
        strcat(list, name);
    }
    if (SSL_CTX_set_tlsext_use_srtp(cert->ctx, list) != 0) {
        log_openssl("SSL_CTX_set_tlsext_use_srtp failed");
        return -1;
    }
    return 0;
}
