/* The lesson over data channels: see channels.h. */
#include "front/channels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "lesson/cascade.h"
#include "lesson/chat.h"
#include "lesson/floor.h"
#include "lesson/quiz.h"

/* Who holds peer_id, as chat and the floor know it; false if nobody. */
static bool holder(struct server *srv, uint64_t peer_id, struct reg_room **room,
                   struct chat_from *from)
{
    struct reg_owner o;
    if (!reg_find_peer(srv->reg, peer_id, &o))
        return false;
    if (o.participant) {
        *room = o.participant->room;
        *from = (struct chat_from){o.participant->id, o.participant->role, o.participant->name,
                                   &o.participant->chat};
    } else {
        *room = o.resource->room;
        *from = (struct chat_from){o.resource->id, o.resource->role, o.resource->name,
                                   &o.resource->chat};
    }
    return *room != NULL;
}

static void send_json(struct server *srv, uint64_t peer_id, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (text)
        cr_relay_channel_send(srv->relay, NULL, peer_id, CHANNEL_EVENTS, text, strlen(text), false);
    free(text);
}

static void send_error(struct server *srv, uint64_t peer_id, enum srv_err e, const char *why)
{
    srv->counters.data_messages_bad++;
    srv_count_error_via(srv, SRV_VIA_CHANNEL, e);
    json_t *v =
        json_pack("{s:s, s:s, s:s}", "type", "error", "code", srv_err_code(e), "message", why);
    send_json(srv, peer_id, v ? v : json_pack("{s:s, s:s}", "type", "error", "code", "bad_json"));
}

void channels_on_open(struct server *srv, uint64_t peer_id, const char *label, bool open)
{
    struct reg_room *room;
    struct chat_from from;
    if (!open || strcmp(label, CHANNEL_EVENTS) != 0 || !holder(srv, peer_id, &room, &from))
        return;
    send_json(srv, peer_id,
              json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:{s:b}}", "type", "hello", "room",
                        room->name, "you", "id", from.id, "role", reg_role_name(from.role), "name",
                        from.name, "stage", floor_json(room, false), "chat", "classrooms",
                        !room->chat_closed));
}

/* {"type":"chat","text":...} and {"type":"hand","up":...} from the holder of peer_id. */
static void handle(struct server *srv, uint64_t peer_id, struct reg_room *room,
                   const struct chat_from *from, json_t *msg)
{
    const char *type = json_string_value(json_object_get(msg, "type"));
    char why[256];
    enum srv_err e = SRV_ERR_COUNT;
    if (type && strcmp(type, "chat") == 0) {
        e = chat_post(srv, room, from, json_string_value(json_object_get(msg, "text")), why,
                      sizeof why);
    } else if (type && strcmp(type, "hand") == 0) {
        json_t *up = json_object_get(msg, "up");
        if (up && !json_is_boolean(up)) {
            e = SRV_ERR_BAD_REQUEST;
            snprintf(why, sizeof why, "\"up\" must be true or false");
        } else if (from->role != REG_CLASSROOM) {
            e = SRV_ERR_FORBIDDEN;
            snprintf(why, sizeof why, "only a classroom raises its hand");
        } else {
            e = floor_hand(srv, room, from->id, !up || json_is_true(up), why, sizeof why);
            if (e == SRV_ERR_COUNT) /* the origin hears it now (docs/cluster.md) */
                cascade_room_changed(srv, room);
        }
    } else if (type && strcmp(type, "quiz_answer") == 0) {
        json_t *c = json_object_get(msg, "choice");
        e = from->role != REG_CLASSROOM
                ? SRV_ERR_FORBIDDEN
                : quiz_answer(srv, room, from->id, json_is_integer(c) ? json_integer_value(c) : -1,
                              why, sizeof why);
        if (e == SRV_ERR_FORBIDDEN && from->role != REG_CLASSROOM)
            snprintf(why, sizeof why, "only a classroom answers a quiz");
    } else if (type && strcmp(type, "ping") == 0) {
        send_json(srv, peer_id, json_pack("{s:s}", "type", "pong"));
    } else {
        e = SRV_ERR_BAD_REQUEST;
        snprintf(why, sizeof why,
                 "\"type\" must be \"chat\", \"hand\", \"quiz_answer\" or \"ping\"");
    }
    if (e != SRV_ERR_COUNT)
        send_error(srv, peer_id, e, why);
}

void channels_on_message(struct server *srv, uint64_t peer_id, const char *label,
                         const uint8_t *buf, size_t len, bool binary)
{
    struct reg_room *room;
    struct chat_from from;
    if (strcmp(label, CHANNEL_EVENTS) != 0 || !holder(srv, peer_id, &room, &from))
        return; /* other channels are the client's own business */
    srv->counters.data_messages_in++;
    if (binary) {
        send_error(srv, peer_id, SRV_ERR_BAD_JSON, "the events channel carries JSON text");
        return;
    }
    json_error_t jerr;
    json_t *msg = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(msg))
        send_error(srv, peer_id, SRV_ERR_BAD_JSON, "a message must be one JSON object");
    else
        handle(srv, peer_id, room, &from, msg);
    json_decref(msg);
}

void channels_room_event(struct server *srv, struct reg_room *room, const json_t *event)
{
    const char *name = json_string_value(json_object_get(event, "event"));
    if (!name)
        return;
    json_t *v = json_deep_copy(event);
    json_object_set_new(v, "type", json_string(name));
    json_object_del(v, "event");
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (text && strlen(text) <= 16384)
        cr_relay_channel_send(srv->relay, room->name, 0, CHANNEL_EVENTS, text, strlen(text), false);
    else
        CR_WARN("channels", "%s: event %s too large for a data channel", room->name, name);
    free(text);
}
