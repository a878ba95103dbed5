/* Replay grants (see grant.h). A grant is "<exp>.<mac>": exp in seconds since the epoch
 * (decimal, no sign or leading zero), mac = BASE64URL(HMAC-SHA256(server key,
 * "cr-replay-grant:<scope>:<exp>")) (RFC 2104, RFC 4648 §5), made with the key that signs
 * tokens (token_mac_b64). The prefix keeps the two apart: a JWT's signed text starts with its
 * header's base64url, never with "cr-", so no token signature is a grant or the other way
 * round. The scope is one recording's id, so a leaked segment URL opens that recording only,
 * and only until exp, which is never later than the token it was made for (grant_expiry).
 * The MAC is compared in constant time. Reads no clock: the caller passes now_s. */
#include "access/grant.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#define EXP_DIGITS_MAX 12 /* up to year 33658: enough, and no overflow */

int64_t grant_expiry(int64_t now_s, int64_t token_exp_s)
{
    int64_t cap = now_s + GRANT_TTL_MAX_S;
    return token_exp_s < cap ? token_exp_s : cap;
}

static bool scope_ok(const char *scope)
{
    size_t n = strlen(scope);
    return n > 0 && n <= GRANT_SCOPE_MAX && !strchr(scope, ':');
}

/* The MAC of (scope, exp) into out (TOKEN_MAC_B64_LEN + 1 bytes). */
static void grant_mac(const struct token_key *key, const char *scope, int64_t exp_s, char *out)
{
    char msg[GRANT_SCOPE_MAX + 64];
    int n = snprintf(msg, sizeof msg, "cr-replay-grant:%s:%" PRId64, scope, exp_s);
    token_mac_b64(key, msg, (size_t)n, out);
}

int grant_make(const struct token_key *key, const char *scope, int64_t exp_s, char *out)
{
    if (!scope_ok(scope) || exp_s <= 0 || exp_s >= 1000000000000LL)
        return GRANT_ERR_MALFORMED;
    char mac[TOKEN_MAC_B64_LEN + 1];
    grant_mac(key, scope, exp_s, mac);
    snprintf(out, GRANT_MAX + 1, "%" PRId64 ".%s", exp_s, mac);
    return 0;
}

static bool b64url_char(char c) { return isalnum((unsigned char)c) || c == '-' || c == '_'; }

/* exp and the MAC's place in text, or false when its shape is wrong. */
static bool split(const char *text, size_t len, int64_t *exp_s, const char **mac)
{
    size_t d = 0;
    int64_t v = 0;
    while (d < len && d <= EXP_DIGITS_MAX && isdigit((unsigned char)text[d]))
        v = v * 10 + (text[d++] - '0');
    if (d == 0 || d > EXP_DIGITS_MAX || text[0] == '0' || d >= len || text[d] != '.' ||
        len - d - 1 != TOKEN_MAC_B64_LEN)
        return false;
    for (size_t i = d + 1; i < len; i++)
        if (!b64url_char(text[i]))
            return false;
    *exp_s = v;
    *mac = text + d + 1;
    return true;
}

int grant_check(const struct token_key *key, const char *scope, const char *text, size_t len,
                int64_t now_s)
{
    int64_t exp_s;
    const char *mac;
    if (!text || len > GRANT_MAX || !split(text, len, &exp_s, &mac))
        return GRANT_ERR_MALFORMED;
    if (!scope_ok(scope))
        return GRANT_ERR_SIGNATURE;
    char want[TOKEN_MAC_B64_LEN + 1];
    grant_mac(key, scope, exp_s, want);
    if (CRYPTO_memcmp(want, mac, TOKEN_MAC_B64_LEN) != 0)
        return GRANT_ERR_SIGNATURE;
    return now_s >= exp_s ? GRANT_ERR_EXPIRED : GRANT_OK;
}

const char *grant_err_message(int err)
{
    switch (err) {
    case GRANT_OK:
        return "ok";
    case GRANT_ERR_MALFORMED:
        return "the replay link's grant is malformed: open the recording again for a new link";
    case GRANT_ERR_SIGNATURE:
        return "the replay link's grant is not valid for this recording (altered, or made for "
               "another one)";
    case GRANT_ERR_EXPIRED:
        return "the replay link has expired: open the recording again for a new link";
    default:
        return "the replay link is not valid";
    }
}
