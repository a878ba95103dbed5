/* Outbound SRTP for RTP on OpenSSL: see srtp_tx.h. HMAC-SHA1 is made here from SHA-1 over
 * the key's two pads, absorbed once (RFC 2104 §4): OpenSSL's HMAC copies two digest contexts
 * per packet (allocations and provider calls: 8 % of the relay's CPU with CM80 at 300
 * subscribers, docs/benchmarks.md). The SHA-1 block functions are deprecated in OpenSSL 3
 * but kept; they are what its HMAC runs on. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_Init, SHA1_Update, SHA1_Final */
#include "net/srtp_tx.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/bytes.h"

#define AES_KEY 16
#define CM_SALT 14  /* AES-CM master and session salt (RFC 3711 §8.2) */
#define GCM_SALT 12 /* AES-GCM master and session salt (RFC 7714 §12) */
#define AUTH_KEY 20 /* HMAC-SHA1 session key (RFC 3711 §4.3.2: n_a = 160) */
#define CM_TAG 10   /* HMAC-SHA1-80 */
#define GCM_TAG 16
#define SEQ_MEDIAN 0x8000
#define FEW 4 /* streams kept in the state itself: a subscriber's video, audio and their RTX */

enum label { LABEL_CIPHER = 0x00, LABEL_AUTH = 0x01, LABEL_SALT = 0x02 }; /* RFC 3711 §4.3.2 */

struct stream {
    uint32_t ssrc;
    uint64_t index; /* highest sent: ROC << 16 | SEQ */
};

struct cr_srtp_tx {
    bool gcm;
    uint8_t salt[CM_SALT]; /* the session salt (GCM: its first 12 octets) */
    EVP_CIPHER_CTX *cipher;
    SHA_CTX inner, outer; /* AES-CM: SHA-1 after the key XOR ipad, and after XOR opad */
    size_t n, cap;        /* streams: the first FEW in few, the rest in more */
    struct stream few[FEW];
    struct stream *more;
};

/* RFC 3711 §4.3.1-§4.3.3 with key_derivation_rate 0: the session key of `label` is the
 * AES-CM keystream under the master key from the IV (master salt XOR label << 48) << 16.
 * A GCM master salt is 12 octets; it is taken as a 14-octet one ending in two zeros, as
 * libsrtp2 does (RFC 7714 §11 keeps the AES-CM PRF). */
static int derive(const uint8_t *master_key, const uint8_t *master_salt, size_t salt_len,
                  enum label label, uint8_t *out, size_t out_len)
{
    uint8_t iv[16] = {0}, zero[32] = {0};
    memcpy(iv, master_salt, salt_len);
    iv[7] ^= (uint8_t)label;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    int ok = ctx && out_len <= sizeof zero &&
             EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, master_key, iv) == 1 &&
             EVP_EncryptUpdate(ctx, out, &n, zero, (int)out_len) == 1 && (size_t)n == out_len;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

static int init_cm(struct cr_srtp_tx *tx, const uint8_t *key)
{
    uint8_t enc[AES_KEY], auth[AUTH_KEY];
    uint8_t ipad[SHA_CBLOCK], opad[SHA_CBLOCK];
    int ok = derive(key, key + AES_KEY, CM_SALT, LABEL_CIPHER, enc, sizeof enc) == 0 &&
             derive(key, key + AES_KEY, CM_SALT, LABEL_AUTH, auth, sizeof auth) == 0 &&
             derive(key, key + AES_KEY, CM_SALT, LABEL_SALT, tx->salt, CM_SALT) == 0 &&
             EVP_EncryptInit_ex(tx->cipher, EVP_aes_128_ctr(), NULL, enc, NULL) == 1;
    memset(ipad, 0x36, sizeof ipad); /* RFC 2104 §2: the key, shorter than a block, padded */
    memset(opad, 0x5c, sizeof opad);
    for (size_t i = 0; i < sizeof auth; i++) {
        ipad[i] ^= auth[i];
        opad[i] ^= auth[i];
    }
    ok = ok && SHA1_Init(&tx->inner) && SHA1_Update(&tx->inner, ipad, sizeof ipad) &&
         SHA1_Init(&tx->outer) && SHA1_Update(&tx->outer, opad, sizeof opad);
    memset(enc, 0, sizeof enc);
    memset(auth, 0, sizeof auth);
    memset(ipad, 0, sizeof ipad);
    memset(opad, 0, sizeof opad);
    return ok ? 0 : -1;
}

static int init_gcm(struct cr_srtp_tx *tx, const uint8_t *key)
{
    uint8_t enc[AES_KEY];
    int ok = derive(key, key + AES_KEY, GCM_SALT, LABEL_CIPHER, enc, sizeof enc) == 0 &&
             derive(key, key + AES_KEY, GCM_SALT, LABEL_SALT, tx->salt, GCM_SALT) == 0 &&
             EVP_EncryptInit_ex(tx->cipher, EVP_aes_128_gcm(), NULL, enc, NULL) == 1;
    memset(enc, 0, sizeof enc);
    return ok ? 0 : -1;
}

struct cr_srtp_tx *cr_srtp_tx_new(enum cr_srtp_profile profile, const uint8_t *key, size_t key_len)
{
    bool gcm = profile == CR_SRTP_AEAD_AES_128_GCM;
    if (!gcm && profile != CR_SRTP_AES128_CM_SHA1_80)
        return NULL;
    if (key_len != AES_KEY + (gcm ? GCM_SALT : CM_SALT))
        return NULL;
    struct cr_srtp_tx *tx = CR_NEW(struct cr_srtp_tx);
    tx->gcm = gcm;
    tx->cipher = EVP_CIPHER_CTX_new();
    if (!tx->cipher || (gcm ? init_gcm(tx, key) : init_cm(tx, key)) != 0) {
        cr_srtp_tx_free(tx);
        return NULL;
    }
    return tx;
}

void cr_srtp_tx_free(struct cr_srtp_tx *tx)
{
    if (!tx)
        return;
    EVP_CIPHER_CTX_free(tx->cipher);
    free(tx->more);
    memset(tx, 0, sizeof *tx); /* the salt and the pads' states */
    free(tx);
}

static struct stream *stream_at(struct cr_srtp_tx *tx, size_t i)
{
    return i < FEW ? &tx->few[i] : &tx->more[i - FEW];
}

/* The stream of ssrc, made at its first packet with index 0. */
static struct stream *stream_of(struct cr_srtp_tx *tx, uint32_t ssrc)
{
    for (size_t i = 0; i < tx->n; i++)
        if (stream_at(tx, i)->ssrc == ssrc)
            return stream_at(tx, i);
    if (tx->n >= FEW && tx->n - FEW == tx->cap) {
        tx->cap = tx->cap ? tx->cap * 2 : FEW;
        tx->more = cr_realloc(tx->more, tx->cap * sizeof *tx->more);
    }
    struct stream *s = stream_at(tx, tx->n++);
    *s = (struct stream){.ssrc = ssrc};
    return s;
}

/* The packet index of seq (RFC 3711 §3.3.1, Appendix A), as libsrtp2's sender and the
 * receivers estimate it: the ROC taken as 0 until the index passes 2^15, then the one
 * closest to the highest index sent. A higher index becomes the highest. */
static uint64_t packet_index(struct stream *s, uint16_t seq)
{
    uint64_t guess = seq;
    if (s->index > SEQ_MEDIAN) {
        uint32_t roc = (uint32_t)(s->index >> 16);
        uint16_t local = (uint16_t)s->index;
        if (local < SEQ_MEDIAN && seq - local > SEQ_MEDIAN)
            roc--;
        else if (local >= SEQ_MEDIAN && local - SEQ_MEDIAN > seq)
            roc++;
        guess = (uint64_t)roc << 16 | seq;
    }
    if (guess > s->index)
        s->index = guess;
    return guess;
}

/* RFC 3550 §5.1, §5.3.1: the header's length, CSRCs and extension included; 0 if the
 * packet is shorter. */
static size_t header_len(const uint8_t *buf, size_t len)
{
    if (len < 12)
        return 0;
    size_t h = 12 + 4u * (buf[0] & 0x0f);
    if ((buf[0] & 0x10) && h + 4 <= len)
        h += 4 + 4u * rd_be16(buf + h + 2);
    else if (buf[0] & 0x10)
        return 0;
    return h <= len ? h : 0;
}

/* RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt; the header is the AAD, the
 * payload is sealed and the 16-octet tag follows it. */
static int seal_gcm(struct cr_srtp_tx *tx, uint8_t *buf, size_t h, size_t *len, uint64_t index)
{
    uint8_t iv[GCM_SALT] = {0};
    memcpy(iv + 2, buf + 8, 4);
    wr_be32(iv + 6, (uint32_t)(index >> 16));
    wr_be16(iv + 10, (uint16_t)index);
    for (int i = 0; i < GCM_SALT; i++)
        iv[i] ^= tx->salt[i];
    int n = 0, body = (int)(*len - h);
    uint8_t none[16];
    if (EVP_EncryptInit_ex(tx->cipher, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(tx->cipher, NULL, &n, buf, (int)h) != 1 ||
        EVP_EncryptUpdate(tx->cipher, buf + h, &n, buf + h, body) != 1 ||
        EVP_EncryptFinal_ex(tx->cipher, none, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(tx->cipher, EVP_CTRL_AEAD_GET_TAG, GCM_TAG, buf + *len) != 1)
        return -1;
    *len += GCM_TAG;
    return 0;
}

/* RFC 3711 §4.1.1: the payload XORed with AES-CM from IV = (salt << 16) XOR (SSRC << 64)
 * XOR (index << 16); §4.2: HMAC-SHA1 over the packet and the ROC, 80 bits of it appended. */
static int seal_cm(struct cr_srtp_tx *tx, uint8_t *buf, size_t h, size_t *len, uint64_t index)
{
    uint8_t iv[16] = {0}, roc[4], mac[SHA_DIGEST_LENGTH];
    memcpy(iv, tx->salt, CM_SALT);
    for (int i = 0; i < 4; i++)
        iv[4 + i] ^= buf[8 + i];
    for (int i = 0; i < 6; i++)
        iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
    wr_be32(roc, (uint32_t)(index >> 16));
    int n = 0;
    if (EVP_EncryptInit_ex(tx->cipher, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(tx->cipher, buf + h, &n, buf + h, (int)(*len - h)) != 1)
        return -1;
    SHA_CTX sha = tx->inner; /* RFC 2104: SHA1(K^opad || SHA1(K^ipad || text)) */
    SHA1_Update(&sha, buf, *len);
    SHA1_Update(&sha, roc, sizeof roc);
    SHA1_Final(mac, &sha);
    sha = tx->outer;
    SHA1_Update(&sha, mac, sizeof mac);
    SHA1_Final(mac, &sha);
    memcpy(buf + *len, mac, CM_TAG);
    *len += CM_TAG;
    return 0;
}

int cr_srtp_tx_protect(struct cr_srtp_tx *tx, uint8_t *buf, size_t *len)
{
    size_t h = header_len(buf, *len);
    if (!h || *len > INT32_MAX)
        return -1;
    uint64_t index = packet_index(stream_of(tx, rd_be32(buf + 8)), rd_be16(buf + 2));
    return tx->gcm ? seal_gcm(tx, buf, h, len, index) : seal_cm(tx, buf, h, len, index);
}
