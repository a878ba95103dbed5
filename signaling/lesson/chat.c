/* Chat in a lesson: see chat.h. */
#include "lesson/chat.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "lesson/rooms.h"

/* Text a room can show: 1 to CHAT_TEXT_MAX characters of UTF-8 (the JSON parser checked
 * it), no control characters but line feeds. */
static bool text_ok(const char *text)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
            return false;
        chars += (*p & 0xc0) != 0x80;
    }
    return chars > 0 && chars <= CHAT_TEXT_MAX;
}

enum srv_err chat_post(struct server *srv, struct reg_room *room, const struct chat_from *from,
                       const char *text, char *why, size_t cap)
{
    if (from->role == REG_OBSERVER) {
        snprintf(why, cap, "observers watch unseen: they do not chat");
        return SRV_ERR_FORBIDDEN;
    }
    if (from->role == REG_CLASSROOM && room->chat_closed) {
        snprintf(why, cap, "the teacher has closed chat for classrooms");
        return SRV_ERR_FORBIDDEN;
    }
    if (!text || !text_ok(text)) {
        snprintf(why, cap, "\"text\" must be 1 to %d characters, no control characters",
                 CHAT_TEXT_MAX);
        return SRV_ERR_BAD_REQUEST;
    }
    if (!cr_bucket_take(from->bucket, CHAT_RATE, CHAT_BURST, cr_now_ms())) {
        snprintf(why, cap, "too many messages: at most %.0f a second", CHAT_RATE);
        return SRV_ERR_LIMIT;
    }
    srv->counters.chat_messages++;
    rooms_event(srv, room,
                json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:I}", "type", "event", "event",
                          "chat", "from", "id", from->id, "role", reg_role_name(from->role), "name",
                          from->name, "text", text, "at_ms", (json_int_t)cr_wall_ms()));
    return SRV_ERR_COUNT;
}

void chat_set_closed(struct server *srv, struct reg_room *room, bool closed)
{
    if (room->chat_closed == closed)
        return;
    room->chat_closed = closed;
    CR_INFO("chat", "%s: chat %s for classrooms", room->name, closed ? "closed" : "open");
    rooms_event(
        srv, room,
        json_pack("{s:s, s:s, s:b}", "type", "event", "event", "chat_mode", "classrooms", !closed));
}
