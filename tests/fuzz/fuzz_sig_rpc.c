/* Fuzz entry point for signaling/front/rpc.c, the websocket JSON protocol: each line of the input
 * is one text message to rpc_handle(), from connection A, or from connection B when the
 * line begins with a tab; both then close (rpc_conn_closed, which frees the
 * connection's protocol state). The server around them is sig_server.h's, with
 * connections that have no lws handle, so replies are built and dropped unsent. Checks the
 * protocol's promise that a closed connection leaves nothing behind: no room, no relay
 * peer. (ws.c's framing needs a live lws connection: tests/unit/signaling/
 * test_ws_protocol.c covers it end to end.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/rpc.h"
#include "sig_server.h"

static struct server *srvp;

static void on_peer_state(void *user, uint64_t peer_id, enum cr_peer_state state) {}
static void on_candidate(void *user, uint64_t peer_id, const char *mid, const char *cand) {}
static void on_tracks(void *user, const char *room) {}

static const struct cr_relay_events events = {
    .on_peer_state = on_peer_state,
    .on_local_candidate = on_candidate,
    .on_tracks_changed = on_tracks,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srvp)
        srvp = sig_server_start(&rpc_lesson_events, &events);
    struct server *srv = srvp;
    struct ws_conn a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.srv = b.srv = srv;
    a.user = CR_NEW(struct rpc_conn); /* anonymous: no token on the upgrade */
    b.user = CR_NEW(struct rpc_conn);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0 && p[0] == '\t')
            rpc_handle(&b, p + 1, n - 1);
        else
            rpc_handle(&a, p, n);
        p += n + (nl != NULL);
    }
    rpc_conn_closed(&a);
    rpc_conn_closed(&b);
    if (a.user || b.user || srv->reg->n_rooms != 0) /* closed: the protocol state freed */
        abort();
    struct cr_relay_stats st;
    if (cr_relay_get_stats(srv->relay, &st) != 0 || st.rooms != 0 || st.peers != 0)
        abort();
    return 0;
}
