/* Signatures on what the nodes of a cluster hand each other through the cascade (docs/
 * cluster.md): a link's offer (the origin's) and its answer (the edge's) carry the DTLS
 * fingerprints the media is sealed under, so each is signed — BASE64URL(HMAC-SHA256) under
 * the token key every node shares, over its kind, room, link and body — and checked before
 * it is used. A node between them (or a forged answer on a plain-HTTP network) cannot put
 * its own fingerprint in; only the nodes holding the key can. */
#ifndef CR_SIGNALING_NODE_SIG_H
#define CR_SIGNALING_NODE_SIG_H

#include <stdbool.h>
#include <stddef.h>

#include "access/token.h"

#define NODE_SIG_LEN TOKEN_MAC_B64_LEN

/* The signature of body (len bytes) as kind ("offer", "answer") of link id in room, into out
 * (NODE_SIG_LEN + 1 bytes). */
void node_sig(const struct token_key *key, const char *kind, const char *room, const char *id,
              const char *body, size_t len, char *out);
/* Whether sig (NUL-terminated, may be NULL) is that signature; constant time. */
bool node_sig_ok(const struct token_key *key, const char *kind, const char *room, const char *id,
                 const char *body, size_t len, const char *sig);

#endif
