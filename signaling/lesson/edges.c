/* Other nodes' classrooms at the origin: see edges.h. On the lws thread. */
#include "lesson/edges.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cluster/directory.h"
#include "lesson/floor.h"
#include "lesson/links.h"
#include "lesson/rooms.h"
#include "lesson/session.h"

_Static_assert(REG_NODE_MAX == DIR_ID_MAX, "a resource's node is a directory id");
_Static_assert(EDGE_PREFIX_LEN + 1 + EDGE_LOCAL_ID_MAX < REG_ID_MAX, "global ids fit");

/* node's classroom c listed in room (new: announced); NULL if its id is another's. */
static struct reg_resource *listed(struct server *srv, struct reg_room *room, const char *node,
                                   const struct edge_classroom *c)
{
    char gid[REG_ID_MAX];
    if (edge_id_make(node, c->id, gid, sizeof gid) != 0)
        return NULL;
    struct reg_resource *r = reg_resource_find(room, gid, false);
    if (r)
        return strcmp(r->node, node) == 0 ? r : NULL; /* two nodes of one prefix: the first */
    r = reg_resource_add(room, false);
    snprintf(r->id, sizeof r->id, "%s", gid);
    snprintf(r->node, sizeof r->node, "%s", node);
    snprintf(r->name, sizeof r->name, "%s", c->name);
    r->role = REG_CLASSROOM;
    CR_INFO("edges", "room %s: classroom %s (\"%s\") of node %.8s listed", room->name, r->id,
            r->name, node);
    rooms_event(srv, room,
                json_pack("{s:s, s:s, s:o}", "type", "event", "event", "participant_joined",
                          "participant", session_participant_json(r)));
    return r;
}

/* The hand of r as its node reports it (since 0: down); true if the queue changed. A hand the
 * origin lowered (the teacher's hands_down, a call on stage) is raised again only by a new
 * raise there (another since). */
static bool sync_hand(struct reg_room *room, struct reg_resource *r, int64_t since)
{
    bool up = stage_hand(&room->stage, r->id, NULL) > 0;
    if (since && !up && since != r->hand_ms && !stage_is_on(&room->stage, r->id)) {
        r->hand_ms = since;
        return stage_hand_up(&room->stage, r->id, since) == STAGE_OK;
    }
    if (!since && up)
        return stage_hand_down(&room->stage, r->id) == STAGE_OK;
    return false;
}

/* Forgets r, a classroom of another node: its link, its listing, its place on the floor. */
static void forget(struct server *srv, struct reg_resource *r)
{
    CR_INFO("edges", "room %s: classroom %s of node %.8s forgotten", r->room->name, r->id, r->node);
    if (r->peer.id)
        session_peer_lost(srv, r);
    session_close(srv, r); /* announces participant_left, may close the room */
}

json_t *edges_stage_json(struct server *srv, const struct reg_room *room)
{
    json_t *st = floor_json(room, false), *v;
    const char *me = srv->dir ? dir_node_id(srv->dir) : "";
    static const char *const lists[] = {"on", "muted", "hands"};
    for (size_t k = 0; me[0] && k < 3; k++) {
        size_t i;
        json_array_foreach(json_object_get(st, lists[k]), i, v)
        {
            json_t *idv = k == 2 ? json_object_get(v, "id") : v;
            const char *id = json_string_value(idv);
            char gid[REG_ID_MAX];
            if (id && !strchr(id, '.') && edge_id_make(me, id, gid, sizeof gid) == 0)
                json_string_set(idv, gid);
        }
    }
    return st;
}

json_t *edges_report(struct server *srv, struct reg_room *room, const char *node,
                     const struct edge_report *rep, int64_t now_ms)
{
    bool changed = false;
    for (unsigned i = 0; i < rep->n; i++) {
        struct reg_resource *r = listed(srv, room, node, &rep->c[i]);
        if (!r)
            continue;
        r->seen_ms = now_ms;
        r->sends = rep->c[i].sends;
        changed |= sync_hand(room, r, rep->c[i].hand_since_ms);
    }
    if (changed)
        floor_changed(srv, room);
    char name[REG_ROOM_MAX + 1];
    snprintf(name, sizeof name, "%s", room->name);
    struct reg_resource *r = room->resources, *next;
    for (; r; r = next) { /* those it no longer reports */
        next = r->next;
        if (strcmp(r->node, node) == 0 && r->seen_ms != now_ms) {
            bool last = !next; /* the room may close with its last resource */
            forget(srv, r);
            if (last)
                break;
        }
    }
    room = reg_room_find(srv->reg, name);
    struct links_want w = {.node = node};
    return json_pack("{s:o, s:o}", "sources", room ? links_sources(srv, room, &w) : json_array(),
                     "stage", room ? edges_stage_json(srv, room) : json_object());
}

/* The first classroom of room whose node stopped reporting, or NULL. */
static struct reg_resource *stale(struct reg_room *room, int64_t now_ms)
{
    for (struct reg_resource *r = room->resources; r; r = r->next)
        if (r->node[0] && now_ms - r->seen_ms > EDGES_FORGET_MS)
            return r;
    return NULL;
}

void edges_tick(struct server *srv, int64_t now_ms)
{
    struct reg_room *room = srv->reg->rooms, *next;
    for (; room; room = next) {
        next = room->next;
        char name[REG_ROOM_MAX + 1];
        snprintf(name, sizeof name, "%s", room->name);
        struct reg_resource *r;
        while ((room = reg_room_find(srv->reg, name)) && (r = stale(room, now_ms)))
            forget(srv, r);
    }
}
