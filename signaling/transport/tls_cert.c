/* The HTTPS certificate: a self-signed one made when none is configured, its SHA-256
 * fingerprint as browsers show it, and a certificate and key pair checked and put into the
 * listener's SSL_CTX (at start and on SIGHUP).
 *
 * The self-signed certificate (RFC 5280) has an ECDSA P-256 key and names every address and
 * host name the server may be reached by in its subjectAltName (RFC 6125 §6.4: browsers
 * match only that, never the common name). It is valid 825 days, the longest Apple's
 * platforms accept for a TLS server certificate, and made again 30 days before it ends
 * (with a new fingerprint, printed). The key file is written 0600, then renamed into place
 * with the certificate, so a crash never leaves half a pair. */
#include "transport/tls_cert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/rand.h>
#include <openssl/bn.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CERT_DAYS 825
#define RENEW_DAYS 30

static int fail(char *err, size_t err_len, const char *what)
{
    char why[200] = "";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    snprintf(err, err_len, "%s%s%s", what, why[0] ? ": " : "", why);
    return -1;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

/* "IP:a,IP:b,DNS:c": what X509V3 wants for subjectAltName. */
static void san_text(const char *const *names, size_t n, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        unsigned char addr[16];
        bool ip =
            inet_pton(AF_INET, names[i], addr) == 1 || inet_pton(AF_INET6, names[i], addr) == 1;
        int w = snprintf(out + used, cap - used, "%s%s:%s", used ? "," : "", ip ? "IP" : "DNS",
                         names[i]);
        if (w < 0 || (size_t)w >= cap - used) {
            out[used] = '\0';
            return;
        }
        used += (size_t)w;
    }
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key, const char *const *names, size_t n)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    char san[4096];
    san_text(names, n, san, sizeof san);
    BIGNUM *bn = BN_new();
    bool ok = x && bn && RAND_bytes(serial, sizeof serial) == 1;
    serial[0] &= 0x7f; /* a positive serial number (RFC 5280 §4.1.2.2) */
    ok = ok && BN_bin2bn(serial, sizeof serial, bn) &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) && X509_set_version(x, 2) &&
         X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400) && X509_set_pubkey(x, key);
    X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
    ok = ok && name &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"ClassRelay",
                                    -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)(n ? names[0] : "classrelay"), -1, -1,
                                    0) &&
         X509_set_issuer_name(x, name);
    ok = ok && add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
         add_ext(x, NID_key_usage, "critical,digitalSignature") == 0 &&
         add_ext(x, NID_ext_key_usage, "serverAuth") == 0 &&
         (!san[0] || add_ext(x, NID_subject_alt_name, san) == 0) &&
         X509_sign(x, key, EVP_sha256()) > 0;
    BN_free(bn);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Writes path.tmp with mode, then renames it over path. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
    char tmp[TLS_PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int ok =
        key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, cert);
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    fclose(f);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* True when the certificate at path exists and stays valid past RENEW_DAYS from now. */
static bool still_good(const char *path)
{
    X509 *x = read_cert(path);
    if (!x)
        return false;
    time_t soon = time(NULL) + (time_t)RENEW_DAYS * 86400;
    bool good = X509_cmp_time(X509_get0_notAfter(x), &soon) > 0;
    X509_free(x);
    return good;
}

int tls_cert_ensure(const struct tls_paths *p, const char *const *names, size_t n_names, bool *made,
                    char *err, size_t err_len)
{
    *made = false;
    if (access(p->key, R_OK) == 0 && still_good(p->cert))
        return 0;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key)
        return fail(err, err_len, "cannot make an EC key");
    X509 *cert = make_cert(key, names, n_names);
    int rc = -1;
    if (!cert)
        fail(err, err_len, "cannot make a self-signed certificate");
    else if (write_pem(p->key, 0600, key, NULL) != 0 || write_pem(p->cert, 0644, NULL, cert) != 0)
        snprintf(err, err_len, "cannot write %s or %s: %s", p->key, p->cert, strerror(errno));
    else
        rc = 0;
    *made = rc == 0;
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

int tls_cert_fingerprint(const char *cert_path, char *out, size_t cap)
{
    X509 *x = read_cert(cert_path);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!x || !X509_digest(x, EVP_sha256(), md, &n) || cap < (size_t)n * 3) {
        X509_free(x);
        ERR_clear_error();
        return -1;
    }
    X509_free(x);
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 3 * i, cap - 3 * i, "%02X%s", md[i], i + 1 < n ? ":" : "");
    return 0;
}

/* The pair's chain and key, loaded into ctx; the key must match the certificate. */
static int load_into(SSL_CTX *ctx, const struct tls_paths *p, char *err, size_t err_len)
{
    char what[TLS_PATH_MAX + 64];
    snprintf(what, sizeof what, "cannot use the certificate %s", p->cert);
    if (SSL_CTX_use_certificate_chain_file(ctx, p->cert) != 1)
        return fail(err, err_len, what);
    snprintf(what, sizeof what, "cannot use the key %s", p->key);
    if (SSL_CTX_use_PrivateKey_file(ctx, p->key, SSL_FILETYPE_PEM) != 1)
        return fail(err, err_len, what);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return fail(err, err_len, "the key does not match the certificate");
    return 0;
}

int tls_cert_load(void *ssl_ctx, const struct tls_paths *p, char *err, size_t err_len)
{
    /* tried on a scratch context first: a bad pair leaves the serving one as it was */
    SSL_CTX *scratch = SSL_CTX_new(TLS_server_method());
    if (!scratch)
        return fail(err, err_len, "cannot make an SSL context");
    int rc = load_into(scratch, p, err, err_len);
    SSL_CTX_free(scratch);
    if (rc == 0 && ssl_ctx)
        rc = load_into(ssl_ctx, p, err, err_len);
    return rc;
}
