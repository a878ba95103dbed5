/* The floor requests of the websocket protocol (docs/protocol.md, "The stage"): a
 * classroom raises or lowers its hand; the lesson's teacher calls a classroom on stage and
 * ends its turn, mutes one, listens to one privately, lowers every hand. And the lines of
 * a subscription the lesson feeds (stage lines, a classroom's tracks). lesson/floor.c
 * decides and carries out; this file reads and checks the requests. */
#include <stdio.h>
#include <string.h>

#include "access/principal.h"
#include "front/rpc_priv.h"
#include "lesson/cascade.h"
#include "lesson/chat.h"
#include "lesson/floor.h"
#include "lesson/quiz.h"

/* The lesson's teacher (or an admin, who may run the open demo room), allowed to control
 * the lesson now; else an error reply and false. */
static bool teacher(struct req *r, struct reg_participant **out)
{
    struct reg_participant *p = req_joined(r);
    if (!p || !req_allows(r, p, PERM_CONTROL))
        return false;
    if (p->role != REG_TEACHER && p->who.role != ROLE_ADMIN) {
        req_err(r, SRV_ERR_FORBIDDEN, "only the lesson's teacher runs the stage");
        return false;
    }
    *out = p;
    return true;
}

/* "participant": the id of a classroom in the room (checked by floor.c). */
static const char *target(struct req *r, bool null_ok)
{
    json_t *v = json_object_get(r->msg, "participant");
    if (null_ok && (!v || json_is_null(v)))
        return "";
    const char *id = json_string_value(v);
    if (!id || !id[0] || strlen(id) >= REG_ID_MAX) {
        req_err(r, SRV_ERR_BAD_REQUEST, "\"participant\" must be a participant id (\"p7\")");
        return NULL;
    }
    return id;
}

/* A boolean field, def when absent; -1 after an error reply. */
static int flag(struct req *r, const char *name, bool def)
{
    json_t *v = json_object_get(r->msg, name);
    if (!v)
        return def;
    if (!json_is_boolean(v)) {
        req_err(r, SRV_ERR_BAD_REQUEST, "\"%s\" must be true or false", name);
        return -1;
    }
    return json_is_true(v);
}

static void done(struct req *r, struct reg_participant *p, enum srv_err e, const char *why)
{
    if (e != SRV_ERR_COUNT) {
        req_err(r, e, "%s", why);
        return;
    }
    cascade_room_changed(r->srv, p->room); /* other nodes hear it (docs/cluster.md) */
    req_ok(r, json_pack("{s:o}", "stage", floor_json(p->room, p->role == REG_TEACHER)));
}

void rpc_h_hand(struct req *r)
{
    struct reg_participant *p = req_joined(r);
    if (!p)
        return;
    if (p->role != REG_CLASSROOM) {
        req_err(r, SRV_ERR_FORBIDDEN, "only a classroom raises its hand");
        return;
    }
    int up = flag(r, "up", true);
    if (up < 0)
        return;
    char why[256];
    done(r, p, floor_hand(r->srv, p->room, p->id, up, why, sizeof why), why);
}

void rpc_h_stage(struct req *r)
{
    struct reg_participant *p;
    const char *id;
    int on;
    if (!teacher(r, &p) || !(id = target(r, false)) || (on = flag(r, "on", true)) < 0)
        return;
    char why[256];
    done(r, p,
         on ? floor_call(r->srv, p->room, id, why, sizeof why)
            : floor_end(r->srv, p->room, id, why, sizeof why),
         why);
}

void rpc_h_mute(struct req *r)
{
    struct reg_participant *p;
    const char *id;
    int muted;
    if (!teacher(r, &p) || !(id = target(r, false)) || (muted = flag(r, "muted", true)) < 0)
        return;
    char why[256];
    done(r, p, floor_mute(r->srv, p->room, id, muted, why, sizeof why), why);
}

void rpc_h_listen(struct req *r)
{
    struct reg_participant *p;
    const char *id;
    if (!teacher(r, &p) || !(id = target(r, true)))
        return;
    char why[256];
    done(r, p, floor_listen(r->srv, p->room, id[0] ? id : NULL, why, sizeof why), why);
}

void rpc_h_hands_down(struct req *r)
{
    struct reg_participant *p;
    if (!teacher(r, &p))
        return;
    floor_lower_hands(r->srv, p->room);
    done(r, p, SRV_ERR_COUNT, NULL);
}

void rpc_h_chat(struct req *r)
{
    struct reg_participant *p = req_joined(r);
    if (!p)
        return;
    json_t *text = json_object_get(r->msg, "text");
    char why[256];
    struct chat_from from = {p->id, p->role, p->name, &p->chat};
    enum srv_err e = chat_post(r->srv, p->room, &from, json_string_value(text), why, sizeof why);
    if (e != SRV_ERR_COUNT)
        req_err(r, e, "%s", why);
    else
        req_ok(r, NULL);
}

void rpc_h_chat_mode(struct req *r)
{
    struct reg_participant *p;
    int open;
    if (!teacher(r, &p) || (open = flag(r, "classrooms", true)) < 0)
        return;
    chat_set_closed(r->srv, p->room, !open);
    req_ok(r, json_pack("{s:{s:b}}", "chat", "classrooms", !p->room->chat_closed));
}

void rpc_h_quiz(struct req *r)
{
    struct reg_participant *p;
    int close;
    if (!teacher(r, &p) || (close = flag(r, "close", false)) < 0)
        return;
    char why[256];
    enum srv_err e =
        close ? quiz_close(r->srv, p->room, why, sizeof why)
              : quiz_ask(r->srv, p->room, json_string_value(json_object_get(r->msg, "question")),
                         json_object_get(r->msg, "options"), why, sizeof why);
    if (e != SRV_ERR_COUNT)
        req_err(r, e, "%s", why);
    else
        req_ok(r, json_pack("{s:o*}", "quiz", quiz_json(&p->room->quiz, true)));
}

void rpc_h_quiz_answer(struct req *r)
{
    struct reg_participant *p = req_joined(r);
    if (!p)
        return;
    json_t *choice = json_object_get(r->msg, "choice");
    char why[256];
    enum srv_err e = SRV_ERR_FORBIDDEN;
    snprintf(why, sizeof why, "only a classroom answers a quiz");
    if (p->role == REG_CLASSROOM)
        e = quiz_answer(r->srv, p->room, p->id,
                        json_is_integer(choice) ? json_integer_value(choice) : -1, why, sizeof why);
    if (e != SRV_ERR_COUNT)
        req_err(r, e, "%s", why);
    else
        req_ok(r, NULL);
}

/* One mid of "tracks": a feed by name, a classroom's track (fed as the rules allow), or a
 * plain hint (a teacher's track by id, or null). */
static bool take_line(struct req *r, struct reg_participant *p, const char *mid, json_t *v,
                      struct cr_mline_hint *hints, int *n, struct reg_lines *lines)
{
    struct reg_line l;
    memset(&l, 0, sizeof l);
    snprintf(l.mid, sizeof l.mid, "%s", mid);
    if (json_is_string(v)) {
        if (!floor_parse_feed(json_string_value(v), &l)) {
            req_err(r, SRV_ERR_BAD_REQUEST,
                    "track id for mid %s must be a number, null, \"stage\", \"stage:N\", "
                    "\"teacher\" or \"classroom:<id>\" (video: \"@VP8\" or \"@H264\" may "
                    "follow)",
                    mid);
            return false;
        }
        lines->line[lines->n++] = l;
        return true;
    }
    if (!json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0)) {
        req_err(r, SRV_ERR_BAD_REQUEST, "track id for mid %s must be a number or null", mid);
        return false;
    }
    uint64_t track = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    if (track && floor_classroom_track(r->srv, p->room, track)) {
        l.feed = REG_FEED_TRACK;
        l.track = track;
        lines->line[lines->n++] = l;
        return true;
    }
    struct cr_mline_hint *h = &hints[(*n)++];
    memset(h, 0, sizeof *h);
    snprintf(h->mid, sizeof h->mid, "%s", mid);
    h->track_id = track;
    return true;
}

int rpc_subscribe_hints(struct req *r, struct reg_participant *p, struct cr_mline_hint *hints,
                        struct reg_lines *lines)
{
    json_t *obj = json_object_get(r->msg, "tracks");
    if (obj && !json_is_object(obj)) {
        req_err(r, SRV_ERR_BAD_REQUEST, "\"tracks\" must be an object {mid: track id}");
        return -1;
    }
    int n = 0;
    lines->n = 0;
    const char *mid;
    json_t *v;
    json_object_foreach(obj, mid, v)
    {
        if (strlen(mid) >= CR_MID_MAX) /* no m-line has such a mid: nothing to say of it */
            continue;
        if ((size_t)n + lines->n == CR_OFFER_MAX_LINES) {
            req_err(r, SRV_ERR_BAD_REQUEST, "\"tracks\" names more than %d mids",
                    CR_OFFER_MAX_LINES);
            return -1;
        }
        if (!take_line(r, p, mid, v, hints, &n, lines))
            return -1;
    }
    return (int)floor_hints(r->srv, p->room, lines, p->id, p->role, hints, (size_t)n);
}
