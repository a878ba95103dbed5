/* Users in the SQL schedule store (store.h, store_sql_priv.h).
 *
 * A username is 3..64 of [A-Za-z0-9._-] and unique regardless of case (SQLite's column is
 * COLLATE NOCASE, PostgreSQL's has a unique index on lower(username), so "WangLi" cannot
 * sit beside "wangli" and a lookup ignores case); lists sort by lower(username), which is
 * NOCASE's order for these characters. A
 * classroom account names an existing classroom; no other role may name one. The password
 * arrives already hashed (passwd.h); this file stores the hash and never checks it. A
 * teacher who has lessons can be neither deleted nor given another role (IN_USE). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "store/store_sql_priv.h"

#define USER_COLUMNS "id, username, name, role, classroom_id, disabled, created_ms, pw_hash"
#define NAME_CLIP 60

static void user_row(struct sqlq *st, struct st_user *out)
{
    char role[32];
    memset(out, 0, sizeof *out);
    out->id = sqlq_i64(st, 0);
    sq_col_text(st, 1, out->username, sizeof out->username);
    sq_col_text(st, 2, out->name, sizeof out->name);
    sq_col_text(st, 3, role, sizeof role);
    out->role = role_parse(role);
    out->classroom_id = sqlq_i64(st, 4); /* NULL reads as 0 */
    out->disabled = sqlq_i64(st, 5) != 0;
    out->created_ms = sqlq_i64(st, 6);
    sq_col_text(st, 7, out->pw_hash, sizeof out->pw_hash);
}

static bool username_ok(const char *u)
{
    size_t n = strnlen(u, STORE_USERNAME_MAX);
    if (n < 3 || n > STORE_USERNAME_MAX - 1)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* A stored hash: printable ASCII that fits; empty only when may_be_empty. */
static bool hash_ok(const char *h, bool may_be_empty)
{
    size_t n = strnlen(h, ST_PW_HASH_MAX);
    if (n == ST_PW_HASH_MAX || (n == 0 && !may_be_empty))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (h[i] <= 0x20 || h[i] >= 0x7F)
            return false;
    }
    return true;
}

/* Checks a user to write, inside the transaction. */
static int user_check(struct sq_store *s, const struct st_user *in, bool create, struct st_err *e)
{
    if (!username_ok(in->username))
        return sq_err(e, STORE_ERR_ARG,
                      "a username is 3 to 64 of the letters A-Z and a-z, digits, '.', '_' "
                      "and '-'");
    int rc = sq_check_text(e, "the user's name", in->name, sizeof in->name, false);
    if (rc)
        return rc;
    if (!role_of_user(in->role))
        return sq_err(e, STORE_ERR_ARG,
                      "the role must be one of admin, scheduler, teacher, classroom, "
                      "researcher, observer");
    if (!hash_ok(in->pw_hash, !create))
        return sq_err(e, STORE_ERR_ARG, "the password hash is missing or malformed");
    if (in->role != ROLE_CLASSROOM && in->classroom_id != 0)
        return sq_err(e, STORE_ERR_ARG, "only a classroom account names a classroom");
    if (in->role == ROLE_CLASSROOM) {
        if (in->classroom_id <= 0)
            return sq_err(e, STORE_ERR_ARG, "a classroom account must name its classroom");
        int64_t found =
            sq_int_query(s, "SELECT 1 FROM classrooms WHERE id = ?", in->classroom_id, 0);
        if (found < 0)
            return (int)found;
        if (!found)
            return sq_err(e, STORE_ERR_ARG, "there is no classroom %lld",
                          (long long)in->classroom_id);
    }
    return 0;
}

static void bind_classroom(struct sqlq *st, int i, int64_t classroom_id)
{
    if (classroom_id)
        sqlq_bind_i64(st, i, classroom_id);
    else
        sqlq_bind_null(st, i);
}

static int username_taken(struct st_err *e, const char *username)
{
    return sq_err(e, STORE_ERR_EXISTS, "the username \"%s\" is taken", username);
}

int sq_user_create(struct store *s, struct st_user *in, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    int64_t now = cr_wall_ms();
    rc = user_check(sq(s), in, true, e);
    if (rc == 0) {
        struct sqlq *st = sq_prep(sq(s), "INSERT INTO users (username, name, role, classroom_id,"
                                         " pw_hash, disabled, created_ms) "
                                         "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id");
        if (!st)
            rc = sq_db_fail(sq(s), "create user", e);
        else {
            sq_bind_text(st, 1, in->username);
            sq_bind_text(st, 2, in->name);
            sq_bind_text(st, 3, role_name(in->role));
            bind_classroom(st, 4, in->classroom_id);
            sq_bind_text(st, 5, in->pw_hash);
            sqlq_bind_i64(st, 6, in->disabled);
            sqlq_bind_i64(st, 7, now);
            rc = sq_insert(sq(s), st, "create user", e, &in->id);
        }
        if (rc == STORE_ERR_EXISTS)
            username_taken(e, in->username);
    }
    if (rc == 0)
        in->created_ms = now;
    return sq_finish(sq(s), rc, e);
}

/* One user by a query with ?1 bound to id or text. */
static int user_one(struct sq_store *s, const char *sql, int64_t id, const char *text,
                    struct st_user *out)
{
    struct sqlq *st = sq_prep(s, sql);
    if (!st)
        return STORE_ERR_DB;
    if (text)
        sq_bind_text(st, 1, text);
    else
        sqlq_bind_i64(st, 1, id);
    int rc = sqlq_step(st);
    if (rc == SQLQ_ROW)
        user_row(st, out);
    sqlq_free(st);
    return rc == SQLQ_ROW    ? 0
           : rc == SQLQ_DONE ? STORE_ERR_NOT_FOUND
                             : sq_db_fail(s, "get user", NULL);
}

int sq_user_get(struct store *s, int64_t id, struct st_user *out)
{
    return user_one(sq(s), "SELECT " USER_COLUMNS " FROM users WHERE id = ?", id, NULL, out);
}

int sq_user_by_username(struct store *s, const char *username, struct st_user *out)
{
    if (!username)
        return STORE_ERR_NOT_FOUND;
    /* SQLite's column is COLLATE NOCASE; PostgreSQL's index is on lower(username) */
    return user_one(sq(s),
                    sq_pg(sq(s)) ? "SELECT " USER_COLUMNS " FROM users WHERE lower(username) = "
                                   "lower(?)"
                                 : "SELECT " USER_COLUMNS " FROM users WHERE username = ?",
                    0, username, out);
}

int sq_user_list(struct store *s, enum role role, struct st_user **out, int *n)
{
    *out = NULL;
    *n = 0;
    struct sqlq *st =
        sq_prep(sq(s), role != ROLE_NONE ? "SELECT " USER_COLUMNS " FROM users "
                                           "WHERE role = ? ORDER BY lower(username), id"
                                         : "SELECT " USER_COLUMNS " FROM users "
                                           "ORDER BY lower(username), id");
    if (!st)
        return STORE_ERR_DB;
    if (role != ROLE_NONE)
        sq_bind_text(st, 1, role_name(role));
    int cap = 8, rc;
    struct st_user *v = cr_malloc((size_t)cap * sizeof *v);
    while ((rc = sqlq_step(st)) == SQLQ_ROW) {
        if (*n == cap)
            v = cr_realloc(v, (size_t)(cap *= 2) * sizeof *v);
        user_row(st, &v[(*n)++]);
    }
    sqlq_free(st);
    if (rc != SQLQ_DONE) {
        free(v);
        *n = 0;
        return sq_db_fail(sq(s), "list users", NULL);
    }
    *out = v;
    return 0;
}

/* IN_USE with a message if teacher u has lessons; 0 if none. */
static int teacher_in_use(struct sq_store *s, const struct st_user *u, const char *what,
                          struct st_err *e)
{
    int64_t lessons =
        sq_int_query(s, "SELECT count(*) FROM lessons WHERE teacher_id = ?", u->id, 0);
    if (lessons < 0)
        return (int)lessons;
    if (lessons == 0)
        return 0;
    char name[256];
    return sq_err(e, STORE_ERR_IN_USE,
                  "%s teaches %lld lesson%s; %s after giving them to another teacher or deleting "
                  "them",
                  sq_clip(u->name, NAME_CLIP, name, sizeof name), (long long)lessons,
                  lessons == 1 ? "" : "s", what);
}

int sq_user_update(struct store *s, const struct st_user *in, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    struct st_user old;
    rc = sq_user_get(s, in->id, &old);
    if (rc == STORE_ERR_NOT_FOUND)
        sq_err(e, rc, "there is no user %lld", (long long)in->id);
    if (rc == 0)
        rc = user_check(sq(s), in, false, e);
    if (rc == 0 && old.role == ROLE_TEACHER && in->role != ROLE_TEACHER)
        rc = teacher_in_use(sq(s), &old, "change the role", e);
    if (rc == 0) {
        struct sqlq *st = sq_prep(sq(s), "UPDATE users SET username = ?1, name = ?2, role = ?3, "
                                         "classroom_id = ?4, disabled = ?5, "
                                         "pw_hash = CASE WHEN ?6 = '' THEN pw_hash ELSE ?6 END "
                                         "WHERE id = ?7");
        if (!st)
            rc = sq_db_fail(sq(s), "update user", e);
        else {
            sq_bind_text(st, 1, in->username);
            sq_bind_text(st, 2, in->name);
            sq_bind_text(st, 3, role_name(in->role));
            bind_classroom(st, 4, in->classroom_id);
            sqlq_bind_i64(st, 5, in->disabled);
            sq_bind_text(st, 6, in->pw_hash);
            sqlq_bind_i64(st, 7, in->id);
            rc = sq_run(sq(s), st, "update user", e);
        }
        if (rc == STORE_ERR_EXISTS)
            username_taken(e, in->username);
    }
    return sq_finish(sq(s), rc, e);
}

int sq_user_delete(struct store *s, int64_t id, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    struct st_user u;
    rc = sq_user_get(s, id, &u);
    if (rc == STORE_ERR_NOT_FOUND)
        sq_err(e, rc, "there is no user %lld", (long long)id);
    if (rc == 0)
        rc = teacher_in_use(sq(s), &u, "delete the account", e);
    if (rc == 0)
        rc = sq_delete_id(sq(s), "DELETE FROM users WHERE id = ?", id, "delete user", e);
    return sq_finish(sq(s), rc, e);
}

int sq_user_count(struct store *s, int *n)
{
    int64_t c = sq_int_query(sq(s), "SELECT count(*) FROM users", 0, 0);
    *n = c < 0 ? 0 : (int)c;
    return c < 0 ? (int)c : 0;
}
