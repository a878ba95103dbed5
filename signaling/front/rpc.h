/* The websocket JSON protocol, version 1 (docs/protocol.md): requests from a client
 * (join, publish, subscribe, candidate, unpublish, unsubscribe, leave), one reply per
 * request, and the events the server sends (participant_joined/left, tracks, candidate,
 * peer_state).
 *
 * rpc.c owns each connection's participant and the relay peers it holds; it turns requests
 * into relay calls and relay events (delivered by server.c on the lws thread) into
 * websocket events. Malformed input gets an error reply and a count, never a crash or a
 * closed connection. */
#ifndef CR_SIGNALING_RPC_H
#define CR_SIGNALING_RPC_H

#include <jansson.h>
#include <stddef.h>

#include "access/principal.h"
#include "lesson/registry.h"
#include "lesson/rooms.h"
#include "core/context.h"
#include "transport/ws.h"

/* The protocol's state of one websocket connection (ws_conn.user). */
struct rpc_conn {
    struct reg_participant *participant; /* owned: NULL until join */
    struct principal who;                /* from the upgrade request's token */
    int auth_rc;                         /* 0, or the token_err that token had */
    const char *auth_why;                /* static text: why the token was refused */
};

/* The websocket protocol as the transport sees it, and the lesson's notices as the lesson
 * layer sends them: both wired into the server handle by server.c. */
extern const struct ws_handlers rpc_ws_handlers;
extern const struct lesson_events rpc_lesson_events;

/* A connection opened: reads its upgrade request's token. */
void rpc_conn_opened(struct ws_conn *c);
/* Handles one complete text message from c. */
void rpc_handle(struct ws_conn *c, const char *text, size_t len);
/* Handles one message already parsed (borrowed). */
void rpc_handle_json(struct ws_conn *c, json_t *msg);
/* Sends an error reply (id NULL: "id":null) and counts it. */
void rpc_reply_error(struct ws_conn *c, json_t *id, enum srv_err e, const char *message);
/* The connection closed: leave its room, close its peers. */
void rpc_conn_closed(struct ws_conn *c);

/* Relay events for a participant's peer (already recorded in the registry). */
void rpc_event_peer_state(struct reg_participant *p, enum reg_target target,
                          enum cr_peer_state state, const char *reason);
void rpc_event_candidate(struct reg_participant *p, enum reg_target target, const char *mid,
                         const char *candidate);
/* Sends event to the room's teachers; steals event. */
void rpc_event_teachers(struct server *srv, struct reg_room *room, json_t *event);
/* Sends event to everyone in the room; steals event. */
void rpc_event_room(struct reg_room *room, json_t *event);
/* Sends the room's track list to everyone in it. */
void rpc_event_tracks(struct server *srv, struct reg_room *room);
/* {"type":"event","event":"quality", ...quality}: what the participant receives; steals. */
void rpc_event_quality(struct reg_participant *p, json_t *quality);

/* The room's tracks as a JSON array (for replies and events). */
json_t *rpc_tracks_json(struct server *srv, struct reg_room *room);

/* Ends the lesson in room: everyone hears {"event":"lesson_ended","reason"}, every
 * participant leaves (its peers closed; the websocket stays open), WHIP/WHEP sessions are
 * closed, and the room, unpinned, closes. room is freed: do not use it afterwards. */
void rpc_room_end(struct server *srv, struct reg_room *room, const char *reason);

#endif
