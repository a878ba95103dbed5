/* Who is asking, and may they: see auth.h and docs/scheduling.md.
 *
 * auth_http() only finds and verifies a token; auth_room() and auth_rest() add the facts
 * perm.c needs (the lesson behind a room, whether the principal teaches it or is booked in
 * it, whether its window is open) and turn a refusal into a sentence a user understands.
 * Refusals are counted (server errors) and audited with action "refused". */
#include "auth.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "http.h"
#include "lifecycle.h"
#include "sched.h"
#include "store.h"

#define COOKIE_NAME "cr_session"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void anonymous(struct principal *p)
{
    memset(p, 0, sizeof *p);
    p->role = ROLE_NONE;
    snprintf(p->sub, sizeof p->sub, "anonymous");
}

/* Copies a token of at most TOKEN_MAX characters into buf (TOKEN_MAX + 1 bytes); a longer
 * one leaves buf empty but counts as present, so it is refused as malformed. */
static bool take(char *buf, const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > TOKEN_MAX)
        return n > TOKEN_MAX; /* too long: token_verify refuses it as malformed */
    memcpy(buf, t, n + 1);
    return true;
}

/* The token text of the request into buf (TOKEN_MAX + 1 bytes), or false if it carries
 * none. */
static bool find_token(struct lws *wsi, char *buf)
{
    char hdr[TOKEN_MAX + 32];
    buf[0] = '\0';
    int n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 7 && strncasecmp(hdr, "Bearer ", 7) == 0) {
        const char *t = hdr + 7;
        while (*t == ' ')
            t++;
        return take(buf, t);
    }
    char arg[TOKEN_MAX + 16];
    const char *v = lws_get_urlarg_by_name(wsi, "token=", arg, (int)sizeof arg);
    if (v && take(buf, v))
        return true;
    size_t max = TOKEN_MAX + 1;
    if (lws_http_cookie_get(wsi, COOKIE_NAME, buf, &max) == 0 && buf[0])
        return true;
    buf[0] = '\0';
    return false;
}

/* Fills p from verified claims; a login's user must still exist and be enabled. */
static int from_claims(struct server *srv, const struct token_claims *c, struct principal *p,
                       const char **why)
{
    memset(p, 0, sizeof *p);
    p->role = c->role;
    p->has_room = c->room[0] != '\0';
    snprintf(p->room, sizeof p->room, "%s", c->room);
    snprintf(p->sub, sizeof p->sub, "%s", c->sub);
    snprintf(p->name, sizeof p->name, "%s", c->name);
    p->classroom = c->classroom;
    p->exp = c->exp;
    char *end;
    if (c->sub[0] == 'u' && c->sub[1] >= '1' && c->sub[1] <= '9') {
        long long id = strtoll(c->sub + 1, &end, 10);
        if (*end == '\0' && id > 0)
            p->user_id = id;
    }
    if (p->user_id && srv->store) {
        struct st_user u;
        if (srv->store->ops->user_get(srv->store, p->user_id, &u) != 0 || u.disabled ||
            u.role != c->role) {
            *why = "the account behind this token was removed, disabled or changed: log in again";
            anonymous(p);
            return TOKEN_ERR_CLAIMS;
        }
    }
    return 0;
}

int auth_http(struct server *srv, struct lws *wsi, struct principal *out, const char **why)
{
    anonymous(out);
    *why = NULL;
    char token[TOKEN_MAX + 1];
    if (!find_token(wsi, token))
        return 0;
    return auth_token(srv, token, out, why);
}

int auth_token(struct server *srv, const char *token, struct principal *out, const char **why)
{
    anonymous(out);
    *why = NULL;
    struct token_claims c;
    int rc = token_verify(&srv->key, token, strlen(token), wall_ms() / 1000, &c);
    if (rc != 0) {
        *why = token_err_message(rc);
        return rc;
    }
    return from_claims(srv, &c, out, why);
}

enum srv_err auth_verdict_err(enum perm_verdict v)
{
    switch (v) {
    case PERM_NEED_TOKEN:
        return SRV_ERR_UNAUTHORIZED;
    case PERM_NOT_OPEN:
        return SRV_ERR_NOT_OPEN;
    default:
        return SRV_ERR_FORBIDDEN;
    }
}

bool auth_rest(struct server *srv, struct lws *wsi, struct http_req *req, enum perm_action a,
               bool own, struct principal *out)
{
    const char *why;
    int rc = auth_http(srv, wsi, out, &why);
    if (rc != 0 || out->role == ROLE_NONE) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", rc ? why : "log in first: this needs a token");
        http_respond_error(srv, wsi, req, SRV_ERR_UNAUTHORIZED, msg);
        http_add_header(req, "WWW-Authenticate", "Bearer realm=\"classrelay\"");
        return false;
    }
    if (!perm_rest(out->role, out->has_room, a, own)) {
        char msg[256];
        if (out->has_room)
            snprintf(msg, sizeof msg, "a token for room %s cannot %s", out->room,
                     perm_action_name(a));
        else
            snprintf(msg, sizeof msg, "the role %s may not %s", role_name(out->role),
                     perm_action_name(a));
        http_respond_error(srv, wsi, req, SRV_ERR_FORBIDDEN, msg);
        auth_audit(srv, out, "refused", NULL, "%s %s", perm_action_name(a), req->path);
        return false;
    }
    return true;
}

static void utc_text(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm);
}

enum perm_verdict auth_room(struct server *srv, const struct principal *p, const char *room,
                            enum perm_action a, char *why, size_t why_len)
{
    struct perm_room r = {
        .demo = srv->cfg->demo && strcmp(room, "demo") == 0,
        .token_room = p->has_room && strcmp(p->room, room) == 0,
    };
    struct st_lesson lesson;
    int64_t lesson_id = store_room_lesson(room);
    bool found = false;
    int64_t now = wall_ms();
    int64_t early = (int64_t)srv->cfg->join_early_s * 1000,
            late = (int64_t)srv->cfg->overtime_s * 1000;
    struct sched_rule rule = {0};
    if (lesson_id && srv->store &&
        srv->store->ops->lesson_get(srv->store, lesson_id, &lesson) == 0) {
        found = true;
        rule = (struct sched_rule){lesson.start_ms, lesson.end_ms, lesson.until_ms};
        r.scheduled = true;
        r.own_lesson = p->user_id && lesson.teacher_id == p->user_id;
        for (int i = 0; i < lesson.n_classrooms; i++)
            r.booked |= p->classroom && lesson.classrooms[i] == p->classroom;
        r.in_window = sched_window_at(&rule, now, early, late, NULL);
    }
    const char *reason = NULL;
    enum perm_verdict v = perm_room(p->role, p->has_room, a, &r, &reason);
    if (v == PERM_OK || !why)
        return v;
    if (v == PERM_NOT_OPEN && found) {
        struct sched_span next;
        char at[64];
        if (sched_next(&rule, now, early, &next)) {
            utc_text(next.start_ms - early, at, sizeof at);
            snprintf(why, why_len, "the lesson \"%s\" is not open now: it opens at %s",
                     lesson.title, at);
        } else {
            snprintf(why, why_len, "the lesson \"%s\" is over", lesson.title);
        }
    } else if (lesson_id && !found && !r.demo && p->role != ROLE_NONE && v == PERM_FORBIDDEN &&
               !r.token_room) {
        snprintf(why, why_len, "there is no lesson %" PRId64 " in the schedule", lesson_id);
    } else {
        snprintf(why, why_len, "%s", reason ? reason : "not allowed");
    }
    return v;
}

enum perm_verdict auth_enter(struct server *srv, struct principal *who, int token_rc,
                             const char *token_why, const char *room, enum perm_action a,
                             const char *what, enum srv_err *err, char *msg, size_t msg_len)
{
    enum perm_verdict v = auth_room(srv, who, room, a, msg, msg_len);
    if (v != PERM_OK && token_rc != 0) { /* a bad token: say so, not "this needs a token" */
        v = PERM_NEED_TOKEN;
        snprintf(msg, msg_len, "%s", token_why ? token_why : "the token is not valid");
    }
    if (v == PERM_OK && who->role != ROLE_ADMIN && lifecycle_ended(srv, room)) {
        v = PERM_NOT_OPEN;
        snprintf(msg, msg_len, "the teacher has ended this lesson");
    }
    if (v == PERM_OK)
        return v;
    *err = auth_verdict_err(v);
    auth_audit(srv, who, "refused", room, "%s: %s", what, msg);
    return v;
}

void auth_audit(struct server *srv, const struct principal *p, const char *action, const char *room,
                const char *fmt, ...)
{
    if (!srv->store)
        return;
    struct st_audit a = {.at_ms = wall_ms()};
    snprintf(a.actor, sizeof a.actor, "%s", p ? p->sub : "server");
    snprintf(a.role, sizeof a.role, "%s", p ? role_name(p->role) : "server");
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.room, sizeof a.room, "%s", room ? room : "");
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(a.detail, sizeof a.detail, fmt, ap);
    va_end(ap);
    if (w >= (int)sizeof a.detail) { /* cut inside a user's text: drop the last character */
        size_t n = strlen(a.detail);
        while (n > 0 && ((unsigned char)a.detail[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0 && ((unsigned char)a.detail[n - 1] & 0x80))
            n--;
        a.detail[n] = '\0';
    }
    int rc = srv->store->ops->audit_add(srv->store, &a);
    if (rc != 0)
        CR_WARN("auth", "audit log: cannot add %s by %s (%d)", action, a.actor, rc);
}

int auth_start(struct server *srv)
{
    char err[512];
    if (config_mkdirs(srv->cfg->data_dir) != 0) {
        CR_ERROR("auth", "cannot create the data directory %s", srv->cfg->data_dir);
        return -1;
    }
    if (token_key_load(srv->cfg->data_dir, &srv->key, err, sizeof err) != 0) {
        CR_ERROR("auth", "cannot load or make the token key: %s", err);
        return -1;
    }
    char db[CONFIG_PATH_MAX + 32];
    snprintf(db, sizeof db, "%s/classrelay.db", srv->cfg->data_dir);
    if (!(srv->store = store_open_sqlite(db, err, sizeof err))) {
        CR_ERROR("auth", "the schedule is off (only the demo room admits): cannot open %s: %s", db,
                 err);
        return 0;
    }
    int users = 0;
    if (srv->store->ops->user_count(srv->store, &users) != 0 || users > 0)
        return 0;
    struct st_user admin = {.role = ROLE_ADMIN};
    snprintf(admin.username, sizeof admin.username, "admin");
    snprintf(admin.name, sizeof admin.name, "Administrator");
    passwd_random(srv->first_password, 16);
    struct st_err e;
    if (passwd_hash(srv->first_password, admin.pw_hash, sizeof admin.pw_hash) != 0 ||
        srv->store->ops->user_create(srv->store, &admin, &e) != 0) {
        CR_ERROR("auth", "cannot create the first admin user");
        srv->first_password[0] = '\0';
        return 0;
    }
    auth_audit(srv, NULL, "user_create", NULL, "first start: user admin");
    return 0;
}
