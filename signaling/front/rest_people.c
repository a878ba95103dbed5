/* Schools, classrooms and users over REST (docs/scheduling.md, "REST API"):
 *   /api/v1/schools[/{id}]      read: staff; write: admin, scheduler
 *   /api/v1/classrooms[/{id}]   the same; GET ?school= filters
 *   /api/v1/users[/{id}]        admin; a scheduler may GET ?role=teacher
 * POST creates (201 + Location), PUT changes the fields it names (the others are kept),
 * DELETE removes (204). The store checks the values and references and says what is wrong;
 * this file checks the JSON shapes, hashes passwords (passwd.h) and never shows a hash. An
 * admin cannot delete, disable or demote their own account, so the server always keeps
 * someone who can manage it. Every change is audited. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/passwd.h"
#include "access/audit.h"
#include "front/rest_sched_priv.h"

#define COLLECTION_ALLOW "GET, HEAD, POST, OPTIONS"
#define ITEM_ALLOW "GET, HEAD, PUT, DELETE, OPTIONS"

/* Which request on a resource: the collection or one item, and whether the method fits. */
enum op { OP_LIST, OP_CREATE, OP_GET, OP_UPDATE, OP_DELETE, OP_NONE };

/* The operation, or OP_NONE after answering 404 or 405. */
static enum op which(struct server *srv, struct lws *wsi, struct http_req *req,
                     const struct rsched_path *p)
{
    bool get = rsched_is_get(req);
    if (p->n == 1) {
        if (get || req->method == LWSHUMETH_POST)
            return get ? OP_LIST : OP_CREATE;
        rsched_method(srv, wsi, req, COLLECTION_ALLOW);
    } else if (p->n == 2) {
        if (get)
            return OP_GET;
        if (req->method == LWSHUMETH_PUT)
            return OP_UPDATE;
        if (req->method == LWSHUMETH_DELETE)
            return OP_DELETE;
        rsched_method(srv, wsi, req, ITEM_ALLOW);
    } else {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such API endpoint");
    }
    return OP_NONE;
}

/* The item id of the path; false after answering 404. */
static bool item_id(struct server *srv, struct lws *wsi, struct http_req *req,
                    const struct rsched_path *p, const char *not_found, int64_t *id)
{
    if (rsched_id(p->seg[1], id))
        return true;
    http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, not_found);
    return false;
}

/* A name cut short for an audit line (whose detail has a length limit of its own). */
#define CLIP_CHARS 120
typedef char clipbuf[CLIP_CHARS * 4 + 1];
static const char *clip(const char *s, char *out)
{
    rsched_clip(s, CLIP_CHARS, out, sizeof(clipbuf));
    return out;
}

/* The operation on a school or classroom, or OP_NONE after answering (404, 405, or the
 * gate's 401/403): reading is for staff, writing for admins and schedulers. */
static enum op place_op(struct server *srv, struct lws *wsi, struct http_req *req,
                        const struct rsched_path *p, struct principal *who)
{
    enum op op = which(srv, wsi, req, p);
    if (op == OP_NONE ||
        !rsched_gate(srv, wsi, req,
                     op == OP_LIST || op == OP_GET ? PERM_SCHEDULE_READ : PERM_SCHEDULE_WRITE,
                     false, who))
        return OP_NONE;
    return op;
}

/* Audits action on the school or classroom (kind) id named name. */
static void audit_place(struct server *srv, const struct principal *who, const char *action,
                        const char *kind, int64_t id, const char *name)
{
    clipbuf buf;
    audit_log(srv, who, action, NULL, "%s %" PRId64 " \"%s\"", kind, id, clip(name, buf));
}

/* Answers a written item v: 201 with its Location under /api/v1/<collection>/ when op
 * created it, else 200. */
static void reply_saved(struct lws *wsi, struct http_req *req, enum op op, const char *collection,
                        int64_t id, json_t *v)
{
    if (op == OP_CREATE) {
        char loc[64];
        snprintf(loc, sizeof loc, "/api/v1/%s/%" PRId64, collection, id);
        rsched_created(wsi, req, v, loc);
    } else {
        rsched_reply(wsi, req, 200, v);
    }
}

/* ---- schools ---- */

static json_t *school_json(const struct st_school *s)
{
    return json_pack("{s:I, s:s}", "id", (json_int_t)s->id, "name", s->name);
}

static const char *const school_fields[] = {"name", NULL};
static const char *const school_readonly[] = {"id", NULL};

void rsched_schools(struct server *srv, struct lws *wsi, struct http_req *req,
                    const struct rsched_path *p)
{
    struct principal who;
    struct store *st = srv->store;
    enum op op = place_op(srv, wsi, req, p, &who);
    if (op == OP_NONE)
        return;
    struct st_school s = {0};
    struct st_err e = {0};
    int rc = 0;
    if (op == OP_LIST) {
        struct st_school *rows = NULL;
        int n = 0;
        if ((rc = st->ops->school_list(st, &rows, &n)) != 0)
            goto fail;
        json_t *a = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(a, school_json(&rows[i]));
        free(rows);
        rsched_reply(wsi, req, 200, json_pack("{s:o}", "schools", a));
        return;
    }
    if (op != OP_CREATE) {
        if (!item_id(srv, wsi, req, p, "no such school", &s.id))
            return;
        if ((rc = st->ops->school_get(st, s.id, &s)) != 0)
            goto fail;
    }
    if (op == OP_GET) {
        rsched_reply(wsi, req, 200, school_json(&s));
        return;
    }
    if (op == OP_DELETE) {
        if ((rc = st->ops->school_delete(st, s.id, &e)) != 0)
            goto fail;
        audit_place(srv, &who, "school_delete", "school", s.id, s.name);
        rsched_no_content(wsi, req);
        return;
    }
    json_t *body = rsched_body(srv, wsi, req, "a school", school_fields, school_readonly);
    if (!body)
        return;
    struct rsched_in in = {.obj = body};
    rsched_in_text(&in, "name", op == OP_CREATE, s.name, sizeof s.name);
    json_decref(body);
    if (rsched_in_failed(srv, wsi, req, &in))
        return;
    rc = op == OP_CREATE ? st->ops->school_create(st, &s, &e) : st->ops->school_update(st, &s, &e);
    if (rc != 0)
        goto fail;
    audit_place(srv, &who, op == OP_CREATE ? "school_create" : "school_update", "school", s.id,
                s.name);
    reply_saved(wsi, req, op, "schools", s.id, school_json(&s));
    return;
fail:
    rsched_store_err(srv, wsi, req, rc, &e, "no such school");
}

/* ---- classrooms ---- */

static json_t *classroom_json(const struct st_classroom *c)
{
    return json_pack("{s:I, s:I, s:s}", "id", (json_int_t)c->id, "school_id",
                     (json_int_t)c->school_id, "name", c->name);
}

static const char *const classroom_fields[] = {"school_id", "name", NULL};
static const char *const classroom_readonly[] = {"id", NULL};

void rsched_classrooms(struct server *srv, struct lws *wsi, struct http_req *req,
                       const struct rsched_path *p)
{
    struct principal who;
    struct store *st = srv->store;
    enum op op = place_op(srv, wsi, req, p, &who);
    if (op == OP_NONE)
        return;
    struct st_classroom c = {0};
    struct st_err e = {0};
    int rc = 0;
    if (op == OP_LIST) {
        int64_t school = 0;
        if (rsched_query_i64(wsi, "school", 1, INT64_MAX, &school) < 0) {
            rsched_bad(srv, wsi, req, "bad query argument \"school\" (a school id)");
            return;
        }
        struct st_classroom *rows = NULL;
        int n = 0;
        if ((rc = st->ops->classroom_list(st, school, &rows, &n)) != 0)
            goto fail;
        json_t *a = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(a, classroom_json(&rows[i]));
        free(rows);
        rsched_reply(wsi, req, 200, json_pack("{s:o}", "classrooms", a));
        return;
    }
    if (op != OP_CREATE) {
        if (!item_id(srv, wsi, req, p, "no such classroom", &c.id))
            return;
        if ((rc = st->ops->classroom_get(st, c.id, &c)) != 0)
            goto fail;
    }
    if (op == OP_GET) {
        rsched_reply(wsi, req, 200, classroom_json(&c));
        return;
    }
    if (op == OP_DELETE) {
        if ((rc = st->ops->classroom_delete(st, c.id, &e)) != 0)
            goto fail;
        audit_place(srv, &who, "classroom_delete", "classroom", c.id, c.name);
        rsched_no_content(wsi, req);
        return;
    }
    json_t *body = rsched_body(srv, wsi, req, "a classroom", classroom_fields, classroom_readonly);
    if (!body)
        return;
    struct rsched_in in = {.obj = body};
    rsched_in_id(&in, "school_id", op == OP_CREATE, false, &c.school_id);
    rsched_in_text(&in, "name", op == OP_CREATE, c.name, sizeof c.name);
    json_decref(body);
    if (rsched_in_failed(srv, wsi, req, &in))
        return;
    rc = op == OP_CREATE ? st->ops->classroom_create(st, &c, &e)
                         : st->ops->classroom_update(st, &c, &e);
    if (rc != 0)
        goto fail;
    audit_place(srv, &who, op == OP_CREATE ? "classroom_create" : "classroom_update", "classroom",
                c.id, c.name);
    reply_saved(wsi, req, op, "classrooms", c.id, classroom_json(&c));
    return;
fail:
    rsched_store_err(srv, wsi, req, rc, &e, "no such classroom");
}

/* ---- users ---- */

static const char *const user_fields[] = {"username",     "password", "name", "role",
                                          "classroom_id", "disabled", NULL};
static const char *const user_readonly[] = {"id", "created_ms", NULL};

static void list_users(struct server *srv, struct lws *wsi, struct http_req *req)
{
    char role_text[32];
    int q = rsched_query(wsi, "role", role_text, sizeof role_text);
    enum role role = q > 0 ? role_parse(role_text) : ROLE_NONE;
    struct principal who;
    if (!rsched_gate(srv, wsi, req, role == ROLE_TEACHER ? PERM_TEACHERS_READ : PERM_USERS, false,
                     &who))
        return;
    if (q < 0 || (q > 0 && role == ROLE_NONE)) {
        rsched_bad(srv, wsi, req,
                   "bad query argument \"role\" (admin, scheduler, teacher, classroom, "
                   "researcher or observer)");
        return;
    }
    struct st_user *rows = NULL;
    int n = 0;
    int rc = srv->store->ops->user_list(srv->store, role, &rows, &n);
    if (rc != 0) {
        rsched_store_err(srv, wsi, req, rc, NULL, "no such user");
        return;
    }
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, rsched_user_json(&rows[i]));
    free(rows);
    rsched_reply(wsi, req, 200, json_pack("{s:o}", "users", a));
}

void rsched_user_in(struct rsched_in *in, bool create, struct st_user *u, char *password,
                    bool *new_pw)
{
    char role[32] = "";
    password[0] = '\0';
    rsched_in_text(in, "username", create, u->username, sizeof u->username);
    *new_pw = rsched_in_text(in, "password", create, password, PASSWD_MAX + 1);
    rsched_in_text(in, "name", create, u->name, sizeof u->name);
    bool new_role = rsched_in_text(in, "role", create, role, sizeof role);
    rsched_in_id(in, "classroom_id", false, true, &u->classroom_id);
    rsched_in_bool(in, "disabled", &u->disabled);
    if (!in->why[0] && new_role && (u->role = role_parse(role)) == ROLE_NONE)
        snprintf(in->why, sizeof in->why,
                 "\"role\" must be admin, scheduler, teacher, classroom, researcher or observer");
    if (!in->why[0] && *new_pw && (strlen(password) < PASSWD_MIN || strlen(password) > PASSWD_MAX))
        snprintf(in->why, sizeof in->why, "\"password\" must be %d to %d bytes", PASSWD_MIN,
                 PASSWD_MAX);
}

/* Reads a user's fields from the body into u (see rsched_user_in); a new password is
 * hashed into u->pw_hash. False after answering. */
static bool read_user(struct server *srv, struct lws *wsi, struct http_req *req, bool create,
                      struct st_user *u)
{
    json_t *body = rsched_body(srv, wsi, req, "a user", user_fields, user_readonly);
    if (!body)
        return false;
    struct rsched_in in = {.obj = body};
    char password[PASSWD_MAX + 1];
    bool new_pw;
    rsched_user_in(&in, create, u, password, &new_pw);
    json_decref(body);
    if (rsched_in_failed(srv, wsi, req, &in))
        return false;
    u->pw_hash[0] = '\0'; /* update: keep the stored hash */
    if (new_pw && passwd_hash(password, u->pw_hash, sizeof u->pw_hash) != 0) {
        http_respond_error(srv, wsi, req, SRV_ERR_INTERNAL, "cannot hash the password");
        return false;
    }
    return true;
}

void rsched_users(struct server *srv, struct lws *wsi, struct http_req *req,
                  const struct rsched_path *p)
{
    enum op op = which(srv, wsi, req, p);
    if (op == OP_LIST) {
        list_users(srv, wsi, req);
        return;
    }
    struct principal who;
    struct store *st = srv->store;
    if (op == OP_NONE || !rsched_gate(srv, wsi, req, PERM_USERS, false, &who))
        return;
    struct st_user u = {0};
    struct st_err e = {0};
    int rc = 0;
    if (op != OP_CREATE) {
        if (!item_id(srv, wsi, req, p, "no such user", &u.id))
            return;
        if ((rc = st->ops->user_get(st, u.id, &u)) != 0)
            goto fail;
    }
    bool self = u.id && u.id == who.user_id;
    if (op == OP_GET) {
        rsched_reply(wsi, req, 200, rsched_user_json(&u));
        return;
    }
    if (op == OP_DELETE) {
        if (self) {
            rsched_bad(srv, wsi, req, "you cannot delete your own account");
            return;
        }
        if ((rc = st->ops->user_delete(st, u.id, &e)) != 0)
            goto fail;
        audit_log(srv, &who, "user_delete", NULL, "user %" PRId64 " \"%s\"", u.id, u.username);
        rsched_no_content(wsi, req);
        return;
    }
    enum role was = u.role;
    if (!read_user(srv, wsi, req, op == OP_CREATE, &u))
        return;
    if (self && u.disabled) {
        rsched_bad(srv, wsi, req, "you cannot disable your own account");
        return;
    }
    if (self && was == ROLE_ADMIN && u.role != ROLE_ADMIN) {
        rsched_bad(srv, wsi, req, "you cannot take away your own admin role");
        return;
    }
    rc = op == OP_CREATE ? st->ops->user_create(st, &u, &e) : st->ops->user_update(st, &u, &e);
    if (rc != 0)
        goto fail;
    audit_log(srv, &who, op == OP_CREATE ? "user_create" : "user_update", NULL,
              "user %" PRId64 " \"%s\" (%s)%s", u.id, u.username, role_name(u.role),
              u.pw_hash[0] && op == OP_UPDATE ? ", new password" : "");
    if (st->ops->user_get(st, u.id, &u) != 0)
        u.created_ms = 0; /* gone again already: answer what was written */
    reply_saved(wsi, req, op, "users", u.id, rsched_user_json(&u));
    return;
fail:
    rsched_store_err(srv, wsi, req, rc, &e, "no such user");
}
