/* Floor control for one room, "the stage": classrooms raise their hands into a queue, the
 * teacher calls classrooms on stage (from the queue or directly) and ends their turns, mutes
 * single classrooms and listens to one classroom privately; and the one rule, in
 * stage_mic_reaches() and stage_camera_reaches(), of whose media goes to whom.
 *
 * Pure state: no I/O, no clock (the caller passes now_ms), no relay calls, no allocation
 * (struct stage is meant to live by value in struct reg_room). It leaves to its callers the
 * websocket protocol and REST (who may ask for what, what is broadcast), the relay's
 * forwarding (pausing and binding tracks by the rule below) and the room-wide switches
 * (reg_room.paused, reg_room.muted_all, applied at the publisher by lifecycle.c, silence a
 * classroom whatever this module says). Participant ids are the registry's ("p7"): 1 to
 * STAGE_ID_MAX printable ASCII characters without spaces; an id that is not one is refused with
 * STAGE_ERR_INVALID and reaches nobody. Every operation that fails changes nothing. */
#ifndef CR_SIGNALING_STAGE_H
#define CR_SIGNALING_STAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define STAGE_ID_MAX 40       /* characters of a participant id: REG_ID_MAX (registry.h checks) */
#define STAGE_LIMIT_DEFAULT 1 /* classrooms on stage at once, unless configured */
#define STAGE_LIMIT_MAX 4
#define STAGE_HANDS_MAX 256 /* raised hands; past it a new hand is refused (STAGE_ERR_FULL) */
#define STAGE_MUTED_MAX 256 /* muted classrooms; past it a new mute is refused likewise */

enum stage_err {
    STAGE_OK = 0,
    STAGE_ERR_INVALID = -1,   /* an id NULL, empty, too long or not printable ASCII */
    STAGE_ERR_NOT_FOUND = -2, /* undoing what does not hold: no such hand, turn, mute, listen */
    STAGE_ERR_ALREADY = -3,   /* asking for what already holds: nothing changes */
    STAGE_ERR_FULL = -4,      /* the stage (limit > 1), the hand queue or the muted set is full */
    STAGE_ERR_LIMIT = -5,     /* a limit outside 1..STAGE_LIMIT_MAX */
    STAGE_ERR_ON_STAGE = -6,  /* a classroom on stage cannot raise its hand or be listened to */
};

/* Where a classroom's track may go. STAGE_TO_CLASSROOMS is everyone in the room but the
 * teacher: the other classrooms, observers, and WHEP players of the stage. */
enum stage_audience { STAGE_TO_TEACHER, STAGE_TO_CLASSROOMS, STAGE_TO_RECORDING };

struct stage_hand {
    char id[STAGE_ID_MAX + 1];
    int64_t since_ms; /* the now_ms it was raised with */
};

/* Classrooms whose turn an operation ended, in the order they were called. */
struct stage_left {
    unsigned n;
    char id[STAGE_LIMIT_MAX][STAGE_ID_MAX + 1];
};

/* One room's stage; all state, no pointers (copying it copies it). Invariants: an id is on
 * stage at most once and then has no hand raised and is not the one listened to; a hand is
 * raised at most once. */
struct stage {
    unsigned limit; /* 1..STAGE_LIMIT_MAX */
    unsigned n_on;
    char on[STAGE_LIMIT_MAX][STAGE_ID_MAX + 1]; /* on stage, in the order called */
    unsigned n_hands;
    struct stage_hand hands[STAGE_HANDS_MAX]; /* raised hands, in the order raised */
    unsigned n_muted;
    char muted[STAGE_MUTED_MAX][STAGE_ID_MAX + 1]; /* muted, in the order muted */
    char listen[STAGE_ID_MAX + 1];                 /* the one the teacher listens to; "": none */
};

/* What stage_forget() found a participant in (bits). */
enum stage_forgot {
    STAGE_FORGOT_ON = 1,       /* it was on stage: its turn ended */
    STAGE_FORGOT_HAND = 2,     /* its hand was raised */
    STAGE_FORGOT_MUTED = 4,    /* it was muted */
    STAGE_FORGOT_LISTENED = 8, /* the teacher was listening to it */
};

/* An empty stage with room for limit classrooms. STAGE_ERR_LIMIT if limit is outside
 * 1..STAGE_LIMIT_MAX; the stage is then still initialized, with STAGE_LIMIT_DEFAULT. */
int stage_init(struct stage *st, unsigned limit);

/* Changes the limit. Lowered below the number on stage, the turns called latest end and are
 * reported in *left (may be NULL; left->n is 0 when nobody left). STAGE_ERR_LIMIT outside
 * 1..STAGE_LIMIT_MAX. */
int stage_set_limit(struct stage *st, unsigned limit, struct stage_left *left);

/* id raises its hand at now_ms, at the back of the queue. STAGE_ERR_ALREADY if it is raised
 * (it keeps its place and its since_ms: raising twice never sends a hand to the back),
 * STAGE_ERR_ON_STAGE if id is on stage, STAGE_ERR_FULL with STAGE_HANDS_MAX hands raised
 * (the newcomer is refused; no raised hand is ever dropped). */
int stage_hand_up(struct stage *st, const char *id, int64_t now_ms);
/* id lowers its hand (or the teacher lowers it); the hands behind move up. STAGE_ERR_NOT_FOUND
 * if it is not raised. */
int stage_hand_down(struct stage *st, const char *id);
/* Lowers every hand. Returns how many were raised (0: the queue was empty). */
int stage_hands_clear(struct stage *st);

/* The teacher calls id on stage, from the queue or not: its hand, if raised, is lowered, and a
 * private listen to it ends (everyone hears it now). If the stage is full: with limit 1 the
 * classroom on stage leaves and id takes its place (a teacher clicking another classroom
 * means that), reported in *left (may be NULL; left->n is 0 when nobody left); with limit 2
 * and more STAGE_ERR_FULL, because which turn to end is the teacher's choice (stage_end(),
 * then call again). STAGE_ERR_ALREADY if id is on stage. */
int stage_call(struct stage *st, const char *id, struct stage_left *left);
/* Ends id's turn; those called after it move up. Its hand stays down. STAGE_ERR_NOT_FOUND if
 * id is not on stage. */
int stage_end(struct stage *st, const char *id);

/* Mutes id's microphone everywhere, on stage or not, listened to or not, until
 * stage_unmute() or stage_forget(); its camera is not affected. STAGE_ERR_ALREADY if muted,
 * STAGE_ERR_FULL with STAGE_MUTED_MAX muted. */
int stage_mute(struct stage *st, const char *id);
/* STAGE_ERR_NOT_FOUND if id is not muted. */
int stage_unmute(struct stage *st, const char *id);

/* The teacher listens to id privately: its microphone reaches the teacher only. Replaces the
 * one listened to before (read stage_listening() first to know it). STAGE_ERR_ALREADY if it
 * is id, STAGE_ERR_ON_STAGE if id is on stage (the teacher hears it already). Listening to a
 * muted classroom is allowed and silent until it is unmuted. */
int stage_listen(struct stage *st, const char *id);
/* STAGE_ERR_NOT_FOUND if the teacher listens to nobody. */
int stage_listen_stop(struct stage *st);

/* id left the room: takes it out of everything. Returns the stage_forgot bits of what it was
 * in; 0 if nothing (also for an invalid id). STAGE_FORGOT_ON means the stage changed. */
unsigned stage_forget(struct stage *st, const char *id);

bool stage_is_on(const struct stage *st, const char *id);
/* id's place in the queue, 1 for the first, and when it was raised in *since_ms (may be NULL);
 * STAGE_ERR_NOT_FOUND if its hand is down (or id is invalid). */
int stage_hand(const struct stage *st, const char *id, int64_t *since_ms);
bool stage_is_muted(const struct stage *st, const char *id);
/* The id the teacher listens to, or NULL. */
const char *stage_listening(const struct stage *st);

/* The forwarding rule for a classroom's tracks (the teacher's own are not this module's:
 * they go to everyone unless the lesson is paused). "muted" overrides the rows above it;
 * it touches audio only.
 *
 *   classroom from_id is    microphone to               camera to
 *                           TEACHER CLASSROOMS RECORD.  TEACHER CLASSROOMS RECORD.
 *   on stage                yes     yes        yes      yes     yes        yes
 *   listened to             yes     -          -        yes(1)  -          -
 *   neither                 -       -          -        yes(1)  -          -
 *   muted (any of these)    -       -          -        as above
 *
 *   (1) a small tile in the teacher's grid. An invalid from_id reaches nobody. */
bool stage_mic_reaches(const struct stage *st, const char *from_id, enum stage_audience to);
bool stage_camera_reaches(const struct stage *st, const char *from_id, enum stage_audience to);

/* {"max":1, "on":["p3"], "hands":[{"id":"p5","since_ms":1700000000000}], "muted":["p9"],
 * "listen":null or "p4"}, lists in the orders above (new reference; NULL only if jansson runs
 * out of memory). "listen" is the teacher's private business: delete it before sending the
 * snapshot to classrooms. */
json_t *stage_json(const struct stage *st);

#endif
