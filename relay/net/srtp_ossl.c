/* OpenSSL's AES-CTR, AES-GCM and HMAC-SHA1 under libsrtp2 (see srtp_ossl.h). The transforms
 * keep libsrtp2's contracts (srtp2/cipher.h, srtp2/auth.h, libsrtp2 2.x):
 *   - AES-ICM (RFC 3711 §4.1.1): the key is key || 14-byte salt; set_iv XORs the 16-byte IV
 *     with the salt (its last two octets zero: the block counter) and restarts the
 *     keystream there; encrypt and decrypt are the same XOR.
 *   - AES-GCM (RFC 7714): the key is the AES key alone (srtp.c makes the 12-byte IV with
 *     the salt); set_iv starts a message, set_aad adds the authenticated header, encrypt
 *     then get_tag appends the tag; decrypt takes the tag from the end of the buffer,
 *     checks it and shortens the length by it.
 *   - HMAC-SHA1 (RFC 2104): start, update over the packet, compute over the ROC and write
 *     tag_len octets of the MAC.
 * The expanded AES key and the HMAC key's pads are made once per session key (init), not
 * per packet. Each type carries a known-answer test (RFC 3711 B.2, the GCM specification's
 * test case 4, RFC 2202 §3 case 1) that libsrtp2 runs when the type is installed. */
#include "net/srtp_ossl.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>
#include <stdlib.h>
#include <string.h>

#define ICM_KEY 16
#define ICM_SALT 14
#define GCM_KEY 16
#define SHA1_LEN 20

/* ---- cipher state, shared by both ciphers ---- */

struct ossl_cipher {
    EVP_CIPHER_CTX *ctx;
    uint8_t salt[16]; /* AES-ICM: the salt, its last two octets zero */
    int tag_len;      /* AES-GCM */
};

static srtp_err_status_t cipher_alloc(srtp_cipher_pointer_t *cp, const srtp_cipher_type_t *type,
                                      int algorithm, int key_len, int tag_len)
{
    srtp_cipher_t *c = calloc(1, sizeof *c + sizeof(struct ossl_cipher));
    if (!c)
        return srtp_err_status_alloc_fail;
    struct ossl_cipher *s = (struct ossl_cipher *)(c + 1);
    s->ctx = EVP_CIPHER_CTX_new();
    if (!s->ctx) {
        free(c);
        return srtp_err_status_alloc_fail;
    }
    s->tag_len = tag_len;
    c->type = type;
    c->state = s;
    c->key_len = key_len;
    c->algorithm = algorithm;
    *cp = c;
    return srtp_err_status_ok;
}

static srtp_err_status_t cipher_dealloc(srtp_cipher_pointer_t c)
{
    if (!c)
        return srtp_err_status_bad_param;
    struct ossl_cipher *s = c->state;
    EVP_CIPHER_CTX_free(s->ctx);
    memset(c, 0, sizeof *c + sizeof *s);
    free(c);
    return srtp_err_status_ok;
}

/* ---- AES-ICM ---- */

extern const srtp_cipher_type_t cr_ossl_aes_icm_128;

static srtp_err_status_t icm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
    (void)tag_len;
    if (key_len != ICM_KEY + ICM_SALT)
        return srtp_err_status_bad_param;
    return cipher_alloc(cp, &cr_ossl_aes_icm_128, SRTP_AES_ICM_128, key_len, 0);
}

static srtp_err_status_t icm_init(void *state, const uint8_t *key)
{
    struct ossl_cipher *s = state;
    memset(s->salt, 0, sizeof s->salt);
    memcpy(s->salt, key + ICM_KEY, ICM_SALT);
    return EVP_EncryptInit_ex(s->ctx, EVP_aes_128_ctr(), NULL, key, NULL) == 1
               ? srtp_err_status_ok
               : srtp_err_status_init_fail;
}

static srtp_err_status_t icm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
    (void)dir;
    struct ossl_cipher *s = state;
    uint8_t counter[16];
    for (int i = 0; i < 16; i++)
        counter[i] = (uint8_t)(iv[i] ^ s->salt[i]);
    return EVP_EncryptInit_ex(s->ctx, NULL, NULL, NULL, counter) == 1 ? srtp_err_status_ok
                                                                      : srtp_err_status_init_fail;
}

static srtp_err_status_t icm_xor(void *state, uint8_t *buf, unsigned int *len)
{
    struct ossl_cipher *s = state;
    int out = 0;
    if (*len > INT32_MAX || EVP_EncryptUpdate(s->ctx, buf, &out, buf, (int)*len) != 1)
        return srtp_err_status_cipher_fail;
    *len = (unsigned int)out;
    return srtp_err_status_ok;
}

/* RFC 3711 B.2: the session key and salt, and the keystream's first two blocks from
 * index 0 (the IV's packet index and SSRC zero). */
static const uint8_t icm_key[ICM_KEY + ICM_SALT] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f,
    0x3c, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd};
static uint8_t icm_iv[16];
static const uint8_t icm_zero[32];
static const uint8_t icm_stream[32] = {
    0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
    0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab};
static const srtp_cipher_test_case_t icm_test = {
    .key_length_octets = sizeof icm_key,
    .key = icm_key,
    .idx = icm_iv,
    .plaintext_length_octets = sizeof icm_zero,
    .plaintext = icm_zero,
    .ciphertext_length_octets = sizeof icm_stream,
    .ciphertext = icm_stream,
};

const srtp_cipher_type_t cr_ossl_aes_icm_128 = {
    .alloc = icm_alloc,
    .dealloc = cipher_dealloc,
    .init = icm_init,
    .encrypt = icm_xor,
    .decrypt = icm_xor,
    .set_iv = icm_set_iv,
    .description = "AES-128 counter mode (OpenSSL, ClassRelay)",
    .test_data = &icm_test,
    .id = SRTP_AES_ICM_128,
};

/* ---- AES-GCM ---- */

extern const srtp_cipher_type_t cr_ossl_aes_gcm_128;

static srtp_err_status_t gcm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
    if (key_len != SRTP_AES_GCM_128_KEY_LEN_WSALT || (tag_len != 8 && tag_len != 16))
        return srtp_err_status_bad_param;
    return cipher_alloc(cp, &cr_ossl_aes_gcm_128, SRTP_AES_GCM_128, key_len, tag_len);
}

static srtp_err_status_t gcm_init(void *state, const uint8_t *key)
{
    struct ossl_cipher *s = state;
    return EVP_CipherInit_ex(s->ctx, EVP_aes_128_gcm(), NULL, key, NULL, 1) == 1
               ? srtp_err_status_ok
               : srtp_err_status_init_fail;
}

static srtp_err_status_t gcm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
    struct ossl_cipher *s = state;
    if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
        return srtp_err_status_bad_param;
    int enc = dir == srtp_direction_encrypt;
    return EVP_CipherInit_ex(s->ctx, NULL, NULL, NULL, iv, enc) == 1 ? srtp_err_status_ok
                                                                     : srtp_err_status_init_fail;
}

static srtp_err_status_t gcm_set_aad(void *state, const uint8_t *aad, uint32_t aad_len)
{
    struct ossl_cipher *s = state;
    int out = 0;
    return aad_len <= INT32_MAX && EVP_CipherUpdate(s->ctx, NULL, &out, aad, (int)aad_len) == 1
               ? srtp_err_status_ok
               : srtp_err_status_algo_fail;
}

static srtp_err_status_t gcm_encrypt(void *state, uint8_t *buf, unsigned int *len)
{
    struct ossl_cipher *s = state;
    int out = 0;
    if (*len > INT32_MAX || EVP_CipherUpdate(s->ctx, buf, &out, buf, (int)*len) != 1)
        return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_get_tag(void *state, uint8_t *tag, uint32_t *len)
{
    struct ossl_cipher *s = state;
    int out = 0;
    uint8_t none[16];
    if (EVP_CipherFinal_ex(s->ctx, none, &out) != 1 ||
        EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_GET_TAG, s->tag_len, tag) != 1)
        return srtp_err_status_algo_fail;
    *len = (uint32_t)s->tag_len;
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_decrypt(void *state, uint8_t *buf, unsigned int *len)
{
    struct ossl_cipher *s = state;
    int out = 0;
    if (*len < (unsigned int)s->tag_len || *len > INT32_MAX)
        return srtp_err_status_bad_param;
    int body = (int)*len - s->tag_len;
    uint8_t none[16];
    if (EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_SET_TAG, s->tag_len, buf + body) != 1 ||
        EVP_CipherUpdate(s->ctx, buf, &out, buf, body) != 1)
        return srtp_err_status_cipher_fail;
    if (EVP_CipherFinal_ex(s->ctx, none, &out) != 1)
        return srtp_err_status_auth_fail;
    *len = (unsigned int)body;
    return srtp_err_status_ok;
}

/* The GCM specification's test case 4 (AES-128, 12-byte IV, 20 bytes of AAD), its key
 * followed by a 12-byte salt that the cipher does not use. */
static const uint8_t gcm_key[SRTP_AES_GCM_128_KEY_LEN_WSALT] = {
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30,
    0x83, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};
static uint8_t gcm_iv[12] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce,
                             0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
static const uint8_t gcm_plain[60] = {
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26,
    0x9a, 0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31,
    0x8a, 0x72, 0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49,
    0xa6, 0xb5, 0x25, 0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39};
static const uint8_t gcm_aad[20] = {0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed,
                                    0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xab, 0xad, 0xda, 0xd2};
static const uint8_t gcm_sealed[76] = {
    0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4, 0x9c,
    0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac, 0xa1, 0x2e,
    0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac, 0x84, 0xaa, 0x05,
    0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91,
    /* the tag */
    0x5b, 0xc9, 0x4f, 0xbc, 0x32, 0x21, 0xa5, 0xdb, 0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a, 0x47};
static const srtp_cipher_test_case_t gcm_test = {
    .key_length_octets = sizeof gcm_key,
    .key = gcm_key,
    .idx = gcm_iv,
    .plaintext_length_octets = sizeof gcm_plain,
    .plaintext = gcm_plain,
    .ciphertext_length_octets = sizeof gcm_sealed,
    .ciphertext = gcm_sealed,
    .aad_length_octets = sizeof gcm_aad,
    .aad = gcm_aad,
    .tag_length_octets = 16,
};

const srtp_cipher_type_t cr_ossl_aes_gcm_128 = {
    .alloc = gcm_alloc,
    .dealloc = cipher_dealloc,
    .init = gcm_init,
    .set_aad = gcm_set_aad,
    .encrypt = gcm_encrypt,
    .decrypt = gcm_decrypt,
    .set_iv = gcm_set_iv,
    .get_tag = gcm_get_tag,
    .description = "AES-128 GCM (OpenSSL, ClassRelay)",
    .test_data = &gcm_test,
    .id = SRTP_AES_GCM_128,
};

/* ---- HMAC-SHA1 ---- */

extern const srtp_auth_type_t cr_ossl_hmac_sha1;

struct ossl_hmac {
    EVP_MAC_CTX *ctx;
};

static srtp_err_status_t hmac_alloc(srtp_auth_pointer_t *ap, int key_len, int out_len)
{
    if (key_len < 0 || key_len > SHA1_LEN || out_len < 0 || out_len > SHA1_LEN)
        return srtp_err_status_bad_param;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        return srtp_err_status_alloc_fail;
    srtp_auth_t *a = calloc(1, sizeof *a + sizeof(struct ossl_hmac));
    struct ossl_hmac *s = a ? (struct ossl_hmac *)(a + 1) : NULL;
    if (s)
        s->ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (!s || !s->ctx) {
        free(a);
        return srtp_err_status_alloc_fail;
    }
    a->type = &cr_ossl_hmac_sha1;
    a->state = s;
    a->out_len = out_len;
    a->key_len = key_len;
    a->prefix_len = 0;
    *ap = a;
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_dealloc(srtp_auth_pointer_t a)
{
    if (!a)
        return srtp_err_status_bad_param;
    struct ossl_hmac *s = a->state;
    EVP_MAC_CTX_free(s->ctx);
    memset(a, 0, sizeof *a + sizeof *s);
    free(a);
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_init(void *state, const uint8_t *key, int key_len)
{
    struct ossl_hmac *s = state;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
        OSSL_PARAM_construct_end()};
    return EVP_MAC_init(s->ctx, key, (size_t)key_len, params) == 1 ? srtp_err_status_ok
                                                                   : srtp_err_status_init_fail;
}

static srtp_err_status_t hmac_start(void *state)
{
    struct ossl_hmac *s = state;
    /* the same key again: the pads made by hmac_init are kept */
    return EVP_MAC_init(s->ctx, NULL, 0, NULL) == 1 ? srtp_err_status_ok
                                                    : srtp_err_status_auth_fail;
}

static srtp_err_status_t hmac_update(void *state, const uint8_t *buf, int len)
{
    struct ossl_hmac *s = state;
    return len >= 0 && EVP_MAC_update(s->ctx, buf, (size_t)len) == 1 ? srtp_err_status_ok
                                                                     : srtp_err_status_auth_fail;
}

static srtp_err_status_t hmac_compute(void *state, const uint8_t *buf, int len, int tag_len,
                                      uint8_t *tag)
{
    struct ossl_hmac *s = state;
    uint8_t full[EVP_MAX_MD_SIZE];
    size_t out = 0;
    if (tag_len < 0 || tag_len > SHA1_LEN || hmac_update(state, buf, len) != srtp_err_status_ok ||
        EVP_MAC_final(s->ctx, full, &out, sizeof full) != 1 || out != SHA1_LEN)
        return srtp_err_status_auth_fail;
    memcpy(tag, full, (size_t)tag_len);
    return srtp_err_status_ok;
}

/* RFC 2202 §3, test case 1 */
static const uint8_t hmac_key[20] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                     0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
static const uint8_t hmac_data[8] = {'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'};
static const uint8_t hmac_tag[20] = {0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
                                     0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00};
static const srtp_auth_test_case_t hmac_test = {
    .key_length_octets = sizeof hmac_key,
    .key = hmac_key,
    .data_length_octets = sizeof hmac_data,
    .data = hmac_data,
    .tag_length_octets = sizeof hmac_tag,
    .tag = hmac_tag,
};

const srtp_auth_type_t cr_ossl_hmac_sha1 = {
    .alloc = hmac_alloc,
    .dealloc = hmac_dealloc,
    .init = hmac_init,
    .compute = hmac_compute,
    .update = hmac_update,
    .start = hmac_start,
    .description = "HMAC-SHA1 (OpenSSL, ClassRelay)",
    .test_data = &hmac_test,
    .id = SRTP_HMAC_SHA1,
};

int cr_srtp_ossl_install(void)
{
    if (srtp_replace_cipher_type(&cr_ossl_aes_icm_128, SRTP_AES_ICM_128) != srtp_err_status_ok ||
        srtp_replace_cipher_type(&cr_ossl_aes_gcm_128, SRTP_AES_GCM_128) != srtp_err_status_ok ||
        srtp_replace_auth_type(&cr_ossl_hmac_sha1, SRTP_HMAC_SHA1) != srtp_err_status_ok)
        return -1;
    return 0;
}
