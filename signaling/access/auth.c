/* Who is asking, and may they: see auth.h and docs/scheduling.md. auth_room() adds the
 * facts perm.c needs and turns a refusal into a sentence; auth_start() makes the token key,
 * the schedule store and the first admin. */
#include "access/auth.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "access/audit.h"
#include "access/token.h"
#include "access/passwd.h"
#include "store/sched.h"
#include "store/store.h"

void auth_anonymous(struct principal *p)
{
    memset(p, 0, sizeof *p);
    p->role = ROLE_NONE;
    snprintf(p->sub, sizeof p->sub, "anonymous");
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
        int rc = srv->store->ops->user_get(srv->store, p->user_id, &u);
        if (rc == STORE_ERR_DB) { /* the database is away: the signed token stands alone, so
                                     lessons go on (a removed account's token lives until it
                                     expires, as between two checks) */
            CR_LOG_RATE(CR_LOG_WARN, "auth",
                        "the store cannot say whether user %lld still "
                        "exists: the token is taken as signed",
                        (long long)p->user_id);
            return 0;
        }
        if (rc != 0 || u.disabled || u.role != c->role) {
            *why = "the account behind this token was removed, disabled or changed: log in again";
            auth_anonymous(p);
            return TOKEN_ERR_CLAIMS;
        }
    }
    return 0;
}

int auth_token(struct server *srv, const char *token, struct principal *out, const char **why)
{
    auth_anonymous(out);
    *why = NULL;
    struct token_claims c;
    int rc = token_verify(srv->key, token, strlen(token), cr_wall_ms() / 1000, &c);
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
    int64_t now = cr_wall_ms();
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

int auth_start(struct server *srv)
{
    char err[512];
    if (config_mkdirs(srv->cfg->data_dir) != 0) {
        CR_ERROR("auth", "cannot create the data directory %s", srv->cfg->data_dir);
        return -1;
    }
    const char *shared = srv->cfg->secret_file;
    if ((shared[0] ? token_key_read_file(shared, srv->key, err, sizeof err)
                   : token_key_load(srv->cfg->data_dir, srv->key, err, sizeof err)) != 0) {
        CR_ERROR("auth", "cannot load or make the token key: %s", err);
        return -1;
    }
    char db[CONFIG_PATH_MAX + 32], shown[CONFIG_PATH_MAX + 32];
    store_target(srv->cfg->store, srv->cfg->data_dir, db, sizeof db, shown, sizeof shown);
    if (!(srv->store = store_open(db, err, sizeof err))) {
        CR_ERROR("auth", "the schedule is off (only the demo room admits): cannot open %s: %s",
                 shown, err);
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
    audit_log(srv, NULL, "user_create", NULL, "first start: user admin");
    return 0;
}
