/* The edge's side of a cascade: see cascade.h (docs/cluster.md). All on the lws thread but
 * the HTTP calls (cascade_q.c). */
#include "lesson/cascade.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/token.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "cluster/directory.h"
#include "lesson/cascade_priv.h"
#include "lesson/edge_report.h"
#include "lesson/place.h"
#include "lesson/session.h"

struct cascade *cascade_new(struct server *srv)
{
    struct cascade *c = CR_NEW(struct cascade);
    if (cascade_q_start(&c->q, srv) != 0)
        CR_ERROR("cascade", "cannot start the cascade's thread: lessons are not pulled");
    return c;
}

void cascade_free(struct cascade *c)
{
    if (!c)
        return;
    cascade_q_stop(&c->q);
    while (c->pulls) {
        struct pull *p = c->pulls;
        c->pulls = p->next;
        free(p->sent);
        free(p);
    }
    free(c);
}

struct pull *cascade_find(struct cascade *c, const char *room)
{
    for (struct pull *p = c->pulls; p; p = p->next)
        if (p->kind == PULL_LESSON && strcmp(p->room, room) == 0)
            return p;
    return NULL;
}

static struct pull *find_classroom(struct cascade *c, const char *room, const char *who)
{
    for (struct pull *p = c->pulls; p; p = p->next)
        if (p->kind == PULL_CLASSROOM && strcmp(p->room, room) == 0 && strcmp(p->who, who) == 0)
            return p;
    return NULL;
}

void cascade_call(struct server *srv, struct pull *p, const char *method, const char *sub,
                  char *body, const char *type, const char *what)
{
    struct token_claims tc = {.sub = "node", .name = "", .role = ROLE_NODE};
    tc.iat = (int64_t)time(NULL);
    tc.exp = tc.iat + TOKEN_TTL_S;
    char tok[TOKEN_MAX + 1];
    struct cascade_job *j = CR_NEW(struct cascade_job);
    snprintf(j->room, sizeof j->room, "%s", p->room);
    snprintf(j->label, sizeof j->label, "%u %s", p->serial, what);
    snprintf(j->base, sizeof j->base, "%s", p->origin);
    snprintf(j->method, sizeof j->method, "%s", method);
    snprintf(j->path, sizeof j->path, "/api/v1/rooms/%s/links%s", p->room, sub);
    j->token = token_sign(srv->key, &tc, tok, sizeof tok) == 0 ? cr_strdup(tok) : NULL;
    j->body = body;
    snprintf(j->type, sizeof j->type, "%s", body ? type : "");
    bool *flag = strcmp(what, "open") == 0   ? &p->busy
                 : strcmp(what, "poll") == 0 ? &p->reporting
                                             : NULL;
    if (flag)
        *flag = true;
    if (!cascade_q_post(&srv->cascade->q, j) && flag)
        *flag = false;
}

/* Whether anyone but the cascade's own sessions is in room here. */
static bool wanted(const struct reg_room *room)
{
    if (room->participants)
        return true;
    for (const struct reg_resource *r = room->resources; r; r = r->next)
        if (!r->cascade)
            return true;
    return false;
}

/* Whether room has a teacher publishing here (then this node is its origin, or becomes it). */
static bool teacher_here(const struct reg_room *room)
{
    for (const struct reg_participant *p = room->participants; p; p = p->next)
        if (p->role == REG_TEACHER && p->peers[REG_PUBLISH].id)
            return true;
    for (const struct reg_resource *r = room->resources; r; r = r->next)
        if (!r->whep && !r->cascade && r->role == REG_TEACHER)
            return true;
    return false;
}

void cascade_drop_links(struct server *srv, struct pull *p)
{
    for (unsigned i = 0; i < p->n; i++) {
        struct reg_resource *r = p->links[i].r;
        p->links[i].r = NULL; /* so session_close's notice finds nothing */
        if (r)                /* a classroom of another node stays listed, without its link */
            session_peer_lost(srv, r);
        char sub[32], what[40];
        snprintf(sub, sizeof sub, "/%s", p->links[i].id);
        snprintf(what, sizeof what, "close %s", p->links[i].id);
        cascade_call(srv, p, "DELETE", sub, NULL, NULL, what);
    }
    srv->cascade->links -= p->n;
    p->n = 0;
    p->sources[0] = '\0';
    p->stale = false;
}

void cascade_request(struct server *srv, struct pull *p)
{
    char sub[160];
    const char *me = srv->dir ? dir_node_id(srv->dir) : "";
    if (p->kind == PULL_CLASSROOM)
        snprintf(sub, sizeof sub, "?source=%s&node=%s", p->who + EDGE_PREFIX_LEN + 1, me);
    else
        snprintf(sub, sizeof sub, "%s%s", me[0] ? "?node=" : "", me);
    CR_INFO("cascade", "room %s: asking %s for links%s%s", p->room, p->origin,
            p->kind == PULL_CLASSROOM ? " to classroom " : "", p->who);
    cascade_call(srv, p, "POST", sub, NULL, NULL, "open");
}

static struct pull *pull_new(struct server *srv, enum pull_kind kind, const char *room,
                             const char *origin)
{
    struct pull *p = CR_NEW(struct pull);
    p->kind = kind;
    p->serial = ++srv->cascade->serial;
    snprintf(p->room, sizeof p->room, "%s", room);
    snprintf(p->origin, sizeof p->origin, "%s", origin);
    p->next = srv->cascade->pulls;
    srv->cascade->pulls = p;
    return p;
}

void cascade_want(struct server *srv, const char *room)
{
    char origin[DIR_URL_MAX];
    struct reg_room *rm = reg_room_find(srv->reg, room);
    if (!srv->cascade || !rm || cascade_find(srv->cascade, room) || teacher_here(rm) ||
        !place_origin(srv, room, origin, sizeof origin))
        return;
    cascade_request(srv, pull_new(srv, PULL_LESSON, room, origin));
}

static void pull_free(struct server *srv, struct pull *p)
{
    cascade_drop_links(srv, p);
    for (struct pull **pp = &srv->cascade->pulls; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    CR_INFO("cascade", "room %s: %s%s no longer pulled from %s", p->room,
            p->kind == PULL_CLASSROOM ? "classroom " : "", p->who, p->origin);
    free(p->sent);
    free(p);
}

/* Where node is: its URL from the directory, false if it is not alive. */
static bool node_url(struct server *srv, const char *node, char *url, size_t cap)
{
    static struct dir_node nodes[64]; /* lws thread only */
    size_t n = srv->dir ? dir_nodes(srv->dir, nodes, 64) : 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(nodes[i].id, node) == 0) {
            snprintf(url, cap, "%s", nodes[i].url);
            return true;
        }
    }
    return false;
}

/* The classroom of another node that p brings here, while it is on stage; else NULL. */
static struct reg_resource *pulled_classroom(struct server *srv, const struct pull *p)
{
    struct reg_room *room = reg_room_find(srv->reg, p->room);
    struct reg_resource *r = room ? reg_resource_find(room, p->who, false) : NULL;
    return r && strcmp(r->node, p->node) == 0 && stage_is_on(&room->stage, r->id) ? r : NULL;
}

/* A lesson pull at the tick: false when it was freed. */
static bool tick_lesson(struct server *srv, struct pull *p, int64_t now_ms)
{
    struct reg_room *room = reg_room_find(srv->reg, p->room);
    char origin[DIR_URL_MAX];
    bool known = room && place_origin(srv, p->room, origin, sizeof origin);
    if (!known && room && p->n && !p->stale) {
        /* the directory does not know the origin now (Redis away, or back and not yet
         * written again: docs/cluster.md) but the links still carry the lesson: kept until
         * it names another origin, or they close */
        snprintf(origin, sizeof origin, "%s", p->origin);
        known = true;
    }
    if (!known || !wanted(room) || teacher_here(room)) {
        pull_free(srv, p);
        return false;
    }
    if (strcmp(origin, p->origin) != 0 || p->stale) {
        CR_INFO("cascade", "room %s: %s, linking again", p->room,
                p->stale ? "a link closed" : "its origin changed");
        cascade_drop_links(srv, p);
        snprintf(p->origin, sizeof p->origin, "%s", origin);
        p->next_ms = 0;
    }
    if (!p->reporting && now_ms >= p->report_ms)
        cascade_report(srv, p, room);
    if (!p->busy && p->n == 0 && now_ms >= p->next_ms)
        cascade_request(srv, p);
    return true;
}

/* A classroom pull at the tick: freed (its link closed) when its turn on stage ended. */
static void tick_classroom(struct server *srv, struct pull *p, int64_t now_ms)
{
    char url[DIR_URL_MAX];
    bool known = node_url(srv, p->node, url, sizeof url);
    if (!known && p->n && !p->stale) { /* the directory cannot say now (Redis away): the open
                                          link still carries the classroom, as tick_lesson */
        snprintf(url, sizeof url, "%s", p->origin);
        known = true;
    }
    if (!pulled_classroom(srv, p) || !known) {
        pull_free(srv, p);
        return;
    }
    if (p->stale || strcmp(url, p->origin) != 0) {
        cascade_drop_links(srv, p);
        snprintf(p->origin, sizeof p->origin, "%s", url);
        p->next_ms = 0;
    }
    if (!p->busy && p->n == 0 && now_ms >= p->next_ms)
        cascade_request(srv, p);
}

/* The classrooms of other nodes on stage in room without a pull yet: pulled. */
static void pull_stage(struct server *srv, struct reg_room *room)
{
    char url[DIR_URL_MAX];
    for (unsigned i = 0; i < room->stage.n_on; i++) {
        struct reg_resource *r = reg_resource_find(room, room->stage.on[i], false);
        if (!r || !r->node[0] || find_classroom(srv->cascade, room->name, r->id) ||
            !node_url(srv, r->node, url, sizeof url))
            continue;
        struct pull *p = pull_new(srv, PULL_CLASSROOM, room->name, url);
        snprintf(p->who, sizeof p->who, "%s", r->id);
        snprintf(p->node, sizeof p->node, "%s", r->node);
        p->asked_ms = cr_now_ms();
        cascade_request(srv, p);
    }
}

void cascade_tick(struct server *srv, int64_t now_ms)
{
    if (!srv->cascade)
        return;
    /* rooms whose origin the directory did not know when their first client came */
    for (struct reg_room *room = srv->reg->rooms; room; room = room->next) {
        if (wanted(room) && !cascade_find(srv->cascade, room->name))
            cascade_want(srv, room->name);
        pull_stage(srv, room);
    }
    struct pull *next;
    for (struct pull *p = srv->cascade->pulls; p; p = next) {
        next = p->next;
        if (p->kind == PULL_LESSON)
            tick_lesson(srv, p, now_ms);
        else
            tick_classroom(srv, p, now_ms);
    }
}

void cascade_report(struct server *srv, struct pull *p, struct reg_room *room)
{
    const char *me = srv->dir ? dir_node_id(srv->dir) : "";
    p->dirty = false;
    if (!me[0])
        return;
    char sub[16 + REG_NODE_MAX];
    snprintf(sub, sizeof sub, "/edge/%s", me);
    cascade_call(srv, p, "PUT", sub, cascade_report_body(srv, p, room), "application/json", "poll");
}

void cascade_room_changed(struct server *srv, struct reg_room *room)
{
    if (!srv->cascade)
        return;
    pull_stage(srv, room); /* the origin: a classroom of another node called on stage */
    struct pull *p = cascade_find(srv->cascade, room->name);
    if (p && p->reporting)
        p->dirty = true;
    else if (p) /* an edge: a hand raised or lowered, a classroom came or went */
        cascade_report(srv, p, room);
}

void cascade_session_closed(struct server *srv, const struct reg_resource *r)
{
    for (struct pull *p = srv->cascade ? srv->cascade->pulls : NULL; p; p = p->next) {
        for (unsigned i = 0; i < p->n; i++) {
            if (p->links[i].r == r) {
                p->links[i].r = NULL;
                p->stale = true;
            }
        }
    }
}

void cascade_counts(const struct server *srv, unsigned *pulls, unsigned *links,
                    uint64_t *unsigned_offers)
{
    *pulls = *links = 0;
    *unsigned_offers = 0;
    if (!srv->cascade)
        return;
    for (const struct pull *p = srv->cascade->pulls; p; p = p->next)
        (*pulls)++;
    *links = srv->cascade->links;
    *unsigned_offers = srv->cascade->unsigned_offers;
}
