/* The recordings REST API (/api/v1/recordings...) and the replay files under
 * /recordings/<id>/ (docs/recording.md, "Catalogue REST API"). The catalogue itself is
 * catalog.c; this file turns requests into catalogue calls and answers them. */
#ifndef CR_SIGNALING_REST_RECORDINGS_H
#define CR_SIGNALING_REST_RECORDINGS_H

#include <stdbool.h>

#include "transport/http.h"

/* A path under /api/v1/recordings, any method. */
void rest_recordings_api(struct server *srv, struct lws *wsi, struct http_req *req);
/* GET or HEAD /recordings/<id>/<file>: DATA/recordings/<id>/vod/<file>, with Range. */
void rest_recordings_file(struct server *srv, struct lws *wsi, struct http_req *req);

/* A recording id as it may appear in a path: 1..128 of [A-Za-z0-9_-]. */
bool rest_recording_id_ok(const char *id, size_t len);

#endif
