/* A live room over REST (docs/protocol.md, "Rooms over REST"), for programs that drive a
 * lesson without a page — a hardware control panel in the teacher's classroom, a 录播
 * system — and for the patrol page (巡课):
 *   GET    /api/v1/rooms                     the rooms open now that the token may watch:
 *                                            lesson, teacher, classrooms, the stage
 *   GET    /api/v1/rooms/<room>              who is in it: participants (pages and WHIP
 *                                            classrooms; observers never), hands, the
 *                                            stage, what each sends
 *   POST   /api/v1/rooms/<room>/stage        {"participant":"<id>"}: call on stage
 *   DELETE /api/v1/rooms/<room>/stage/<id>   end that turn
 *   GET    /api/v1/rooms/<room>/ingest       the room's RTSP source and its state
 *   POST   /api/v1/rooms/<room>/ingest       {"url":"rtsp://…"}: the teacher's source is
 *                                            that camera from now on (lesson/ingest.h)
 *   DELETE /api/v1/rooms/<room>/ingest       stop it
 * Reading needs a token that may watch the room; the stage and the source, one that may
 * control it (the lesson's teacher, an admin) — in a room without a lesson (the open demo
 * room, ad-hoc rooms) an admin's. lesson/floor.c carries the stage out, as for the pages;
 * the URL's password is never in an answer. */
#include <stdio.h>
#include <string.h>

#include "front/rest_auth.h"
#include "front/rest_links.h"
#include "front/rest_rooms.h"
#include "front/rest_sched_priv.h"
#include "front/rpc.h"
#include "front/whip.h"
#include "access/audit.h"
#include "lesson/cascade.h"
#include "lesson/floor.h"
#include "lesson/ingest.h"
#include "store/role.h"

#define PREFIX "/api/v1/rooms/"

/* What each publisher sends, from the room's track list: {participant id: {source: true}}. */
static json_t *sending(struct server *srv, struct reg_room *room)
{
    json_t *tracks = rpc_tracks_json(srv, room), *by = json_object(), *t;
    size_t i;
    json_array_foreach(tracks, i, t)
    {
        const char *who = json_string_value(json_object_get(t, "participant"));
        const char *source = json_string_value(json_object_get(t, "source"));
        if (!who || !source)
            continue;
        if (!json_object_get(by, who))
            json_object_set_new(by, who, json_object());
        json_object_set_new(json_object_get(by, who), source, json_true());
    }
    json_decref(tracks);
    return by;
}

/* What a classroom of another node sends there, as it reports it. */
static json_t *remote_sends(const struct reg_resource *r)
{
    json_t *s = json_object();
    if (r->sends & REG_SENDS_MIC)
        json_object_set_new(s, "mic", json_true());
    if (r->sends & REG_SENDS_CAMERA)
        json_object_set_new(s, "camera", json_true());
    return s;
}

static json_t *person(const struct reg_room *room, json_t *sends, const char *id, const char *role,
                      const char *name, const char *via)
{
    int64_t since = 0;
    bool hand = stage_hand(&room->stage, id, &since) > 0;
    json_t *s = json_object_get(sends, id);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:o}", "id", id, "role", role, "name",
                     name, "via", via, "hand_since_ms", hand ? json_integer(since) : json_null(),
                     "on_stage", stage_is_on(&room->stage, id), "muted",
                     stage_is_muted(&room->stage, id), "sending",
                     s ? json_incref(s) : json_object());
}

static json_t *room_json(struct server *srv, struct reg_room *room)
{
    json_t *sends = sending(srv, room), *people = json_array();
    for (struct reg_participant *p = room->participants; p; p = p->next)
        if (p->role != REG_OBSERVER)
            json_array_append_new(
                people, person(room, sends, p->id, reg_role_name(p->role), p->name, "page"));
    for (struct reg_resource *r = room->resources; r; r = r->next) {
        if (r->whep)
            continue;
        if (r->node[0]) /* a classroom of another node (lesson/edges.h) */
            json_object_set_new(sends, r->id, remote_sends(r));
        json_t *v = person(room, sends, r->id, reg_role_name(r->role), r->name,
                           r->node[0] ? "node" : "whip");
        if (r->node[0])
            json_object_set_new(v, "node", json_string(r->node));
        json_array_append_new(people, v);
    }
    json_decref(sends);
    json_t *v = json_pack("{s:s, s:o, s:o}", "room", room->name, "participants", people, "stage",
                          floor_json(room, true));
    if (room->lesson_id)
        json_object_set_new(v, "lesson_id", json_integer(room->lesson_id));
    json_t *ingest = ingest_json(srv->ingest, room->name);
    json_object_set_new(v, "ingest", ingest ? ingest : json_null());
    return v;
}

/* The gate for the stage: control of the room, and an admin where no lesson names a
 * teacher. */
static bool may_control(struct server *srv, struct lws *wsi, struct http_req *req,
                        struct reg_room *room, struct principal *who)
{
    if (!rest_auth_room(srv, wsi, req, room->name, PERM_CONTROL, who))
        return false;
    if (room->lesson_id || who->role == ROLE_ADMIN)
        return true;
    http_respond_error(srv, wsi, req, SRV_ERR_FORBIDDEN,
                       "a room without a lesson is run over REST with an admin's token");
    return false;
}

static void stage_post(struct server *srv, struct lws *wsi, struct http_req *req,
                       struct reg_room *room)
{
    static const char *const fields[] = {"participant", NULL};
    enum srv_err e;
    char why[400];
    json_t *body = rsched_body_parse(req->body, req->body_len, "a stage call", fields, NULL, &e,
                                     why, sizeof why);
    const char *id = json_string_value(json_object_get(body, "participant"));
    if (body && !id) {
        e = SRV_ERR_BAD_REQUEST;
        snprintf(why, sizeof why, "\"participant\" (a participant id, \"p7\") is required");
    } else if (body) {
        e = floor_call(srv, room, id, why, sizeof why);
    }
    json_decref(body);
    if (e != SRV_ERR_COUNT) {
        http_respond_error(srv, wsi, req, e, why);
        return;
    }
    cascade_room_changed(srv, room); /* a classroom of another node: pulled now */
    http_respond_json(wsi, req, 200, json_pack("{s:o}", "stage", floor_json(room, true)));
}

static void stage_delete(struct server *srv, struct lws *wsi, struct http_req *req,
                         struct reg_room *room, const char *id)
{
    char why[256];
    enum srv_err e = floor_end(srv, room, id, why, sizeof why);
    if (e != SRV_ERR_COUNT)
        http_respond_error(srv, wsi, req, e, why);
    else
        http_respond_json(wsi, req, 200, json_pack("{s:o}", "stage", floor_json(room, true)));
}

static void method_not_allowed(struct server *srv, struct lws *wsi, struct http_req *req,
                               const char *allow)
{
    http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, "method not allowed");
    req->status = 405;
    http_add_header(req, "Allow", allow);
}

/* POST .../ingest {"url"}: the room's teacher source becomes that camera. */
static void ingest_post(struct server *srv, struct lws *wsi, struct http_req *req,
                        struct reg_room *room, const struct principal *who)
{
    static const char *const fields[] = {"url", NULL};
    enum srv_err e = SRV_ERR_COUNT;
    char why[400];
    json_t *body =
        rsched_body_parse(req->body, req->body_len, "an ingest", fields, NULL, &e, why, sizeof why);
    const char *url = json_string_value(json_object_get(body, "url"));
    if (body && !url) {
        e = SRV_ERR_BAD_REQUEST;
        snprintf(why, sizeof why, "\"url\" (rtsp://host/path or rtsps://...) is required");
    } else if (body && ingest_start(srv->ingest, room->name, url, &e, why, sizeof why) == 0) {
        e = SRV_ERR_COUNT;
    }
    json_decref(body);
    if (e != SRV_ERR_COUNT) {
        http_respond_error(srv, wsi, req, e, why);
        return;
    }
    json_t *v = ingest_json(srv->ingest, room->name);
    audit_log(srv, who, "ingest_start", room->name, "source %s",
              json_string_value(json_object_get(v, "url")));
    http_respond_json(wsi, req, 201, json_pack("{s:o}", "ingest", v));
}

static void ingest_api(struct server *srv, struct lws *wsi, struct http_req *req,
                       struct reg_room *room)
{
    struct principal who;
    bool get = req->method == LWSHUMETH_GET || req->method == LWSHUMETH_HEAD;
    if (!get && req->method != LWSHUMETH_POST && req->method != LWSHUMETH_DELETE) {
        method_not_allowed(srv, wsi, req, "GET, HEAD, POST, DELETE, OPTIONS");
        return;
    }
    if (!may_control(srv, wsi, req, room, &who))
        return;
    json_t *v = ingest_json(srv->ingest, room->name);
    if (req->method == LWSHUMETH_POST) {
        json_decref(v);
        ingest_post(srv, wsi, req, room, &who);
    } else if (!v) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "this room has no RTSP source");
    } else if (get) {
        http_respond_json(wsi, req, 200, json_pack("{s:o}", "ingest", v));
        http_add_header(req, "Cache-Control", "no-store");
    } else {
        audit_log(srv, &who, "ingest_stop", room->name, "source %s",
                  json_string_value(json_object_get(v, "url")));
        json_decref(v);
        ingest_stop(srv->ingest, room->name);
        http_respond(wsi, req, 204, NULL, NULL, 0);
    }
}

/* One line of the list: what a patrol tile shows. */
static json_t *summary_json(struct reg_room *room)
{
    const char *teacher = NULL;
    int classrooms = 0;
    for (struct reg_participant *p = room->participants; p; p = p->next) {
        if (p->role == REG_TEACHER && !teacher)
            teacher = p->name;
        classrooms += p->role == REG_CLASSROOM;
    }
    for (struct reg_resource *r = room->resources; r; r = r->next) {
        if (!r->whep && r->role == REG_TEACHER && !teacher)
            teacher = r->name;
        classrooms += !r->whep && r->role == REG_CLASSROOM;
    }
    json_t *on = json_array();
    for (unsigned i = 0; i < room->stage.n_on; i++)
        json_array_append_new(on, json_string(room->stage.on[i]));
    json_t *v = json_pack("{s:s, s:s?, s:i, s:o, s:s?}", "room", room->name, "teacher", teacher,
                          "classrooms", classrooms, "on_stage", on, "title",
                          room->title[0] ? room->title : NULL);
    if (room->lesson_id)
        json_object_set_new(v, "lesson_id", json_integer(room->lesson_id));
    return v;
}

/* A lesson is on when someone in it is seen: a teacher, a classroom, a WHIP publisher (a
 * room with only watchers — patrol pages among them — is not one). */
static bool lesson_on(const struct reg_room *room)
{
    for (const struct reg_participant *p = room->participants; p; p = p->next)
        if (p->role != REG_OBSERVER)
            return true;
    for (const struct reg_resource *r = room->resources; r; r = r->next)
        if (!r->whep)
            return true;
    return false;
}

/* GET /api/v1/rooms: the rooms with a lesson on that who may watch unseen. */
static void list(struct server *srv, struct lws *wsi, struct http_req *req)
{
    struct principal who;
    if (!rest_auth(srv, wsi, req, PERM_SCHEDULE_READ, false, &who))
        return;
    json_t *rooms = json_array();
    for (struct reg_room *room = srv->reg->rooms; room; room = room->next) {
        char why[400];
        if (!lesson_on(room) ||
            auth_room(srv, &who, room->name, PERM_JOIN_UNSEEN, why, sizeof why) != PERM_OK)
            continue;
        json_array_append_new(rooms, summary_json(room));
    }
    http_respond_json(wsi, req, 200, json_pack("{s:o}", "rooms", rooms));
    http_add_header(req, "Cache-Control", "no-store");
}

void rest_rooms_api(struct server *srv, struct lws *wsi, struct http_req *req)
{
    if (strcmp(req->path, "/api/v1/rooms") == 0) {
        if (req->method == LWSHUMETH_GET || req->method == LWSHUMETH_HEAD)
            list(srv, wsi, req);
        else
            method_not_allowed(srv, wsi, req, "GET, HEAD, OPTIONS");
        return;
    }
    char name[REG_ROOM_MAX + 1];
    const char *rest = req->path + strlen(PREFIX), *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    struct reg_room *room = NULL;
    if (n > 0 && n <= REG_ROOM_MAX) {
        memcpy(name, rest, n);
        name[n] = '\0';
        room = reg_room_name_ok(name) ? reg_room_find(srv->reg, name) : NULL;
    }
    if (!room) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such room open now");
        return;
    }
    bool get = req->method == LWSHUMETH_GET || req->method == LWSHUMETH_HEAD;
    if (!slash) {
        struct principal who;
        if (!get)
            method_not_allowed(srv, wsi, req, "GET, HEAD, OPTIONS");
        else if (rest_auth_room(srv, wsi, req, room->name, PERM_JOIN_UNSEEN, &who))
            http_respond_json(wsi, req, 200, room_json(srv, room));
        return;
    }
    const char *sub = slash + 1;
    struct principal who;
    if (strcmp(sub, "ingest") == 0) {
        ingest_api(srv, wsi, req, room);
    } else if (strcmp(sub, "links") == 0 || strncmp(sub, "links/", 6) == 0) {
        rest_links_api(srv, wsi, req, room, sub);
    } else if (strcmp(sub, "stage") == 0 && req->method == LWSHUMETH_POST) {
        if (may_control(srv, wsi, req, room, &who))
            stage_post(srv, wsi, req, room);
    } else if (strncmp(sub, "stage/", 6) == 0 && sub[6] && req->method == LWSHUMETH_DELETE) {
        if (may_control(srv, wsi, req, room, &who))
            stage_delete(srv, wsi, req, room, sub + 6);
    } else if (strcmp(sub, "stage") == 0 || strncmp(sub, "stage/", 6) == 0) {
        method_not_allowed(srv, wsi, req,
                           strcmp(sub, "stage") == 0 ? "POST, OPTIONS" : "DELETE, OPTIONS");
    } else {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such API endpoint");
    }
}
