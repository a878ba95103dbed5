/* The classrelay server: one libwebsockets context (HTTP, websocket, WHIP/WHEP) serviced by
 * the main thread, one relay (the media plane, its own worker thread), and the registry of
 * who is where. Also the pieces every request handler shares: error codes and counters,
 * opening and releasing rooms, closing peers.
 *
 * Threads: everything here runs on the lws (main) thread except the relay's event
 * callbacks, which only copy the event into the evq and wake the lws loop. */
#ifndef CR_SIGNALING_SERVER_H
#define CR_SIGNALING_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "classrelay/relay.h"
#include "config.h"
#include "evq.h"
#include "registry.h"
#include "token.h"

struct lifecycle;

#define SERVER_VERSION "0.1.0"
#define SERVER_MAX_BODY (64 * 1024)     /* HTTP bodies, websocket messages, SDP */
#define SERVER_CONNECT_TIMEOUT_MS 30000 /* a peer that never connects is closed */

/* Error codes of the websocket protocol and the HTTP API (docs/protocol.md). */
enum srv_err {
    SRV_ERR_BAD_JSON,
    SRV_ERR_BAD_REQUEST,
    SRV_ERR_NOT_JOINED,
    SRV_ERR_NOT_FOUND,
    SRV_ERR_BAD_SDP,
    SRV_ERR_TOO_LARGE,
    SRV_ERR_LIMIT,
    SRV_ERR_INTERNAL,
    SRV_ERR_CONFLICT,     /* 409: refused in the current state */
    SRV_ERR_UNAVAILABLE,  /* 503: a part of the server is off (the recordings catalogue) */
    SRV_ERR_UNAUTHORIZED, /* 401: no token, or a bad one */
    SRV_ERR_FORBIDDEN,    /* 403: the token does not give this right */
    SRV_ERR_NOT_OPEN,     /* 403: a scheduled lesson outside its window */
    SRV_ERR_COUNT
};

struct srv_counters {
    uint64_t http_requests;
    uint64_t ws_connections; /* open now */
    uint64_t ws_connections_total;
    uint64_t ws_messages_in, ws_messages_out;
    uint64_t ws_dropped_slow;              /* connections closed for not reading their events */
    uint64_t whip_sessions, whep_sessions; /* created since start */
    uint64_t peers_timed_out, peers_failed;
    uint64_t relay_events;
    uint64_t errors[SRV_ERR_COUNT];
};

struct ws_conn;
struct catalog;
struct recording;
struct store;

struct server {
    const struct config *cfg;    /* borrowed */
    struct lws_context *lws;     /* owned */
    struct cr_relay *relay;      /* owned; NULL once freed at shutdown */
    struct registry reg;         /* owned */
    struct catalog *catalog;     /* owned; NULL if the database cannot open */
    struct recording *recording; /* owned: the recording controller (recording.h) */
    struct store *store;         /* owned: the schedule store; NULL if it cannot open */
    struct lifecycle *lifecycle; /* owned: scheduled rooms opening and closing */
    char first_password[32];     /* state: the admin's password made at first start; "" */
    struct token_key key;        /* state: signs and verifies tokens (DATA/secret.key) */
    uint64_t sweeps;             /* state: once-a-second sweeps done */
    struct evq evq;              /* owned */
    struct srv_counters counters;
    struct ws_conn *conns;        /* borrowed: open websocket connections (in lws pss) */
    lws_sorted_usec_list_t sweep; /* state: the once-a-second timeout sweep */
    int64_t started_ms;
    volatile sig_atomic_t stop; /* set by SIGINT/SIGTERM */
    bool shutting_down;
};

/* Starts lws and the relay, opens the demo room. Returns 0 or -1 (reason logged). */
int server_start(struct server *srv, const struct config *cfg);
/* Services lws until srv->stop is set. */
void server_run(struct server *srv);
/* Closes every peer, frees the relay, closes connections. */
void server_stop(struct server *srv);
/* Async-signal-safe: asks server_run to return. */
void server_request_stop(struct server *srv);

const char *server_err_code(enum srv_err e);
int server_err_http_status(enum srv_err e);
/* Maps a negative cr_err to a protocol error. */
enum srv_err server_err_from_relay(int rc);
/* Counts an error that is being reported to a client. */
void server_count_error(struct server *srv, enum srv_err e);

/* Finds room name, opening it in the relay (and the registry) if it is new. Returns NULL
 * with *err set if the name is bad or the relay refuses. */
struct reg_room *server_room_get(struct server *srv, const char *name, enum srv_err *err, char *why,
                                 size_t why_len);
/* Closes an ad-hoc room once nobody is left in it. */
void server_room_release(struct server *srv, struct reg_room *room);

/* Creates a relay peer in room into slot. Returns 0 or a negative cr_err. */
int server_peer_new(struct server *srv, struct reg_room *room, struct reg_peer *slot);
/* Closes the slot's relay peer (if any) and empties the slot. */
void server_peer_close(struct server *srv, struct reg_peer *slot);

int64_t server_now_ms(void);

#endif
