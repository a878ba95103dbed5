/* Chat in a lesson (docs/protocol.md, "Chat"): short text messages from the teacher and
 * the classrooms to the whole room, over the websocket or an "events" data channel, each
 * stamped with its sender as the server knows it (never as the client claims). The teacher
 * may close chat for classrooms. A sender has a token bucket of CHAT_BURST messages
 * refilled at CHAT_RATE a second; past it a message is refused, not queued. */
#ifndef CR_SIGNALING_CHAT_H
#define CR_SIGNALING_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/context.h"
#include "core/errors.h"
#include "lesson/registry.h"

#define CHAT_TEXT_MAX 500 /* characters of one message */
#define CHAT_RATE 1.0     /* messages a second, sustained */
#define CHAT_BURST 5.0

/* Who sends: its id, role and name as the registry has them; bucket: its rate limit. */
struct chat_from {
    const char *id;
    enum reg_role role;
    const char *name;
    struct cr_bucket *bucket;
};

/* Posts text to room: SRV_ERR_COUNT on success (the room hears {"event":"chat","from",
 * "text","at_ms"}), else an error with why (empty or too long, control characters, chat
 * closed for classrooms, too fast, an observer). */
enum srv_err chat_post(struct server *srv, struct reg_room *room, const struct chat_from *from,
                       const char *text, char *why, size_t cap);
/* Opens or closes chat for the room's classrooms; the room hears {"event":"chat_mode"}. */
void chat_set_closed(struct server *srv, struct reg_room *room, bool closed);

#endif
