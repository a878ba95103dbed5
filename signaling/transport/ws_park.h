/* Websocket sessions begun over HTTP (POST /ws, docs/protocol.md "Joining in one request").
 *
 * A parked session is a ws_conn without a socket, on the heap rather than in the lws
 * per-session data. The protocol handles a client's first requests on it as if they had
 * come over a websocket; its replies and events queue; the HTTP answer carries what has
 * queued so far (ws_park_drain) and the session's key; a websocket that presents the key
 * takes the session over with whatever queued since (ws_adopt). On a school link the
 * page's HTTP connection is already open while a websocket's TCP handshake can lose a
 * packet and wait a second for the client's retransmission. A session no websocket takes
 * within WS_PARK_MS is closed as a websocket that went away would be.
 *
 * A client may send a request again (Idempotency-Key, as in
 * draft-ietf-httpapi-idempotency-key-header) when it cannot tell whether the first one
 * arrived: the session remembers its key and its answer, and a repeat is given the same
 * answer; once taken over, the session stays listed (taken) until its time is up, so that a
 * late repeat is refused rather than joined again. */
#ifndef CR_SIGNALING_WS_PARK_H
#define CR_SIGNALING_WS_PARK_H

#include <stddef.h>
#include <stdint.h>

#include "transport/ws.h"

#define WS_PARK_MAX 256    /* parked sessions at once */
#define WS_PARK_MS 15000   /* time for a websocket to take one over */
#define WS_PARK_KEY_LEN 32 /* hex digits */

/* A new parked session, opened through the server's ws handlers with wsi's request headers
 * (its token), under the request's idempotency key idem ("": none); NULL when WS_PARK_MAX
 * are parked. */
struct ws_conn *ws_park(struct server *srv, struct lws *wsi, int64_t now_ms, const char *idem);
/* Keeps a copy of the session's HTTP answer for repeats. */
void ws_park_keep_answer(struct ws_conn *c, const char *text, size_t len);
/* The session (parked or taken) begun under idempotency key idem, or NULL. */
struct ws_conn *ws_park_by_idem(struct server *srv, const char *idem);
/* What has queued, as the text of a JSON array (malloc'd, *len bytes); the queue is
 * emptied. */
char *ws_park_drain(struct ws_conn *c, size_t *len);
/* The parked session with this key, or NULL (not one already taken). */
struct ws_conn *ws_park_find(struct server *srv, const char *key);
/* Websocket c takes over parked: parked's queue goes to c's, then parked is closed through
 * the ws handlers (the protocol has moved its state to c first) and kept, taken, for
 * repeats until its time is up. */
void ws_adopt(struct ws_conn *c, struct ws_conn *parked);
/* Closes a parked session through the ws handlers and frees it. */
void ws_park_close(struct ws_conn *c);
/* Closes the sessions whose time is up, or that were killed for piling up events; forgets
 * taken ones whose time is up. */
void ws_park_sweep(struct server *srv, int64_t now_ms);
/* Closes them all (shutdown). */
void ws_park_close_all(struct server *srv);

#endif
