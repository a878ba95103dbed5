/* Replay grants: short signed, expiring permissions to read the files of one recording,
 * carried in a URL ("?grant=..."), so the playlists and segments of a replay link work in
 * any player (access/grant.c; docs/recording.md, "Replay links"). */
#ifndef CR_SIGNALING_GRANT_H
#define CR_SIGNALING_GRANT_H

#include <stddef.h>
#include <stdint.h>

#include "access/token.h"

#define GRANT_TTL_MAX_S (6 * 3600) /* a grant never outlives this, nor the token behind it */
#define GRANT_MAX 64               /* characters of a grant: "<exp>.<43 chars>" */
#define GRANT_SCOPE_MAX 128        /* bytes of a scope (a recording id) */

enum grant_err {
    GRANT_OK = 0,
    GRANT_ERR_MALFORMED = -1, /* not "<exp>.<signature>" */
    GRANT_ERR_SIGNATURE = -2, /* tampered, for another recording, or made with another key */
    GRANT_ERR_EXPIRED = -3,
};

/* When a grant made at now_s for a token expiring at token_exp_s must expire: the earlier of
 * the token's expiry and now_s + GRANT_TTL_MAX_S. */
int64_t grant_expiry(int64_t now_s, int64_t token_exp_s);

/* Writes the grant for scope (1..GRANT_SCOPE_MAX bytes), expiring at exp_s, into out
 * (GRANT_MAX + 1 bytes). 0, or GRANT_ERR_MALFORMED for a scope or time out of bounds. */
int grant_make(const struct token_key *key, const char *scope, int64_t exp_s, char *out);

/* Verifies grant text (len bytes, need not be NUL-terminated) for scope at now_s: 0 or a
 * negative grant_err. The signature is judged before the time. */
int grant_check(const struct token_key *key, const char *scope, const char *text, size_t len,
                int64_t now_s);

/* A sentence for a user. */
const char *grant_err_message(int err);

#endif
