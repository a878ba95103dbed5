/* Signatures between the nodes of a cluster: see node_sig.h (RFC 2104, RFC 4648 §5). */
#include "access/node_sig.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

void node_sig(const struct token_key *key, const char *kind, const char *room, const char *id,
              const char *body, size_t len, char *out)
{
    /* the header's fields hold no ':' or newline (a kind, a room name, a decimal id) */
    char head[256];
    int hn = snprintf(head, sizeof head, "cr-node:%s:%s:%s\n", kind, room, id);
    size_t h = hn > 0 && (size_t)hn < sizeof head ? (size_t)hn : sizeof head - 1;
    char *msg = cr_malloc(h + len + 1);
    memcpy(msg, head, h);
    memcpy(msg + h, body, len);
    token_mac_b64(key, msg, h + len, out);
    free(msg);
}

bool node_sig_ok(const struct token_key *key, const char *kind, const char *room, const char *id,
                 const char *body, size_t len, const char *sig)
{
    if (!sig || strlen(sig) != NODE_SIG_LEN)
        return false;
    char want[NODE_SIG_LEN + 1];
    node_sig(key, kind, room, id, body, len, want);
    return CRYPTO_memcmp(want, sig, NODE_SIG_LEN) == 0;
}
