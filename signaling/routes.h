/* The HTTP route table (routes.c): the server handle's http_route. */
#ifndef CR_SIGNALING_ROUTES_H
#define CR_SIGNALING_ROUTES_H

#include "core/context.h"
#include "transport/http.h"

/* Answers a complete request: OPTIONS, WHIP/WHEP, health and stats, REST, recordings,
 * static pages. */
void routes_http(struct server *srv, struct lws *wsi, struct http_req *req);

#endif
