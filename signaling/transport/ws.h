/* Websocket connections at /ws: message framing and the outgoing queue.
 *
 * ws.c assembles text messages (bounded at SERVER_MAX_BODY; bigger ones are skipped to the
 * end and answered with a too_large error), hands each complete message to the protocol's handlers
 * (struct ws_handlers), and queues outgoing JSON, writing one message per
 * LWS_CALLBACK_SERVER_WRITEABLE. A client that stops reading and lets WS_TX_MAX_BYTES of events
 * pile up is disconnected rather than allowed to grow the server's memory. The connection state
 * lives in the lws per-session data; the protocol keeps its own state in ws_conn.user
 * (front/rpc.c). */
#ifndef CR_SIGNALING_WS_H
#define CR_SIGNALING_WS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "core/context.h"

#define WS_TX_MAX_MSGS 8192
#define WS_TX_MAX_BYTES (8u * 1024 * 1024)

struct server;
struct ws_msg;

struct ws_conn {
    struct ws_conn *next; /* state: in server.conns */
    struct server *srv;   /* borrowed */
    struct lws *wsi;      /* borrowed */
    char *rx;             /* owned: the message being assembled */
    size_t rx_len, rx_cap;
    bool rx_too_large, rx_binary;
    struct ws_msg *tx_head, *tx_tail; /* owned */
    size_t tx_n, tx_bytes;
    bool kill;  /* close at the next writeable */
    void *user; /* borrowed: the protocol's state of this connection (set by opened) */
    /* a session begun over HTTP, no socket yet (transport/ws_park.h); heap, not lws pss */
    bool parked;
    bool park_taken;       /* a websocket took it over: kept until park_until_ms for repeats */
    int64_t park_until_ms; /* closed if no websocket has taken it over by then */
    char park_key[33];     /* what the websocket sends to take it over: 32 hex digits */
    char park_idem[65];    /* the request's Idempotency-Key; "": none */
    char *park_answer;     /* owned: the HTTP answer, for a repeat of the request */
    size_t park_answer_len;
};

/* What the websocket protocol does with a connection (front/rpc.c implements it; the server
 * handle's ws member points at it). */
struct ws_handlers {
    /* The upgrade is done; its request headers can still be read from c->wsi. */
    void (*opened)(struct ws_conn *c);
    /* A whole text message (NUL-terminated). */
    void (*message)(struct ws_conn *c, const char *text, size_t len);
    /* A message the transport refused (too large, binary). */
    void (*refused)(struct ws_conn *c, enum srv_err e, const char *why);
    void (*closed)(struct ws_conn *c);
};

/* Handles the websocket callback reasons for connection c (in the lws pss). */
int ws_callback(struct server *srv, struct lws *wsi, enum lws_callback_reasons reason,
                struct ws_conn *c, void *in, size_t len);

/* Queues msg for sending (steals the reference); a parked session's queue waits for the
 * websocket that takes it over. */
void ws_send(struct ws_conn *c, json_t *msg);

/* For ws_park.c: the outgoing queue. */
struct ws_msg {
    struct ws_msg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes of room for lws, then the text */
};
void ws_tx_clear(struct ws_conn *c);

#endif
