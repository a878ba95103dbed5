/* Fuzz entry point for the lesson over data channels (signaling/front/channels.c): each
 * line of the input is one message a client sends on its "events" channel (a line that
 * begins with a tab: sent as binary), from a WHEP classroom box in the demo room, which
 * holds a relay peer number the relay does not know (what the server sends back goes
 * nowhere). The server around it is real but has no sockets: a relay (its worker, ICE on
 * 127.0.0.1 only) with the room open, the registry, chat and the stage (lesson/chat.c,
 * lesson/floor.c). Checks: nothing crashes, the box's hand is the only hand there can be,
 * nobody gets on stage, and every message is counted in or bad. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "front/channels.h"
#include "lesson/evq.h"
#include "lesson/registry.h"
#include "lesson/rooms.h"
#include "server.h"

#define BOX_PEER 424242

static struct server srv;
static struct config cfg;
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

static void cleanup(void)
{
    cr_relay_free(srv.relay);
    reg_clear(srv.reg);
    evq_destroy(srv.evq);
    free(srv.reg);
    free(srv.evq);
}

static void init_once(void)
{
    cr_log_set_level(CR_LOG_ERROR);
    cfg = config_defaults;
    srv.cfg = &cfg;
    srv.started_ms = cr_now_ms();
    srv.reg = CR_NEW(struct registry);
    reg_init(srv.reg);
    srv.evq = CR_NEW(struct evq);
    evq_init(srv.evq);
    srv.lesson_ev = &events;
    struct cr_relay_config rc = CR_RELAY_CONFIG_DEFAULT;
    rc.port_min = rc.port_max = 0;
    rc.ice_tcp = false;
    rc.bind_ip = "127.0.0.1";
    static const struct cr_relay_events relay_events = {0};
    srv.relay = cr_relay_new(&rc, &relay_events, &srv);
    if (!srv.relay || cr_relay_room_open(srv.relay, "demo") != 0)
        abort();
    room = reg_room_add(srv.reg, "demo");
    struct reg_resource *box = reg_resource_add(room, true);
    box->role = REG_CLASSROOM;
    snprintf(box->name, sizeof box->name, "Box");
    box->peer.id = BOX_PEER;
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv.relay)
        init_once();
    uint64_t before = srv.counters.data_messages_in;
    size_t n_lines = 0;
    const uint8_t *p = data, *end = data + size;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        bool binary = n > 0 && p[0] == '\t';
        uint8_t *msg = malloc(n ? n : 1); /* exact size: overreads are caught */
        memcpy(msg, p, n);
        channels_on_message(&srv, BOX_PEER, "events", msg + binary, n - binary, binary);
        free(msg);
        n_lines++;
        p += n + (nl != NULL);
    }
    if (srv.counters.data_messages_in != before + n_lines)
        abort();
    if (room->stage.n_on != 0 || room->stage.n_hands > 1)
        abort();
    room->stage.n_hands = 0; /* the next input starts with the hand down, chat open */
    room->resources->chat = (struct reg_bucket){0};
    return 0;
}
