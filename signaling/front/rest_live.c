/* What is on now, and calendars to subscribe to (docs/scheduling.md, "REST API"):
 *   GET /api/v1/live                           lessons whose window holds now, with the
 *                                              room's participants and recording state
 *   GET /api/v1/calendar/teacher/{id}.ics      a teacher's lessons, RFC 5545
 *   GET /api/v1/calendar/classroom/{id}.ics    a classroom's lessons
 * Staff only. Calendar apps cannot send headers, so a calendar URL may carry ?token=
 * (auth.c reads it). The iCalendar text itself is sched_ical's (sched.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "lesson/recording.h"
#include "lesson/registry.h"
#include "front/rest_sched_priv.h"

/* ---- GET /api/v1/live ---- */

static json_t *live_item(struct server *srv, const struct st_lesson *l,
                         const struct rsched_names *names, const struct sched_span *occ,
                         int64_t now, int64_t early, int64_t late)
{
    json_t *o = rsched_lesson_json(l, names);
    char room[32];
    store_lesson_room(l->id, room, sizeof room);
    const char *state = now < occ->start_ms ? "opening"
                        : now < occ->end_ms ? "running"
                                            : "overtime";
    json_object_set_new(o, "occurrence_start_ms", json_integer(occ->start_ms));
    json_object_set_new(o, "occurrence_end_ms", json_integer(occ->end_ms));
    json_object_set_new(o, "opens_ms", json_integer(occ->start_ms - early));
    json_object_set_new(o, "closes_ms", json_integer(occ->end_ms + late));
    json_object_set_new(o, "state", json_string(state));
    struct reg_room *r = reg_room_find(srv->reg, room);
    json_object_set_new(o, "open", json_boolean(r != NULL));
    int seen = 0; /* researchers and observers watch unseen: not counted */
    for (struct reg_participant *q = r ? r->participants : NULL; q; q = q->next)
        seen += q->role != REG_OBSERVER;
    json_object_set_new(o, "participants", json_integer(seen));
    json_object_set_new(o, "sessions", json_integer(r ? r->n_resources : 0)); /* WHIP, WHEP */
    json_object_set_new(o, "recording",
                        srv->recording ? recording_room_json(srv->recording, room) : json_null());
    return o;
}

static void live(struct server *srv, struct lws *wsi, struct http_req *req)
{
    struct principal who;
    if (!rsched_gate(srv, wsi, req, PERM_SCHEDULE_READ, false, &who))
        return;
    int64_t now = cr_wall_ms();
    int64_t early = (int64_t)srv->cfg->join_early_s * 1000;
    int64_t late = (int64_t)srv->cfg->overtime_s * 1000;
    /* a window [start - early, end + late) holds now iff the occurrence overlaps
     * [now - late, now + early] */
    struct st_lesson_filter f = {.from_ms = now - late, .to_ms = now + early + 1};
    struct st_lesson *rows;
    int n;
    struct rsched_names names;
    if (!rsched_lessons_load(srv, wsi, req, &f, &rows, &n, &names))
        return;
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        struct sched_rule rule = rsched_rule(&rows[i]);
        struct sched_span occ;
        if (sched_window_at(&rule, now, early, late, &occ))
            json_array_append_new(a, live_item(srv, &rows[i], &names, &occ, now, early, late));
    }
    free(rows);
    rsched_names_free(&names);
    rsched_reply(wsi, req, 200, json_pack("{s:I, s:o}", "now_ms", (json_int_t)now, "live", a));
}

/* ---- GET /api/v1/calendar/{teacher|classroom}/{id}.ics ---- */

/* The request's host name for UIDs (RFC 5545 §3.8.4.7): the Host header without its port,
 * reduced to characters that are safe in a content line. */
static void request_host(struct lws *wsi, char *out, size_t cap)
{
    char h[256] = "";
    if (lws_hdr_copy(wsi, h, sizeof h, WSI_TOKEN_HOST) < 0)
        h[0] = '\0';
    char *end = h[0] == '[' ? strchr(h, ']') : strchr(h, ':');
    if (end)
        end[h[0] == '['] = '\0';
    size_t o = 0;
    for (const char *c = h; *c && o + 1 < cap; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '.' || *c == '-' || *c == ':' || *c == '[' || *c == ']')
            out[o++] = *c;
    }
    out[o] = '\0';
    if (!out[0])
        snprintf(out, cap, "classrelay");
}

/* DESCRIPTION text of a lesson: subject, teacher, classrooms, room (malloc'd). */
static char *event_detail(const struct st_lesson *l, const struct rsched_names *names)
{
    size_t cap = 3 * STORE_TEXT_MAX + (size_t)l->n_classrooms * (STORE_TEXT_MAX + 2) + 64;
    char *s = cr_malloc(cap);
    size_t n = 0;
    if (l->subject[0])
        n += (size_t)snprintf(s + n, cap - n, "Subject: %s\n", l->subject);
    n += (size_t)snprintf(s + n, cap - n, "Teacher: %s\n", rsched_user_name(names, l->teacher_id));
    if (l->n_classrooms)
        n += (size_t)snprintf(s + n, cap - n, "Classrooms: ");
    for (int i = 0; i < l->n_classrooms; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s%s", i ? ", " : "",
                              rsched_classroom_name(names, l->classrooms[i]));
    snprintf(s + n, cap - n, "%sRoom: lesson-%" PRId64, l->n_classrooms ? "\n" : "", l->id);
    return s;
}

static void calendar(struct server *srv, struct lws *wsi, struct http_req *req, bool teacher,
                     int64_t id)
{
    struct store *st = srv->store;
    struct st_lesson_filter f = {0};
    char name[STORE_TEXT_MAX], file[64];
    int rc;
    if (teacher) {
        struct st_user u;
        rc = st->ops->user_get(st, id, &u);
        if (rc == 0 && u.role != ROLE_TEACHER)
            rc = STORE_ERR_NOT_FOUND;
        snprintf(name, sizeof name, "%s", rc == 0 ? u.name : "");
        f.teacher_id = id;
    } else {
        struct st_classroom c;
        rc = st->ops->classroom_get(st, id, &c);
        snprintf(name, sizeof name, "%s", rc == 0 ? c.name : "");
        f.classroom_id = id;
    }
    struct st_lesson *rows = NULL;
    int n = 0;
    struct rsched_names names = {0};
    if (rc == 0)
        rc = st->ops->lesson_list(st, &f, &rows, &n);
    if (rc == 0)
        rc = rsched_names_load(st, &names);
    if (rc != 0) {
        free(rows);
        rsched_names_free(&names);
        rsched_store_err(srv, wsi, req, rc, NULL,
                         teacher ? "no such teacher" : "no such classroom");
        return;
    }
    struct sched_event *ev = cr_calloc((size_t)n + 1, sizeof *ev);
    for (int i = 0; i < n; i++) {
        ev[i] = (struct sched_event){
            .id = rows[i].id,
            .title = rows[i].title,
            .detail = event_detail(&rows[i], &names),
            .rule = rsched_rule(&rows[i]),
            .updated_ms = rows[i].updated_ms,
        };
    }
    char host[128], calname[STORE_TEXT_MAX + 32];
    request_host(wsi, host, sizeof host);
    snprintf(calname, sizeof calname, "ClassRelay \xe2\x80\x94 %s", name); /* U+2014 */
    char *text = sched_ical(calname, host, ev, n);
    for (int i = 0; i < n; i++)
        free((char *)ev[i].detail);
    free(ev);
    free(rows);
    rsched_names_free(&names);
    if (!text) {
        http_respond_error(srv, wsi, req, SRV_ERR_INTERNAL, "cannot write the calendar");
        return;
    }
    http_respond(wsi, req, 200, "text/calendar; charset=utf-8", text, strlen(text));
    snprintf(file, sizeof file, "inline; filename=\"%s-%" PRId64 ".ics\"",
             teacher ? "teacher" : "classroom", id);
    http_add_header(req, "Content-Disposition", file);
    http_add_header(req, "Cache-Control", "no-cache");
}

void rsched_calendar(struct server *srv, struct lws *wsi, struct http_req *req,
                     const struct rsched_path *p)
{
    bool teacher = p->n == 3 && strcmp(p->seg[1], "teacher") == 0;
    bool classroom = p->n == 3 && strcmp(p->seg[1], "classroom") == 0;
    size_t len = p->n == 3 ? strlen(p->seg[2]) : 0;
    if ((!teacher && !classroom) || len < 5 || strcmp(p->seg[2] + len - 4, ".ics") != 0) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such API endpoint");
        return;
    }
    if (!rsched_is_get(req)) {
        rsched_method(srv, wsi, req, "GET, HEAD, OPTIONS");
        return;
    }
    struct principal who;
    if (!rsched_gate(srv, wsi, req, PERM_SCHEDULE_READ, false, &who))
        return;
    char digits[sizeof p->seg[2]];
    memcpy(digits, p->seg[2], len - 4);
    digits[len - 4] = '\0';
    int64_t id;
    if (!rsched_id(digits, &id)) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND,
                           teacher ? "no such teacher" : "no such classroom");
        return;
    }
    calendar(srv, wsi, req, teacher, id);
}

void rsched_live(struct server *srv, struct lws *wsi, struct http_req *req,
                 const struct rsched_path *p)
{
    if (p->n != 1)
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such API endpoint");
    else if (!rsched_is_get(req))
        rsched_method(srv, wsi, req, "GET, HEAD, OPTIONS");
    else
        live(srv, wsi, req);
}
