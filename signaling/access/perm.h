/* The permission table (docs/scheduling.md, "Rooms and who gets in" and "REST API"): may a
 * principal of role R, holding a token that may name one room, do action A — in a room
 * whose facts the caller has looked up (struct perm_room), or on a REST resource?
 *
 * Pure: no store, no clock, no I/O. The callers (auth.c, rpc.c, whip.c, rest_*.c) gather
 * the facts; this file is the only place that decides, so the permission-matrix test and
 * the unit test check one table. */
#ifndef CR_SIGNALING_PERM_H
#define CR_SIGNALING_PERM_H

#include <stdbool.h>

#include "store/role.h"

enum perm_action {
    /* in a room: websocket join/publish/subscribe, WHIP, WHEP, teacher controls */
    PERM_JOIN_SEEN,    /* a listed participant (teacher, classroom) */
    PERM_JOIN_UNSEEN,  /* a silent watcher (researcher, observer) */
    PERM_PUBLISH_MAIN, /* the teacher's stream: websocket publish as teacher, WHIP */
    PERM_PUBLISH_BACK, /* a classroom's camera and microphone back to the teacher */
    PERM_SUBSCRIBE,    /* websocket subscribe, WHEP */
    PERM_CONTROL,      /* pause, mute all, end the lesson */
    PERM_ROOM_COUNT,
    /* REST */
    PERM_SCHEDULE_READ = PERM_ROOM_COUNT, /* schools, classrooms, lessons, live, calendars */
    PERM_SCHEDULE_WRITE,
    PERM_TEACHERS_READ, /* GET /users?role=teacher (to book a teacher) */
    PERM_USERS,         /* users: everything else */
    PERM_AUDIT_READ,
    PERM_LINKS, /* a lesson's join links (the lesson's teacher: see perm_rest's own) */
    PERM_STATS_READ,
    PERM_RECORDINGS_READ,
    PERM_NOTES_WRITE,
    PERM_RECORDINGS_DELETE,
    PERM_CASCADE, /* open cascade links to another node's relay (docs/cluster.md): nodes */
    PERM_ACTION_COUNT
};

/* What the caller knows about the room an action is aimed at. */
struct perm_room {
    bool demo;       /* the open demo room (config demo on) */
    bool scheduled;  /* a lesson's room, and the lesson exists */
    bool own_lesson; /* the principal's user is the lesson's teacher */
    bool booked;     /* the principal's classroom is booked in the lesson */
    bool in_window;  /* now lies in an occurrence's window (join early .. overtime) */
    bool token_room; /* the principal's token names this very room */
};

enum perm_verdict {
    PERM_OK = 0,
    PERM_NEED_TOKEN, /* 401: no token, and the room is not open to all */
    PERM_FORBIDDEN,  /* 403 */
    PERM_NOT_OPEN,   /* 403: the right person, outside the lesson's window */
};

/* The verdict for action a (< PERM_ROOM_COUNT) in room r by role, whose token names a room
 * if token_has_room. *why (may be NULL) gets a sentence for a refusal. */
enum perm_verdict perm_room(enum role role, bool token_has_room, enum perm_action a,
                            const struct perm_room *r, const char **why);

/* May role (token naming a room or not) do REST action a (>= PERM_ROOM_COUNT)? own: the
 * resource is the principal's own (their lesson, for PERM_LINKS). */
bool perm_rest(enum role role, bool token_has_room, enum perm_action a, bool own);

const char *perm_action_name(enum perm_action a);

#endif
