/* Lessons over REST (docs/scheduling.md, "REST API"):
 *   GET    /api/v1/lessons?from=&to=&teacher=&classroom=   occurrences in [from, to)
 *   POST   /api/v1/lessons                                 201 + Location; 409 on a clash
 *   GET/PUT/DELETE /api/v1/lessons/{id}
 *   GET    /api/v1/lessons/{id}/links                      join links for its room
 * Reading is for staff, writing for admins and schedulers (perm.c). The store checks the
 * times (sched_rule_invalid), the teacher and classrooms, and refuses double bookings inside
 * the write's transaction; this file checks JSON shapes, expands weekly recurrences into
 * the occurrences a calendar shows (sched.h) and signs the join links (token.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "front/credentials.h"
#include "access/audit.h"
#include "base/clock.h"
#include "base/redact.h"
#include "front/rest_sched_priv.h"
#include "access/token.h"

#define DAY_MS (24LL * 3600 * 1000)
#define LIST_RANGE_MAX_MS (62 * DAY_MS)
#define LINK_TTL_MIN_S 3600

/* ---- names and JSON ---- */

int rsched_names_load(struct store *st, struct rsched_names *n)
{
    memset(n, 0, sizeof *n);
    int rc = st->ops->user_list(st, ROLE_NONE, &n->users, &n->n_users);
    if (rc == 0)
        rc = st->ops->classroom_list(st, 0, &n->rooms, &n->n_rooms);
    return rc;
}

void rsched_names_free(struct rsched_names *n)
{
    free(n->users);
    free(n->rooms);
    memset(n, 0, sizeof *n);
}

const char *rsched_user_name(const struct rsched_names *n, int64_t id)
{
    for (int i = 0; i < n->n_users; i++) {
        if (n->users[i].id == id)
            return n->users[i].name;
    }
    return "";
}

const char *rsched_classroom_name(const struct rsched_names *n, int64_t id)
{
    for (int i = 0; i < n->n_rooms; i++) {
        if (n->rooms[i].id == id)
            return n->rooms[i].name;
    }
    return "";
}

struct sched_rule rsched_rule(const struct st_lesson *l)
{
    return (struct sched_rule){
        .start_ms = l->start_ms, .end_ms = l->end_ms, .until_ms = l->until_ms};
}

json_t *rsched_lesson_json(const struct st_lesson *l, const struct rsched_names *n)
{
    char room[32];
    store_lesson_room(l->id, room, sizeof room);
    struct sched_rule rule = rsched_rule(l);
    json_t *ids = json_array(), *names = json_array();
    for (int i = 0; i < l->n_classrooms; i++) {
        json_array_append_new(ids, json_integer(l->classrooms[i]));
        json_array_append_new(names, json_string(rsched_classroom_name(n, l->classrooms[i])));
    }
    json_t *rec =
        l->until_ms ? json_pack("{s:s, s:I}", "freq", "weekly", "until_ms", (json_int_t)l->until_ms)
                    : json_null();
    char shown[RTSP_URL_MAX + 8]; /* the camera's password never leaves the store */
    cr_redact_userinfo(l->source_url, shown, sizeof shown);
    json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:I, s:I, s:o, s:b, s:o, s:o, s:s, s:i, "
                          "s:I, s:I, s:s?}",
                          "id", (json_int_t)l->id, "title", l->title, "subject", l->subject,
                          "teacher_id", (json_int_t)l->teacher_id, "teacher_name",
                          rsched_user_name(n, l->teacher_id), "start_ms", (json_int_t)l->start_ms,
                          "end_ms", (json_int_t)l->end_ms, "recurrence", rec, "record", l->record,
                          "classrooms", ids, "classroom_names", names, "room", room, "occurrences",
                          sched_count(&rule), "created_ms", (json_int_t)l->created_ms, "updated_ms",
                          (json_int_t)l->updated_ms, "source_url", shown[0] ? shown : NULL);
    return o ? o : json_null(); /* the store keeps text UTF-8, so json_pack cannot fail */
}

/* ---- reading a lesson from a body ---- */

static const char *const lesson_fields[] = {"title",      "subject",    "teacher_id", "start_ms",
                                            "end_ms",     "recurrence", "record",     "classrooms",
                                            "source_url", NULL};
static const char *const lesson_readonly[] = {
    "id",          "teacher_name", "classroom_names",   "room",
    "occurrences", "created_ms",   "updated_ms",        "occurrence_start_ms",
    "live",        "opens_ms",     "occurrence_end_ms", NULL};

/* "recurrence": null (once) or {"freq":"weekly","until_ms":T}. */
static void read_recurrence(struct rsched_in *in, struct st_lesson *l)
{
    json_t *r = json_object_get(in->obj, "recurrence");
    const char *key;
    json_t *v;
    if (!r || in->why[0])
        return;
    if (json_is_null(r)) {
        l->until_ms = 0;
        return;
    }
    if (!json_is_object(r)) {
        snprintf(in->why, sizeof in->why,
                 "\"recurrence\" must be null or {\"freq\":\"weekly\",\"until_ms\":T}");
        return;
    }
    json_object_foreach(r, key, v)
    {
        if (strcmp(key, "freq") != 0 && strcmp(key, "until_ms") != 0) {
            char name[200];
            rsched_clip(key, 64, name, sizeof name);
            snprintf(in->why, sizeof in->why,
                     "unknown field \"recurrence.%s\" (a recurrence has: freq, until_ms)", name);
            return;
        }
    }
    json_t *freq = json_object_get(r, "freq"), *until = json_object_get(r, "until_ms");
    if (!json_is_string(freq) || strcmp(json_string_value(freq), "weekly") != 0)
        snprintf(in->why, sizeof in->why, "\"recurrence.freq\" must be \"weekly\"");
    else if (!json_is_integer(until) || json_integer_value(until) <= 0)
        snprintf(in->why, sizeof in->why,
                 "\"recurrence.until_ms\" must be an integer (milliseconds since the epoch)");
    else
        l->until_ms = json_integer_value(until);
}

/* "classrooms": an array of distinct classroom ids. */
static void read_classrooms(struct rsched_in *in, struct st_lesson *l)
{
    json_t *a = json_object_get(in->obj, "classrooms"), *v;
    size_t i;
    if (!a || in->why[0])
        return;
    if (!json_is_array(a) || json_array_size(a) > STORE_LESSON_CLASSROOMS) {
        snprintf(in->why, sizeof in->why,
                 "\"classrooms\" must be an array of at most %d classroom ids",
                 STORE_LESSON_CLASSROOMS);
        return;
    }
    json_array_foreach(a, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            snprintf(in->why, sizeof in->why,
                     "\"classrooms\" must hold classroom ids (integers > 0)");
            return;
        }
        for (size_t j = 0; j < i; j++) {
            if (l->classrooms[j] == json_integer_value(v)) {
                snprintf(in->why, sizeof in->why,
                         "\"classrooms\" lists classroom %" PRId64 " twice",
                         (int64_t)json_integer_value(v));
                return;
            }
        }
        l->classrooms[i] = json_integer_value(v);
    }
    l->n_classrooms = (int)json_array_size(a);
}

void rsched_lesson_in(struct rsched_in *in, bool create, struct st_lesson *l)
{
    rsched_in_text(in, "title", create, l->title, sizeof l->title);
    rsched_in_text(in, "subject", false, l->subject, sizeof l->subject);
    rsched_in_id(in, "teacher_id", create, false, &l->teacher_id);
    if (rsched_in_int(in, "start_ms", create, &l->start_ms) && l->start_ms < 0)
        snprintf(in->why, sizeof in->why, "\"start_ms\" must not be before 1970");
    if (rsched_in_int(in, "end_ms", create, &l->end_ms) && l->end_ms < 0)
        snprintf(in->why, sizeof in->why, "\"end_ms\" must not be before 1970");
    read_recurrence(in, l);
    rsched_in_bool(in, "record", &l->record);
    read_classrooms(in, l);
    /* null or "" removes it; the store checks it (store/rtsp_url.h) */
    if (json_is_null(json_object_get(in->obj, "source_url")))
        l->source_url[0] = '\0';
    else
        rsched_in_text(in, "source_url", false, l->source_url, sizeof l->source_url);
}

/* Reads the body into l (see rsched_lesson_in). False after answering. */
static bool read_lesson(struct server *srv, struct lws *wsi, struct http_req *req, bool create,
                        struct st_lesson *l)
{
    json_t *body = rsched_body(srv, wsi, req, "a lesson", lesson_fields, lesson_readonly);
    if (!body)
        return false;
    struct rsched_in in = {.obj = body};
    rsched_lesson_in(&in, create, l);
    json_decref(body);
    return !rsched_in_failed(srv, wsi, req, &in);
}

/* ---- GET /api/v1/lessons: occurrences ---- */

struct occ {
    const struct st_lesson *lesson;
    struct sched_span span;
};

static int occ_cmp(const void *a, const void *b)
{
    const struct occ *x = a, *y = b;
    if (x->span.start_ms != y->span.start_ms)
        return x->span.start_ms < y->span.start_ms ? -1 : 1;
    return x->lesson->id < y->lesson->id ? -1 : x->lesson->id > y->lesson->id;
}

/* Monday 00:00 UTC of the week holding ms (1970-01-01 was a Thursday). */
static int64_t week_start(int64_t ms)
{
    int64_t days = ms / DAY_MS - (ms % DAY_MS < 0);
    int64_t weekday = ((days + 3) % 7 + 7) % 7; /* Monday 0 */
    return (days - weekday) * DAY_MS;
}

static void list(struct server *srv, struct lws *wsi, struct http_req *req)
{
    struct principal who;
    if (!rsched_gate(srv, wsi, req, PERM_SCHEDULE_READ, false, &who))
        return;
    struct st_lesson_filter f = {0};
    const char *bad = NULL;
    int has_from = http_query_i64(wsi, "from", 0, INT64_MAX / 2, &f.from_ms);
    int has_to = http_query_i64(wsi, "to", 1, INT64_MAX / 2, &f.to_ms);
    if (has_from < 0)
        bad = "from";
    else if (has_to < 0)
        bad = "to";
    else if (http_query_i64(wsi, "teacher", 1, INT64_MAX, &f.teacher_id) < 0)
        bad = "teacher";
    else if (http_query_i64(wsi, "classroom", 1, INT64_MAX, &f.classroom_id) < 0)
        bad = "classroom";
    if (bad) {
        rsched_bad(srv, wsi, req,
                   "bad query argument \"%s\" (from, to: ms since the epoch; teacher, "
                   "classroom: ids)",
                   bad);
        return;
    }
    int64_t now = cr_wall_ms();
    if (!has_from && !has_to)
        f.from_ms = week_start(now);
    if (!has_from && has_to)
        f.from_ms = f.to_ms > 7 * DAY_MS ? f.to_ms - 7 * DAY_MS : 0;
    if (!has_to)
        f.to_ms = f.from_ms + 7 * DAY_MS;
    if (f.to_ms <= f.from_ms || f.to_ms - f.from_ms > LIST_RANGE_MAX_MS) {
        rsched_bad(srv, wsi, req, "\"to\" must be after \"from\" and at most 62 days later");
        return;
    }

    struct st_lesson *rows;
    int n;
    struct rsched_names names;
    if (!rsched_lessons_load(srv, wsi, req, &f, &rows, &n, &names))
        return;
    struct occ *occs = cr_calloc((size_t)n * SCHED_MAX_OCCURRENCES + 1, sizeof *occs);
    size_t n_occs = 0;
    struct sched_span spans[SCHED_MAX_OCCURRENCES];
    for (int i = 0; i < n; i++) {
        struct sched_rule rule = rsched_rule(&rows[i]);
        int k = sched_expand(&rule, f.from_ms, f.to_ms, spans, SCHED_MAX_OCCURRENCES);
        for (int j = 0; j < k && j < SCHED_MAX_OCCURRENCES; j++)
            occs[n_occs++] = (struct occ){.lesson = &rows[i], .span = spans[j]};
    }
    qsort(occs, n_occs, sizeof *occs, occ_cmp);
    int64_t early = (int64_t)srv->cfg->join_early_s * 1000;
    int64_t late = (int64_t)srv->cfg->overtime_s * 1000;
    json_t *a = json_array();
    for (size_t i = 0; i < n_occs; i++) {
        json_t *o = rsched_lesson_json(occs[i].lesson, &names);
        json_object_set_new(o, "occurrence_start_ms", json_integer(occs[i].span.start_ms));
        json_object_set_new(o, "occurrence_end_ms", json_integer(occs[i].span.end_ms));
        json_object_set_new(
            o, "live",
            json_boolean(now >= occs[i].span.start_ms - early && now < occs[i].span.end_ms + late));
        json_array_append_new(a, o);
    }
    free(occs);
    free(rows);
    rsched_names_free(&names);
    rsched_reply(wsi, req, 200,
                 json_pack("{s:I, s:I, s:o}", "from_ms", (json_int_t)f.from_ms, "to_ms",
                           (json_int_t)f.to_ms, "lessons", a));
}

/* ---- GET /api/v1/lessons/{id}/links ---- */

/* RFC 3986 §2.3: everything but unreserved characters percent-encoded. */
static void url_encode(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

/* {"name","url","token"} (and "classroom"), or NULL if the token cannot be made. */
static json_t *link_json(struct server *srv, struct token_claims *c, const char *name,
                         const char *page, int64_t lesson_id)
{
    char token[TOKEN_MAX + 1], enc[STORE_TEXT_MAX * 3 + 1], url[sizeof token + sizeof enc + 96];
    rsched_clip(name[0] ? name : "?", 64, c->name, sizeof c->name);
    if (token_sign(srv->key, c, token, sizeof token) != 0)
        return NULL;
    if (c->role == ROLE_TEACHER) {
        snprintf(url, sizeof url, "/%s?room=lesson-%" PRId64 "&token=%s", page, lesson_id, token);
    } else {
        url_encode(name, enc, sizeof enc);
        snprintf(url, sizeof url, "/%s?room=lesson-%" PRId64 "&name=%s&token=%s", page, lesson_id,
                 enc, token);
    }
    json_t *o = json_pack("{s:s, s:s, s:s}", "name", name, "url", url, "token", token);
    if (o && c->classroom)
        json_object_set_new(o, "classroom", json_integer(c->classroom));
    return o;
}

static void links(struct server *srv, struct lws *wsi, struct http_req *req, const char *id_text)
{
    struct principal who;
    const char *why;
    struct st_lesson l = {0};
    bool found = false;
    /* own (the principal teaches it) must be known before the gate: look both up first,
     * and say "no such lesson" only to those who may see links at all */
    if (cred_http(srv, wsi, &who, &why) == 0 && srv->store && rsched_id(id_text, &l.id))
        found = srv->store->ops->lesson_get(srv->store, l.id, &l) == 0;
    bool own = found && who.user_id && who.user_id == l.teacher_id;
    if (!rsched_gate(srv, wsi, req, PERM_LINKS, own, &who))
        return;
    if (!found) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such lesson");
        return;
    }
    struct rsched_names names;
    int rc = rsched_names_load(srv->store, &names);
    if (rc != 0) {
        rsched_names_free(&names);
        rsched_store_err(srv, wsi, req, rc, NULL, "no such lesson");
        return;
    }
    /* valid through the last occurrence's overtime; at least an hour, at most the token
     * limit */
    struct sched_rule rule = rsched_rule(&l);
    int64_t now_s = cr_wall_ms() / 1000;
    int64_t exp = (sched_last_end(&rule) + 999) / 1000 + (int64_t)srv->cfg->overtime_s;
    if (exp < now_s + LINK_TTL_MIN_S)
        exp = now_s + LINK_TTL_MIN_S;
    if (exp > now_s + TOKEN_TTL_MAX_S)
        exp = now_s + TOKEN_TTL_MAX_S;
    struct token_claims c = {.role = ROLE_TEACHER, .iat = now_s, .exp = exp};
    store_lesson_room(l.id, c.room, sizeof c.room);
    snprintf(c.sub, sizeof c.sub, "u%" PRId64, l.teacher_id);
    json_t *teacher =
        link_json(srv, &c, rsched_user_name(&names, l.teacher_id), "teacher.html", l.id);
    json_t *rooms = json_array();
    for (int i = 0; teacher && i < l.n_classrooms; i++) {
        c.role = ROLE_CLASSROOM;
        c.classroom = l.classrooms[i];
        snprintf(c.sub, sizeof c.sub, "link:%" PRId64, l.classrooms[i]);
        json_t *o = link_json(srv, &c, rsched_classroom_name(&names, l.classrooms[i]),
                              "classroom.html", l.id);
        if (!o) {
            json_decref(teacher);
            teacher = NULL;
            break;
        }
        json_array_append_new(rooms, o);
    }
    rsched_names_free(&names);
    if (!teacher) {
        json_decref(rooms);
        http_respond_error(srv, wsi, req, SRV_ERR_INTERNAL, "cannot sign the join links");
        return;
    }
    char title[STORE_TEXT_MAX];
    rsched_clip(l.title, 120, title, sizeof title);
    audit_log(srv, &who, "links", c.room, "lesson %" PRId64 " \"%s\"", l.id, title);
    rsched_reply(wsi, req, 200,
                 json_pack("{s:I, s:s, s:I, s:o, s:o}", "lesson", (json_int_t)l.id, "room", c.room,
                           "expires_ms", (json_int_t)exp * 1000, "teacher", teacher, "classrooms",
                           rooms));
}

/* ---- one lesson ---- */

static void answer_lesson(struct server *srv, struct lws *wsi, struct http_req *req, int status,
                          const struct st_lesson *l)
{
    struct rsched_names names;
    if (rsched_names_load(srv->store, &names) != 0)
        rsched_names_free(&names); /* answer without names rather than not at all */
    json_t *v = rsched_lesson_json(l, &names);
    rsched_names_free(&names);
    if (status == 201) {
        char loc[64];
        snprintf(loc, sizeof loc, "/api/v1/lessons/%" PRId64, l->id);
        rsched_created(wsi, req, v, loc);
    } else {
        rsched_reply(wsi, req, status, v);
    }
}

static void write_lesson(struct server *srv, struct lws *wsi, struct http_req *req,
                         const struct rsched_path *p)
{
    bool create = p->n == 1, del = req->method == LWSHUMETH_DELETE;
    struct principal who;
    if (!rsched_gate(srv, wsi, req, PERM_SCHEDULE_WRITE, false, &who))
        return;
    struct store *st = srv->store;
    struct st_lesson l = {.record = true};
    struct st_err e = {0};
    int rc = 0;
    if (!create) {
        if (!rsched_id(p->seg[1], &l.id)) {
            http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such lesson");
            return;
        }
        if ((rc = st->ops->lesson_get(st, l.id, &l)) != 0)
            goto fail;
    }
    if (del)
        rc = st->ops->lesson_delete(st, l.id, &e);
    else if (!read_lesson(srv, wsi, req, create, &l))
        return;
    else
        rc = create ? st->ops->lesson_create(st, &l, &e) : st->ops->lesson_update(st, &l, &e);
    if (rc != 0)
        goto fail;
    char room[32], title[STORE_TEXT_MAX];
    store_lesson_room(l.id, room, sizeof room);
    rsched_clip(l.title, 120, title, sizeof title);
    audit_log(srv, &who,
              del      ? "lesson_delete"
              : create ? "lesson_create"
                       : "lesson_update",
              room, "lesson %" PRId64 " \"%s\"", l.id, title);
    if (del) {
        rsched_no_content(wsi, req);
        return;
    }
    struct st_lesson stored;
    if (st->ops->lesson_get(st, l.id, &stored) == 0) /* else answer what was written */
        l = stored;
    answer_lesson(srv, wsi, req, create ? 201 : 200, &l);
    return;
fail:
    rsched_store_err(srv, wsi, req, rc, &e, "no such lesson");
}

void rsched_lessons(struct server *srv, struct lws *wsi, struct http_req *req,
                    const struct rsched_path *p)
{
    bool get = rsched_is_get(req);
    if (p->n == 3 && strcmp(p->seg[2], "links") == 0) {
        if (get)
            links(srv, wsi, req, p->seg[1]);
        else
            rsched_method(srv, wsi, req, "GET, HEAD, OPTIONS");
    } else if (p->n > 2) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such API endpoint");
    } else if (p->n == 1 && get) {
        list(srv, wsi, req);
    } else if (p->n == 1 && req->method != LWSHUMETH_POST) {
        rsched_method(srv, wsi, req, "GET, HEAD, POST, OPTIONS");
    } else if (p->n == 2 && get) {
        struct principal who;
        struct st_lesson l;
        if (!rsched_gate(srv, wsi, req, PERM_SCHEDULE_READ, false, &who))
            return;
        int rc = rsched_id(p->seg[1], &l.id) ? srv->store->ops->lesson_get(srv->store, l.id, &l)
                                             : STORE_ERR_NOT_FOUND;
        if (rc != 0)
            rsched_store_err(srv, wsi, req, rc, NULL, "no such lesson");
        else
            answer_lesson(srv, wsi, req, 200, &l);
    } else if (p->n == 2 && req->method != LWSHUMETH_PUT && req->method != LWSHUMETH_DELETE) {
        rsched_method(srv, wsi, req, "GET, HEAD, PUT, DELETE, OPTIONS");
    } else {
        write_lesson(srv, wsi, req, p);
    }
}

bool rsched_lessons_load(struct server *srv, struct lws *wsi, struct http_req *req,
                         const struct st_lesson_filter *f, struct st_lesson **rows, int *n,
                         struct rsched_names *names)
{
    *rows = NULL;
    *n = 0;
    int rc = srv->store->ops->lesson_list(srv->store, f, rows, n);
    if (rc == 0) {
        rc = rsched_names_load(srv->store, names);
        if (rc != 0)
            rsched_names_free(names); /* the users, when the classrooms failed */
    }
    if (rc != 0) {
        free(*rows);
        *rows = NULL;
        rsched_store_err(srv, wsi, req, rc, NULL, "no such lesson");
        return false;
    }
    return true;
}
