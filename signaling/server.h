/* The classrelay server, the composition root: it alone knows every part. It starts the
 * libwebsockets context (HTTP, websocket, WHIP/WHEP) serviced by the main thread and the
 * relay (the media plane, its own worker thread), wires the upward tables of the server
 * handle (routes.c for HTTP, the websocket protocol, the lesson's notices), drains relay and
 * child-process events, and runs the once-a-second sweep. The handle itself is
 * core/context.h. */
#ifndef CR_SIGNALING_SERVER_H
#define CR_SIGNALING_SERVER_H

#include "core/context.h"

/* Starts lws and the relay, opens the demo room. Returns 0 or -1 (reason logged). */
int server_start(struct server *srv, const struct config *cfg);
/* Services lws until srv->stop is set. */
void server_run(struct server *srv);
/* Closes every peer, frees the relay, closes connections. */
void server_stop(struct server *srv);
/* Async-signal-safe: asks server_run to return. */
void server_request_stop(struct server *srv);
/* Async-signal-safe: asks the lws thread to load the HTTPS certificate again (SIGHUP). */
void server_request_tls_reload(struct server *srv);

#endif
