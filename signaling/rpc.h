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

#include "registry.h"
#include "server.h"
#include "ws.h"

/* Handles one complete text message from c. */
void rpc_handle(struct ws_conn *c, const char *text, size_t len);
/* Sends an error reply (id NULL: "id":null) and counts it. */
void rpc_reply_error(struct ws_conn *c, json_t *id, enum srv_err e, const char *message);
/* The connection closed: leave its room, close its peers. */
void rpc_conn_closed(struct ws_conn *c);

/* Relay events for a participant's peer (already recorded in the registry). */
void rpc_event_peer_state(struct reg_participant *p, enum reg_target target,
                          enum cr_peer_state state, const char *reason);
void rpc_event_candidate(struct reg_participant *p, enum reg_target target, const char *mid,
                         const char *candidate);
/* Sends event to everyone in the room; steals event. */
void rpc_event_room(struct reg_room *room, json_t *event);
/* Sends the room's track list to everyone in it. */
void rpc_event_tracks(struct server *srv, struct reg_room *room);
/* {"type":"event","event":"quality", ...quality}: what the participant receives; steals. */
void rpc_event_quality(struct reg_participant *p, json_t *quality);

/* The room's tracks as a JSON array (for replies and events). */
json_t *rpc_tracks_json(struct server *srv, struct reg_room *room);

const char *rpc_state_name(enum cr_peer_state state);

/* Ends the lesson in room: everyone hears {"event":"lesson_ended","reason"}, every
 * participant leaves (its peers closed; the websocket stays open), WHIP/WHEP sessions are
 * closed, and the room, unpinned, closes. room is freed: do not use it afterwards. */
void rpc_room_end(struct server *srv, struct reg_room *room, const char *reason);

#endif
