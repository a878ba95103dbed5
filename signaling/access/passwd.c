/* Password hashes with scrypt (RFC 7914) through OpenSSL's EVP_PBE_scrypt, and random
 * passwords for first start (docs/scheduling.md).
 *
 * A stored hash reads
 *   $scrypt$ln=15,r=8,p=1$<16-byte salt>$<32-byte hash>
 * with salt and hash in standard base64 with padding (RFC 4648 §4). Verification parses
 * the string strictly (decimal numbers without sign or leading zeros, canonical base64,
 * nothing after the hash), bounds the cost (ln 10..20, r 1..16, p 1..4, and at most
 * PASSWD_MAXMEM of memory) so a damaged or planted row cannot make a login take minutes or
 * gigabytes, recomputes and compares in constant time. Who may log in, and counting
 * failures, is the REST layer's business. */
#include "access/passwd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SALT_LEN 16
#define HASH_LEN 32
#define LN_DEFAULT 15 /* N = 2^15 */
#define R_DEFAULT 8
#define P_DEFAULT 1
/* scrypt needs 128·r·(N + 2) + 128·r·p bytes: 32 MiB at today's cost; this allows twice
 * that (ln 16 or r 16) for hashes made after raising the cost. */
#define PASSWD_MAXMEM (65u * 1024 * 1024)

#define B64_LEN(n) (((n) + 2) / 3 * 4)

/* 0 or -1; a failure's OpenSSL error is cleared, not left for the DTLS code on this
 * thread to find. */
static int scrypt(const char *password, size_t len, const unsigned char *salt, unsigned ln,
                  unsigned r, unsigned p, unsigned char out[HASH_LEN])
{
    if (EVP_PBE_scrypt(password, len, salt, SALT_LEN, (uint64_t)1 << ln, r, p, PASSWD_MAXMEM, out,
                       HASH_LEN) == 1)
        return 0;
    ERR_clear_error();
    return -1;
}

int passwd_hash(const char *password, char *out, size_t out_len)
{
    size_t len = password ? strlen(password) : 0;
    if (len < PASSWD_MIN || len > PASSWD_MAX)
        return -1;
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    if (RAND_bytes(salt, SALT_LEN) != 1) {
        ERR_clear_error();
        return -1;
    }
    if (scrypt(password, len, salt, LN_DEFAULT, R_DEFAULT, P_DEFAULT, hash) != 0)
        return -1;
    char salt64[B64_LEN(SALT_LEN) + 1], hash64[B64_LEN(HASH_LEN) + 1];
    EVP_EncodeBlock((unsigned char *)salt64, salt, SALT_LEN);
    EVP_EncodeBlock((unsigned char *)hash64, hash, HASH_LEN);
    OPENSSL_cleanse(hash, sizeof hash);
    int n = snprintf(out, out_len, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", LN_DEFAULT, R_DEFAULT,
                     P_DEFAULT, salt64, hash64);
    return n > 0 && (size_t)n < out_len ? 0 : -1;
}

/* "<digits>" at *s, in [min, max], no sign, no leading zero; advances *s. */
static int parse_num(const char **s, unsigned min, unsigned max, unsigned *out)
{
    const char *p = *s;
    unsigned v = 0;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (unsigned)(*p - '0');
        if (v > max)
            return -1;
    }
    if (v < min)
        return -1;
    *out = v;
    *s = p;
    return 0;
}

static int expect(const char **s, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*s, lit, n) != 0)
        return -1;
    *s += n;
    return 0;
}

/* Exactly B64_LEN(n) characters of canonical base64 at *s decoding to n bytes, followed by
 * `end`. Canonical: re-encoding gives the same text (no stray bits, right padding). */
static int parse_b64(const char **s, char end, unsigned char *out, size_t n)
{
    size_t len = B64_LEN(n);
    const char *p = *s;
    if (strnlen(p, len + 1) < len || p[len] != end)
        return -1;
    unsigned char buf[B64_LEN(HASH_LEN) / 4 * 3];
    char again[B64_LEN(HASH_LEN) + 1];
    if (len > sizeof again - 1 || EVP_DecodeBlock(buf, (const unsigned char *)p, (int)len) < 0)
        return -1;
    EVP_EncodeBlock((unsigned char *)again, buf, (int)n);
    if (memcmp(again, p, len) != 0)
        return -1;
    memcpy(out, buf, n);
    *s = p + len;
    return 0;
}

bool passwd_verify(const char *password, const char *stored)
{
    if (!password || !stored)
        return false;
    size_t len = strlen(password);
    if (len < PASSWD_MIN || len > PASSWD_MAX || strnlen(stored, PASSWD_HASH_MAX) >= PASSWD_HASH_MAX)
        return false;
    const char *s = stored;
    unsigned ln, r, p;
    unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    if (expect(&s, "$scrypt$ln=") || parse_num(&s, 10, 20, &ln) || expect(&s, ",r=") ||
        parse_num(&s, 1, 16, &r) || expect(&s, ",p=") || parse_num(&s, 1, 4, &p) ||
        expect(&s, "$") || parse_b64(&s, '$', salt, SALT_LEN) || expect(&s, "$") ||
        parse_b64(&s, '\0', want, HASH_LEN))
        return false;
    if (scrypt(password, len, salt, ln, r, p, got) != 0) /* e.g. over PASSWD_MAXMEM */
        return false;
    bool ok = CRYPTO_memcmp(got, want, HASH_LEN) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}

/* No 0/O, 1/l/I: a password read aloud or copied from paper comes out right. */
static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

void passwd_random(char *out, size_t len)
{
    const unsigned n = sizeof alphabet - 1;
    const unsigned limit = 256 / n * n; /* bytes at or over this would bias: drawn again */
    unsigned char buf[64];
    size_t used = sizeof buf, i = 0;
    while (i < len) {
        if (used == sizeof buf) {
            if (RAND_bytes(buf, sizeof buf) != 1) {
                fprintf(stderr, "passwd: OpenSSL has no random bytes\n");
                abort();
            }
            used = 0;
        }
        unsigned b = buf[used++];
        if (b < limit)
            out[i++] = alphabet[b % n];
    }
    out[len] = '\0';
    OPENSSL_cleanse(buf, sizeof buf);
}
