/* The schedule's REST API under /api/v1 (docs/scheduling.md, "REST API"): login and
 * sessions, schools, classrooms, users, lessons and their join links, what is live now,
 * iCalendar feeds and the audit log. The store (store.h) keeps the data rules; perm.c
 * decides who may do what (through auth_rest); this layer turns HTTP and JSON into store
 * calls and back. */
#ifndef CR_SIGNALING_REST_SCHEDULE_H
#define CR_SIGNALING_REST_SCHEDULE_H

#include <stdbool.h>

#include "transport/http.h"
#include "core/context.h"

/* Handles /api/v1/login, /logout, /me, /schools, /classrooms, /users, /lessons, /live,
 * /calendar, /audit. Returns false if the path is none of these (routes.c then tries
 * others). */
bool rest_schedule_route(struct server *srv, struct lws *wsi, struct http_req *req);

#endif
