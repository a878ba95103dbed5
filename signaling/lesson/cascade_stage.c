/* The edge's side of classrooms across nodes (docs/cluster.md, "Classrooms and the stage across
 * nodes"): once a second and on change, a lesson pull reports this node's own classrooms of the
 * lesson to its origin (edge_report.h: their ids here, names, hands, what they send), and the
 * answer's stage, held by the origin, is mirrored into the room here so that the pages here
 * show who is on stage and the floor here feeds the stage lines (lesson/floor.c): with its
 * ids of this node's classrooms made local again ("<prefix>.p7" is "p7" here), every other id
 * as given — the sessions the lesson pull opens for classrooms on stage elsewhere bear them.
 *
 * This node owns its classrooms' hands: the mirror keeps them as they are here, but lowers one
 * that the origin's answer to a report carrying it lacks (the teacher lowered it there) and one
 * that is on stage. The answer is another node's JSON: every id goes through stage.c's checks. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "cluster/directory.h"
#include "lesson/cascade_priv.h"
#include "lesson/edge_report.h"
#include "lesson/floor.h"
#include "lesson/rooms.h"

/* What each of the room's publishers sends: bits for owner id, from the relay's tracks. */
static uint8_t sends_of(struct server *srv, const struct cr_track_info *t, size_t n, const char *id)
{
    uint8_t bits = 0;
    for (size_t i = 0; i < n; i++) {
        struct reg_owner o;
        if (!reg_find_peer(srv->reg, t[i].peer_id, &o))
            continue;
        const char *who = o.participant ? o.participant->id : o.resource->id;
        if (strcmp(who, id) == 0)
            bits |= t[i].kind == CR_KIND_AUDIO           ? REG_SENDS_MIC
                    : strcmp(t[i].source, "camera") == 0 ? REG_SENDS_CAMERA
                                                         : 0;
    }
    return bits;
}

static void add_classroom(struct server *srv, struct pull *p, const struct reg_room *room,
                          const struct cr_track_info *t, size_t n, const char *id, const char *name,
                          json_t *arr)
{
    int64_t since = 0;
    bool hand = stage_hand(&room->stage, id, &since) > 0;
    uint8_t s = sends_of(srv, t, n, id);
    json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:{s:b, s:b}}", "id", id, "name", name,
                                         "hand_since_ms", hand ? json_integer(since) : json_null(),
                                         "sending", "mic", (s & REG_SENDS_MIC) != 0, "camera",
                                         (s & REG_SENDS_CAMERA) != 0));
    if (hand && p->n_sent < EDGE_CLASSROOMS_MAX) {
        struct stage_hand *h = &p->sent[p->n_sent++];
        snprintf(h->id, sizeof h->id, "%s", id);
        h->since_ms = since;
    }
}

char *cascade_report_body(struct server *srv, struct pull *p, struct reg_room *room)
{
    size_t n = 0;
    struct cr_track_info *t = rooms_tracks(srv, room->name, &n);
    json_t *arr = json_array();
    if (!p->sent)
        p->sent = cr_calloc(EDGE_CLASSROOMS_MAX, sizeof *p->sent);
    p->n_sent = 0;
    unsigned listed = 0;
    for (const struct reg_participant *q = room->participants; q; q = q->next)
        if (q->role == REG_CLASSROOM && listed++ < EDGE_CLASSROOMS_MAX)
            add_classroom(srv, p, room, t, n, q->id, q->name, arr);
    for (const struct reg_resource *r = room->resources; r; r = r->next)
        if (!r->whep && !r->cascade && !r->node[0] && r->role == REG_CLASSROOM &&
            listed++ < EDGE_CLASSROOMS_MAX)
            add_classroom(srv, p, room, t, n, r->id, r->name, arr);
    free(t);
    json_t *v = json_pack("{s:o}", "classrooms", arr);
    char *body = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return body;
}

/* id of the origin's stage as this node names it (its own classrooms' local ids). */
static const char *here(const char *me, const char *id)
{
    const char *local = me[0] ? edge_id_local(me, id) : NULL;
    return local ? local : id;
}

/* Whether local hand h was in the report the answer answers and the answer lacks it. */
static bool lowered_there(const struct pull *p, const struct stage_hand *h, json_t *hands,
                          const char *me)
{
    bool sent = false;
    for (unsigned i = 0; i < p->n_sent && !sent; i++)
        sent = strcmp(p->sent[i].id, h->id) == 0 && p->sent[i].since_ms == h->since_ms;
    size_t i;
    json_t *v;
    json_array_foreach(hands, i, v)
    {
        const char *id = json_string_value(json_object_get(v, "id"));
        if (sent && id && strcmp(here(me, id), h->id) == 0)
            return false;
    }
    return sent;
}

static int by_since(const void *a, const void *b)
{
    const struct stage_hand *x = a, *y = b;
    return x->since_ms < y->since_ms ? -1 : x->since_ms > y->since_ms;
}

/* The hands of the mirror: the origin's of other nodes' classrooms, this node's own as they
 * are here (but those lowered there or on stage), in the order raised. */
static void mirror_hands(struct pull *p, const struct reg_room *room, json_t *hands, const char *me,
                         struct stage *st)
{
    struct stage_hand *all = cr_calloc(2 * STAGE_HANDS_MAX, sizeof *all);
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(hands, i, v)
    {
        const char *id = json_string_value(json_object_get(v, "id"));
        json_t *since = json_object_get(v, "since_ms");
        if (n < STAGE_HANDS_MAX && id && json_is_integer(since) && strlen(id) <= STAGE_ID_MAX &&
            here(me, id) == id) {
            snprintf(all[n].id, sizeof all[n].id, "%s", id);
            all[n++].since_ms = json_integer_value(since);
        }
    }
    for (unsigned k = 0; k < room->stage.n_hands; k++) {
        const struct stage_hand *h = &room->stage.hands[k];
        if (!strchr(h->id, '.') && !stage_is_on(st, h->id) && !lowered_there(p, h, hands, me))
            all[n++] = *h;
    }
    qsort(all, n, sizeof *all, by_since);
    for (i = 0; i < n; i++)
        stage_hand_up(st, all[i].id, all[i].since_ms); /* checks each id */
    free(all);
}

void cascade_mirror(struct server *srv, struct pull *p, struct reg_room *room, json_t *stage)
{
    const char *me = srv->dir ? dir_node_id(srv->dir) : "";
    struct stage *st = cr_malloc(sizeof *st);
    json_int_t max = json_integer_value(json_object_get(stage, "max"));
    stage_init(st, max >= 1 && max <= STAGE_LIMIT_MAX ? (unsigned)max : STAGE_LIMIT_DEFAULT);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(stage, "on"), i, v)
    {
        if (json_is_string(v) && st->n_on < st->limit)
            stage_call(st, here(me, json_string_value(v)), NULL);
    }
    json_array_foreach(json_object_get(stage, "muted"), i, v)
    {
        if (json_is_string(v))
            stage_mute(st, here(me, json_string_value(v)));
    }
    mirror_hands(p, room, json_object_get(stage, "hands"), me, st);
    floor_mirror(srv, room, st);
    free(st);
}
