/* POST /ws: a websocket session begun over HTTP, taken over by the page's websocket with
 * resume {"key"} (front/rpc_begin.c, docs/protocol.md "Joining in one request"). */
#ifndef CR_SIGNALING_RPC_BEGIN_H
#define CR_SIGNALING_RPC_BEGIN_H

#include <libwebsockets.h>

#include "core/context.h"

struct http_req;

/* Answers POST /ws (and refuses other methods). */
void rpc_begin(struct server *srv, struct lws *wsi, struct http_req *req);

#endif
