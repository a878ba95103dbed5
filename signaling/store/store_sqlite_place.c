/* Schools and their classrooms in the SQLite schedule store (store.h, store_sqlite_priv.h).
 *
 * A classroom's name is unique within its school (UNIQUE (school_id, name)); a school with
 * classrooms, and a classroom booked in a lesson or bound to a classroom account, cannot be
 * deleted (STORE_ERR_IN_USE, checked in the delete's transaction; the foreign keys are the
 * second line). Lists are ordered by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/store_sqlite_priv.h"

#define NAME_CLIP 60 /* characters of a name quoted in a message */

/* ---- what schools and classrooms share ---- */

/* Fills one entity from the statement's current row. */
typedef void (*row_fn)(sqlite3_stmt *st, void *out);

/* The row of sql (binding id to ?1) into out: 0, STORE_ERR_NOT_FOUND or STORE_ERR_DB. */
static int get_row(struct sq_store *s, const char *sql, int64_t id, row_fn row, void *out,
                   const char *what)
{
    sqlite3_stmt *st = sq_prep(s, sql);
    if (!st)
        return STORE_ERR_DB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        row(st, out);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW    ? 0
           : rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND
                               : sq_db_fail(s, what, NULL);
}

/* Steps st (prepared and bound, or NULL if preparing failed) to its end and finalizes it,
 * each row an entity of size bytes in a new array *out (the caller frees it) of *n. 0 or
 * STORE_ERR_DB, with *out NULL and *n 0. */
static int list_rows(struct sq_store *s, sqlite3_stmt *st, size_t size, row_fn row, void **out,
                     int *n, const char *what)
{
    *out = NULL;
    *n = 0;
    if (!st)
        return STORE_ERR_DB;
    int cap = 8, rc;
    char *v = cr_malloc((size_t)cap * size);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap)
            v = cr_realloc(v, (size_t)(cap *= 2) * size);
        row(st, v + (size_t)(*n)++ * size);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        *n = 0;
        return sq_db_fail(s, what, NULL);
    }
    *out = v;
    return 0;
}

/* ---- schools ---- */

static void school_row(sqlite3_stmt *st, void *row)
{
    struct st_school *out = row;
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(st, 0);
    sq_col_text(st, 1, out->name, sizeof out->name);
}

int sq_school_create(struct store *s, struct st_school *in, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_check_text(e, "the school's name", in->name, sizeof in->name, false);
    if (rc)
        return rc;
    sqlite3_stmt *st = sq_prep(sq(s), "INSERT INTO schools (name) VALUES (?)");
    if (!st)
        return sq_db_fail(sq(s), "create school", e);
    sq_bind_text(st, 1, in->name);
    rc = sq_run(sq(s), st, "create school", e);
    if (rc == 0)
        in->id = sqlite3_last_insert_rowid(sq(s)->db);
    return rc;
}

int sq_school_get(struct store *s, int64_t id, struct st_school *out)
{
    return get_row(sq(s), "SELECT id, name FROM schools WHERE id = ?", id, school_row, out,
                   "get school");
}

int sq_school_list(struct store *s, struct st_school **out, int *n)
{
    sqlite3_stmt *st = sq_prep(sq(s), "SELECT id, name FROM schools ORDER BY name, id");
    void *rows;
    int rc = list_rows(sq(s), st, sizeof **out, school_row, &rows, n, "list schools");
    *out = rows;
    return rc;
}

int sq_school_update(struct store *s, const struct st_school *in, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_check_text(e, "the school's name", in->name, sizeof in->name, false);
    if (rc)
        return rc;
    sqlite3_stmt *st = sq_prep(sq(s), "UPDATE schools SET name = ? WHERE id = ?");
    if (!st)
        return sq_db_fail(sq(s), "update school", e);
    sq_bind_text(st, 1, in->name);
    sqlite3_bind_int64(st, 2, in->id);
    rc = sq_run(sq(s), st, "update school", e);
    if (rc == STORE_ERR_NOT_FOUND)
        sq_err(e, rc, "there is no school %lld", (long long)in->id);
    return rc;
}

int sq_school_delete(struct store *s, int64_t id, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    struct st_school sc;
    rc = sq_school_get(s, id, &sc);
    if (rc == STORE_ERR_NOT_FOUND)
        sq_err(e, rc, "there is no school %lld", (long long)id);
    int64_t used = 0;
    if (rc == 0) {
        used = sq_int_query(sq(s), "SELECT count(*) FROM classrooms WHERE school_id = ?", id, 0);
        rc = used < 0 ? (int)used : 0;
    }
    if (rc == 0 && used > 0) {
        char name[256];
        rc = sq_err(e, STORE_ERR_IN_USE,
                    "school \"%s\" still has %lld classroom%s; delete or move them first",
                    sq_clip(sc.name, NAME_CLIP, name, sizeof name), (long long)used,
                    used == 1 ? "" : "s");
    }
    if (rc == 0)
        rc = sq_delete_id(sq(s), "DELETE FROM schools WHERE id = ?", id, "delete school", e);
    return sq_finish(sq(s), rc, e);
}

/* ---- classrooms ---- */

static void classroom_row(sqlite3_stmt *st, void *row)
{
    struct st_classroom *out = row;
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(st, 0);
    out->school_id = sqlite3_column_int64(st, 1);
    sq_col_text(st, 2, out->name, sizeof out->name);
}

/* Checks a classroom to write, inside the transaction. */
static int classroom_check(struct sq_store *s, const struct st_classroom *in, struct st_err *e)
{
    int rc = sq_check_text(e, "the classroom's name", in->name, sizeof in->name, false);
    if (rc)
        return rc;
    int64_t found = sq_int_query(s, "SELECT 1 FROM schools WHERE id = ?", in->school_id, 0);
    if (found < 0)
        return (int)found;
    if (!found)
        return sq_err(e, STORE_ERR_ARG, "there is no school %lld", (long long)in->school_id);
    return 0;
}

/* The message of a UNIQUE (school_id, name) violation. */
static int classroom_exists(struct sq_store *s, const struct st_classroom *in, struct st_err *e)
{
    struct st_school sc;
    char name[256], school[256];
    if (sq_school_get(&s->base, in->school_id, &sc) != 0)
        sc.name[0] = '\0';
    return sq_err(e, STORE_ERR_EXISTS, "school \"%s\" already has a classroom named \"%s\"",
                  sq_clip(sc.name, NAME_CLIP, school, sizeof school),
                  sq_clip(in->name, NAME_CLIP, name, sizeof name));
}

int sq_classroom_create(struct store *s, struct st_classroom *in, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    rc = classroom_check(sq(s), in, e);
    if (rc == 0) {
        sqlite3_stmt *st = sq_prep(sq(s), "INSERT INTO classrooms (school_id, name) VALUES (?, ?)");
        if (!st)
            rc = sq_db_fail(sq(s), "create classroom", e);
        else {
            sqlite3_bind_int64(st, 1, in->school_id);
            sq_bind_text(st, 2, in->name);
            rc = sq_run(sq(s), st, "create classroom", e);
        }
        if (rc == STORE_ERR_EXISTS)
            classroom_exists(sq(s), in, e);
        if (rc == 0)
            in->id = sqlite3_last_insert_rowid(sq(s)->db);
    }
    return sq_finish(sq(s), rc, e);
}

int sq_classroom_get(struct store *s, int64_t id, struct st_classroom *out)
{
    return get_row(sq(s), "SELECT id, school_id, name FROM classrooms WHERE id = ?", id,
                   classroom_row, out, "get classroom");
}

int sq_classroom_list(struct store *s, int64_t school_id, struct st_classroom **out, int *n)
{
    sqlite3_stmt *st = sq_prep(sq(s), school_id ? "SELECT id, school_id, name FROM classrooms "
                                                  "WHERE school_id = ? ORDER BY name, id"
                                                : "SELECT id, school_id, name FROM classrooms "
                                                  "ORDER BY school_id, name, id");
    if (st && school_id)
        sqlite3_bind_int64(st, 1, school_id);
    void *rows;
    int rc = list_rows(sq(s), st, sizeof **out, classroom_row, &rows, n, "list classrooms");
    *out = rows;
    return rc;
}

int sq_classroom_update(struct store *s, const struct st_classroom *in, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    rc = classroom_check(sq(s), in, e);
    if (rc == 0) {
        sqlite3_stmt *st =
            sq_prep(sq(s), "UPDATE classrooms SET school_id = ?, name = ? WHERE id = ?");
        if (!st)
            rc = sq_db_fail(sq(s), "update classroom", e);
        else {
            sqlite3_bind_int64(st, 1, in->school_id);
            sq_bind_text(st, 2, in->name);
            sqlite3_bind_int64(st, 3, in->id);
            rc = sq_run(sq(s), st, "update classroom", e);
        }
        if (rc == STORE_ERR_EXISTS)
            classroom_exists(sq(s), in, e);
        if (rc == STORE_ERR_NOT_FOUND)
            sq_err(e, rc, "there is no classroom %lld", (long long)in->id);
    }
    return sq_finish(sq(s), rc, e);
}

/* IN_USE with a message if a lesson books classroom c or an account is bound to it. */
static int classroom_in_use(struct sq_store *s, const struct st_classroom *c, struct st_err *e)
{
    char name[256];
    int64_t lessons =
        sq_int_query(s, "SELECT count(*) FROM lesson_classrooms WHERE classroom_id = ?", c->id, 0);
    if (lessons < 0)
        return (int)lessons;
    if (lessons > 0)
        return sq_err(e, STORE_ERR_IN_USE,
                      "classroom \"%s\" is booked in %lld lesson%s; remove it from them first",
                      sq_clip(c->name, NAME_CLIP, name, sizeof name), (long long)lessons,
                      lessons == 1 ? "" : "s");
    sqlite3_stmt *st = sq_prep(s, "SELECT username FROM users WHERE classroom_id = ? LIMIT 1");
    if (!st)
        return sq_db_fail(s, "classroom accounts", e);
    sqlite3_bind_int64(st, 1, c->id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        char user[STORE_USERNAME_MAX];
        sq_col_text(st, 0, user, sizeof user);
        sq_err(e, STORE_ERR_IN_USE,
               "classroom \"%s\" is the room of the account \"%s\"; delete or change that "
               "account first",
               sq_clip(c->name, NAME_CLIP, name, sizeof name), user);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return STORE_ERR_IN_USE;
    return rc == SQLITE_DONE ? 0 : sq_db_fail(s, "classroom accounts", e);
}

int sq_classroom_delete(struct store *s, int64_t id, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    struct st_classroom c;
    rc = sq_classroom_get(s, id, &c);
    if (rc == STORE_ERR_NOT_FOUND)
        sq_err(e, rc, "there is no classroom %lld", (long long)id);
    if (rc == 0)
        rc = classroom_in_use(sq(s), &c, e);
    if (rc == 0)
        rc = sq_delete_id(sq(s), "DELETE FROM classrooms WHERE id = ?", id, "delete classroom", e);
    return sq_finish(sq(s), rc, e);
}
