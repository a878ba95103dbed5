/* The server: lws context, relay, registry, and the glue between them. See server.h.
 *
 * One lws protocol serves both HTTP and the /ws websocket (a browser that opens a
 * websocket without a subprotocol gets protocol 0); its per-session data holds the HTTP
 * request state and the websocket connection side by side. Relay events arrive on the
 * relay's worker thread and are queued (evq.c); the lws thread drains the queue in
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED. A once-a-second sweep closes peers that never
 * connected within SERVER_CONNECT_TIMEOUT_MS.
 *
 * Shutdown order: stop the sweep, close every relay peer, stop the recording controller
 * (the recorder finalises its files), free the relay (no callbacks
 * after that), destroy the lws context (which closes connections and frees their
 * participants), clear the registry.
 *
 * The composition root: the only file (with routes.c and main.c) that knows every layer;
 * it wires the server handle's upward tables (http_route, ws, lesson_ev) at start. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classrelay/relay.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "access/auth.h"
#include "access/token.h"
#include "cluster/directory.h"
#include "cluster/node_url.h"
#include "front/channels.h"
#include "front/rpc.h"
#include "front/status.h"
#include "front/whip.h"
#include "lesson/floor.h"
#include "lesson/cascade.h"
#include "lesson/edges.h"
#include "lesson/evq.h"
#include "lesson/ingest.h"
#include "lesson/lifecycle.h"
#include "lesson/place.h"
#include "lesson/links.h"
#include "lesson/recording.h"
#include "lesson/registry.h"
#include "lesson/rooms.h"
#include "lesson/session.h"
#include "listen.h"
#include "routes.h"
#include "transport/ws_park.h"
#include "store/catalog.h"
#include "store/store.h"
#include "transport/http.h"
#include "transport/ws.h"

/* lws per-session data: one connection is HTTP, then possibly a websocket. */
struct session {
    struct http_req http;
    struct ws_conn ws;
};

/* ---- relay events: worker thread → queue → lws thread ---- */

static void push(struct server *srv, struct evq_item *it)
{
    evq_push(srv->evq, it);
    lws_cancel_service(srv->lws);
}

static void ev_peer_state(void *user, uint64_t peer_id, enum cr_peer_state state)
{
    struct evq_item *it = CR_NEW(struct evq_item);
    it->type = EVQ_PEER_STATE;
    it->peer_id = peer_id;
    it->state = state;
    push(user, it);
}

static void ev_local_candidate(void *user, uint64_t peer_id, const char *mid, const char *candidate)
{
    struct evq_item *it = CR_NEW(struct evq_item);
    it->type = EVQ_CANDIDATE;
    it->peer_id = peer_id;
    snprintf(it->mid, sizeof it->mid, "%s", mid ? mid : "");
    it->candidate = candidate ? cr_strdup(candidate) : NULL;
    push(user, it);
}

static void ev_tracks_changed(void *user, const char *room)
{
    struct evq_item *it = CR_NEW(struct evq_item);
    it->type = EVQ_TRACKS;
    snprintf(it->room, sizeof it->room, "%s", room);
    push(user, it);
}

static void ev_channel(void *user, uint64_t peer_id, const char *label, bool open)
{
    struct evq_item *it = CR_NEW(struct evq_item);
    it->type = EVQ_CHANNEL;
    it->peer_id = peer_id;
    snprintf(it->label, sizeof it->label, "%s", label);
    it->open = open;
    push(user, it);
}

static void ev_channel_message(void *user, uint64_t peer_id, const char *label, const uint8_t *buf,
                               size_t len, bool binary)
{
    struct evq_item *it = CR_NEW(struct evq_item);
    it->type = EVQ_CHANNEL_MESSAGE;
    it->peer_id = peer_id;
    snprintf(it->label, sizeof it->label, "%s", label);
    it->data = cr_malloc(len ? len : 1);
    memcpy(it->data, buf, len);
    it->data_len = len;
    it->binary = binary;
    push(user, it);
}

/* The lesson's notices go to the websocket clients and to every "events" data channel. */
static void room_event(struct server *srv, struct reg_room *room, json_t *event)
{
    channels_room_event(srv, room, event);
    rpc_event_room(room, event);
}

static const struct lesson_events lesson_events = {
    .room_event = room_event,
    .teacher_event = rpc_event_teachers,
    .room_end = rpc_room_end,
};

static void on_peer_state(struct server *srv, const struct evq_item *it)
{
    struct reg_owner o;
    if (!reg_find_peer(srv->reg, it->peer_id, &o)) {
        links_on_state(srv, it->peer_id, it->state); /* a cascade link, or closed meanwhile */
        return;
    }
    /* log lines name the room, the peer and who holds it: copies, the room may close */
    char room[REG_ROOM_MAX * 4 + 1], who[REG_ID_MAX];
    snprintf(room, sizeof room, "%s",
             o.resource ? o.resource->room->name : o.participant->room->name);
    snprintf(who, sizeof who, "%s", o.resource ? o.resource->id : o.participant->id);
    CR_LOG_SCOPE(room, it->peer_id, who);
    o.peer->state = it->state;
    if (it->state == CR_PEER_CONNECTED)
        o.peer->ever_connected = true;
    bool gone = it->state == CR_PEER_FAILED || it->state == CR_PEER_CLOSED;
    if (it->state == CR_PEER_FAILED)
        srv->counters.peers_failed++;
    if (o.resource) {
        if (gone)
            session_peer_lost(srv, o.resource);
        return;
    }
    CR_DEBUG("server", "%s %s peer %llu: %s", o.participant->id, reg_target_name(o.target),
             (unsigned long long)it->peer_id, cr_peer_state_name(it->state));
    if (gone) /* the client starts again with a fresh peer (docs/protocol.md) */
        rooms_peer_close(srv, o.peer);
    rpc_event_peer_state(o.participant, o.target, it->state, NULL);
}

static void drain(struct server *srv)
{
    struct evq_item *it = evq_take_all(srv->evq);
    while (it) {
        struct evq_item *next = it->next;
        srv->counters.relay_events++;
        struct reg_owner o;
        struct reg_room *room;
        switch (it->type) {
        case EVQ_PEER_STATE:
            on_peer_state(srv, it);
            break;
        case EVQ_CANDIDATE:
            if (reg_find_peer(srv->reg, it->peer_id, &o) && o.participant)
                rpc_event_candidate(o.participant, o.target, it->mid, it->candidate);
            break;
        case EVQ_TRACKS:
            if ((room = reg_room_find(srv->reg, it->room))) {
                rpc_event_tracks(srv, room);
                floor_apply(srv, room);
            }
            recording_on_tracks(srv->recording, it->room);
            break;
        case EVQ_CHILD_LINE:
        case EVQ_CHILD_EXIT:
            if (!ingest_on_child(srv->ingest, it))
                recording_on_child(srv->recording, it);
            break;
        case EVQ_CASCADE:
            cascade_on_event(srv, it);
            break;
        case EVQ_CHANNEL:
            channels_on_open(srv, it->peer_id, it->label, it->open);
            break;
        case EVQ_CHANNEL_MESSAGE:
            channels_on_message(srv, it->peer_id, it->label, it->data, it->data_len, it->binary);
            break;
        }
        evq_item_free(it);
        it = next;
    }
}

/* ---- the timeout sweep ---- */

static bool timed_out(const struct reg_peer *p, int64_t now)
{
    return p->id && !p->ever_connected && now - p->created_ms > SERVER_CONNECT_TIMEOUT_MS;
}

static void sweep(lws_sorted_usec_list_t *sul)
{
    struct server *srv = lws_container_of(sul, struct server, sweep);
    int64_t now = cr_now_ms();
    struct reg_room *room = srv->reg->rooms;
    while (room) {
        struct reg_room *next_room = room->next;
        for (struct reg_participant *p = room->participants; p; p = p->next) {
            for (int t = REG_PUBLISH; t <= REG_SUBSCRIBE; t++) {
                if (!timed_out(&p->peers[t], now))
                    continue;
                CR_INFO("server", "%s %s peer never connected: closed", p->id,
                        reg_target_name((enum reg_target)t));
                srv->counters.peers_timed_out++;
                rooms_peer_close(srv, &p->peers[t]);
                rpc_event_peer_state(p, (enum reg_target)t, CR_PEER_FAILED, "timeout");
            }
        }
        struct reg_resource *r = room->resources;
        while (r) { /* session_close may free the room with its last resource */
            struct reg_resource *next = r->next;
            if (timed_out(&r->peer, now)) {
                srv->counters.peers_timed_out++;
                session_peer_lost(srv, r);
            }
            r = next;
        }
        room = next_room;
    }
    ws_park_sweep(srv, now);
    if (++srv->sweeps % 2 == 0)
        status_send_quality(srv); /* every 2 s: the classroom page shows it */
    recording_tick(srv->recording, now);
    ingest_tick(srv->ingest, now);
    edges_tick(srv, now);
    cascade_tick(srv, now);
    floor_speakers(srv);
    lifecycle_tick(srv, cr_wall_ms());
    if (srv->dir) { /* the lease the directory renews says how full this node is */
        uint32_t peers = 0, load = 0;
        bool full = place_full(srv, &peers, &load);
        dir_set_load(srv->dir, peers, load, full);
    }
    lws_sul_schedule(srv->lws, 0, &srv->sweep, sweep, LWS_US_PER_SEC);
}

/* ---- lws ---- */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct server *srv = lws_context_user(lws_get_context(wsi));
    struct session *s = user;
    char uri[32];
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (srv && srv->tls_reload)
            listen_reload_tls(srv);
        if (srv && !srv->shutting_down)
            drain(srv);
        return 0;
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: /* user: the vhost's SSL_CTX */
        listen_on_ssl_ctx(srv, user, in);
        return 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: /* the weak-link traces want it */
        if (cr_log_get_level() >= CR_LOG_DEBUG) {
            char peer[64] = "";
            lws_get_peer_simple(wsi, peer, sizeof peer);
            CR_DEBUG("http", "connection %d from %s accepted", lws_get_socket_fd(wsi), peer);
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: /* websocket upgrade: only at /ws, and over
                                                     TLS where HTTPS serves */
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws") != 0)
            return 1;
        return listen_wants_https(srv, wsi) || lws_get_vhost(wsi) == srv->metrics_vhost;
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
        return ws_callback(srv, wsi, reason, &s->ws, in, len);
    case LWS_CALLBACK_HTTP:
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    case LWS_CALLBACK_HTTP_WRITEABLE:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (!s)
            return reason == LWS_CALLBACK_HTTP ? -1 : 0;
        return http_callback(srv, wsi, reason, &s->http, in, len);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"classrelay", callback, sizeof(struct session), 8192, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Websocket keepalive: ping a silent client after 20 s, hang up after 45 s. */
static const lws_retry_bo_t retry = {
    .secs_since_valid_ping = 20,
    .secs_since_valid_hangup = 45,
};

static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    /* mostly caused by bad bytes from the network: rate-limited (STYLE.md habit 5) */
    if (level == LLL_ERR)
        CR_LOG_RATE(CR_LOG_WARN, "lws", "%.*s", (int)n, line);
    else
        CR_LOG_RATE(CR_LOG_DEBUG, "lws", "%.*s", (int)n, line);
}

static void server_free_parts(struct server *srv)
{
    if (srv->lws)
        lws_context_destroy(srv->lws);
    srv->lws = NULL;
    ws_park_close_all(srv); /* like the websockets lws just closed */
    if (srv->reg)
        reg_clear(srv->reg);
    free(srv->reg);
    srv->reg = NULL;
    if (srv->evq)
        evq_destroy(srv->evq);
    free(srv->evq);
    srv->evq = NULL;
    free(srv->key);
    srv->key = NULL;
    catalog_close(srv->catalog);
    srv->catalog = NULL;
    store_close(srv->store);
    srv->store = NULL;
    free(srv->lifecycle);
    srv->lifecycle = NULL;
    free(srv->tls);
    srv->tls = NULL;
}

int server_start(struct server *srv, const struct config *cfg)
{
    memset(srv, 0, sizeof *srv);
    srv->cfg = cfg;
    srv->started_ms = cr_now_ms();
    srv->reg = CR_NEW(struct registry);
    reg_init(srv->reg);
    srv->evq = CR_NEW(struct evq);
    evq_init(srv->evq);
    srv->key = CR_NEW(struct token_key);
    srv->http_route = routes_http;
    srv->ws = &rpc_ws_handlers;
    srv->lesson_ev = &lesson_events;
    char db[CONFIG_PATH_MAX + 32], shown[CONFIG_PATH_MAX + 32], why[512];
    store_target(cfg->store, cfg->data_dir, db, sizeof db, shown, sizeof shown);
    if (auth_start(srv) != 0) { /* makes the data directory, then the key */
        server_free_parts(srv);
        return -1;
    }
    if (!(srv->catalog = catalog_open(db, why, sizeof why))) /* the lessons run on without */
        CR_ERROR("server", "recordings are off: cannot open %s: %s", shown, why);
    srv->lifecycle = CR_NEW(struct lifecycle);
    lws_set_log_level(cfg->log_level >= CR_LOG_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR, lws_log);

    if (listen_start(srv, protocols, &retry) != 0) {
        server_free_parts(srv);
        return -1;
    }

    struct cr_relay_config rc = CR_RELAY_CONFIG_DEFAULT;
    rc.public_ip = cfg->public_ip[0] ? cfg->public_ip : NULL;
    rc.bind_ip = cfg->bind_ip[0] ? cfg->bind_ip : NULL;
    rc.port_min = cfg->ice_port_min;
    rc.port_max = cfg->ice_port_max;
    rc.ice_tcp = cfg->ice_tcp;
    rc.ice_tcp_port = cfg->ice_tcp_port;
    rc.media_port = cfg->media_port;
    rc.max_peers = cfg->max_peers;
    rc.max_load_pct = cfg->max_load_pct;
    rc.workers = cfg->workers;
    rc.room_spread = cfg->room_spread;
    rc.fec = cfg->fec;
    rc.max_publish_kbps = cfg->max_publish_kbps;
    static const struct cr_relay_events events = {
        .on_peer_state = ev_peer_state,
        .on_local_candidate = ev_local_candidate,
        .on_tracks_changed = ev_tracks_changed,
        .on_channel = ev_channel,
        .on_channel_message = ev_channel_message,
    };
    srv->relay = cr_relay_new(&rc, &events, srv);
    if (!srv->relay) {
        CR_ERROR("server", "the relay did not start (ICE ports %u-%u, media port %u, certificate)",
                 cfg->ice_port_min, cfg->ice_port_max, cfg->media_port);
        server_free_parts(srv);
        return -1;
    }
    if (rooms_keep_demo(srv) != 0) {
        cr_relay_free(srv->relay);
        srv->relay = NULL;
        server_free_parts(srv);
        return -1;
    }
    char url[CONFIG_STR_MAX];
    if (cfg->redis[0] && node_url_of(cfg, url, sizeof url) != 0)
        CR_ERROR("server", "node_url: too long: this node stays out of the cluster");
    else if (cfg->redis[0]) /* a node of a cluster: its directory */
        srv->dir = dir_open(cfg, url);
    /* after the directory: recordings carry its URL, the node that holds their files */
    srv->recording = recording_new(srv);
    srv->ingest = ingest_new(srv, recording_binary(srv->recording));
    srv->links = links_new();
    if (srv->dir) /* lessons whose origin is another node are pulled from there */
        srv->cascade = cascade_new(srv);
    lws_sul_schedule(srv->lws, 0, &srv->sweep, sweep, LWS_US_PER_SEC);
    return 0;
}

void server_run(struct server *srv)
{
    while (!srv->stop) {
        if (lws_service(srv->lws, 0) < 0)
            break;
    }
}

void server_request_stop(struct server *srv)
{
    srv->stop = 1;
    if (srv->lws)
        lws_cancel_service(srv->lws);
}

void server_request_tls_reload(struct server *srv)
{
    srv->tls_reload = 1;
    if (srv->lws)
        lws_cancel_service(srv->lws);
}

void server_stop(struct server *srv)
{
    srv->shutting_down = true;
    lws_sul_cancel(&srv->sweep);
    cascade_free(srv->cascade); /* no more calls to other nodes; its sessions close below */
    srv->cascade = NULL;
    dir_close(srv->dir); /* lease and claims deleted: the clients find another node at once */
    srv->dir = NULL;
    int closed = 0;
    for (struct reg_room *room = srv->reg->rooms; room; room = room->next) {
        for (struct reg_participant *p = room->participants; p; p = p->next) {
            for (int t = REG_PUBLISH; t <= REG_SUBSCRIBE; t++) {
                closed += p->peers[t].id != 0;
                rooms_peer_close(srv, &p->peers[t]);
            }
        }
        for (struct reg_resource *r = room->resources; r; r = r->next) {
            closed += r->peer.id != 0;
            rooms_peer_close(srv, &r->peer);
        }
    }
    CR_INFO("server", "shutting down: closed %d peers", closed);
    ingest_free(srv->ingest); /* the cameras' children go first: their peers are closed */
    srv->ingest = NULL;
    links_free(srv->links);
    srv->links = NULL;
    recording_free(srv->recording); /* the recorder finalises what it wrote */
    srv->recording = NULL;
    cr_relay_free(srv->relay);
    srv->relay = NULL;
    server_free_parts(srv);
}
