/* WHIP (RFC 9725) and WHEP: publish and play over plain HTTP, so encoders and players
 * that no one here wrote can join a lesson.
 *
 *   POST   /whip/<room>        application/sdp offer  → 201, Location, answer
 *   POST   /whep/<room>        recvonly offer         → 201, Location, answer
 *   PATCH  /wh?p/<room>/<id>   trickle-ice-sdpfrag    → 204 (RFC 8840)
 *   DELETE /wh?p/<room>/<id>                          → 200, session closed
 *
 * Each session is a reg_resource holding one relay peer (lesson/session.h opens and closes
 * them). Sessions whose client vanished without DELETE are closed by server.c (peer failed,
 * or never connected in 30 s). */
#ifndef CR_SIGNALING_WHIP_H
#define CR_SIGNALING_WHIP_H

#include <libwebsockets.h>

#include "transport/http.h"
#include "core/context.h"
#include "lesson/rooms.h"

/* Answers a request whose path begins with /whip/ or /whep/ (body already read). */
void whip_handle(struct server *srv, struct lws *wsi, struct http_req *req);

#endif
