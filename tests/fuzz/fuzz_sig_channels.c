/* Fuzz entry point for the lesson over data channels (signaling/front/channels.c): each
 * line of the input is one message a client sends on its "events" channel (a line that
 * begins with a tab: sent as binary), from a WHEP classroom box in the demo room, which
 * holds a relay peer number the relay does not know (what the server sends back goes
 * nowhere). The server around it is sig_server.h's, with the room open, chat and the
 * stage (lesson/chat.c, lesson/floor.c). Checks: nothing crashes, the box's hand is the only hand
 * there can be, nobody gets on stage, and every message is counted in or bad. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/channels.h"
#include "lesson/rooms.h"
#include "sig_server.h"

#define BOX_PEER 424242

static struct server *srvp;
static struct reg_room *room;

static void room_event(struct server *s, struct reg_room *r, json_t *event)
{
    channels_room_event(s, r, event);
    json_decref(event);
}

static void room_end(struct server *s, struct reg_room *r, const char *reason) {}

static void teacher_event(struct server *s, struct reg_room *r, json_t *event)
{
    json_decref(event);
}

static const struct lesson_events events = {
    .room_event = room_event, .teacher_event = teacher_event, .room_end = room_end};

static void init_once(void)
{
    static const struct cr_relay_events relay_events = {0};
    srvp = sig_server_start(&events, &relay_events);
    if (cr_relay_room_open(srvp->relay, "demo") != 0)
        abort();
    room = reg_room_add(srvp->reg, "demo");
    struct reg_resource *box = reg_resource_add(room, true);
    box->role = REG_CLASSROOM;
    snprintf(box->name, sizeof box->name, "Box");
    box->peer.id = BOX_PEER;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srvp)
        init_once();
    struct server *srv = srvp;
    uint64_t before = srv->counters.data_messages_in;
    size_t n_lines = 0;
    const uint8_t *p = data, *end = data + size;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        bool binary = n > 0 && p[0] == '\t';
        uint8_t *msg = malloc(n ? n : 1); /* exact size: overreads are caught */
        memcpy(msg, p, n);
        channels_on_message(srv, BOX_PEER, "events", msg + binary, n - binary, binary);
        free(msg);
        n_lines++;
        p += n + (nl != NULL);
    }
    if (srv->counters.data_messages_in != before + n_lines)
        abort();
    if (room->stage.n_on != 0 || room->stage.n_hands > 1)
        abort();
    room->stage.n_hands = 0; /* the next input starts with the hand down, chat open */
    room->resources->chat = (struct cr_bucket){0};
    return 0;
}
