/* The recordings REST API (/api/v1/recordings...; rest_recordings.c) and the replay files
 * under /recordings/<id>/ (rest_replay.c), docs/recording.md ("Catalogue REST API", "Replay
 * links"). The catalogue itself is catalog.c; these files turn requests into catalogue calls
 * and files, and answer them. */
#ifndef CR_SIGNALING_REST_RECORDINGS_H
#define CR_SIGNALING_REST_RECORDINGS_H

#include <jansson.h>
#include <stdbool.h>

#include "store/catalog.h"
#include "transport/http.h"

/* A path under /api/v1/recordings, any method. */
void rest_recordings_api(struct server *srv, struct lws *wsi, struct http_req *req);
/* GET or HEAD /recordings/<id>/<file>: DATA/recordings/<id>/vod/<file>, with Range; a
 * playlist asked for with access in its URL (token= or grant=) carries it on to every URI. */
void rest_recordings_file(struct server *srv, struct lws *wsi, struct http_req *req);

/* REC's "links" (docs/recording.md, "Replay links"): its "hls" and "mp4" URLs with a grant
 * for recording id expiring with the token (token_exp_s) or sooner, and "expires_ms"; JSON
 * null when REC has neither URL. New reference (rest_replay.c). */
json_t *rest_replay_links(struct server *srv, const char *id, const json_t *rec,
                          int64_t token_exp_s);

/* Reads the body of POST .../notes into *note, whose strings live in the returned JSON
 * (the caller decrefs it). Not a JSON object: NULL, *why says so (written into buf, cap
 * bytes). Fields of the wrong type: the body, *why says which. Bounds (text length,
 * UTF-8, kinds, at_ms within the lesson) are catalog_note_add's. */
json_t *rest_note_in(const char *text, size_t len, struct cat_note *note, const char **why,
                     char *buf, size_t cap);

/* A recording id as it may appear in a path: 1..128 of [A-Za-z0-9_-]. */
bool rest_recording_id_ok(const char *id, size_t len);

#endif
