/* Scheduled lessons come and go on their own (docs/scheduling.md, "Lesson lifecycle"): once
 * a second the rooms of the lessons whose window holds now are opened and pinned, with the
 * lesson's recording flag and title; their participants hear when the lesson runs into
 * overtime and when the room is about to close; at the window's end (or when the teacher
 * ends the lesson) everyone is sent away and the room closes. The teacher's one-key
 * controls (pause, mute all, end) live here too.
 *
 * Runs on the lws thread. State is kept in the registry's rooms, plus a short list of
 * occurrences a teacher ended early, so the room does not reopen until the next one. */
#ifndef CR_SIGNALING_LIFECYCLE_H
#define CR_SIGNALING_LIFECYCLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/perm.h"
#include "access/principal.h"
#include "core/context.h"
#include "lesson/registry.h"

#define LIFECYCLE_WARN_S 300   /* first "closing" warning before the room closes */
#define LIFECYCLE_LAST_S 60    /* last warning */
#define LIFECYCLE_ENDED_MAX 64 /* occurrences ended early that are remembered */

struct lifecycle_ended {
    int64_t lesson_id, until_ms; /* refuse joins to the lesson's room until until_ms */
};

struct lifecycle {
    struct lifecycle_ended ended[LIFECYCLE_ENDED_MAX]; /* state */
    int64_t last_tick_ms;
};

/* Once a second (wall clock now_ms). */
void lifecycle_tick(struct server *srv, int64_t now_ms);

/* {"lesson_id","title","ends_ms","closes_ms","paused","muted_all"} of a scheduled room, or
 * {"paused","muted_all"} for others (new reference). */
json_t *lifecycle_room_json(struct server *srv, const struct reg_room *room);

/* A participant's publish peer is new: pause it if the lesson is paused (teacher) or the
 * classrooms are muted (classroom). */
void lifecycle_apply_pause(struct server *srv, struct reg_participant *p);

/* The teacher's action "pause", "resume", "mute_all", "unmute_all" or "end". Returns
 * SRV_ERR_COUNT when done, else the error with a sentence in why. After "end", p and its
 * room are gone. */
enum srv_err lifecycle_control(struct server *srv, struct reg_participant *p, const char *action,
                               char *why, size_t why_len);

/* True if a teacher ended the lesson behind room early and its window has not closed. */
bool lifecycle_ended(struct server *srv, const char *room);

/* The door of every way into a room (websocket join, WHIP, WHEP): the permission table
 * (access/auth.h auth_room), then "has the teacher ended this lesson?". May who (with the outcome
 * token_rc/token_why of reading its token) do a in room? On refusal fills *err and msg, audits it
 * (what: "join", "WHIP", ...) and returns the verdict. */
enum perm_verdict lifecycle_enter(struct server *srv, struct principal *who, int token_rc,
                                  const char *token_why, const char *room, enum perm_action a,
                                  const char *what, enum srv_err *err, char *msg, size_t msg_len);

#endif
