/* Schools, classrooms and users over REST (docs/scheduling.md, "REST API"):
 *   /api/v1/schools[/{id}]      read: staff; write: admin, scheduler
 *   /api/v1/classrooms[/{id}]   the same; GET ?school= filters
 *   /api/v1/users[/{id}]        admin; a scheduler may GET ?role=teacher
 * POST creates (201 + Location), PUT changes the fields it names (the others are kept),
 * DELETE removes (204). The store checks the values and references and says what is wrong;
 * this file checks the JSON shapes, hashes passwords (passwd.h) and never shows a hash. An
 * admin cannot delete, disable or demote their own account, so the server always keeps
 * someone who can manage it. Every change is audited. rest_resource.c serves the requests;
 * this file says, per resource, who may, what the JSON is and which store call does it. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/passwd.h"
#include "access/audit.h"
#include "front/rest_sched_priv.h"

/* A name cut short for an audit line (whose detail has a length limit of its own). */
#define CLIP_CHARS 120
typedef char clipbuf[CLIP_CHARS * 4 + 1];
static const char *clip(const char *s, char *out)
{
    rsched_clip(s, CLIP_CHARS, out, sizeof(clipbuf));
    return out;
}

/* Schools and classrooms: reading is for staff, writing for admins and schedulers. */
static enum perm_action place_perm(struct lws *wsi, enum rsched_op op)
{
    (void)wsi;
    return op == RSCHED_LIST || op == RSCHED_GET ? PERM_SCHEDULE_READ : PERM_SCHEDULE_WRITE;
}

/* ---- schools ---- */

static json_t *school_json(const void *row)
{
    const struct st_school *s = row;
    return json_pack("{s:I, s:s}", "id", (json_int_t)s->id, "name", s->name);
}

static const char *const school_fields[] = {"name", NULL};
static const char *const school_readonly[] = {"id", NULL};

static bool school_read(struct server *srv, struct lws *wsi, struct http_req *req,
                        enum rsched_op op, void *row)
{
    struct st_school *s = row;
    json_t *body = rsched_body(srv, wsi, req, "a school", school_fields, school_readonly);
    if (!body)
        return false;
    struct rsched_in in = {.obj = body};
    rsched_in_text(&in, "name", op == RSCHED_CREATE, s->name, sizeof s->name);
    json_decref(body);
    return !rsched_in_failed(srv, wsi, req, &in);
}

static int school_list(struct server *srv, struct lws *wsi, struct http_req *req, void **rows,
                       int *n)
{
    (void)wsi, (void)req;
    return srv->store->ops->school_list(srv->store, (struct st_school **)rows, n);
}

static int school_get(struct store *st, int64_t id, void *row)
{
    return st->ops->school_get(st, id, row);
}

static int school_save(struct store *st, enum rsched_op op, void *row, struct st_err *e)
{
    return op == RSCHED_CREATE ? st->ops->school_create(st, row, e)
                               : st->ops->school_update(st, row, e);
}

static int school_delete(struct store *st, int64_t id, struct st_err *e)
{
    return st->ops->school_delete(st, id, e);
}

static void school_audit(struct server *srv, const struct principal *who, const char *action,
                         enum rsched_op op, const void *row)
{
    const struct st_school *s = row;
    clipbuf buf;
    (void)op;
    audit_log(srv, who, action, NULL, "school %" PRId64 " \"%s\"", s->id, clip(s->name, buf));
}

static const struct rsched_resource schools = {
    .collection = "schools",
    .kind = "school",
    .not_found = "no such school",
    .row_size = sizeof(struct st_school),
    .id_offset = offsetof(struct st_school, id),
    .perm = place_perm,
    .list = school_list,
    .get = school_get,
    .save = school_save,
    .del = school_delete,
    .to_json = school_json,
    .from_json = school_read,
    .audit = school_audit,
};

void rsched_schools(struct server *srv, struct lws *wsi, struct http_req *req,
                    const struct rsched_path *p)
{
    rsched_resource(srv, wsi, req, p, &schools);
}

/* ---- classrooms ---- */

static json_t *classroom_json(const void *row)
{
    const struct st_classroom *c = row;
    return json_pack("{s:I, s:I, s:s}", "id", (json_int_t)c->id, "school_id",
                     (json_int_t)c->school_id, "name", c->name);
}

static const char *const classroom_fields[] = {"school_id", "name", NULL};
static const char *const classroom_readonly[] = {"id", NULL};

static bool classroom_read(struct server *srv, struct lws *wsi, struct http_req *req,
                           enum rsched_op op, void *row)
{
    struct st_classroom *c = row;
    json_t *body = rsched_body(srv, wsi, req, "a classroom", classroom_fields, classroom_readonly);
    if (!body)
        return false;
    struct rsched_in in = {.obj = body};
    rsched_in_id(&in, "school_id", op == RSCHED_CREATE, false, &c->school_id);
    rsched_in_text(&in, "name", op == RSCHED_CREATE, c->name, sizeof c->name);
    json_decref(body);
    return !rsched_in_failed(srv, wsi, req, &in);
}

/* GET ?school= lists one school's classrooms. */
static int classroom_list(struct server *srv, struct lws *wsi, struct http_req *req, void **rows,
                          int *n)
{
    int64_t school = 0;
    if (http_query_i64(wsi, "school", 1, INT64_MAX, &school) < 0) {
        rsched_bad(srv, wsi, req, "bad query argument \"school\" (a school id)");
        return RSCHED_ANSWERED;
    }
    return srv->store->ops->classroom_list(srv->store, school, (struct st_classroom **)rows, n);
}

static int classroom_get(struct store *st, int64_t id, void *row)
{
    return st->ops->classroom_get(st, id, row);
}

static int classroom_save(struct store *st, enum rsched_op op, void *row, struct st_err *e)
{
    return op == RSCHED_CREATE ? st->ops->classroom_create(st, row, e)
                               : st->ops->classroom_update(st, row, e);
}

static int classroom_delete(struct store *st, int64_t id, struct st_err *e)
{
    return st->ops->classroom_delete(st, id, e);
}

static void classroom_audit(struct server *srv, const struct principal *who, const char *action,
                            enum rsched_op op, const void *row)
{
    const struct st_classroom *c = row;
    clipbuf buf;
    (void)op;
    audit_log(srv, who, action, NULL, "classroom %" PRId64 " \"%s\"", c->id, clip(c->name, buf));
}

static const struct rsched_resource classrooms = {
    .collection = "classrooms",
    .kind = "classroom",
    .not_found = "no such classroom",
    .row_size = sizeof(struct st_classroom),
    .id_offset = offsetof(struct st_classroom, id),
    .perm = place_perm,
    .list = classroom_list,
    .get = classroom_get,
    .save = classroom_save,
    .del = classroom_delete,
    .to_json = classroom_json,
    .from_json = classroom_read,
    .audit = classroom_audit,
};

void rsched_classrooms(struct server *srv, struct lws *wsi, struct http_req *req,
                       const struct rsched_path *p)
{
    rsched_resource(srv, wsi, req, p, &classrooms);
}

/* ---- users ---- */

static const char *const user_fields[] = {"username",     "password", "name", "role",
                                          "classroom_id", "disabled", NULL};
static const char *const user_readonly[] = {"id", "created_ms", NULL};

/* The ?role= of a list: 1 and *role, 0 absent, -1 malformed (a role that does not exist). */
static int role_query(struct lws *wsi, enum role *role)
{
    char text[32];
    int q = http_query(wsi, "role", text, sizeof text);
    *role = q > 0 ? role_parse(text) : ROLE_NONE;
    return q > 0 && !role_of_user(*role) ? -1 : q;
}

/* Users are the admin's; a scheduler may list the teachers, to book one. */
static enum perm_action user_perm(struct lws *wsi, enum rsched_op op)
{
    enum role role;
    return op == RSCHED_LIST && role_query(wsi, &role) > 0 && role == ROLE_TEACHER
               ? PERM_TEACHERS_READ
               : PERM_USERS;
}

static int user_list(struct server *srv, struct lws *wsi, struct http_req *req, void **rows, int *n)
{
    enum role role;
    if (role_query(wsi, &role) < 0) {
        rsched_bad(srv, wsi, req,
                   "bad query argument \"role\" (admin, scheduler, teacher, classroom, "
                   "researcher or observer)");
        return RSCHED_ANSWERED;
    }
    return srv->store->ops->user_list(srv->store, role, (struct st_user **)rows, n);
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
    if (!in->why[0] && new_role && !role_of_user(u->role = role_parse(role)))
        snprintf(in->why, sizeof in->why,
                 "\"role\" must be admin, scheduler, teacher, classroom, researcher or observer");
    if (!in->why[0] && *new_pw && (strlen(password) < PASSWD_MIN || strlen(password) > PASSWD_MAX))
        snprintf(in->why, sizeof in->why, "\"password\" must be %d to %d bytes", PASSWD_MIN,
                 PASSWD_MAX);
}

static json_t *user_json(const void *row) { return rsched_user_json(row); }

/* Reads a user's fields from the body into u (see rsched_user_in); a new password is
 * hashed into u->pw_hash. False after answering. */
static bool user_read(struct server *srv, struct lws *wsi, struct http_req *req, enum rsched_op op,
                      void *row)
{
    struct st_user *u = row;
    bool create = op == RSCHED_CREATE;
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

/* An admin keeps their own account: not deleted, not disabled, not demoted. */
static bool user_allow(struct server *srv, struct lws *wsi, struct http_req *req, enum rsched_op op,
                       const struct principal *who, const void *before, const void *row)
{
    const struct st_user *was = before, *u = row;
    bool self = u->id && u->id == who->user_id;
    const char *why = !self                 ? NULL
                      : op == RSCHED_DELETE ? "you cannot delete your own account"
                      : u->disabled         ? "you cannot disable your own account"
                      : was->role == ROLE_ADMIN && u->role != ROLE_ADMIN
                          ? "you cannot take away your own admin role"
                          : NULL;
    if (why)
        rsched_bad(srv, wsi, req, "%s", why);
    return !why;
}

static int user_get(struct store *st, int64_t id, void *row)
{
    return st->ops->user_get(st, id, row);
}

static int user_save(struct store *st, enum rsched_op op, void *row, struct st_err *e)
{
    return op == RSCHED_CREATE ? st->ops->user_create(st, row, e)
                               : st->ops->user_update(st, row, e);
}

static int user_delete(struct store *st, int64_t id, struct st_err *e)
{
    return st->ops->user_delete(st, id, e);
}

static void user_audit(struct server *srv, const struct principal *who, const char *action,
                       enum rsched_op op, const void *row)
{
    const struct st_user *u = row;
    if (op == RSCHED_DELETE)
        audit_log(srv, who, action, NULL, "user %" PRId64 " \"%s\"", u->id, u->username);
    else
        audit_log(srv, who, action, NULL, "user %" PRId64 " \"%s\" (%s)%s", u->id, u->username,
                  role_name(u->role), u->pw_hash[0] && op == RSCHED_UPDATE ? ", new password" : "");
}

/* The answer shows created_ms, which the store sets. */
static void user_reread(struct store *st, void *row)
{
    struct st_user *u = row;
    if (st->ops->user_get(st, u->id, u) != 0)
        u->created_ms = 0; /* gone again already: answer what was written */
}

static const struct rsched_resource users = {
    .collection = "users",
    .kind = "user",
    .not_found = "no such user",
    .row_size = sizeof(struct st_user),
    .id_offset = offsetof(struct st_user, id),
    .perm = user_perm,
    .list = user_list,
    .get = user_get,
    .save = user_save,
    .del = user_delete,
    .to_json = user_json,
    .from_json = user_read,
    .allow = user_allow,
    .audit = user_audit,
    .reread = user_reread,
};

void rsched_users(struct server *srv, struct lws *wsi, struct http_req *req,
                  const struct rsched_path *p)
{
    rsched_resource(srv, wsi, req, p, &users);
}
