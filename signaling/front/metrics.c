/* GET /metrics: see metrics.h. The access rule, then the families of signaling (rooms,
 * participants, requests, errors), of the recorder and packager, of the database, of the
 * cluster and of the process; the relay's are in metrics_relay.c. */
#include "front/metrics.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "cluster/directory.h"
#include "front/metrics_priv.h"
#include "lesson/cascade.h"
#include "lesson/evq.h"
#include "lesson/recording.h"
#include "lesson/registry.h"
#include "store/sqldb.h"

bool metrics_allowed(const struct server *srv, const struct lws_vhost *vhost,
                     const char *authorization)
{
    if (srv->metrics_vhost && vhost == srv->metrics_vhost)
        return true;
    const char *token = srv->cfg->metrics_token;
    size_t n = strlen(token);
    if (!n || !authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    /* the length is no secret; the bytes are compared in constant time */
    return strlen(t) == n && CRYPTO_memcmp(t, token, n) == 0;
}

/* Participants by role and by how they came: the websocket protocol, WHIP, WHEP. */
static void participants(struct prom *p, struct server *srv)
{
    uint64_t ws[REG_OBSERVER + 1] = {0}, whip[REG_OBSERVER + 1] = {0}, whep = 0;
    for (struct reg_room *room = srv->reg->rooms; room; room = room->next) {
        for (struct reg_participant *q = room->participants; q; q = q->next)
            ws[q->role]++;
        for (struct reg_resource *r = room->resources; r; r = r->next) {
            if (r->whep)
                whep++;
            else
                whip[r->role]++;
        }
    }
    prom_family(p, "classrelay_participants", "gauge",
                "Participants in the rooms by role and by how they came (websocket, whip, "
                "whep; a WHEP player's role is player).");
    for (int r = REG_TEACHER; r <= REG_OBSERVER; r++) {
        const char *role = reg_role_name((enum reg_role)r);
        prom_uint(p, (struct prom_label[]){{"role", role}, {"via", "websocket"}}, 2, ws[r]);
        prom_uint(p, (struct prom_label[]){{"role", role}, {"via", "whip"}}, 2, whip[r]);
    }
    prom_uint(p, (struct prom_label[]){{"role", "player"}, {"via", "whep"}}, 2, whep);
}

/* Errors reported to clients by protocol code, HTTP status and the way they went. */
static void errors(struct prom *p, const struct srv_counters *c)
{
    static const char *via_names[SRV_VIA_COUNT] = {"websocket", "datachannel"};
    prom_family(p, "classrelay_errors_total", "counter",
                "Errors reported to clients, by protocol code (docs/protocol.md), the HTTP "
                "status it maps to, and how it went (http, websocket, datachannel).");
    for (int e = 0; e < SRV_ERR_COUNT; e++) {
        char status[8];
        snprintf(status, sizeof status, "%d", srv_err_http_status((enum srv_err)e));
        const char *code = srv_err_code((enum srv_err)e);
        uint64_t http = c->errors[e];
        for (int v = 0; v < SRV_VIA_COUNT; v++) {
            http -= c->errors_via[v][e];
            prom_uint(
                p, (struct prom_label[]){{"code", code}, {"status", status}, {"via", via_names[v]}},
                3, c->errors_via[v][e]);
        }
        prom_uint(p, (struct prom_label[]){{"code", code}, {"status", status}, {"via", "http"}}, 3,
                  http);
    }
}

static void signaling(struct prom *p, struct server *srv)
{
    const struct srv_counters *c = &srv->counters;
    prom_gauge(p, "classrelay_rooms", "Rooms open (lessons, the demo room).", srv->reg->n_rooms);
    participants(p, srv);
    prom_counter(p, "classrelay_http_requests_total", "HTTP requests.", c->http_requests);
    prom_gauge(p, "classrelay_websocket_connections_open", "Websocket connections open.",
               (double)c->ws_connections);
    prom_counter(p, "classrelay_websocket_connections_total", "Websocket connections accepted.",
                 c->ws_connections_total);
    prom_family(p, "classrelay_websocket_messages_total", "counter",
                "Websocket messages received (in) and sent (out).");
    prom_uint(p, &(struct prom_label){"direction", "in"}, 1, c->ws_messages_in);
    prom_uint(p, &(struct prom_label){"direction", "out"}, 1, c->ws_messages_out);
    prom_counter(p, "classrelay_websocket_dropped_slow_total",
                 "Websocket connections closed for not reading their events.", c->ws_dropped_slow);
    prom_family(p, "classrelay_sessions_total", "counter", "WHIP and WHEP sessions created.");
    prom_uint(p, &(struct prom_label){"kind", "whip"}, 1, c->whip_sessions);
    prom_uint(p, &(struct prom_label){"kind", "whep"}, 1, c->whep_sessions);
    prom_counter(p, "classrelay_peers_timed_out_total", "Peers closed for never connecting.",
                 c->peers_timed_out);
    prom_counter(p, "classrelay_peers_failed_total", "Peers whose ICE or DTLS failed.",
                 c->peers_failed);
    prom_counter(p, "classrelay_chat_messages_total", "Chat messages passed on.", c->chat_messages);
    prom_counter(p, "classrelay_turn_credentials_issued_total", "TURN credentials issued.",
                 c->turn_credentials);
    prom_counter(p, "classrelay_cascade_reports_total",
                 "Reports of their classrooms other nodes sent (cascade edges).", c->edge_reports);
    prom_counter(p, "classrelay_cascade_reports_bad_total",
                 "Reports of other nodes refused as malformed (400).", c->edge_reports_bad);
    prom_counter(p, "classrelay_http_redirected_total",
                 "Plain HTTP requests answered with a redirect to HTTPS.", c->http_redirected);
    prom_family(p, "classrelay_tls_reloads_total", "counter",
                "HTTPS certificate reloads (SIGHUP): done (ok), refused (failed).");
    prom_uint(p, &(struct prom_label){"result", "ok"}, 1, c->tls_reloads);
    prom_uint(p, &(struct prom_label){"result", "failed"}, 1, c->tls_reload_failures);
    pthread_mutex_lock(&srv->evq->lock);
    uint64_t dropped = srv->evq->dropped;
    pthread_mutex_unlock(&srv->evq->lock);
    prom_counter(p, "classrelay_relay_events_total", "Relay events handled by signaling.",
                 c->relay_events);
    prom_counter(p, "classrelay_relay_events_dropped_total",
                 "Relay events dropped: signaling's queue was full.", dropped);
    errors(p, c);
}

static void recorder(struct prom *p, struct server *srv)
{
    struct recording_figures f = {0};
    if (srv->recording)
        recording_figures(srv->recording, &f);
    prom_gauge(p, "classrelay_recorder_enabled",
               "1 when lessons are recorded (record on, and a "
               "recorder binary).",
               f.enabled);
    prom_gauge(p, "classrelay_recorder_up", "1 while the recorder process runs and answers.",
               f.recorder_up);
    prom_counter(p, "classrelay_recorder_restarts_total", "Recorder restarts.", f.restarts);
    prom_counter(p, "classrelay_recorder_errors_total",
                 "Recorder errors: its error events, crashes, hangs.", f.errors);
    prom_gauge(p, "classrelay_recording_lessons", "Lessons being recorded.", f.lessons);
    prom_gauge(p, "classrelay_recording_tracks", "Tracks being recorded.", f.tracks_live);
    prom_gauge(p, "classrelay_recording_packets",
               "Packets the recorder wrote for the lessons being recorded.", (double)f.packets);
    prom_gauge(p, "classrelay_recording_lost_packets",
               "Packets the recorder found missing in the lessons being recorded.", (double)f.lost);
    prom_gauge(p, "classrelay_packager_running", "1 while a packager runs.", f.packager_running);
    prom_gauge(p, "classrelay_packager_queue", "Recordings waiting for or in packaging.",
               f.packaging_queue);
    prom_family(p, "classrelay_packaged_total", "counter",
                "Packagings finished since start: ready for replay (ok), or failed.");
    prom_uint(p, &(struct prom_label){"result", "ok"}, 1, f.packaged);
    prom_uint(p, &(struct prom_label){"result", "failed"}, 1, f.package_failed);
}

/* The database of the schedule and the recordings (store/sqldb.h): the engine the store
 * setting names, its connections (the store's, the catalogue's) together. */
static void database(struct prom *p, struct server *srv)
{
    enum sqldb_engine e = sqldb_is_pg_uri(srv->cfg->store) ? SQLDB_PG : SQLDB_SQLITE;
    const char *engine = sqldb_engine_name(e);
    struct sqldb_stats st;
    sqldb_stats(e, &st);
    prom_family(p, "classrelay_store_up", "gauge",
                "1 while the server has the database open and no connection to it has found "
                "it gone.");
    prom_uint(p, &(struct prom_label){"engine", engine}, 1, st.open > 0 && st.down == 0);
    prom_family(p, "classrelay_store_errors_total", "counter",
                "Database failures: connections not made (connect: at start and each reconnect "
                "try), calls that failed (query).");
    prom_uint(p, (struct prom_label[]){{"engine", engine}, {"kind", "connect"}}, 2,
              st.connect_failures);
    prom_uint(p, (struct prom_label[]){{"engine", engine}, {"kind", "query"}}, 2,
              st.query_failures);
    prom_counter(p, "classrelay_store_reconnects_total",
                 "Connections to the database made again after one dropped.", st.reconnects);
}

/* The cluster's directory (cluster/directory.h): only on a node of a cluster (redis set). */
static void cluster(struct prom *p, struct server *srv)
{
    unsigned pulls, links;
    uint64_t unsigned_offers;
    cascade_counts(srv, &pulls, &links, &unsigned_offers);
    prom_gauge(p, "classrelay_cascade_pulls",
               "Lessons (and classrooms on stage) this node pulls from other nodes now.", pulls);
    prom_gauge(p, "classrelay_cascade_pulled_links",
               "Cascade links from other nodes open here (each a publisher of theirs).", links);
    prom_counter(p, "classrelay_cascade_offers_refused_total",
                 "Cascade offers refused: not signed with the cluster's key.", unsigned_offers);
    if (!srv->dir)
        return;
    struct dir_stats st;
    dir_stats(srv->dir, &st);
    prom_gauge(p, "classrelay_cluster_redis_up", "1 while the directory's Redis answers.", st.up);
    prom_counter(p, "classrelay_cluster_redis_reconnects_total",
                 "Connections to Redis made again after one was lost.", st.reconnects);
    prom_counter(p, "classrelay_cluster_redis_failures_total",
                 "Connections and commands to Redis that failed.", st.failures);
    prom_family(p, "classrelay_cluster_claims_total", "counter",
                "Lesson claims asked for: won by this node (taken over: from a node whose lease "
                "was gone), or held by another live node (refused).");
    prom_uint(p, &(struct prom_label){"result", "won"}, 1, st.claims);
    prom_uint(p, &(struct prom_label){"result", "taken_over"}, 1, st.takeovers);
    prom_uint(p, &(struct prom_label){"result", "refused"}, 1, st.claims_refused);
    prom_family(p, "classrelay_cluster_redirects_total", "counter",
                "Clients sent to another node: a teacher to its lesson's origin, a classroom "
                "away from this full node.");
    prom_uint(p, &(struct prom_label){"reason", "origin"}, 1, st.redirects[DIR_REDIRECT_ORIGIN]);
    prom_uint(p, &(struct prom_label){"reason", "full"}, 1, st.redirects[DIR_REDIRECT_FULL]);
    prom_gauge(p, "classrelay_cluster_nodes", "Live nodes in the directory, this one included.",
               st.nodes);
    prom_counter(p, "classrelay_cluster_hints_total", "Hints read on the cr:hint channel.",
                 st.hints);
}

static void process(struct prom *p, struct server *srv)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    prom_family(p, "classrelay_build_info", "gauge", "The server's version (value 1).");
    prom_uint(p, &(struct prom_label){"version", SERVER_VERSION}, 1, 1);
    prom_gauge(p, "classrelay_uptime_seconds", "Seconds since the server started.",
               (double)(cr_now_ms() - srv->started_ms) / 1000.0);
    prom_family(p, "classrelay_process_cpu_seconds_total", "counter",
                "CPU time of the whole process, user and system.");
    prom_double(p, NULL, 0, cpu);
    prom_gauge(p, "classrelay_process_max_rss_bytes", "The process's peak resident memory.",
               (double)ru.ru_maxrss * 1024.0);
}

char *metrics_text(struct server *srv, size_t *len)
{
    struct prom p;
    prom_init(&p);
    struct cr_relay_stats *st = cr_malloc(sizeof *st);
    bool up = srv->relay && cr_relay_get_stats(srv->relay, st) == 0;
    prom_gauge(&p, "classrelay_relay_up", "1 when the relay answered this scrape.", up);
    if (up)
        metrics_relay(&p, st);
    free(st);
    signaling(&p, srv);
    recorder(&p, srv);
    database(&p, srv);
    cluster(&p, srv);
    process(&p, srv);
    return prom_take(&p, len);
}

void metrics_handle(struct server *srv, struct lws *wsi, struct http_req *req)
{
    if (req->method != LWSHUMETH_GET && req->method != LWSHUMETH_HEAD) {
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, "method not allowed");
        req->status = 405;
        http_add_header(req, "Allow", "GET, HEAD, OPTIONS");
        return;
    }
    char auth[512];
    bool has = lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) > 0;
    if (!metrics_allowed(srv, lws_get_vhost(wsi), has ? auth : NULL)) {
        http_respond_error(srv, wsi, req, SRV_ERR_UNAUTHORIZED,
                           srv->cfg->metrics_token[0]
                               ? "/metrics needs Authorization: Bearer <metrics_token>"
                               : "/metrics is closed here: set metrics_token or metrics_listen");
        http_add_header(req, "WWW-Authenticate", "Bearer realm=\"metrics\"");
        return;
    }
    size_t len;
    char *text = metrics_text(srv, &len);
    http_respond(wsi, req, 200, PROM_CONTENT_TYPE, text, len);
    http_add_header(req, "Cache-Control", "no-store");
}
