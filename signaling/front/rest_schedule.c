/* The schedule's REST API (rest_schedule.h, docs/scheduling.md "REST API"): routing of
 * /api/v1/..., sessions (login, logout, me) and the audit log. Schools, classrooms and users
 * are in rest_people.c, lessons and their links in rest_lessons.c, what is live and the
 * calendars in rest_live.c, shared helpers in rest_sched_util.c.
 *
 * Login checks a password against the store's scrypt hash (passwd.h). Whether a username
 * exists must not show: an unknown one costs the same hash computation against a dummy
 * hash and gets the same 401. A brute-force brake counts failures per username in a small
 * table: the tenth within ten minutes locks that username (429 with Retry-After) until the
 * ten minutes from its first failure are over. The session is a token (token.h) returned
 * in the body and set as the cr_session cookie (HttpOnly, SameSite=Strict: RFC 6265 §4.1,
 * and the SameSite draft, so other sites' pages cannot send it). */
#include "front/rest_schedule.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/credentials.h"
#include "access/audit.h"
#include "base/clock.h"
#include "base/log.h"
#include "access/passwd.h"
#include "front/rest_sched_priv.h"
#include "access/token.h"

#define SESSION_TTL_S (12 * 3600)
#define COOKIE "cr_session"
#define COOKIE_ATTRS "; Path=/; HttpOnly; SameSite=Strict"

#define LOGIN_FAILS_MAX 10
#define LOGIN_WINDOW_MS (10 * 60 * 1000)
#define LOGIN_TABLE 256

/* ---- the brute-force brake ---- */

struct login_fails {
    char username[STORE_USERNAME_MAX]; /* "": a free slot */
    int64_t since_ms;                  /* the first failure of the window */
    int count;
};

/* One table for the process: there is one server per process, on the lws thread. */
static struct login_fails fails[LOGIN_TABLE];

static struct login_fails *fails_find(const char *username, int64_t now_ms)
{
    for (int i = 0; i < LOGIN_TABLE; i++) {
        struct login_fails *f = &fails[i];
        if (f->username[0] && now_ms - f->since_ms >= LOGIN_WINDOW_MS)
            f->username[0] = '\0'; /* its window is over */
        if (f->username[0] && strcmp(f->username, username) == 0)
            return f;
    }
    return NULL;
}

/* Milliseconds the username stays locked, or 0. */
static int64_t fails_locked(const char *username, int64_t now_ms)
{
    struct login_fails *f = fails_find(username, now_ms);
    if (!f || f->count < LOGIN_FAILS_MAX)
        return 0;
    return f->since_ms + LOGIN_WINDOW_MS - now_ms;
}

/* Counts a failure. When the table is full the entry with the fewest failures (the oldest
 * of those) makes room, so a flood of made-up names cannot free a locked username. */
static void fails_add(const char *username, int64_t now_ms)
{
    if (strlen(username) >= STORE_USERNAME_MAX)
        return; /* no such username can exist */
    struct login_fails *f = fails_find(username, now_ms);
    if (!f) {
        for (int i = 0; i < LOGIN_TABLE; i++) {
            struct login_fails *c = &fails[i];
            if (!c->username[0]) {
                f = c;
                break;
            }
            if (!f || c->count < f->count || (c->count == f->count && c->since_ms < f->since_ms))
                f = c;
        }
        snprintf(f->username, sizeof f->username, "%s", username);
        f->since_ms = now_ms;
        f->count = 0;
    }
    if (++f->count == LOGIN_FAILS_MAX)
        CR_WARN("rest", "login: %d failures for one username in 10 minutes: locked",
                LOGIN_FAILS_MAX);
}

static void fails_clear(const char *username, int64_t now_ms)
{
    struct login_fails *f = fails_find(username, now_ms);
    if (f)
        f->username[0] = '\0';
}

/* ---- login, logout, me ---- */

/* A hash to check unknown usernames against, so they cost what a real check costs. */
static const char *dummy_hash(void)
{
    static char hash[PASSWD_HASH_MAX];
    if (!hash[0]) {
        char pw[33];
        passwd_random(pw, 32);
        if (passwd_hash(pw, hash, sizeof hash) != 0)
            hash[0] = '\0';
    }
    return hash;
}

static void login_refused(struct server *srv, struct lws *wsi, struct http_req *req,
                          const char *username, int64_t now_ms)
{
    char who[200];
    rsched_clip(username, 64, who, sizeof who);
    fails_add(username, now_ms);
    struct principal anon = {.role = ROLE_NONE, .sub = "anonymous"};
    audit_log(srv, &anon, "login_failed", NULL, "%s", who);
    http_respond_error(srv, wsi, req, SRV_ERR_UNAUTHORIZED, "wrong username or password");
}

static void login(struct server *srv, struct lws *wsi, struct http_req *req)
{
    static const char *const fields[] = {"username", "password", NULL};
    if (!srv->store) {
        http_respond_error(srv, wsi, req, SRV_ERR_UNAVAILABLE,
                           "the schedule database is not available");
        return;
    }
    json_t *body = rsched_body(srv, wsi, req, "a login", fields, NULL);
    if (!body)
        return;
    struct rsched_in in = {.obj = body};
    char username[STORE_TEXT_MAX], password[PASSWD_MAX + 2];
    rsched_in_text(&in, "username", true, username, sizeof username);
    rsched_in_text(&in, "password", true, password, sizeof password);
    json_decref(body);
    if (rsched_in_failed(srv, wsi, req, &in))
        return;

    int64_t now = cr_wall_ms();
    int64_t locked = fails_locked(username, now);
    if (locked > 0) {
        char retry[24];
        snprintf(retry, sizeof retry, "%" PRId64, (locked + 999) / 1000);
        http_respond_error(srv, wsi, req, SRV_ERR_LIMIT,
                           "too many failed logins for this username: try again later");
        req->status = 429; /* RFC 6585 §4 */
        http_add_header(req, "Retry-After", retry);
        return;
    }
    const char *dummy = dummy_hash(); /* made before the lookup: the same cost either way */
    struct st_user u;
    int rc = srv->store->ops->user_by_username(srv->store, username, &u);
    if (rc != 0 && rc != STORE_ERR_NOT_FOUND && rc != STORE_ERR_ARG) {
        rsched_store_err(srv, wsi, req, rc, NULL, "");
        return;
    }
    if (rc != 0) {
        passwd_verify(password, dummy);
        login_refused(srv, wsi, req, username, now);
        return;
    }
    if (!passwd_verify(password, u.pw_hash)) {
        login_refused(srv, wsi, req, username, now);
        return;
    }
    if (u.disabled) { /* only someone who knows the password learns this */
        struct principal anon = {.role = ROLE_NONE, .sub = "anonymous"};
        audit_log(srv, &anon, "login_failed", NULL, "%s (disabled)", u.username);
        http_respond_error(srv, wsi, req, SRV_ERR_FORBIDDEN,
                           "this account is disabled: ask an administrator");
        return;
    }
    fails_clear(username, now);

    struct token_claims c = {.role = u.role, .iat = now / 1000};
    c.exp = c.iat + SESSION_TTL_S;
    snprintf(c.sub, sizeof c.sub, "u%" PRId64, u.id);
    rsched_clip(u.name, 64, c.name, sizeof c.name);
    if (u.role == ROLE_CLASSROOM)
        c.classroom = u.classroom_id;
    char token[TOKEN_MAX + 1];
    if (token_sign(srv->key, &c, token, sizeof token) != 0) {
        http_respond_error(srv, wsi, req, SRV_ERR_INTERNAL, "cannot make a session token");
        return;
    }
    struct principal p = {.role = u.role, .user_id = u.id, .classroom = c.classroom};
    snprintf(p.sub, sizeof p.sub, "%s", c.sub);
    audit_log(srv, &p, "login", NULL, "%s", u.username);

    char cookie[TOKEN_MAX + 128];
    snprintf(cookie, sizeof cookie, COOKIE "=%s" COOKIE_ATTRS "; Max-Age=%d", token, SESSION_TTL_S);
    rsched_reply(wsi, req, 200,
                 json_pack("{s:s, s:o, s:I}", "token", token, "user", rsched_user_json(&u),
                           "expires_ms", (json_int_t)c.exp * 1000));
    http_set_cookie(req, cookie);
}

static void logout(struct lws *wsi, struct http_req *req)
{
    rsched_no_content(wsi, req);
    http_set_cookie(req, COOKIE "=" COOKIE_ATTRS "; Max-Age=0");
}

static void me(struct server *srv, struct lws *wsi, struct http_req *req)
{
    struct principal p;
    const char *why;
    int rc = cred_http(srv, wsi, &p, &why);
    if (rc != 0 || p.role == ROLE_NONE) {
        http_respond_error(srv, wsi, req, SRV_ERR_UNAUTHORIZED,
                           rc ? why : "log in first: this needs a token");
        http_add_header(req, "WWW-Authenticate", "Bearer realm=\"classrelay\"");
        return;
    }
    if (!srv->store) {
        http_respond_error(srv, wsi, req, SRV_ERR_UNAVAILABLE,
                           "the schedule database is not available");
        return;
    }
    json_t *user = json_null();
    if (p.user_id) {
        struct st_user u;
        if (srv->store->ops->user_get(srv->store, p.user_id, &u) == 0) {
            json_decref(user);
            user = rsched_user_json(&u);
        }
    }
    json_t *v = json_pack("{s:o, s:s, s:s, s:I}", "user", user, "role", role_name(p.role), "sub",
                          p.sub, "expires_ms", (json_int_t)p.exp * 1000);
    json_object_set_new(v, "name", json_string(p.name));
    json_object_set_new(v, "room", p.has_room ? json_string(p.room) : json_null());
    json_object_set_new(v, "classroom", p.classroom ? json_integer(p.classroom) : json_null());
    rsched_reply(wsi, req, 200, v);
}

/* ---- GET /api/v1/audit ---- */

static void audit(struct server *srv, struct lws *wsi, struct http_req *req)
{
    struct principal p;
    if (!rsched_gate(srv, wsi, req, PERM_AUDIT_READ, false, &p))
        return;
    struct st_audit_filter f = {0};
    char actor[64], action[32], room[65];
    int64_t limit = 0;
    const char *bad = NULL;
    int rc;
    if ((rc = http_query(wsi, "actor", actor, sizeof actor)) < 0)
        bad = "actor";
    else if (rc > 0)
        f.actor = actor;
    if ((rc = http_query(wsi, "action", action, sizeof action)) < 0)
        bad = "action";
    else if (rc > 0)
        f.action = action;
    if ((rc = http_query(wsi, "room", room, sizeof room)) < 0)
        bad = "room";
    else if (rc > 0)
        f.room = room;
    if (http_query_i64(wsi, "from", 0, INT64_MAX, &f.from_ms) < 0)
        bad = "from";
    if (http_query_i64(wsi, "to", 0, INT64_MAX, &f.to_ms) < 0)
        bad = "to";
    if (http_query_i64(wsi, "limit", 1, 1000, &limit) < 0)
        bad = "limit";
    if (bad) {
        rsched_bad(srv, wsi, req,
                   "bad query argument \"%s\" (from/to: ms since the epoch, limit: 1..1000)", bad);
        return;
    }
    f.limit = (int)limit;
    struct st_audit *rows = NULL;
    int n = 0;
    rc = srv->store->ops->audit_list(srv->store, &f, &rows, &n);
    if (rc != 0) {
        rsched_store_err(srv, wsi, req, rc, NULL, "no such entry");
        return;
    }
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        const struct st_audit *r = &rows[i];
        json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)r->id, "at_ms",
                              (json_int_t)r->at_ms, "actor", r->actor, "role", r->role, "action",
                              r->action, "detail", r->detail);
        if (!o)
            continue;
        json_object_set_new(o, "room", r->room[0] ? json_string(r->room) : json_null());
        json_array_append_new(a, o);
    }
    free(rows);
    rsched_reply(wsi, req, 200, json_pack("{s:o}", "entries", a));
}

/* ---- routing ---- */

/* Splits what follows /api/v1/ at '/'; false if there are too many or too long segments. */
static bool split(const char *rest, struct rsched_path *p)
{
    memset(p, 0, sizeof *p);
    for (;;) {
        const char *slash = strchr(rest, '/');
        size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
        if (p->n == RSCHED_SEGS || len >= sizeof p->seg[0])
            return false;
        memcpy(p->seg[p->n], rest, len);
        p->seg[p->n++][len] = '\0';
        if (!slash)
            break;
        rest = slash + 1;
    }
    if (p->n > 1 && p->seg[p->n - 1][0] == '\0')
        p->n--; /* a trailing slash */
    return true;
}

bool rest_schedule_route(struct server *srv, struct lws *wsi, struct http_req *req)
{
    static const struct {
        const char *name;
        void (*fn)(struct server *, struct lws *, struct http_req *, const struct rsched_path *);
    } resources[] = {
        {"schools", rsched_schools}, {"classrooms", rsched_classrooms},
        {"users", rsched_users},     {"lessons", rsched_lessons},
        {"live", rsched_live},       {"calendar", rsched_calendar},
    };
    static const char prefix[] = "/api/v1/";
    if (strncmp(req->path, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *rest = req->path + sizeof prefix - 1;
    size_t first = strcspn(rest, "/");
    static const char *const sessions[] = {"login", "logout", "me", "audit"};
    int session = -1, resource = -1;
    for (int i = 0; i < 4; i++) {
        if (strlen(sessions[i]) == first && strncmp(rest, sessions[i], first) == 0)
            session = i;
    }
    for (int i = 0; i < (int)(sizeof resources / sizeof resources[0]); i++) {
        if (strlen(resources[i].name) == first && strncmp(rest, resources[i].name, first) == 0)
            resource = i;
    }
    if (session < 0 && resource < 0)
        return false;

    struct rsched_path p;
    if (!split(rest, &p) || (session >= 0 && p.n != 1)) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such API endpoint");
        return true;
    }
    if (resource >= 0) {
        resources[resource].fn(srv, wsi, req, &p);
        return true;
    }
    bool get = rsched_is_get(req), post = req->method == LWSHUMETH_POST;
    switch (session) {
    case 0:
        if (post)
            login(srv, wsi, req);
        else
            rsched_method(srv, wsi, req, "POST, OPTIONS");
        break;
    case 1:
        if (post)
            logout(wsi, req);
        else
            rsched_method(srv, wsi, req, "POST, OPTIONS");
        break;
    case 2:
        if (get)
            me(srv, wsi, req);
        else
            rsched_method(srv, wsi, req, "GET, HEAD, OPTIONS");
        break;
    default:
        if (get)
            audit(srv, wsi, req);
        else
            rsched_method(srv, wsi, req, "GET, HEAD, OPTIONS");
    }
    return true;
}
