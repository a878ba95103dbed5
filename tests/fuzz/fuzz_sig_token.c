/* Fuzz entry point for signaling/token.c's token_verify, in two ways:
 *  - the input as a token, verified under a fixed key at a fixed time;
 *  - the input as a claims payload, wrapped in the HS256 header and signed with the key
 *    here (OpenSSL's HMAC), so the fuzzer reaches the claim parser past the signature.
 * Whatever verifies must satisfy the documented bounds, and its claims must sign again and
 * verify to the same claims. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "access/token.h"
#include "test.h" /* tests/unit/: test_b64url */

#define NOW 1767225600 /* 2026-01-01T00:00:00Z */

static const struct token_key key = {{'c', 'l', 'a', 's', 's', 'r', 'e', 'l', 'a', 'y', '-',
                                      'f', 'u', 'z', 'z', '-', 'k', 'e', 'y', '-', '0', '1',
                                      '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b'}};

static bool room_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 64 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_-") == n;
}

static void check(const char *tok, size_t len)
{
    struct token_claims c;
    memset(&c, 0, sizeof c);
    int rc = token_verify(&key, tok, len, NOW, &c);
    if (rc > 0 || rc < TOKEN_ERR_CLAIMS || !token_err_message(rc)[0])
        abort();
    if (rc != 0)
        return;
    if (len > TOKEN_MAX || c.role <= ROLE_NONE || c.role >= ROLE_COUNT)
        abort();
    if (!memchr(c.sub, '\0', sizeof c.sub) || !c.sub[0] || !memchr(c.name, '\0', sizeof c.name) ||
        !memchr(c.room, '\0', sizeof c.room) || (c.room[0] && !room_ok(c.room)))
        abort();
    if (c.classroom < 0 || c.iat < 0 || c.exp < NOW - TOKEN_LEEWAY_S)
        abort();
    char again[TOKEN_MAX + 1];
    struct token_claims c2;
    /* the claims sign again (unknown claims dropped, so shorter or equal) and come back */
    if (token_sign(&key, &c, again, sizeof again) != 0 ||
        token_verify(&key, again, strlen(again), NOW, &c2) != 0)
        abort();
    if (strcmp(c.sub, c2.sub) || strcmp(c.name, c2.name) || strcmp(c.room, c2.room) ||
        c.role != c2.role || c.classroom != c2.classroom || c.iat != c2.iat || c.exp != c2.exp)
        abort();
}

/* header "." payload "." signature, with data as the payload */
static void check_as_payload(const uint8_t *data, size_t size)
{
    static const char header[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.";
    if (size > TOKEN_MAX)
        return;
    char tok[sizeof header + TOKEN_MAX * 2];
    size_t n = sizeof header - 1;
    memcpy(tok, header, n);
    n += test_b64url(data, size, tok + n);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha256(), key.k, TOKEN_KEY_LEN, (const unsigned char *)tok, n, mac, &mac_len))
        abort();
    tok[n++] = '.';
    n += test_b64url(mac, mac_len, tok + n);
    /* an exact-size copy, so a read past the end shows */
    char *exact = malloc(n);
    memcpy(exact, tok, n);
    check(exact, n);
    free(exact);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check((const char *)data, size);
    check_as_payload(data, size);
    return 0;
}
