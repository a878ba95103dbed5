/* RTSP ingest (docs/recording.md, "RTSP ingest"; docs/protocol.md, "Rooms over REST"): a
 * room's teacher source may be an RTSP camera or classroom recording system. For each room
 * with one this controller runs a `classrelay-recorder ingest` child, hands it the URL on
 * stdin, and publishes the offer it makes through the same path as a WHIP encoder
 * (lesson/session.h): the camera becomes the room's teacher, seen by every classroom and
 * player and recorded like any teacher. A child that dies, hangs or loses its peer is
 * started again with backoff (1, 2, 4, 8, then every 10 s); the child itself rebuilds the
 * camera side when the camera goes and comes back, keeping its tracks.
 *
 * The URL is secret (it may carry the camera's password): it goes to the child's stdin and
 * nowhere else; logs, events and API answers show it redacted (base/redact.h).
 * The room hears {"type":"event","event":"ingest","ingest":INGEST} on every change, and the
 * join reply carries "ingest" (docs/protocol.md). Runs on the lws thread. */
#ifndef CR_SIGNALING_INGEST_H
#define CR_SIGNALING_INGEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"

struct server;
struct evq_item;
struct ingest_ctl;

/* bin: the classrelay-recorder binary ("" when there is none: every start is refused). */
struct ingest_ctl *ingest_new(struct server *srv, const char *bin);
/* Stops every child. NULL: nothing. */
void ingest_free(struct ingest_ctl *ctl);

/* Pulls url into room (which must be open) from now on, in place of any source it had. 0,
 * or -1 with *e and why (a bad URL, no recorder binary). */
int ingest_start(struct ingest_ctl *ctl, const char *room, const char *url, enum srv_err *e,
                 char *why, size_t cap);
/* Stops room's ingest and closes its session; false if it had none. */
bool ingest_stop(struct ingest_ctl *ctl, const char *room);
/* INGEST = {"url" (redacted),"state":"starting"|"connecting"|"playing"|"lost"|"restarting",
 * "message","connected","since_ms","restarts","session"} of room, or NULL when it has none
 * (new reference). */
json_t *ingest_json(struct ingest_ctl *ctl, const char *room);

/* A line or the exit of one of our children; false if the child is not an ingest's. */
bool ingest_on_child(struct ingest_ctl *ctl, const struct evq_item *it);
/* Once a second: restarts, pings, sessions the server closed. */
void ingest_tick(struct ingest_ctl *ctl, int64_t now_ms);

#endif
