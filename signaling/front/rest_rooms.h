/* A live room over REST: GET /api/v1/rooms/<room>, POST /api/v1/rooms/<room>/stage,
 * DELETE /api/v1/rooms/<room>/stage/<id> (docs/protocol.md, "Rooms over REST";
 * rest_rooms.c). */
#ifndef CR_SIGNALING_REST_ROOMS_H
#define CR_SIGNALING_REST_ROOMS_H

#include "transport/http.h"

/* A path under /api/v1/rooms/, any method. */
void rest_rooms_api(struct server *srv, struct lws *wsi, struct http_req *req);

#endif
