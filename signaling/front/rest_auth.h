/* The REST gate: the request must carry a valid token whose role may do the action
 * (access/perm.h perm_rest, own as there). On refusal it answers 401 (with
 * WWW-Authenticate) or 403 with a clear message, counts and audits it. */
#ifndef CR_SIGNALING_REST_AUTH_H
#define CR_SIGNALING_REST_AUTH_H

#include <stdbool.h>

#include "access/auth.h"
#include "transport/http.h"

/* true with *out filled, or false after the refusal was answered. */
bool rest_auth(struct server *srv, struct lws *wsi, struct http_req *req, enum perm_action a,
               bool own, struct principal *out);

/* The same gate for an action in a room (the permission table with the schedule's facts,
 * access/auth.h auth_room): a token is required (401); a refusal answers 403. */
bool rest_auth_room(struct server *srv, struct lws *wsi, struct http_req *req, const char *room,
                    enum perm_action a, struct principal *out);

#endif
