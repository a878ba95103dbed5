/* The lessons a REST answer lists, with the names it shows (rest_sched_priv.h), loaded in
 * one call for rest_lessons.c (GET /api/v1/lessons) and rest_live.c (GET /api/v1/live). A
 * store error is answered here; what to list, and how, stays with the callers. */
#ifndef CR_SIGNALING_REST_SCHED_LOAD_H
#define CR_SIGNALING_REST_SCHED_LOAD_H

#include <stdbool.h>

#include "rest_sched_priv.h"

/* The lessons of f into *rows (the caller frees it) and *n, and every name into *names
 * (rsched_names_free() it); or false after answering the store's error, with *rows and
 * *names holding nothing to free. */
bool rsched_lessons_load(struct server *srv, struct lws *wsi, struct http_req *req,
                         const struct st_lesson_filter *f, struct st_lesson **rows, int *n,
                         struct rsched_names *names);

#endif
