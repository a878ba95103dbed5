/* One DTLS 1.2 association for DTLS-SRTP (RFC 6347, RFC 5764) over OpenSSL memory BIOs.
 *
 * Datagrams come in through cr_dtls_input and go out through cb->send; no socket here.
 * OpenSSL writes a whole flight into one memory BIO, so the output is cut back at record
 * boundaries (RFC 6347 §4.1: 13-byte header with a length) and packed into datagrams of at
 * most DTLS_MTU bytes. Handshake retransmission (RFC 6347 §4.2.4) runs on the caller's
 * timer: cr_dtls_timeout_ms / cr_dtls_on_timeout. The peer's certificate must match the
 * SDP fingerprint (RFC 8122 §5): checked when it arrives (a mismatch aborts the handshake
 * with an alert) and again before the SRTP keys are exported (RFC 5764 §4.2) and reported
 * through on_keys: by a server when the handshake is done, by a client as soon as its
 * Finished is out (RFC 7918 false start, a round trip earlier); on_connected follows when
 * the handshake is done. Malformed datagrams are dropped
 * before OpenSSL sees them (RFC 6347 §4.1.2.7; the framing rules are in dtls_record.c),
 * counted and logged rate-limited.
 *
 * Return values: -1 means the call did nothing and invoked no callback (bad arguments,
 * malformed input, association already failed or closed). A handshake that fails is
 * reported once through on_failed and the call that noticed it returns 0; after on_failed
 * or on_closed no callback comes again. cr_dtls_free may be called from inside any
 * callback: the object is then released when the outermost call returns.
 * Application data (SCTP) is not consumed yet: it is read and dropped. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "net/dtls_priv.h"
#include "net/dtls_record.h"

#define DTLS_MTU 1200                /* fits IPv6's 1280 minimum with UDP/IP headers and TURN */
#define DTLS_INITIAL_TIMER_US 400000 /* see timer_cb */
#define DTLS_MAX_TIMER_US 60000000

enum dtls_state { ST_HANDSHAKE, ST_CONNECTED, ST_FAILED, ST_CLOSED, ST_RETIRED };

struct cr_dtls {
    SSL *ssl;  /* owned; owns both BIOs */
    BIO *rbio; /* borrowed from ssl: records in */
    BIO *wbio; /* borrowed from ssl: records out */
    enum cr_dtls_role role;
    enum dtls_state state;
    bool started;        /* client: ClientHello sent */
    bool keys_given;     /* on_keys was called */
    bool fp_mismatch;    /* the peer's certificate did not match: set during the handshake */
    const EVP_MD *fp_md; /* static: remote fingerprint hash */
    uint8_t fp[EVP_MAX_MD_SIZE]; /* expected digest of the remote certificate */
    size_t fp_len;
    struct cr_dtls_callbacks cb;
    void *user;              /* borrowed */
    int depth;               /* public calls in progress on the stack */
    bool dead;               /* cr_dtls_free was called inside a callback */
    bool buffers_freed;      /* OpenSSL's record buffers given back between calls (leave) */
    uint64_t late_datagrams; /* dropped after cr_dtls_retire */
    uint64_t bad_datagrams;
    uint64_t app_bytes_dropped;
};

/* Initial retransmission timer. RFC 6347 §4.2.4.1 suggests 1 s; browsers start from about
 * twice the ICE RTT. 400 ms covers the ~200 ms round trips of rural school links without
 * waiting a full second on each lost flight; OpenSSL doubles it up to 60 s and gives up
 * after 12 tries. */
static unsigned int timer_cb(SSL *ssl, unsigned int timer_us)
{
    (void)ssl;
    if (timer_us == 0)
        return DTLS_INITIAL_TIMER_US;
    return timer_us >= DTLS_MAX_TIMER_US / 2 ? DTLS_MAX_TIMER_US : timer_us * 2;
}

/* ---- output: cut the memory BIO back into datagrams ---- */

/* The handshake trace at debug level: which records went or came, and when (the log's
 * time): what shows a lost flight and who resent it. Application data is left out. */
static void trace(const struct cr_dtls *d, const char *dir, const uint8_t *buf, size_t len)
{
    if (cr_log_get_level() < CR_LOG_DEBUG || (d->state != ST_HANDSHAKE && buf[0] == 23))
        return;
    char what[64];
    cr_dtls_describe(buf, len, what, sizeof what);
    CR_DEBUG("dtls", "%p %s %s %zu B: %s", (const void *)d,
             d->role == CR_DTLS_SERVER ? "server" : "client", dir, len, what);
}

static void emit(struct cr_dtls *d, const uint8_t *buf, size_t len)
{
    trace(d, "sent", buf, len);
    if (!d->dead)
        d->cb.send(d->user, buf, len);
}

/* Packs whole records into datagrams of at most DTLS_MTU bytes (a record longer than that
 * goes alone; OpenSSL fragments handshake messages to the MTU we set, so none should). */
static void send_records(struct cr_dtls *d, const uint8_t *buf, size_t len)
{
    size_t start = 0, off = 0;
    while (off < len) {
        size_t rec = cr_dtls_record_len(buf + off, len - off);
        if (rec == 0)
            rec = len - off; /* cannot happen with OpenSSL's output; send it as it is */
        if (off > start && off + rec - start > DTLS_MTU) {
            emit(d, buf + start, off - start);
            start = off;
        }
        off += rec;
    }
    if (off > start)
        emit(d, buf + start, off - start);
}

static void flush_out(struct cr_dtls *d)
{
    size_t pending;
    while ((pending = BIO_ctrl_pending(d->wbio)) > 0 && pending <= INT_MAX) {
        uint8_t stack[4096];
        uint8_t *buf = pending <= sizeof(stack) ? stack : cr_malloc(pending);
        int n = BIO_read(d->wbio, buf, (int)pending);
        if (n > 0)
            send_records(d, buf, (size_t)n);
        if (buf != stack)
            free(buf);
        if (n <= 0)
            break;
    }
}

/* ---- state changes and callbacks ---- */

static void fail(struct cr_dtls *d, const char *why)
{
    if (d->state == ST_FAILED || d->state == ST_CLOSED)
        return;
    d->state = ST_FAILED;
    CR_WARN("dtls", "%s", why);
    if (!d->dead && d->cb.on_failed)
        d->cb.on_failed(d->user, why);
}

/* Fails with the newest OpenSSL error appended to what. */
static void fail_ssl(struct cr_dtls *d, const char *what)
{
    char err[200] = "no detail", why[300];
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, err, sizeof(err));
    ERR_clear_error();
    snprintf(why, sizeof(why), "%s: %s", what, err);
    fail(d, why);
}

/* RFC 8122 §5: the certificate must hash to the fingerprint from SDP. */
static bool cert_matches(const struct cr_dtls *d, X509 *cert)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    return cert && X509_digest(cert, d->fp_md, md, &len) == 1 && len == d->fp_len &&
           CRYPTO_memcmp(md, d->fp, len) == 0;
}

/* Certificate verification: no chain (everyone is self-signed), only the fingerprint of the
 * peer's own certificate (depth 0). Checking here rather than after the handshake means a
 * wrong peer gets a bad_certificate alert and no keys are ever derived with it. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct cr_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!d)
        return 0;
    if (cert_matches(d, X509_STORE_CTX_get_current_cert(store)))
        return 1;
    d->fp_mismatch = true;
    return 0;
}

/* Checks again once the handshake is done, on the certificate the session holds. */
static int verify_fingerprint(struct cr_dtls *d)
{
    X509 *peer = SSL_get1_peer_certificate(d->ssl);
    bool ok = cert_matches(d, peer);
    X509_free(peer);
    return ok ? 0 : -1;
}

/* RFC 5764 §4.2: client_key | server_key | client_salt | server_salt from the exporter
 * "EXTRACTOR-dtls_srtp"; ours is the server's half when we are the server. */
static int export_keys(struct cr_dtls *d, struct cr_dtls_keys *keys)
{
    static const char label[] = "EXTRACTOR-dtls_srtp";
    uint8_t km[2 * CR_SRTP_MAX_KEY];
    size_t key = 16, salt;
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    if (!p)
        return -1;
    if (p->id == CR_SRTP_AES128_CM_SHA1_80)
        salt = 14; /* RFC 5764 §4.1.2 */
    else if (p->id == CR_SRTP_AEAD_AES_128_GCM)
        salt = 12; /* RFC 7714 §12 */
    else
        return -1;
    if (SSL_export_keying_material(d->ssl, km, 2 * (key + salt), label, sizeof(label) - 1, NULL, 0,
                                   0) != 1)
        return -1;
    const uint8_t *ck = km, *sk = km + key, *cs = km + 2 * key, *ss = km + 2 * key + salt;
    bool server = d->role == CR_DTLS_SERVER;
    keys->profile = (enum cr_srtp_profile)p->id;
    keys->key_len = key + salt;
    memcpy(keys->local, server ? sk : ck, key);
    memcpy(keys->local + key, server ? ss : cs, salt);
    memcpy(keys->remote, server ? ck : sk, key);
    memcpy(keys->remote + key, server ? cs : ss, salt);
    OPENSSL_cleanse(km, sizeof(km));
    return 0;
}

/* Checks the certificate again and reports the keys, once; false if the association failed. */
static bool give_keys(struct cr_dtls *d)
{
    struct cr_dtls_keys keys;
    if (d->keys_given)
        return true;
    if (verify_fingerprint(d) < 0) {
        fail(d, "fingerprint mismatch");
        return false;
    }
    if (export_keys(d, &keys) < 0) {
        fail_ssl(d, "no SRTP profile negotiated or key export failed");
        return false;
    }
    d->keys_given = true;
    if (!d->dead && d->cb.on_keys)
        d->cb.on_keys(d->user, &keys);
    OPENSSL_cleanse(&keys, sizeof(keys));
    return true;
}

/* RFC 7918 §3, §4: the client's keys before the server's Finished, once our Finished is out
 * (OpenSSL waits in TLS_ST_CW_FINISHED for the server's flight), and only for a forward-secret
 * AEAD suite: the peer's certificate was checked when it came (verify_cb). */
static bool false_start_due(const struct cr_dtls *d)
{
    if (d->role != CR_DTLS_CLIENT || d->keys_given || SSL_get_state(d->ssl) != TLS_ST_CW_FINISHED)
        return false;
    const SSL_CIPHER *c = SSL_get_pending_cipher(d->ssl);
    return c && SSL_CIPHER_get_kx_nid(c) == NID_kx_ecdhe && SSL_CIPHER_is_aead(c);
}

static void handshake_done(struct cr_dtls *d)
{
    if (!give_keys(d))
        return;
    d->state = ST_CONNECTED;
    CR_INFO("dtls", "handshake done as %s: %s, %s", d->role == CR_DTLS_SERVER ? "server" : "client",
            SSL_get_cipher_name(d->ssl), SSL_get_selected_srtp_profile(d->ssl)->name);
    if (!d->dead && d->cb.on_connected)
        d->cb.on_connected(d->user);
}

/* After the handshake: consumes alerts, retransmitted flights and application data. */
static void read_records(struct cr_dtls *d)
{
    uint8_t buf[CR_DTLS_MAX_DATA]; /* a whole record: SSL_read would split a larger one */
    for (;;) {
        ERR_clear_error();
        int n = SSL_read(d->ssl, buf, sizeof(buf));
        if (n > 0 && d->cb.on_data) {
            d->cb.on_data(d->user, buf, (size_t)n);
            if (d->dead || d->state != ST_CONNECTED)
                return;
            continue;
        }
        if (n > 0) {
            d->app_bytes_dropped += (uint64_t)n;
            CR_LOG_RATE(CR_LOG_DEBUG, "dtls", "application data dropped (%d bytes)", n);
            continue;
        }
        int err = SSL_get_error(d->ssl, n);
        flush_out(d); /* e.g. our last flight again, when the peer's retransmit shows it lost */
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
            return;
        if (err == SSL_ERROR_ZERO_RETURN) {
            d->state = ST_CLOSED;
            CR_INFO("dtls", "peer sent close_notify");
            if (!d->dead && d->cb.on_closed)
                d->cb.on_closed(d->user);
            return;
        }
        fail_ssl(d, "DTLS read failed");
        return;
    }
}

/* Runs the handshake or the record layer over whatever input is buffered. */
static void step(struct cr_dtls *d)
{
    if (d->state == ST_HANDSHAKE) {
        ERR_clear_error();
        int r = SSL_do_handshake(d->ssl);
        int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(d->ssl, r);
        flush_out(d); /* the next flight, or an alert on failure */
        if (r == 1) {
            handshake_done(d);
        } else if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            if (false_start_due(d))
                give_keys(d);
            return; /* waiting for the peer's next flight */
        } else if (d->fp_mismatch) {
            ERR_clear_error();
            fail(d, "fingerprint mismatch");
        } else {
            fail_ssl(d, "DTLS handshake failed");
        }
    }
    if (d->state == ST_CONNECTED && !d->dead)
        read_records(d);
}

/* ---- lifetime guard: cr_dtls_free from inside a callback ---- */

static void destroy(struct cr_dtls *d)
{
    SSL_free(d->ssl);
    OPENSSL_cleanse(d, sizeof(*d));
    free(d);
}

static void enter(struct cr_dtls *d)
{
    if (d->depth++ == 0 && d->buffers_freed) { /* see leave */
        SSL_alloc_buffers(d->ssl);
        d->buffers_freed = false;
    }
}

/* Once connected, OpenSSL's record buffers (two of about 17 KiB each, which DTLS keeps for
 * the life of the association: SSL_MODE_RELEASE_BUFFERS is for TLS only) are given back
 * after each call and made again by the next (enter): not every path of OpenSSL 3.0 makes
 * a missing buffer itself (an alert on SSL_shutdown does not). Most subscribers send no
 * DTLS after the handshake, and data channels carry a few small messages. */
static void leave(struct cr_dtls *d)
{
    if (--d->depth > 0)
        return;
    if (d->dead)
        destroy(d);
    else if (d->state == ST_CONNECTED && !d->buffers_freed)
        d->buffers_freed = SSL_free_buffers(d->ssl) == 1; /* 0 while a record is half read */
}

/* ---- public API ---- */

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 8122 §5 "AB:CD:..." (any case; colons between bytes) into bytes; the length, or -1. */
static int parse_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        int hi = hex_nibble(s[0]), lo = hi < 0 ? -1 : hex_nibble(s[1]);
        if (lo < 0 || n == cap)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (*s == '\0')
            return (int)n;
        if (*s++ != ':')
            return -1;
    }
}

/* The SSL object with memory BIOs, its MTU, timer, verification and role; NULL on
 * failure. */
static SSL *make_ssl(struct cr_dtls *d, struct cr_dtls_cert *cert, enum cr_dtls_role role,
                     BIO **rbio, BIO **wbio)
{
    SSL *ssl = SSL_new(cert->ctx);
    *rbio = BIO_new(BIO_s_mem());
    *wbio = BIO_new(BIO_s_mem());
    if (!ssl || !*rbio || !*wbio) {
        BIO_free(*rbio);
        BIO_free(*wbio);
        SSL_free(ssl);
        return NULL;
    }
    BIO_set_mem_eof_return(*rbio, -1); /* empty means "retry", not end of stream */
    BIO_set_mem_eof_return(*wbio, -1);
    SSL_set_bio(ssl, *rbio, *wbio);
    if (!SSL_set_mtu(ssl, DTLS_MTU)) {
        SSL_free(ssl);
        return NULL;
    }
    DTLS_set_timer_cb(ssl, timer_cb);
    SSL_set_app_data(ssl, d);
    SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    if (role == CR_DTLS_SERVER)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    return ssl;
}

struct cr_dtls *cr_dtls_new(struct cr_dtls_cert *cert, enum cr_dtls_role role, const char *fp_alg,
                            const char *fp_hex, const struct cr_dtls_callbacks *cb, void *user)
{
    if (!cert || !fp_alg || !fp_hex || !cb || !cb->send)
        return NULL;
    const EVP_MD *md = cr_dtls_md_by_name(fp_alg);
    if (!md) {
        CR_WARN("dtls", "unsupported fingerprint hash \"%s\"", fp_alg);
        return NULL;
    }
    struct cr_dtls *d = CR_NEW(struct cr_dtls);
    int n = parse_hex(fp_hex, d->fp, sizeof(d->fp));
    if (n != EVP_MD_get_size(md)) {
        CR_WARN("dtls", "malformed %s fingerprint \"%s\"", fp_alg, fp_hex);
        free(d);
        return NULL;
    }
    d->fp_len = (size_t)n;
    d->fp_md = md;
    d->ssl = make_ssl(d, cert, role, &d->rbio, &d->wbio);
    if (!d->ssl) {
        char err[200] = "no detail";
        ERR_error_string_n(ERR_peek_last_error(), err, sizeof(err));
        ERR_clear_error();
        CR_ERROR("dtls", "cannot create the DTLS connection: %s", err);
        free(d);
        return NULL;
    }
    d->role = role;
    d->state = ST_HANDSHAKE;
    d->cb = *cb;
    d->user = user;
    return d;
}

void cr_dtls_free(struct cr_dtls *dtls)
{
    if (!dtls)
        return;
    if (dtls->depth > 0)
        dtls->dead = true; /* inside one of our callbacks: released by leave() */
    else
        destroy(dtls);
}

int cr_dtls_start(struct cr_dtls *dtls)
{
    if (!dtls || dtls->dead || dtls->state != ST_HANDSHAKE)
        return -1;
    if (dtls->role == CR_DTLS_SERVER || dtls->started)
        return 0;
    dtls->started = true;
    enter(dtls);
    step(dtls);
    leave(dtls);
    return 0;
}

int cr_dtls_input(struct cr_dtls *dtls, const uint8_t *buf, size_t len)
{
    if (!dtls || dtls->dead || !buf)
        return -1;
    if (dtls->state == ST_RETIRED) { /* a late retransmission, or an alert: nobody to read */
        dtls->late_datagrams++;
        CR_LOG_RATE(CR_LOG_INFO, "dtls", "dropped a datagram after the handshake state went");
        return -1;
    }
    if (dtls->state != ST_HANDSHAKE && dtls->state != ST_CONNECTED)
        return -1;
    if (len > INT_MAX || !cr_dtls_record_check(buf, len)) {
        dtls->bad_datagrams++;
        CR_LOG_RATE(CR_LOG_WARN, "dtls", "malformed datagram dropped (%zu bytes, %llu so far)", len,
                    (unsigned long long)dtls->bad_datagrams);
        return -1;
    }
    trace(dtls, "got", buf, len);
    if (BIO_write(dtls->rbio, buf, (int)len) != (int)len) {
        CR_ERROR("dtls", "BIO_write of %zu bytes failed", len);
        return -1;
    }
    enter(dtls);
    step(dtls);
    /* Whatever OpenSSL did not consume (it discards bad records) must not leak into the
     * next datagram. */
    (void)BIO_reset(dtls->rbio);
    leave(dtls);
    return 0;
}

int cr_dtls_timeout_ms(struct cr_dtls *dtls)
{
    struct timeval tv;
    if (!dtls || dtls->dead || dtls->state != ST_HANDSHAKE || !DTLSv1_get_timeout(dtls->ssl, &tv))
        return -1;
    long long ms = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

void cr_dtls_on_timeout(struct cr_dtls *dtls)
{
    if (!dtls || dtls->dead || dtls->state != ST_HANDSHAKE)
        return;
    enter(dtls);
    ERR_clear_error();
    int r = DTLSv1_handle_timeout(dtls->ssl); /* retransmits the last flight if due */
    flush_out(dtls);
    if (r < 0)
        fail_ssl(dtls, "DTLS handshake timed out");
    leave(dtls);
}

int cr_dtls_send_data(struct cr_dtls *dtls, const uint8_t *buf, size_t len)
{
    if (!dtls || dtls->dead || dtls->state != ST_CONNECTED || len == 0 || len > CR_DTLS_MAX_DATA)
        return -1;
    enter(dtls);
    ERR_clear_error();
    int n = SSL_write(dtls->ssl, buf, (int)len);
    flush_out(dtls);
    leave(dtls);
    return n == (int)len ? 0 : -1;
}

bool cr_dtls_retire(struct cr_dtls *dtls)
{
    if (!dtls || dtls->dead || dtls->depth || dtls->state != ST_CONNECTED)
        return false;
    SSL_free(dtls->ssl); /* and its BIOs */
    dtls->ssl = NULL;
    dtls->rbio = dtls->wbio = NULL;
    dtls->buffers_freed = false;
    dtls->state = ST_RETIRED;
    return true;
}

void cr_dtls_close(struct cr_dtls *dtls)
{
    if (!dtls || dtls->dead || (dtls->state != ST_HANDSHAKE && dtls->state != ST_CONNECTED))
        return;
    enter(dtls);
    if (dtls->state == ST_CONNECTED) {
        ERR_clear_error();
        (void)SSL_shutdown(dtls->ssl); /* queues close_notify; we do not wait for the reply */
        ERR_clear_error();
        flush_out(dtls);
    }
    dtls->state = ST_CLOSED;
    leave(dtls);
}
