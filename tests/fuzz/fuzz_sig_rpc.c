/* Fuzz entry point for signaling/front/rpc.c, the websocket JSON protocol: each line of the input
 * is one text message to rpc_handle(), from connection A, or from connection B when the
 * line begins with a tab; both then close (rpc_conn_closed, which frees the
 * connection's protocol state). The server around them is
 * real but has no signaling sockets: a relay (its worker thread, any ICE port on
 * 127.0.0.1 only, so candidates the fuzzer invents are never probed beyond loopback,
 * and no interface scan per peer) and a registry, with
 * connections that have no lws handle, so replies are built and dropped unsent. Checks the
 * protocol's promise that a closed connection leaves nothing behind: no room, no relay
 * peer. (ws.c's framing needs a live lws connection: tests/unit/signaling/
 * test_ws_protocol.c covers it end to end.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "front/rpc.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "lesson/evq.h"
#include "lesson/registry.h"
#include "server.h"

static struct server srv;
static struct config cfg;

static void on_peer_state(void *user, uint64_t peer_id, enum cr_peer_state state) {}
static void on_candidate(void *user, uint64_t peer_id, const char *mid, const char *cand) {}
static void on_tracks(void *user, const char *room) {}

static void cleanup(void)
{
    cr_relay_free(srv.relay);
    srv.relay = NULL;
    reg_clear(srv.reg);
    evq_destroy(srv.evq);
    free(srv.reg);
    free(srv.evq);
}

static void init_once(void)
{
    cr_log_set_level(CR_LOG_ERROR);
    cfg = config_defaults;
    cfg.ice_port_min = cfg.ice_port_max = 0; /* any port: never collide with a running server */
    snprintf(cfg.bind_ip, sizeof cfg.bind_ip, "127.0.0.1");
    srv.cfg = &cfg;
    srv.started_ms = cr_now_ms();
    srv.reg = CR_NEW(struct registry);
    reg_init(srv.reg);
    srv.evq = CR_NEW(struct evq);
    evq_init(srv.evq);
    srv.lesson_ev = &rpc_lesson_events;
    struct cr_relay_config rc = CR_RELAY_CONFIG_DEFAULT;
    rc.port_min = rc.port_max = 0;
    rc.ice_tcp = false;
    rc.bind_ip = cfg.bind_ip;
    static const struct cr_relay_events events = {
        .on_peer_state = on_peer_state,
        .on_local_candidate = on_candidate,
        .on_tracks_changed = on_tracks,
    };
    srv.relay = cr_relay_new(&rc, &events, &srv);
    if (!srv.relay)
        abort();
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv.relay)
        init_once();
    struct ws_conn a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.srv = b.srv = &srv;
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
    if (a.user || b.user || srv.reg->n_rooms != 0) /* closed: the protocol state freed */
        abort();
    struct cr_relay_stats st;
    if (cr_relay_get_stats(srv.relay, &st) != 0 || st.rooms != 0 || st.peers != 0)
        abort();
    return 0;
}
