/* The origin's side of cascade links: see links.h (docs/cluster.md). */
#include "lesson/links.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "access/node_sig.h"
#include "base/log.h"
#include "cluster/directory.h"
#include "lesson/edge_report.h"
#include "lesson/registry.h"

#define LINKS_MAX 512

struct link_entry {
    uint64_t id; /* 0: a free slot */
    char room[REG_ROOM_MAX * 4 + 1];
};

struct link_set {
    struct link_entry e[LINKS_MAX];
    unsigned n;
};

struct link_set *links_new(void) { return CR_NEW(struct link_set); }

void links_free(struct link_set *ls) { free(ls); }

static struct link_entry *find(struct link_set *ls, uint64_t id)
{
    for (unsigned i = 0; id && i < LINKS_MAX; i++)
        if (ls->e[i].id == id)
            return &ls->e[i];
    return NULL;
}

static void forget(struct link_set *ls, struct link_entry *le)
{
    le->id = 0;
    ls->n--;
}

static json_t *hints_json(const struct cr_link_offer *o)
{
    json_t *a = json_array();
    for (size_t i = 0; i < o->n_hints; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:s}", "mid", o->hints[i].mid, "source", o->hints[i].source));
    return a;
}

/* A publisher of the room, as each_publisher hands it out. */
struct publisher {
    uint64_t peer;
    const char *who;  /* its id here */
    const char *gid;  /* its id across the cluster */
    const char *role; /* "teacher" or "stage" */
};

/* One link for publisher pb; appended to arr. */
static int open_one(struct server *srv, struct reg_room *room, const struct publisher *pb,
                    json_t *arr)
{
    uint64_t peer = pb->peer;
    const char *who = pb->who, *role = pb->role;
    struct link_entry *slot = NULL;
    for (unsigned i = 0; srv->links && i < LINKS_MAX && !slot; i++)
        if (!srv->links->e[i].id)
            slot = &srv->links->e[i];
    if (!slot)
        return CR_ERR_LIMIT;
    struct cr_link_offer *o = cr_malloc(sizeof *o);
    int r = cr_relay_link_open(srv->relay, peer, o);
    if (r == CR_OK) {
        slot->id = o->link_id;
        snprintf(slot->room, sizeof slot->room, "%s", room->name);
        srv->links->n++;
        char id[24];
        snprintf(id, sizeof id, "%llu", (unsigned long long)o->link_id);
        char src[64], sig[NODE_SIG_LEN + 1];
        snprintf(src, sizeof src, "%s:%llu", who, (unsigned long long)peer);
        node_sig(srv->key, "offer", room->name, id, o->sdp, strlen(o->sdp), sig);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", id,
                                             "source", src, "role", role, "participant", pb->gid,
                                             "sdp", o->sdp, "sig", sig, "hints", hints_json(o)));
        CR_INFO("links", "link %s for %s %s of room %s", id, role, who, room->name);
    } else {
        CR_WARN("links", "no link for %s of room %s: %s", who, room->name, o->err);
    }
    free(o->sdp);
    free(o);
    return r;
}

typedef void (*publisher_fn)(void *ud, const struct publisher *pb);

/* Hands publisher who (a participant's or a session's publish peer) to fn if w wants it. */
static void offer(struct server *srv, const struct reg_room *room, const struct links_want *w,
                  uint64_t peer, const char *who, bool teacher, const char *gid, publisher_fn fn,
                  void *ud)
{
    bool on = stage_is_on(&room->stage, who);
    if (!peer || (w->source ? strcmp(w->source, who) != 0 : !teacher && !on))
        return;
    char own[REG_ID_MAX];
    const char *me = srv->dir ? dir_node_id(srv->dir) : "";
    if (!gid) /* one of this node's: prefixed with its own id across the cluster */
        gid = me[0] && edge_id_make(me, who, own, sizeof own) == 0 ? own : who;
    struct publisher pb = {peer, who, gid, on || !teacher ? "stage" : "teacher"};
    fn(ud, &pb);
}

/* Calls fn for each publisher of room that w wants: by default its teacher and who is on stage
 * (a classroom of another node too, but never back to that node). Sessions mirrored from other
 * nodes (cascade) are never linked on: the origin links everyone. */
static void each_publisher(struct server *srv, struct reg_room *room, const struct links_want *w,
                           publisher_fn fn, void *ud)
{
    for (struct reg_participant *p = room->participants; p; p = p->next)
        offer(srv, room, w, p->peers[REG_PUBLISH].id, p->id, p->role == REG_TEACHER, NULL, fn, ud);
    for (struct reg_resource *r = room->resources; r; r = r->next) {
        if (r->whep || r->cascade || (r->node[0] && w->node && strcmp(r->node, w->node) == 0))
            continue;
        offer(srv, room, w, r->peer.id, r->id, r->role == REG_TEACHER, r->node[0] ? r->id : NULL,
              fn, ud);
    }
}

struct open_ctx {
    struct server *srv;
    struct reg_room *room;
    json_t *arr;
    int last;
};

static void open_each(void *ud, const struct publisher *pb)
{
    struct open_ctx *o = ud;
    o->last = open_one(o->srv, o->room, pb, o->arr);
}

int links_open(struct server *srv, struct reg_room *room, const struct links_want *w, json_t **out,
               enum srv_err *e, char *why, size_t why_len)
{
    struct open_ctx o = {srv, room, json_array(), CR_OK};
    each_publisher(srv, room, w, open_each, &o);
    if (json_array_size(o.arr) == 0) {
        json_decref(o.arr);
        *e = o.last == CR_OK ? SRV_ERR_NOT_FOUND : srv_err_from_relay(o.last);
        snprintf(why, why_len, "%s",
                 o.last == CR_OK ? "nobody publishes in this room"
                                 : "the relay could not open a link");
        return -1;
    }
    *out = json_pack("{s:o}", "links", o.arr);
    return 0;
}

static void source_each(void *ud, const struct publisher *pb)
{
    char s[64];
    snprintf(s, sizeof s, "%s:%llu", pb->who, (unsigned long long)pb->peer);
    json_array_append_new(ud, json_pack("{s:s, s:s}", "source", s, "role", pb->role));
}

json_t *links_sources(struct server *srv, struct reg_room *room, const struct links_want *w)
{
    json_t *arr = json_array();
    each_publisher(srv, room, w, source_each, arr);
    return arr;
}

int links_answer(struct server *srv, const char *room, uint64_t id, const char *sdp,
                 enum srv_err *e, char *why, size_t why_len)
{
    struct link_entry *le = srv->links ? find(srv->links, id) : NULL;
    if (!le || strcmp(le->room, room) != 0) {
        *e = SRV_ERR_NOT_FOUND;
        snprintf(why, why_len, "no such link in this room");
        return -1;
    }
    int r = cr_relay_link_answer(srv->relay, id, sdp, why, why_len);
    if (r != CR_OK) {
        *e = srv_err_from_relay(r);
        return -1;
    }
    return 0;
}

int links_close(struct server *srv, const char *room, uint64_t id)
{
    struct link_entry *le = srv->links ? find(srv->links, id) : NULL;
    if (!le || strcmp(le->room, room) != 0)
        return -1;
    cr_relay_peer_close(srv->relay, id);
    forget(srv->links, le);
    return 0;
}

bool links_on_state(struct server *srv, uint64_t peer_id, enum cr_peer_state state)
{
    struct link_entry *le = srv->links ? find(srv->links, peer_id) : NULL;
    if (!le)
        return false;
    CR_INFO("links", "link %llu of room %s: %s", (unsigned long long)peer_id, le->room,
            cr_peer_state_name(state));
    if (state == CR_PEER_FAILED || state == CR_PEER_CLOSED) {
        cr_relay_peer_close(srv->relay, peer_id);
        forget(srv->links, le);
    }
    return true;
}

void links_room_closed(struct server *srv, const char *room)
{
    for (unsigned i = 0; srv->links && i < LINKS_MAX; i++)
        if (srv->links->e[i].id && strcmp(srv->links->e[i].room, room) == 0)
            forget(srv->links, &srv->links->e[i]);
}

unsigned links_count(const struct server *srv) { return srv->links ? srv->links->n : 0; }
