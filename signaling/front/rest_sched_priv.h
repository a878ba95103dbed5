/* What the schedule's REST files share: rest_schedule.c (routing, sessions, the audit log),
 * rest_people.c (schools, classrooms, users), rest_lessons.c (lessons and their links) and
 * rest_live.c (what is live, calendars), with the helpers of rest_sched_util.c: strict JSON
 * bodies, query arguments, ids, store errors as HTTP answers; and rest_resource.c, which
 * serves an entity's list/get/create/update/delete from a table. Not an interface for anyone
 * else: the only entry point is rest_schedule_route() (rest_schedule.h); the pure readers
 * are also fuzzed (tests/fuzz/fuzz_sig_rest_json.c). */
#ifndef CR_SIGNALING_REST_SCHED_PRIV_H
#define CR_SIGNALING_REST_SCHED_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/auth.h"
#include "store/sched.h"
#include "transport/http.h"
#include "store/store.h"

#define RSCHED_SEGS 4 /* path segments after /api/v1/ */

/* /api/v1/<seg[0]>/<seg[1]>/... split at '/', n of them. */
struct rsched_path {
    char seg[RSCHED_SEGS][72];
    int n;
};

/* One handler per resource; each checks the method, then the token (rsched_gate). */
void rsched_schools(struct server *srv, struct lws *wsi, struct http_req *req,
                    const struct rsched_path *p);
void rsched_classrooms(struct server *srv, struct lws *wsi, struct http_req *req,
                       const struct rsched_path *p);
void rsched_users(struct server *srv, struct lws *wsi, struct http_req *req,
                  const struct rsched_path *p);
void rsched_lessons(struct server *srv, struct lws *wsi, struct http_req *req,
                    const struct rsched_path *p);
void rsched_live(struct server *srv, struct lws *wsi, struct http_req *req,
                 const struct rsched_path *p);
void rsched_calendar(struct server *srv, struct lws *wsi, struct http_req *req,
                     const struct rsched_path *p);

/* ---- rest_resource.c: a store entity as a REST resource ---- */

/* Which request on a resource: its collection (list, create) or one item. */
enum rsched_op { RSCHED_LIST, RSCHED_CREATE, RSCHED_GET, RSCHED_UPDATE, RSCHED_DELETE };

/* A list function's answer when it has answered the request itself (a bad query argument). */
#define RSCHED_ANSWERED 1

/* What rsched_resource() needs to know of an entity (rest_people.c fills three). Rows are
 * the store's structs (struct st_school ...), handled as row_size bytes with an int64_t id
 * at id_offset. Every function but allow and reread is required. */
struct rsched_resource {
    const char *collection; /* /api/v1/<collection>[/{id}], and the list's key */
    const char *kind;       /* audit actions <kind>_create, _update, _delete */
    const char *not_found;  /* the 404 message for a missing item */
    size_t row_size, id_offset;
    /* The permission op needs (the gate answers 401/403); may look at the query. */
    enum perm_action (*perm)(struct lws *wsi, enum rsched_op op);
    /* Reads the query and lists into *rows (malloc'd) and *n: 0, a negative STORE_ERR_*, or
     * RSCHED_ANSWERED. */
    int (*list)(struct server *srv, struct lws *wsi, struct http_req *req, void **rows, int *n);
    int (*get)(struct store *st, int64_t id, void *row);
    int (*save)(struct store *st, enum rsched_op op, void *row, struct st_err *e);
    int (*del)(struct store *st, int64_t id, struct st_err *e);
    json_t *(*to_json)(const void *row);
    /* Reads the request's body into row (create: the required fields too); false after
     * answering. */
    bool (*from_json)(struct server *srv, struct lws *wsi, struct http_req *req, enum rsched_op op,
                      void *row);
    /* Before deleting (before == row) or saving row (before: as stored, zero on create): false
     * after refusing with an answer. */
    bool (*allow)(struct server *srv, struct lws *wsi, struct http_req *req, enum rsched_op op,
                  const struct principal *who, const void *before, const void *row);
    /* Audits action (<kind>_<op>) on row, once the store has done it. */
    void (*audit)(struct server *srv, const struct principal *who, const char *action,
                  enum rsched_op op, const void *row);
    /* After a save and its audit line: the row as stored, for the answer. */
    void (*reread)(struct store *st, void *row);
};

/* Answers a request on res: 404 beyond /{id}, 405 with Allow, the gate's 401/403/503, then
 * GET (200), POST (201 with Location), PUT (200: the fields named change, the others are
 * kept), DELETE (204), each change audited; store errors through rsched_store_err(). */
void rsched_resource(struct server *srv, struct lws *wsi, struct http_req *req,
                     const struct rsched_path *p, const struct rsched_resource *res);

/* ---- rest_lessons.c: lessons as JSON, for rest_live.c too ---- */

/* Every user and classroom, to name a lesson's teacher and classrooms without a store call
 * per name. */
struct rsched_names {
    struct st_user *users; /* owned */
    int n_users;
    struct st_classroom *rooms; /* owned */
    int n_rooms;
};
/* 0 or a negative STORE_ERR_*; rsched_names_free() either way. */
int rsched_names_load(struct store *st, struct rsched_names *n);
void rsched_names_free(struct rsched_names *n);
/* The name, or "" when there is no such id. */
const char *rsched_user_name(const struct rsched_names *n, int64_t id);
const char *rsched_classroom_name(const struct rsched_names *n, int64_t id);

/* The schedule rule of a lesson (sched.h). */
/* The lessons of f into *rows (the caller frees it) and *n, and every name into *names
 * (rsched_names_free() it); or false after answering the store's error, with *rows and
 * *names holding nothing to free. For GET /api/v1/lessons and GET /api/v1/live. */
bool rsched_lessons_load(struct server *srv, struct lws *wsi, struct http_req *req,
                         const struct st_lesson_filter *f, struct st_lesson **rows, int *n,
                         struct rsched_names *names);

struct sched_rule rsched_rule(const struct st_lesson *l);
/* A lesson as the API shows it (docs/scheduling.md), with its teacher's and classrooms'
 * names. */
json_t *rsched_lesson_json(const struct st_lesson *l, const struct rsched_names *n);

/* ---- rest_sched_util.c ---- */

bool rsched_is_get(const struct http_req *req); /* GET or HEAD */

/* auth_rest (which answers 401/403), then 503 when the store is closed. */
bool rsched_gate(struct server *srv, struct lws *wsi, struct http_req *req, enum perm_action a,
                 bool own, struct principal *p);

/* Answers: 405 with Allow; JSON (Cache-Control: no-store); 201 with Location; 204. */
void rsched_method(struct server *srv, struct lws *wsi, struct http_req *req, const char *allow);
void rsched_reply(struct lws *wsi, struct http_req *req, int status, json_t *v);
void rsched_created(struct lws *wsi, struct http_req *req, json_t *v, const char *location);
void rsched_no_content(struct lws *wsi, struct http_req *req);
/* 400 bad_request with a printf-style message. */
void rsched_bad(struct server *srv, struct lws *wsi, struct http_req *req, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A store error as its answer: NOT_FOUND 404 (e->msg, else not_found), ARG 400, CONFLICT 409
 * with "conflicts", EXISTS and IN_USE 409, anything else 500. e may be NULL. */
void rsched_store_err(struct server *srv, struct lws *wsi, struct http_req *req, int rc,
                      const struct st_err *e, const char *not_found);

/* A path id: decimal digits only, no leading zero, 1..INT64_MAX. */
bool rsched_id(const char *s, int64_t *out);

/* s cut to at most max_chars UTF-8 characters, control characters as '?', into out. For
 * audit details and token names: never cuts inside a character. */
void rsched_clip(const char *s, size_t max_chars, char *out, size_t cap);

/* The request's JSON body: an object with only the fields listed (NULL-terminated), none of
 * readonly (may be NULL). NULL when it answered 400 (new reference otherwise). what names
 * the resource in messages ("a lesson"). */
json_t *rsched_body(struct server *srv, struct lws *wsi, struct http_req *req, const char *what,
                    const char *const *fields, const char *const *readonly);
/* What rsched_body does before answering, on len bytes of text: NULL with the answer's error
 * (SRV_ERR_BAD_JSON, SRV_ERR_BAD_REQUEST) in *err and its sentence in why (cap bytes).
 * Pure: fuzzed with the readers below (tests/fuzz/fuzz_sig_rest_json.c). */
json_t *rsched_body_parse(const char *text, size_t len, const char *what, const char *const *fields,
                          const char *const *readonly, enum srv_err *err, char *why, size_t cap);

/* Reading fields of a body: each reader returns true when the field is present and good
 * (and sets *dst), false when it is absent or bad; the first problem (a missing required
 * field, a wrong type, a text too long) is kept in why. */
struct rsched_in {
    json_t *obj; /* borrowed */
    char why[320];
};
bool rsched_in_text(struct rsched_in *in, const char *name, bool required, char *dst, size_t cap);
bool rsched_in_int(struct rsched_in *in, const char *name, bool required, int64_t *dst);
/* A positive id; nullable: null (or absent) means 0. */
bool rsched_in_id(struct rsched_in *in, const char *name, bool required, bool nullable,
                  int64_t *dst);
bool rsched_in_bool(struct rsched_in *in, const char *name, bool *dst);
/* Answers 400 with in->why and returns true if a problem was kept. */
bool rsched_in_failed(struct server *srv, struct lws *wsi, struct http_req *req,
                      const struct rsched_in *in);

/* A user as the API shows it: never the password hash. */
json_t *rsched_user_json(const struct st_user *u);

/* ---- rest_lessons.c, rest_people.c: the body readers ---- */

/* The field readers of the lesson and user handlers, without the answering: a lesson body's
 * fields into l (create: title, teacher_id, start_ms and end_ms are required; the rest keeps
 * what l holds), a user body's into u (create: all but classroom_id and disabled), with a
 * new password, unhashed, in password (PASSWD_MAX + 1 bytes) and *new_pw. The first problem
 * is kept in in->why. */
void rsched_lesson_in(struct rsched_in *in, bool create, struct st_lesson *l);
void rsched_user_in(struct rsched_in *in, bool create, struct st_user *u, char *password,
                    bool *new_pw);

#endif
