/* Fuzz entry point for signaling/front/rpc.c, the websocket JSON protocol: each line of the input
 * is one text message to rpc_handle(), from connection A, or from connection B when the
 * line begins with a tab; both then close (rpc_conn_closed, which frees the
 * connection's protocol state). The server around them is sig_server.h's, with
 * connections that have no lws handle, so replies are built and dropped unsent. Checks the
 * protocol's promise that a closed connection leaves nothing behind: no room, no relay
 * peer. B is a session begun over HTTP (transport/ws_park.h) whose key is FUZZ_KEY: a
 * resume with that key from A takes it over, and its queued messages with it. (ws.c's
 * framing needs a live lws connection: tests/unit/signaling/test_ws_protocol.c covers it
 * end to end, and test_ws_begin.c POST /ws.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/rpc.h"
#include "transport/ws_park.h"
#include "sig_server.h"

static struct server *srvp;

#define FUZZ_KEY "0123456789abcdef0123456789abcdef"

static struct ws_conn *parked_b(struct server *srv)
{
    struct ws_conn *b = CR_NEW(struct ws_conn);
    b->srv = srv;
    b->parked = true;
    b->park_until_ms = INT64_MAX;
    snprintf(b->park_key, sizeof b->park_key, "%s", FUZZ_KEY);
    b->user = CR_NEW(struct rpc_conn); /* anonymous, as a POST without a token */
    b->next = srv->parked;
    srv->parked = b;
    srv->n_parked++;
    return b;
}

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
    srv->ws = &rpc_ws_handlers;
    struct ws_conn a;
    memset(&a, 0, sizeof a);
    a.srv = srv;
    a.user = CR_NEW(struct rpc_conn); /* anonymous: no token on the upgrade */
    struct ws_conn *b = parked_b(srv);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0 && p[0] == '\t' && !b->park_taken) /* taken: it has no connection left */
            rpc_handle(b, p + 1, n - 1);
        else if (n > 0 && p[0] != '\t')
            rpc_handle(&a, p, n);
        p += n + (nl != NULL);
    }
    rpc_conn_closed(&a);
    ws_tx_clear(&a);
    ws_park_close_all(srv);
    if (a.user || srv->parked || srv->reg->n_rooms != 0) /* closed: the protocol state freed */
        abort();
    struct cr_relay_stats st;
    if (cr_relay_get_stats(srv->relay, &st) != 0 || st.rooms != 0 || st.peers != 0)
        abort();
    return 0;
}
