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
#include "lesson/cascade_priv.h"
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
        free(p);
    }
    free(c);
}

struct pull *cascade_find(struct cascade *c, const char *room)
{
    for (struct pull *p = c->pulls; p; p = p->next)
        if (strcmp(p->room, room) == 0)
            return p;
    return NULL;
}

void cascade_call(struct server *srv, struct pull *p, const char *method, const char *sub,
                  char *body, const char *label)
{
    struct token_claims tc = {.sub = "node", .name = "", .role = ROLE_NODE};
    tc.iat = (int64_t)time(NULL);
    tc.exp = tc.iat + TOKEN_TTL_S;
    char tok[TOKEN_MAX + 1];
    struct cascade_job *j = CR_NEW(struct cascade_job);
    snprintf(j->room, sizeof j->room, "%s", p->room);
    snprintf(j->label, sizeof j->label, "%s", label);
    snprintf(j->base, sizeof j->base, "%s", p->origin);
    snprintf(j->method, sizeof j->method, "%s", method);
    snprintf(j->path, sizeof j->path, "/api/v1/rooms/%s/links%s", p->room, sub);
    j->token = token_sign(srv->key, &tc, tok, sizeof tok) == 0 ? cr_strdup(tok) : NULL;
    j->body = body;
    bool waits = strcmp(label, "open") == 0 || strcmp(label, "poll") == 0;
    p->busy |= waits;
    if (!cascade_q_post(&srv->cascade->q, j) && waits)
        p->busy = false;
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
        if (r)
            session_close(srv, r);
        char sub[32], label[40];
        snprintf(sub, sizeof sub, "/%s", p->links[i].id);
        snprintf(label, sizeof label, "close %s", p->links[i].id);
        cascade_call(srv, p, "DELETE", sub, NULL, label);
    }
    srv->cascade->links -= p->n;
    p->n = 0;
    p->sources[0] = '\0';
    p->stale = false;
}

void cascade_request(struct server *srv, struct pull *p)
{
    CR_INFO("cascade", "room %s: asking its origin %s for links", p->room, p->origin);
    cascade_call(srv, p, "POST", "", NULL, "open");
}

void cascade_want(struct server *srv, const char *room)
{
    char origin[DIR_URL_MAX];
    struct reg_room *rm = reg_room_find(srv->reg, room);
    if (!srv->cascade || !rm || cascade_find(srv->cascade, room) || teacher_here(rm) ||
        !place_origin(srv, room, origin, sizeof origin))
        return;
    struct pull *p = CR_NEW(struct pull);
    snprintf(p->room, sizeof p->room, "%s", room);
    snprintf(p->origin, sizeof p->origin, "%s", origin);
    p->next = srv->cascade->pulls;
    srv->cascade->pulls = p;
    cascade_request(srv, p);
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
    CR_INFO("cascade", "room %s: no longer pulled from %s", p->room, p->origin);
    free(p);
}

/* One pull at the tick: false when it was freed. */
static bool tick_one(struct server *srv, struct pull *p, int64_t now_ms)
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
    if (p->busy || now_ms < p->next_ms)
        return true;
    if (p->n == 0)
        cascade_request(srv, p);
    else
        cascade_call(srv, p, "GET", "", NULL, "poll");
    return true;
}

void cascade_tick(struct server *srv, int64_t now_ms)
{
    if (!srv->cascade)
        return;
    /* rooms whose origin the directory did not know when their first client came */
    for (struct reg_room *room = srv->reg->rooms; room; room = room->next)
        if (wanted(room) && !cascade_find(srv->cascade, room->name))
            cascade_want(srv, room->name);
    struct pull *next;
    for (struct pull *p = srv->cascade->pulls; p; p = next) {
        next = p->next;
        tick_one(srv, p, now_ms);
    }
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

void cascade_counts(const struct server *srv, unsigned *pulls, unsigned *links)
{
    *pulls = *links = 0;
    if (!srv->cascade)
        return;
    for (const struct pull *p = srv->cascade->pulls; p; p = p->next)
        (*pulls)++;
    *links = srv->cascade->links;
}
