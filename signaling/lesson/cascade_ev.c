/* The far node's answers to the cascade's calls (lesson/cascade.h): the links it offers,
 * opened here as the lesson's publishers (its teacher; a classroom on stage, under its id
 * across the cluster), or as the classroom of that node on stage here; its answers to ours;
 * the answers to an edge's reports (the publishers it would link now, its stage). The JSON
 * comes from another node: every field is checked (fuzz_sig_node_http). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/node_sig.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "lesson/cascade_priv.h"
#include "lesson/edge_report.h"
#include "lesson/session.h"

#define RETRY_MS 1000

/* The "sources" of a links or sources answer, joined, into key; false if malformed. */
static bool sources_key(json_t *items, char *key, size_t cap)
{
    size_t i, n = 0;
    json_t *v;
    key[0] = '\0';
    if (!json_is_array(items))
        return false;
    json_array_foreach(items, i, v)
    {
        const char *s = json_string_value(json_object_get(v, "source"));
        int w = s ? snprintf(key + n, cap - n, "%s%s", n ? "," : "", s) : -1;
        if (w < 0 || (size_t)w >= cap - n)
            return false;
        n += (size_t)w;
    }
    return true;
}

/* The hints of one offered link (mid and source of each line) into h; their number. */
static size_t link_hints(json_t *link, struct cr_mline_hint *h, size_t max)
{
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(json_object_get(link, "hints"), i, v)
    {
        const char *mid = json_string_value(json_object_get(v, "mid"));
        const char *src = json_string_value(json_object_get(v, "source"));
        if (n == max || !mid || !src || strlen(mid) >= sizeof h->mid ||
            strlen(src) >= sizeof h->source)
            continue;
        h[n] = (struct cr_mline_hint){0};
        snprintf(h[n].mid, sizeof h[n].mid, "%s", mid);
        snprintf(h[n].source, sizeof h[n].source, "%s", src);
        n++;
    }
    return n;
}

/* What link opens here: the lesson's teacher; one on stage there (a classroom of the origin
 * or of another edge, under its id across the cluster: the stage this node mirrors names it
 * so); or, pulled by the origin, the classroom of that node it lists already. false: none. */
static bool link_session(struct server *srv, struct pull *p, json_t *link, struct session_req *q)
{
    const char *role = json_string_value(json_object_get(link, "role"));
    const char *who = json_string_value(json_object_get(link, "participant"));
    if (p->kind == PULL_CLASSROOM) {
        struct reg_room *room = reg_room_find(srv->reg, p->room);
        q->into = room ? reg_resource_find(room, p->who, false) : NULL;
        q->role = REG_CLASSROOM;
        return q->into && !q->into->peer.id;
    }
    if (role && strcmp(role, "stage") == 0) {
        if (!who || !edge_id_ok(who))
            return false;
        q->id = who;
        q->role = REG_CLASSROOM;
        q->name = who;
    }
    return true;
}

/* Opens one offered link here and sends the answer back; false if it could not. */
static bool open_link(struct server *srv, struct pull *p, json_t *link)
{
    const char *id = json_string_value(json_object_get(link, "id"));
    const char *sdp = json_string_value(json_object_get(link, "sdp"));
    const char *sig = json_string_value(json_object_get(link, "sig"));
    if (!id || !sdp || strlen(id) >= sizeof p->links[0].id || p->n == PULL_LINKS_MAX)
        return false;
    if (!node_sig_ok(srv->key, "offer", p->room, id, sdp, strlen(sdp), sig)) {
        CR_LOG_RATE(CR_LOG_WARN, "cascade",
                    "room %s: link %s from %s refused: its offer is not "
                    "signed with this cluster's key",
                    p->room, id, p->origin);
        srv->cascade->unsigned_offers++;
        return false; /* not answered: the far side's link times out */
    }
    struct cr_mline_hint hints[CR_OFFER_MAX_LINES];
    struct session_req q = {.room = p->room,
                            .sdp = sdp,
                            .role = REG_TEACHER,
                            .name = "",
                            .hints = hints,
                            .n_hints = link_hints(link, hints, CR_OFFER_MAX_LINES),
                            .cascade = p->kind == PULL_LESSON};
    enum srv_err e;
    char why[256] = "not a publisher this node takes", *answer = NULL, sub[32], what[40];
    struct reg_resource *r =
        link_session(srv, p, link, &q) ? session_open(srv, &q, &answer, &e, why, sizeof why) : NULL;
    snprintf(sub, sizeof sub, "/%s", id);
    if (!r) {
        CR_WARN("cascade", "room %s: link %s refused here: %s", p->room, id, why);
        snprintf(what, sizeof what, "close %s", id);
        cascade_call(srv, p, "DELETE", sub, NULL, NULL, what);
        return false;
    }
    struct pull_link *pl = &p->links[p->n++];
    snprintf(pl->id, sizeof pl->id, "%s", id);
    pl->r = r;
    srv->cascade->links++;
    char signed_sub[32 + NODE_SIG_LEN + 8], asig[NODE_SIG_LEN + 1];
    node_sig(srv->key, "answer", p->room, id, answer, strlen(answer), asig);
    snprintf(signed_sub, sizeof signed_sub, "%s?sig=%s", sub, asig);
    snprintf(what, sizeof what, "answer %s", id);
    cascade_call(srv, p, "POST", signed_sub, answer, "application/sdp", what); /* takes answer */
    if (p->kind == PULL_CLASSROOM)
        CR_INFO("cascade", "room %s: classroom %s linked %lld ms after its call on stage", p->room,
                p->who, (long long)(cr_now_ms() - p->asked_ms));
    return true;
}

static void on_links(struct server *srv, struct pull *p, const struct evq_item *it)
{
    json_t *v = it->status == 201 ? json_loads(it->line, 0, NULL) : NULL;
    json_t *links = json_object_get(v, "links");
    if (!json_is_array(links) || !json_array_size(links) ||
        !sources_key(links, p->sources, sizeof p->sources)) {
        /* 404: nobody publishes there yet; else the origin is unwell: again, later */
        p->fails += it->status != 404;
        p->next_ms = cr_now_ms() + RETRY_MS * (p->fails < 4 ? (p->fails ? p->fails : 1) : 4);
        CR_LOG_RATE(CR_LOG_INFO, "cascade", "room %s: no links from %s (%d %.120s)", p->room,
                    p->origin, it->status, it->line ? it->line : "");
        json_decref(v);
        return;
    }
    size_t i;
    json_t *link;
    unsigned opened = 0;
    json_array_foreach(links, i, link) opened += open_link(srv, p, link);
    p->fails = opened ? 0 : p->fails + 1;
    p->next_ms = cr_now_ms() + RETRY_MS;
    CR_INFO("cascade", "room %s: %u of %zu links from %s open here", p->room, opened,
            json_array_size(links), p->origin);
    json_decref(v);
}

/* The answer to an edge's report: the origin's stage mirrored here, and its publishers
 * linked again when they changed. */
static void on_poll(struct server *srv, struct pull *p, const struct evq_item *it)
{
    json_t *v = it->status == 200 ? json_loads(it->line, 0, NULL) : NULL;
    char key[sizeof p->sources];
    struct reg_room *room = reg_room_find(srv->reg, p->room);
    p->report_ms = cr_now_ms() + POLL_MS;
    if (it->status < 0 || !room) { /* no answer: the directory will say where next */
        json_decref(v);
        return;
    }
    if (json_is_object(json_object_get(v, "stage")))
        cascade_mirror(srv, p, room, json_object_get(v, "stage"));
    if (p->n && (!sources_key(json_object_get(v, "sources"), key, sizeof key) ||
                 strcmp(key, p->sources) != 0)) {
        CR_INFO("cascade", "room %s: its publishers at %s changed: linking again", p->room,
                p->origin);
        cascade_drop_links(srv, p);
        p->next_ms = 0;
    }
    json_decref(v);
    if (p->dirty && (room = reg_room_find(srv->reg, p->room)))
        cascade_report(srv, p, room);
}

static struct pull *by_serial(struct server *srv, unsigned serial)
{
    for (struct pull *p = srv->cascade ? srv->cascade->pulls : NULL; p; p = p->next)
        if (p->serial == serial)
            return p;
    return NULL;
}

void cascade_on_event(struct server *srv, const struct evq_item *it)
{
    char *what = NULL;
    unsigned long serial = strtoul(it->label, &what, 10);
    struct pull *p = by_serial(srv, (unsigned)serial);
    if (!p || *what++ != ' ' || strncmp(what, "close ", 6) == 0)
        return; /* a closing link's answer, or a pull that ended meanwhile */
    if (strncmp(what, "answer ", 7) == 0) {
        if (it->status != 204) {
            CR_WARN("cascade", "room %s: %s refused our answer to link %s: %d %.120s", p->room,
                    p->origin, what + 7, it->status, it->line ? it->line : "");
            p->stale = true;
        }
        return;
    }
    if (strcmp(what, "open") == 0) {
        p->busy = false;
        on_links(srv, p, it);
    } else if (strcmp(what, "poll") == 0) {
        p->reporting = false;
        on_poll(srv, p, it);
    }
}
