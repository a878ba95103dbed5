/* The permission table: see perm.h and docs/scheduling.md.
 *
 * A room action is decided in four steps, each with its own refusal: the demo room admits
 * everyone; without a token nothing else does (401); a token naming a room admits only to
 * that room; the role must include the action (room_actions); a staff session (no room in
 * the token) needs the right relation to the lesson (own, booked, or any for silent
 * watchers); and a scheduled lesson's room admits nobody but an admin outside its window. */
#include "access/perm.h"

#include <stddef.h>

#define BIT(a) (1u << (a))

/* Room actions each role may ever take (scope is decided apart). */
static const unsigned room_actions[ROLE_COUNT] = {
    [ROLE_ADMIN] = BIT(PERM_JOIN_SEEN) | BIT(PERM_JOIN_UNSEEN) | BIT(PERM_PUBLISH_MAIN) |
                   BIT(PERM_PUBLISH_BACK) | BIT(PERM_SUBSCRIBE) | BIT(PERM_CONTROL),
    [ROLE_TEACHER] =
        BIT(PERM_JOIN_SEEN) | BIT(PERM_PUBLISH_MAIN) | BIT(PERM_SUBSCRIBE) | BIT(PERM_CONTROL),
    [ROLE_CLASSROOM] = BIT(PERM_JOIN_SEEN) | BIT(PERM_PUBLISH_BACK) | BIT(PERM_SUBSCRIBE),
    [ROLE_RESEARCHER] = BIT(PERM_JOIN_UNSEEN) | BIT(PERM_SUBSCRIBE),
    [ROLE_OBSERVER] = BIT(PERM_JOIN_UNSEEN) | BIT(PERM_SUBSCRIBE),
};

#define RBIT(a) (1u << ((a)-PERM_ROOM_COUNT))

/* REST actions of a staff session; PERM_LINKS of a teacher only for their own lesson. */
static const unsigned rest_actions[ROLE_COUNT] = {
    [ROLE_ADMIN] = ~0u,
    [ROLE_SCHEDULER] = RBIT(PERM_SCHEDULE_READ) | RBIT(PERM_SCHEDULE_WRITE) |
                       RBIT(PERM_TEACHERS_READ) | RBIT(PERM_LINKS) | RBIT(PERM_STATS_READ) |
                       RBIT(PERM_RECORDINGS_READ),
    [ROLE_TEACHER] = RBIT(PERM_SCHEDULE_READ) | RBIT(PERM_LINKS) | RBIT(PERM_STATS_READ) |
                     RBIT(PERM_RECORDINGS_READ) | RBIT(PERM_NOTES_WRITE),
    [ROLE_RESEARCHER] = RBIT(PERM_SCHEDULE_READ) | RBIT(PERM_STATS_READ) |
                        RBIT(PERM_RECORDINGS_READ) | RBIT(PERM_NOTES_WRITE),
    [ROLE_OBSERVER] = RBIT(PERM_SCHEDULE_READ) | RBIT(PERM_STATS_READ) | RBIT(PERM_RECORDINGS_READ),
    [ROLE_NODE] = RBIT(PERM_CASCADE), /* another node: its cascade links, nothing else */
};

static enum perm_verdict refuse(enum perm_verdict v, const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return v;
}

static const char *action_refusal(enum role role)
{
    switch (role) {
    case ROLE_SCHEDULER:
        return "a scheduler manages bookings and does not join lessons";
    case ROLE_TEACHER:
        return "a teacher may not do that in a lesson";
    case ROLE_CLASSROOM:
        return "a classroom watches and sends its own camera back; it cannot publish the "
               "teacher's stream or watch unseen";
    case ROLE_RESEARCHER:
    case ROLE_OBSERVER:
        return "researchers and observers watch unseen; they cannot publish or join as a "
               "participant";
    default:
        return "this role may not do that";
    }
}

enum perm_verdict perm_room(enum role role, bool token_has_room, enum perm_action a,
                            const struct perm_room *r, const char **why)
{
    if (why)
        *why = NULL;
    if (a >= PERM_ROOM_COUNT)
        return refuse(PERM_FORBIDDEN, why, "not a room action");
    if (r->demo)
        return PERM_OK;
    if (role <= ROLE_NONE || role >= ROLE_COUNT)
        return refuse(PERM_NEED_TOKEN, why, "this lesson needs a token: log in or use a join link");
    if (token_has_room && !r->token_room)
        return refuse(PERM_FORBIDDEN, why, "this token is for another room");
    if (!(room_actions[role] & BIT(a)))
        return refuse(PERM_FORBIDDEN, why,
                      a == PERM_CONTROL ? "only the lesson's teacher controls the lesson"
                                        : action_refusal(role));
    if (role == ROLE_ADMIN)
        return PERM_OK;
    if (!token_has_room) { /* a staff session: rights by relation to the lesson */
        if (!r->scheduled)
            return refuse(PERM_FORBIDDEN, why,
                          "a room outside the schedule needs a token naming it");
        if (role == ROLE_TEACHER && !r->own_lesson)
            return refuse(PERM_FORBIDDEN, why, "this is another teacher's lesson");
        if (role == ROLE_CLASSROOM && !r->booked)
            return refuse(PERM_FORBIDDEN, why, "this classroom is not booked for this lesson");
    }
    if (r->scheduled && !r->in_window)
        return refuse(PERM_NOT_OPEN, why, "the lesson is not open now");
    return PERM_OK;
}

bool perm_rest(enum role role, bool token_has_room, enum perm_action a, bool own)
{
    if (a < PERM_ROOM_COUNT || a >= PERM_ACTION_COUNT || role <= ROLE_NONE || role >= ROLE_COUNT)
        return false;
    if (token_has_room) /* join links and room tokens carry no REST rights */
        return false;
    if (!(rest_actions[role] & RBIT(a)))
        return false;
    if (a == PERM_LINKS && role == ROLE_TEACHER)
        return own;
    return true;
}

const char *perm_action_name(enum perm_action a)
{
    static const char *const names[PERM_ACTION_COUNT] = {
        [PERM_JOIN_SEEN] = "join",
        [PERM_JOIN_UNSEEN] = "watch unseen",
        [PERM_PUBLISH_MAIN] = "publish the main stream",
        [PERM_PUBLISH_BACK] = "publish back",
        [PERM_SUBSCRIBE] = "subscribe",
        [PERM_CONTROL] = "control the lesson",
        [PERM_SCHEDULE_READ] = "read the schedule",
        [PERM_SCHEDULE_WRITE] = "change the schedule",
        [PERM_TEACHERS_READ] = "list teachers",
        [PERM_USERS] = "manage users",
        [PERM_AUDIT_READ] = "read the audit log",
        [PERM_LINKS] = "get join links",
        [PERM_STATS_READ] = "read server statistics",
        [PERM_RECORDINGS_READ] = "read recordings",
        [PERM_NOTES_WRITE] = "write notes on recordings",
        [PERM_RECORDINGS_DELETE] = "delete recordings",
        [PERM_CASCADE] = "open cascade links",
    };
    return a < PERM_ACTION_COUNT && names[a] ? names[a] : "?";
}
