/* Rooms and their peers as the lesson sees them: opening a room in the relay and the
 * registry, closing it when the last one leaves, recording and closing a participant's
 * relay peer, the demo room that stays open. Also the notices the lesson layer sends
 * upward (struct lesson_events), which the front doors implement and the composition root
 * wires into the server handle. */
#ifndef CR_SIGNALING_ROOMS_H
#define CR_SIGNALING_ROOMS_H

#include <jansson.h>
#include <stddef.h>

#include "core/context.h"
#include "lesson/registry.h"

/* Upward notices of the lesson layer (implemented by front/rpc.c). */
struct lesson_events {
    /* Sends event (a protocol event object; the callee steals it) to everyone in room. */
    void (*room_event)(struct server *srv, struct reg_room *room, json_t *event);
    /* The same, to the room's teachers only (a quiz's tally). */
    void (*teacher_event)(struct server *srv, struct reg_room *room, json_t *event);
    /* Ends the room for everyone in it (participants told why, WHIP/WHEP sessions closed);
     * the room may be freed. */
    void (*room_end)(struct server *srv, struct reg_room *room, const char *reason);
};

static inline void rooms_event(struct server *srv, struct reg_room *room, json_t *event)
{
    srv->lesson_ev->room_event(srv, room, event);
}

static inline void rooms_teacher_event(struct server *srv, struct reg_room *room, json_t *event)
{
    srv->lesson_ev->teacher_event(srv, room, event);
}

/* Finds room name, opening it in the relay (and the registry) if it is new. Returns NULL
 * with *err set if the name is bad or the relay refuses. */
struct reg_room *rooms_get(struct server *srv, const char *name, enum srv_err *err, char *why,
                           size_t why_len);
/* Closes an ad-hoc room once nobody is left in it. */
void rooms_release(struct server *srv, struct reg_room *room);
/* Opens the demo room (if configured) and pins it. Returns 0, or -1 if it cannot open. */
int rooms_keep_demo(struct server *srv);

/* Every track of room name in the relay now, however many: an array the caller frees (NULL
 * when there are none or the relay refuses), its length in *n. */
struct cr_track_info *rooms_tracks(struct server *srv, const char *name, size_t *n);

/* Records in slot the relay peer peer_id that a first offer made (cr_relay_negotiate). */
void rooms_peer_set(struct reg_peer *slot, uint64_t peer_id);
/* Closes the slot's relay peer (if any) and empties the slot. */
void rooms_peer_close(struct server *srv, struct reg_peer *slot);

#endif
