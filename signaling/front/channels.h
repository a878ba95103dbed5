/* The lesson over WebRTC data channels (docs/protocol.md, "Data channels"): any peer (a
 * page, a WHIP publisher, a WHEP player) may open a channel labelled "events". On it the
 * server sends the room's events as JSON text ({"type":"stage", ...}: the websocket's
 * events with "type" set to the event's name) after a {"type":"hello"} with the state
 * now; and reads {"type":"chat","text"}, {"type":"hand","up"} and {"type":"ping"} from the
 * client, who is stamped as the server knows the peer's holder. A bad message gets
 * {"type":"error","code","message"} on the channel and is counted; nothing else is
 * disturbed. The relay limits each peer's rate (route/peer_data.c). */
#ifndef CR_SIGNALING_CHANNELS_H
#define CR_SIGNALING_CHANNELS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/context.h"
#include "lesson/registry.h"

#define CHANNEL_EVENTS "events"

/* Relay events, on the lws thread. */
void channels_on_open(struct server *srv, uint64_t peer_id, const char *label, bool open);
void channels_on_message(struct server *srv, uint64_t peer_id, const char *label,
                         const uint8_t *buf, size_t len, bool binary);
/* A room event (the websocket form, borrowed) for every "events" channel of room. */
void channels_room_event(struct server *srv, struct reg_room *room, const json_t *event);

#endif
