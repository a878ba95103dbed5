/* The server's shared handle: what every request handler reaches (configuration, the
 * relay, the registry of who is where, the stores, the counters) and the tables through
 * which lower layers hand work up without knowing who takes it (http_route, ws_handlers,
 * lesson_events). Declared at the bottom so that every layer may hold it; a layer may use
 * only the members whose types its own includes bring in, so the include rules
 * (tools/check_layers.sh) still decide who calls whom. Filled by server.c, the
 * composition root.
 *
 * Threads: everything here belongs to the lws (main) thread except the relay's event
 * callbacks, which only copy the event into the evq and wake the lws loop. */
#ifndef CR_SIGNALING_CONTEXT_H
#define CR_SIGNALING_CONTEXT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "core/config.h"
#include "core/errors.h"

#define SERVER_VERSION "0.1.0"
#define SERVER_MAX_BODY (64 * 1024)     /* HTTP bodies, websocket messages, SDP */
#define SERVER_CONNECT_TIMEOUT_MS 30000 /* a peer that never connects is closed */

/* Where an error was reported to a client: an HTTP answer (the rest), a websocket reply,
 * an "events" data channel message. */
enum srv_via { SRV_VIA_WS, SRV_VIA_CHANNEL, SRV_VIA_COUNT };

struct srv_counters {
    uint64_t http_requests;
    uint64_t ws_connections; /* open now */
    uint64_t ws_connections_total;
    uint64_t ws_messages_in, ws_messages_out;
    uint64_t ws_dropped_slow;              /* connections closed for not reading their events */
    uint64_t ws_begun, ws_resumed;         /* sessions begun over HTTP; taken over by a websocket */
    uint64_t ws_park_expired;              /* begun over HTTP, never taken over */
    uint64_t ws_begin_repeats;             /* POST /ws repeated (Idempotency-Key) */
    uint64_t whip_sessions, whep_sessions; /* created since start */
    uint64_t peers_timed_out, peers_failed;
    uint64_t relay_events;
    uint64_t data_messages_in, data_messages_bad; /* on "events" data channels */
    uint64_t chat_messages;
    uint64_t http_redirected; /* plain HTTP answered with a redirect to HTTPS */
    uint64_t tls_reloads, tls_reload_failures;
    uint64_t turn_credentials;               /* TURN credentials handed out (access/turn.c) */
    uint64_t edge_reports, edge_reports_bad; /* other nodes' classrooms reported (edges.h) */
    uint64_t errors[SRV_ERR_COUNT];          /* every error reported, however */
    uint64_t errors_via[SRV_VIA_COUNT][SRV_ERR_COUNT]; /* ... of those, not over HTTP */
};

struct cr_relay;
struct registry;
struct evq;
struct token_key;
struct catalog;
struct recording;
struct ingest_ctl;
struct store;
struct lifecycle;
struct link_set;
struct cascade;
struct ws_conn;
struct http_req;
struct ws_handlers;
struct lesson_events;
struct tls_paths;
struct directory;

struct server {
    const struct config *cfg;         /* borrowed */
    struct lws_context *lws;          /* owned */
    struct lws_vhost *metrics_vhost;  /* borrowed from lws: metrics_listen's, where /metrics is
                                         open; NULL without one */
    struct lws_vhost *redirect_vhost; /* borrowed from lws: http_redirect's; NULL: none */
    void *tls_ctx;                    /* borrowed from lws: the HTTPS vhost's SSL_CTX; NULL */
    struct tls_paths *tls;            /* owned: the certificate served; NULL: plain HTTP */
    struct cr_relay *relay;           /* owned; NULL once freed at shutdown */
    struct registry *reg;             /* owned (lesson/registry.h) */
    struct catalog *catalog;          /* owned; NULL if the database cannot open */
    struct recording *recording;      /* owned: the recording controller (lesson/recording.h) */
    struct ingest_ctl *ingest;        /* owned: RTSP cameras as teachers (lesson/ingest.h) */
    struct link_set *links;           /* owned: cascade links to other nodes (lesson/links.h) */
    struct cascade *cascade;          /* owned: lessons pulled from their origin (cascade.h) */
    struct store *store;              /* owned: the schedule store; NULL if it cannot open */
    struct lifecycle *lifecycle;      /* owned: scheduled rooms opening and closing */
    struct token_key *key;            /* owned: signs and verifies tokens (DATA/secret.key) */
    struct evq *evq;                  /* owned: relay and child events for the lws thread */
    struct directory *dir;            /* owned: the cluster's directory (cluster/directory.h);
                                         NULL: one node alone (redis not set) */
    char first_password[32];          /* state: the admin's password made at first start; "" */
    uint64_t sweeps;                  /* state: once-a-second sweeps done */
    struct srv_counters counters;
    struct ws_conn *conns;  /* borrowed: open websocket connections (in lws pss) */
    struct ws_conn *parked; /* owned: sessions begun over HTTP (transport/ws_park.h) */
    uint32_t n_parked;
    /* upward tables, set by the composition root (server.c) */
    void (*http_route)(struct server *srv, struct lws *wsi, struct http_req *req);
    const struct ws_handlers *ws;          /* transport/ws.h */
    const struct lesson_events *lesson_ev; /* lesson/rooms.h */
    lws_sorted_usec_list_t sweep;          /* state: the once-a-second timeout sweep */
    int64_t started_ms;
    volatile sig_atomic_t stop;       /* set by SIGINT/SIGTERM */
    volatile sig_atomic_t tls_reload; /* set by SIGHUP: load the certificate again */
    bool shutting_down;
};

/* Counts an error that is being reported to a client. */
static inline void srv_count_error(struct server *srv, enum srv_err e)
{
    if (e < SRV_ERR_COUNT)
        srv->counters.errors[e]++;
}

/* ... one reported other than in an HTTP answer. */
static inline void srv_count_error_via(struct server *srv, enum srv_via via, enum srv_err e)
{
    srv_count_error(srv, e);
    if (e < SRV_ERR_COUNT && via < SRV_VIA_COUNT)
        srv->counters.errors_via[via][e]++;
}

#endif
