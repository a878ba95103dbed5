/* WHIP (RFC 9725) and WHEP: publish and play over plain HTTP, so encoders and players
 * that no one here wrote can join a lesson.
 *
 *   POST   /whip/<room>        application/sdp offer  → 201, Location, answer
 *   POST   /whep/<room>        recvonly offer         → 201, Location, answer
 *   PATCH  /wh?p/<room>/<id>   trickle-ice-sdpfrag    → 204 (RFC 8840)
 *   DELETE /wh?p/<room>/<id>                          → 200, session closed
 *
 * Each session is a reg_resource holding one relay peer. Sessions whose client vanished
 * without DELETE are closed by server.c (peer failed, or never connected in 30 s). */
#ifndef CR_SIGNALING_WHIP_H
#define CR_SIGNALING_WHIP_H

#include <libwebsockets.h>

#include "transport/http.h"
#include "core/context.h"
#include "lesson/rooms.h"

/* Answers a request whose path begins with /whip/ or /whep/ (body already read). */
void whip_handle(struct server *srv, struct lws *wsi, struct http_req *req);

/* Closes a session's peer and removes it (and its room if that was the last user). */
void whip_close(struct server *srv, struct reg_resource *r);
/* A WHIP classroom as the room lists it, like a page's participant:
 * {"id","role":"classroom","name","via":"whip"} (new reference). */
json_t *whip_participant_json(const struct reg_resource *r);

#endif
