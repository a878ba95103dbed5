/* Rooms and peers of a lesson, and the door into a room: see rooms.h. */
#include "lesson/rooms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classrelay/relay.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "cluster/directory.h"
#include "lesson/links.h"

#define ROOMS_MAX 1000

struct reg_room *rooms_get(struct server *srv, const char *name, enum srv_err *err, char *why,
                           size_t why_len)
{
    if (!reg_room_name_ok(name)) {
        *err = SRV_ERR_BAD_REQUEST;
        snprintf(why, why_len, "a room name is 1 to 64 letters, digits, '-' or '_'");
        return NULL;
    }
    struct reg_room *room = reg_room_find(srv->reg, name);
    if (room)
        return room;
    if (srv->reg->n_rooms >= ROOMS_MAX) {
        *err = SRV_ERR_LIMIT;
        snprintf(why, why_len, "too many rooms open (%d)", ROOMS_MAX);
        return NULL;
    }
    int rc = cr_relay_room_open(srv->relay, name);
    if (rc != 0) {
        *err = srv_err_from_relay(rc);
        snprintf(why, why_len, "the relay cannot open room %s (%d)", name, rc);
        return NULL;
    }
    CR_INFO("rooms", "room %s opened", name);
    room = reg_room_add(srv->reg, name);
    room->record = srv->cfg->record; /* a scheduled lesson's flag replaces it (lifecycle.c) */
    stage_set_limit(&room->stage, srv->cfg->stage_max, NULL);
    return room;
}

void rooms_release(struct server *srv, struct reg_room *room)
{
    if (srv->shutting_down || room->pinned || !reg_room_empty(room))
        return;
    if (srv->relay)
        cr_relay_room_close(srv->relay, room->name);
    links_room_closed(srv, room->name);
    CR_INFO("rooms", "room %s closed (empty)", room->name);
    dir_release(srv->dir, room->name); /* the lesson ended here: its claim goes (if ours) */
    reg_room_remove(srv->reg, room);
}

int rooms_keep_demo(struct server *srv)
{
    if (!srv->cfg->demo || reg_room_find(srv->reg, "demo"))
        return 0;
    enum srv_err e;
    char why[256];
    struct reg_room *demo = rooms_get(srv, "demo", &e, why, sizeof why);
    if (!demo) {
        CR_ERROR("rooms", "cannot open the demo room: %s", why);
        return -1;
    }
    demo->pinned = true;
    return 0;
}

struct cr_track_info *rooms_tracks(struct server *srv, const char *name, size_t *n)
{
    size_t cap = 32, total = 0;
    struct cr_track_info *t = NULL;
    for (int attempt = 0; attempt < 3; attempt++) { /* tracks may come between the calls */
        t = cr_realloc(t, cap * sizeof *t);
        if (cr_relay_room_tracks(srv->relay, name, t, cap, &total) != 0)
            total = 0;
        if (total <= cap)
            break;
        cap = total + 8;
    }
    *n = total < cap ? total : cap;
    if (*n == 0) {
        free(t);
        return NULL;
    }
    return t;
}

void rooms_peer_set(struct reg_peer *slot, uint64_t peer_id)
{
    slot->id = peer_id;
    slot->state = CR_PEER_NEW;
    slot->created_ms = cr_now_ms();
    slot->ever_connected = false;
}

void rooms_peer_close(struct server *srv, struct reg_peer *slot)
{
    if (slot->id && srv->relay)
        cr_relay_peer_close(srv->relay, slot->id);
    memset(slot, 0, sizeof *slot);
}
