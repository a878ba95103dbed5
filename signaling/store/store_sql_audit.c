/* The audit log in the SQL schedule store (store.h, store_sql_priv.h): who did what,
 * where and when; read newest first by the admin.
 *
 * An entry records what a client sent as well as what the server did (a failed login's
 * username, say), so audit_add does not refuse odd text: it stores each field with invalid
 * UTF-8 and control characters replaced by '?'. Only an entry without an action is
 * refused. The list's WHERE clause is assembled from constant fragments; every value is
 * bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "store/store_sql_priv.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 1000

/* The first field_len - 1 bytes at most of s (up to its NUL), each byte of an invalid or
 * control sequence as '?', into out (field_len bytes). */
static void clean(const char *s, size_t field_len, char *out)
{
    size_t len = strnlen(s, field_len - 1), o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = 1;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80)
            n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        if (i + n > len || sq_utf8_chars(s + i, n, true) != 1) {
            out[o++] = '?';
            i++;
            continue;
        }
        memcpy(out + o, s + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
}

int sq_audit_add(struct store *s, const struct st_audit *in)
{
    struct st_audit a;
    clean(in->actor, sizeof a.actor, a.actor);
    clean(in->role, sizeof a.role, a.role);
    clean(in->action, sizeof a.action, a.action);
    clean(in->room, sizeof a.room, a.room);
    clean(in->detail, sizeof a.detail, a.detail);
    if (!a.action[0])
        return STORE_ERR_ARG;
    struct sqlq *st = sq_prep(sq(s), "INSERT INTO audit (at_ms, actor, role, action, room, "
                                     "detail) VALUES (?, ?, ?, ?, ?, ?)");
    if (!st)
        return STORE_ERR_DB;
    sqlq_bind_i64(st, 1, in->at_ms ? in->at_ms : cr_wall_ms());
    sq_bind_text(st, 2, a.actor);
    sq_bind_text(st, 3, a.role);
    sq_bind_text(st, 4, a.action);
    sq_bind_text(st, 5, a.room);
    sq_bind_text(st, 6, a.detail);
    int rc = sq_run(sq(s), st, "audit", NULL);
    return rc == STORE_ERR_EXISTS ? sq_db_fail(sq(s), "audit", NULL) : rc;
}

static bool given(const char *s) { return s && s[0]; }

int sq_audit_list(struct store *s, const struct st_audit_filter *f, struct st_audit **out, int *n)
{
    static const struct st_audit_filter none = {0};
    *out = NULL;
    *n = 0;
    if (!f)
        f = &none;
    int limit = f->limit <= 0                ? AUDIT_LIMIT_DEFAULT
                : f->limit > AUDIT_LIMIT_MAX ? AUDIT_LIMIT_MAX
                                             : f->limit;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT id, at_ms, actor, role, action, room, detail FROM audit WHERE TRUE%s%s%s%s%s "
             "ORDER BY at_ms DESC, id DESC LIMIT ?6",
             given(f->actor) ? " AND actor = ?1" : "", given(f->action) ? " AND action = ?2" : "",
             given(f->room) ? " AND room = ?3" : "", f->from_ms ? " AND at_ms >= ?4" : "",
             f->to_ms ? " AND at_ms < ?5" : "");
    struct sqlq *st = sq_prep(sq(s), sql);
    if (!st)
        return STORE_ERR_DB;
    if (given(f->actor))
        sq_bind_text(st, 1, f->actor);
    if (given(f->action))
        sq_bind_text(st, 2, f->action);
    if (given(f->room))
        sq_bind_text(st, 3, f->room);
    if (f->from_ms)
        sqlq_bind_i64(st, 4, f->from_ms);
    if (f->to_ms)
        sqlq_bind_i64(st, 5, f->to_ms);
    sqlq_bind_i64(st, 6, limit);
    int cap = 16, rc;
    struct st_audit *v = cr_malloc((size_t)cap * sizeof *v);
    while ((rc = sqlq_step(st)) == SQLQ_ROW) {
        if (*n == cap)
            v = cr_realloc(v, (size_t)(cap *= 2) * sizeof *v);
        struct st_audit *a = &v[(*n)++];
        memset(a, 0, sizeof *a);
        a->id = sqlq_i64(st, 0);
        a->at_ms = sqlq_i64(st, 1);
        sq_col_text(st, 2, a->actor, sizeof a->actor);
        sq_col_text(st, 3, a->role, sizeof a->role);
        sq_col_text(st, 4, a->action, sizeof a->action);
        sq_col_text(st, 5, a->room, sizeof a->room);
        sq_col_text(st, 6, a->detail, sizeof a->detail);
    }
    sqlq_free(st);
    if (rc != SQLQ_DONE) {
        free(v);
        *n = 0;
        return sq_db_fail(sq(s), "list audit", NULL);
    }
    *out = v;
    return 0;
}
