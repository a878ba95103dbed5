/* Schools and their classrooms in the SQL schedule store (store.h, store_sql_priv.h).
 *
 * A classroom's name is unique within its school (UNIQUE (school_id, name)); a school with
 * classrooms, and a classroom booked in a lesson or bound to a classroom account, cannot be
 * deleted (STORE_ERR_IN_USE, checked in the delete's transaction; the foreign keys are the
 * second line). Lists are ordered by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/store_sql_priv.h"

#define NAME_CLIP 60 /* characters of a name quoted in a message */

/* ---- what schools and classrooms share ---- */

/* Fills one entity from the statement's current row. */
typedef void (*row_fn)(struct sqlq *st, void *out);

/* The row of sql (binding id to ?1) into out: 0, STORE_ERR_NOT_FOUND or STORE_ERR_DB. */
static int get_row(struct sq_store *s, const char *sql, int64_t id, row_fn row, void *out,
                   const char *what)
{
    struct sqlq *st = sq_prep(s, sql);
    if (!st)
        return STORE_ERR_DB;
    sqlq_bind_i64(st, 1, id);
    int rc = sqlq_step(st);
    if (rc == SQLQ_ROW)
        row(st, out);
    sqlq_free(st);
    return rc == SQLQ_ROW ? 0 : rc == SQLQ_DONE ? STORE_ERR_NOT_FOUND : sq_db_fail(s, what, NULL);
}

/* Steps st (prepared and bound, or NULL if preparing failed) to its end and finalizes it,
 * each row an entity of size bytes in a new array *out (the caller frees it) of *n. 0 or
 * STORE_ERR_DB, with *out NULL and *n 0. */
static int list_rows(struct sq_store *s, struct sqlq *st, size_t size, row_fn row, void **out,
                     int *n, const char *what)
{
    *out = NULL;
    *n = 0;
    if (!st)
        return STORE_ERR_DB;
    int cap = 8, rc;
    char *v = cr_malloc((size_t)cap * size);
    while ((rc = sqlq_step(st)) == SQLQ_ROW) {
        if (*n == cap)
            v = cr_realloc(v, (size_t)(cap *= 2) * size);
        row(st, v + (size_t)(*n)++ * size);
    }
    sqlq_free(st);
    if (rc != SQLQ_DONE) {
        free(v);
        *n = 0;
        return sq_db_fail(s, what, NULL);
    }
    *out = v;
    return 0;
}

/* ---- schools ---- */

static void school_row(struct sqlq *st, void *row)
{
    struct st_school *out = row;
    memset(out, 0, sizeof *out);
    out->id = sqlq_i64(st, 0);
    sq_col_text(st, 1, out->name, sizeof out->name);
}

int sq_school_create(struct store *s, struct st_school *in, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_check_text(e, "the school's name", in->name, sizeof in->name, false);
    if (rc)
        return rc;
    struct sqlq *st = sq_prep(sq(s), "INSERT INTO schools (name) VALUES (?) RETURNING id");
    if (!st)
        return sq_db_fail(sq(s), "create school", e);
    sq_bind_text(st, 1, in->name);
    return sq_insert(sq(s), st, "create school", e, &in->id);
}

int sq_school_get(struct store *s, int64_t id, struct st_school *out)
{
    return get_row(sq(s), "SELECT id, name FROM schools WHERE id = ?", id, school_row, out,
                   "get school");
}

int sq_school_list(struct store *s, struct st_school **out, int *n)
{
    struct sqlq *st = sq_prep(sq(s), "SELECT id, name FROM schools ORDER BY name, id");
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
    struct sqlq *st = sq_prep(sq(s), "UPDATE schools SET name = ? WHERE id = ?");
    if (!st)
        return sq_db_fail(sq(s), "update school", e);
    sq_bind_text(st, 1, in->name);
    sqlq_bind_i64(st, 2, in->id);
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

static void classroom_row(struct sqlq *st, void *row)
{
    struct st_classroom *out = row;
    memset(out, 0, sizeof *out);
    out->id = sqlq_i64(st, 0);
    out->school_id = sqlq_i64(st, 1);
    sq_col_text(st, 2, out->name, sizeof out->name);
}

/* Checks a classroom to write, inside the transaction; its school into sc. */
static int classroom_check(struct sq_store *s, const struct st_classroom *in, struct st_school *sc,
                           struct st_err *e)
{
    int rc = sq_check_text(e, "the classroom's name", in->name, sizeof in->name, false);
    if (rc)
        return rc;
    rc = sq_school_get(&s->base, in->school_id, sc);
    if (rc == STORE_ERR_NOT_FOUND)
        return sq_err(e, STORE_ERR_ARG, "there is no school %lld", (long long)in->school_id);
    return rc;
}

/* The message of a UNIQUE (school_id, name) violation, with the school read before the
 * write (on PostgreSQL the failed write ends what the transaction can still read). */
static int classroom_exists(const struct st_school *sc, const struct st_classroom *in,
                            struct st_err *e)
{
    char name[256], school[256];
    return sq_err(e, STORE_ERR_EXISTS, "school \"%s\" already has a classroom named \"%s\"",
                  sq_clip(sc->name, NAME_CLIP, school, sizeof school),
                  sq_clip(in->name, NAME_CLIP, name, sizeof name));
}

int sq_classroom_create(struct store *s, struct st_classroom *in, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    struct st_school sc;
    rc = classroom_check(sq(s), in, &sc, e);
    if (rc == 0) {
        struct sqlq *st = sq_prep(sq(s), "INSERT INTO classrooms (school_id, name) VALUES (?, ?) "
                                         "RETURNING id");
        if (!st)
            rc = sq_db_fail(sq(s), "create classroom", e);
        else {
            sqlq_bind_i64(st, 1, in->school_id);
            sq_bind_text(st, 2, in->name);
            rc = sq_insert(sq(s), st, "create classroom", e, &in->id);
        }
        if (rc == STORE_ERR_EXISTS)
            classroom_exists(&sc, in, e);
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
    struct sqlq *st = sq_prep(sq(s), school_id ? "SELECT id, school_id, name FROM classrooms "
                                                 "WHERE school_id = ? ORDER BY name, id"
                                               : "SELECT id, school_id, name FROM classrooms "
                                                 "ORDER BY school_id, name, id");
    if (st && school_id)
        sqlq_bind_i64(st, 1, school_id);
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
    struct st_school sc;
    rc = classroom_check(sq(s), in, &sc, e);
    if (rc == 0) {
        struct sqlq *st =
            sq_prep(sq(s), "UPDATE classrooms SET school_id = ?, name = ? WHERE id = ?");
        if (!st)
            rc = sq_db_fail(sq(s), "update classroom", e);
        else {
            sqlq_bind_i64(st, 1, in->school_id);
            sq_bind_text(st, 2, in->name);
            sqlq_bind_i64(st, 3, in->id);
            rc = sq_run(sq(s), st, "update classroom", e);
        }
        if (rc == STORE_ERR_EXISTS)
            classroom_exists(&sc, in, e);
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
    struct sqlq *st = sq_prep(s, "SELECT username FROM users WHERE classroom_id = ? LIMIT 1");
    if (!st)
        return sq_db_fail(s, "classroom accounts", e);
    sqlq_bind_i64(st, 1, c->id);
    int rc = sqlq_step(st);
    if (rc == SQLQ_ROW) {
        char user[STORE_USERNAME_MAX];
        sq_col_text(st, 0, user, sizeof user);
        sq_err(e, STORE_ERR_IN_USE,
               "classroom \"%s\" is the room of the account \"%s\"; delete or change that "
               "account first",
               sq_clip(c->name, NAME_CLIP, name, sizeof name), user);
    }
    sqlq_free(st);
    if (rc == SQLQ_ROW)
        return STORE_ERR_IN_USE;
    return rc == SQLQ_DONE ? 0 : sq_db_fail(s, "classroom accounts", e);
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
