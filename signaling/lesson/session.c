/* WHIP and WHEP sessions in the lesson: see session.h. The relay reads the offer and makes
 * the peer in one call (cr_relay_negotiate); the session is recorded here, announced when it
 * is a classroom, and its player lines handed to the floor. */
#include "lesson/session.h"

#include <stdio.h>
#include <string.h>

#include "lesson/floor.h"
#include "lesson/rooms.h"
#include "base/log.h"

json_t *session_participant_json(const struct reg_resource *r)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "id", r->id, "role", "classroom", "name", r->name,
                     "via", "whip");
}

static void announce(struct server *srv, struct reg_resource *r, const char *event)
{
    rooms_event(srv, r->room,
                json_pack("{s:s, s:s, s:o}", "type", "event", "event", event, "participant",
                          session_participant_json(r)));
}

void session_close(struct server *srv, struct reg_resource *r)
{
    struct reg_room *room = r->room;
    CR_INFO("whip", "%s session %s in room %s closed", r->whep ? "WHEP" : "WHIP", r->id,
            room->name);
    rooms_peer_close(srv, &r->peer);
    bool classroom = !r->whep && r->role == REG_CLASSROOM;
    char id[REG_ID_MAX];
    snprintf(id, sizeof id, "%s", r->id);
    if (classroom && !srv->shutting_down)
        announce(srv, r, "participant_left");
    reg_resource_remove(r);
    if (classroom && !srv->shutting_down)
        floor_forget(srv, room, id);
    rooms_release(srv, room);
}

/* The player's lines, fed as want says: the n-th video line is slot n (the teacher's
 * camera, then screen; the n-th on stage). */
static void feed_lines(struct reg_resource *r, const struct reg_line *want,
                       const struct cr_answer *a)
{
    uint8_t videos = 0;
    struct reg_line fed[CR_OFFER_MAX_LINES];
    struct reg_lines lines = {.line = fed};
    for (size_t i = 0; i < a->n_lines && lines.n < CR_OFFER_MAX_LINES; i++) {
        const struct cr_offer_line *ol = &a->lines[i];
        if (!ol->client_receives)
            continue;
        struct reg_line *l = &lines.line[lines.n++];
        *l = *want;
        snprintf(l->mid, sizeof l->mid, "%s", ol->mid);
        l->kind = ol->kind;
        l->known = true;
        l->fed = ol->track_id;
        l->layers = REG_LAYERS_UNSET;
        if (!l->codec[0])
            snprintf(l->codec, sizeof l->codec, "%s", ol->kind == CR_KIND_VIDEO ? ol->codec : "");
        if (want->feed != REG_FEED_CLASSROOM)
            l->slot = ol->kind == CR_KIND_VIDEO ? videos : 0;
        videos += ol->kind == CR_KIND_VIDEO;
    }
    reg_lines_keep(&r->lines, &lines);
}

struct reg_resource *session_open(struct server *srv, const struct session_req *q, char **answer,
                                  enum srv_err *e, char *why, size_t cap)
{
    struct reg_room *room = rooms_get(srv, q->room, e, why, cap);
    if (!room)
        return NULL;
    /* one call: the relay reads the offer, checks it is what the endpoint is for, makes the
     * peer; sources are its defaults (mic, camera, screen) */
    static struct cr_answer a; /* lws thread only */
    memset(&a, 0, sizeof a);
    struct cr_mline_hint every = {.mid = "*", .follow = true};
    if (q->whep) /* the answer's video codec: what the feed shows now (default VP8) */
        floor_feed_codec(srv, room, q->want, every.codec, sizeof every.codec);
    struct cr_offer o = {.room = room->name,
                         .sdp = q->sdp,
                         .hints = q->whep ? &every : NULL,
                         .n_hints = q->whep ? 1 : 0,
                         .demand = q->whep ? CR_DEMAND_RECEIVES_ONLY : CR_DEMAND_SENDS,
                         .priority = !q->whep && q->role == REG_TEACHER}; /* the lesson's source */
    int rc = cr_relay_negotiate(srv->relay, &o, &a);
    if (rc != 0) {
        rooms_release(srv, room);
        *e = srv_err_from_relay(rc);
        snprintf(why, cap, "%s", a.err[0] ? a.err : "the relay could not create the session");
        return NULL;
    }
    struct reg_resource *r = reg_resource_add(room, q->whep);
    snprintf(r->ice_ufrag, sizeof r->ice_ufrag, "%s", a.ice_ufrag);
    rooms_peer_set(&r->peer, a.peer_id);
    r->role = q->role;
    r->cascade = q->cascade; /* set before any track event of the peer is drained */
    snprintf(r->name, sizeof r->name, "%s", q->name);
    if (q->whep) {
        feed_lines(r, q->want, &a);
        floor_apply(srv, room);
    } else if (q->role == REG_CLASSROOM) {
        announce(srv, r, "participant_joined");
    }
    if (q->whep)
        srv->counters.whep_sessions++;
    else
        srv->counters.whip_sessions++;
    if (!q->whep && room->paused)
        cr_relay_peer_pause(srv->relay, r->peer.id, (1u << CR_KIND_AUDIO) | (1u << CR_KIND_VIDEO),
                            true);
    *answer = a.sdp;
    return r;
}
