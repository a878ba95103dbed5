/* Websocket sessions begun over HTTP (POST /ws, docs/protocol.md "Joining in one request").
 *
 * A parked session is a ws_conn without a socket, on the heap rather than in the lws
 * per-session data. The protocol handles a client's first requests on it as if they had
 * come over a websocket; its replies and events queue; the HTTP answer carries what has
 * queued so far (ws_park_drain) and the session's key; a websocket that presents the key
 * takes the session over with whatever queued since (ws_adopt). On a school link the
 * page's HTTP connection is already open while a websocket's TCP handshake can lose a
 * packet and wait a second for the client's retransmission. A session no websocket takes
 * within WS_PARK_MS is closed as a websocket that went away would be. */
#ifndef CR_SIGNALING_WS_PARK_H
#define CR_SIGNALING_WS_PARK_H

#include <stddef.h>
#include <stdint.h>

#include "transport/ws.h"

#define WS_PARK_MAX 256    /* parked sessions at once */
#define WS_PARK_MS 15000   /* time for a websocket to take one over */
#define WS_PARK_KEY_LEN 32 /* hex digits */

/* A new parked session, opened through the server's ws handlers with wsi's request headers
 * (its token); NULL when WS_PARK_MAX are parked. */
struct ws_conn *ws_park(struct server *srv, struct lws *wsi, int64_t now_ms);
/* What has queued, as the text of a JSON array (malloc'd, *len bytes); the queue is
 * emptied. */
char *ws_park_drain(struct ws_conn *c, size_t *len);
/* The parked session with this key, or NULL. */
struct ws_conn *ws_park_find(struct server *srv, const char *key);
/* Websocket c takes over parked: parked's queue goes to c's, then parked is closed through
 * the ws handlers (the protocol has moved its state to c first) and freed. */
void ws_adopt(struct ws_conn *c, struct ws_conn *parked);
/* Closes a parked session through the ws handlers and frees it. */
void ws_park_close(struct ws_conn *c);
/* Closes the sessions whose time is up, or that were killed for piling up events. */
void ws_park_sweep(struct server *srv, int64_t now_ms);
/* Closes them all (shutdown). */
void ws_park_close_all(struct server *srv);

#endif
