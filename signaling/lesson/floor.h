/* Floor control in a lesson (docs/protocol.md, "The stage"): raised hands, who is on
 * stage, single classrooms muted, the teacher listening to one classroom privately — the
 * state and its rules are lesson/stage.c — and what follows from them: which track feeds
 * each receive line the lesson feeds (struct reg_line: a page's stage lines, a
 * classroom's track on the teacher's grid, a WHEP player's ?feed=), and the "stage" event
 * to the room.
 *
 * Who may ask for what is the front doors' (rpc, REST); this file takes the decision and
 * carries it out. Runs on the lws thread; relay calls block for a round trip. */
#ifndef CR_SIGNALING_FLOOR_H
#define CR_SIGNALING_FLOOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/context.h"
#include "core/errors.h"
#include "lesson/registry.h"

/* The operations on room's floor; id names a classroom of the room (a page or a WHIP
 * classroom). Each returns SRV_ERR_COUNT on success (asking for what already holds is a
 * success that changes nothing), else an error with why. On a change the room hears
 * {"event":"stage"} and every fed line follows. */
enum srv_err floor_hand(struct server *srv, struct reg_room *room, const char *id, bool up,
                        char *why, size_t cap);
enum srv_err floor_call(struct server *srv, struct reg_room *room, const char *id, char *why,
                        size_t cap);
enum srv_err floor_end(struct server *srv, struct reg_room *room, const char *id, char *why,
                       size_t cap);
enum srv_err floor_mute(struct server *srv, struct reg_room *room, const char *id, bool muted,
                        char *why, size_t cap);
/* id NULL: stop listening. */
enum srv_err floor_listen(struct server *srv, struct reg_room *room, const char *id, char *why,
                          size_t cap);
void floor_lower_hands(struct server *srv, struct reg_room *room);

/* The room's stage changed (an operation above, or edges.c's hands of another node): the room
 * hears {"event":"stage"}, every fed line follows, the recording too. */
void floor_changed(struct server *srv, struct reg_room *room);
/* An edge's room takes the stage its origin holds (lesson/cascade.c): st replaces the room's,
 * and if that changed anything the room hears it as above. */
void floor_mirror(struct server *srv, struct reg_room *room, const struct stage *st);

/* id (a participant or a WHIP classroom) left the room: out of every list. */
void floor_forget(struct server *srv, struct reg_room *room, const char *id);
/* Once a second: in every room with a teacher, the loudest classroom now (from the
 * levels its publisher sends, RFC 6464; louder than FLOOR_SPEAKER_MIN, not muted); when
 * it changes the teachers hear {"event":"speaker","participant":id or null}. */
#define FLOOR_SPEAKER_MIN 60 /* loudness: 127 minus -dBov, so about -67 dBov */
void floor_speakers(struct server *srv);
/* The room's tracks changed: every fed line is fed anew. */
void floor_apply(struct server *srv, struct reg_room *room);

/* A receive line's wish as a client states it: "stage" (slot 0), "stage:N" (N 1..4),
 * "teacher", "teacher:camera" (never the screen in the camera's stead), "classroom:<id>",
 * each optionally ending in "@VP8" or "@H264" (a video line
 * answered in that codec and fed only tracks of it: a page offers a stage line of each, so
 * a classroom box sending H.264 is seen too). Fills feed, slot, who and codec of l; false
 * if text is none of these. */
bool floor_parse_feed(const char *text, struct reg_line *l);
/* The relay hints for a negotiation of the lines in lines (borrowed by the caller's hints
 * array, one per line: follow, and the track the rules give now), for the subscriber
 * self_id of role. Appends to hints, returns the new count. */
size_t floor_hints(struct server *srv, struct reg_room *room, const struct reg_lines *lines,
                   const char *self_id, enum reg_role role, struct cr_mline_hint *hints, size_t n);
/* The video codec of what a player's feed (want: its feed, slot and who) would show now
 * ("VP8", "H264"), into codec; "" when nothing yet: for its lines' answer. */
void floor_feed_codec(struct server *srv, struct reg_room *room, const struct reg_line *want,
                      char *codec, size_t cap);
/* After the negotiation: each line's kind and what feeds it, from the answer. Lines the
 * answer does not know (or rejected) are dropped. */
void floor_negotiated(struct reg_lines *lines, const struct cr_answer *a);
/* Whether track (of room) belongs to a classroom: such a track on a receive line is fed by
 * the lesson (REG_FEED_TRACK), as the rules allow. */
bool floor_classroom_track(struct server *srv, struct reg_room *room, uint64_t track);

/* {"max","on":[ids],"hands":[{"id","since_ms"}],"muted":[ids]} and, for the teacher,
 * "listen" (new reference). */
json_t *floor_json(const struct reg_room *room, bool teacher);

#endif
