/* Signed tokens: JSON Web Tokens (RFC 7519) in the JWS compact form (RFC 7515) with
 * HMAC-SHA256 ("HS256", RFC 7518 §3.2) under a 32-byte key kept in DATA/secret.key.
 *
 * Verification is strict (docs/scheduling.md): the header must say alg HS256 (typ JWT or
 * absent) — "none", RS256 and any other alg are refused before the signature is looked at,
 * so no algorithm confusion is possible; the signature is compared in constant time; exp is
 * required (30 s leeway), nbf checked when present; every claim has a type and a length
 * bound. Pure apart from token_key_load (files) and the random bytes it draws. */
#ifndef CR_SIGNALING_TOKEN_H
#define CR_SIGNALING_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "store/role.h"

#define TOKEN_KEY_LEN 32
#define TOKEN_MAX 2048    /* characters of an encoded token we accept or produce */
#define TOKEN_LEEWAY_S 30 /* clock skew allowed on exp and nbf */
#define TOKEN_TTL_MAX_S (30 * 86400)

enum token_err {
    TOKEN_OK = 0,
    TOKEN_ERR_MALFORMED = -1, /* not three base64url parts of JSON objects, or too long */
    TOKEN_ERR_ALG = -2,       /* a header other than HS256 */
    TOKEN_ERR_SIGNATURE = -3, /* the signature does not match: tampered or another key */
    TOKEN_ERR_EXPIRED = -4,
    TOKEN_ERR_NOT_YET = -5, /* nbf in the future */
    TOKEN_ERR_CLAIMS = -6,  /* a claim missing, of the wrong type, too long, or an unknown role */
    TOKEN_ERR_IO = -7,      /* token_key_load: the key file cannot be read or made */
};

struct token_key {
    unsigned char k[TOKEN_KEY_LEN];
};

struct token_claims {
    char sub[64];      /* "u12", "link:3", "cli" */
    char name[257];    /* display name, UTF-8, at most 64 characters */
    enum role role;    /* never ROLE_NONE in a valid token */
    char room[65];     /* "": no room (a staff session) */
    int64_t classroom; /* 0: none */
    int64_t iat, exp;  /* seconds since the epoch */
};

/* Reads DATA/secret.key, or makes it (32 random bytes, mode 0600, written to a temporary
 * file and renamed so a crash leaves no half key). 0 or TOKEN_ERR_IO with a reason. */
int token_key_load(const char *data_dir, struct token_key *key, char *err, size_t err_len);

/* Reads the key from path (--secret-file: the key the nodes of a cluster share), which must
 * exist: never made here. 0 or TOKEN_ERR_IO with a reason. */
int token_key_read_file(const char *path, struct token_key *key, char *err, size_t err_len);

/* Encodes and signs c into out (NUL-terminated). 0, or TOKEN_ERR_CLAIMS if a claim is out of
 * bounds or out is too small. */
int token_sign(const struct token_key *key, const struct token_claims *c, char *out,
               size_t out_len);

/* Verifies token (len bytes, need not be NUL-terminated) at now_s; fills out on success.
 * Returns 0 or a negative token_err. */
int token_verify(const struct token_key *key, const char *token, size_t len, int64_t now_s,
                 struct token_claims *out);

/* BASE64URL(HMAC-SHA256(key, data)) into out (TOKEN_MAC_B64_LEN + 1 bytes, NUL-terminated):
 * the one MAC of the server key, for what else it signs (access/grant.h). */
#define TOKEN_MAC_B64_LEN 43
void token_mac_b64(const struct token_key *key, const char *data, size_t len, char *out);

/* A sentence for a user: "the token has expired", ... */
const char *token_err_message(int err);

#endif
