/* Lessons in the SQL schedule store (store.h, store_sql_priv.h): their checks,
 * writes, reads and the filtered list.
 *
 * A lesson row keeps its first occurrence and until_ms (sched.h), plus last_end_ms, the end
 * of its last occurrence, so that a range query can preselect with two index comparisons
 * (start_ms < to AND last_end_ms > from) before sched_expand decides whether an occurrence
 * really falls in the range (a weekly lesson has gaps). Its receiving classrooms are rows
 * of lesson_classrooms, in the order given (pos). A write checks the lesson and looks for
 * double bookings (store_sql_conflict.c) in the same transaction as the write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "store/store_sql_priv.h"

#define LESSON_COLUMNS                                                                             \
    "id, title, subject, teacher_id, start_ms, end_ms, until_ms, record, created_ms, updated_ms, " \
    "source_url"
#define NAME_CLIP 60

static struct sched_rule rule_of(const struct st_lesson *l)
{
    return (struct sched_rule){l->start_ms, l->end_ms, l->until_ms};
}

/* The lesson's fields from a row of LESSON_COLUMNS, without its classrooms. */
static void lesson_row(struct sqlq *st, struct st_lesson *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlq_i64(st, 0);
    sq_col_text(st, 1, out->title, sizeof out->title);
    sq_col_text(st, 2, out->subject, sizeof out->subject);
    out->teacher_id = sqlq_i64(st, 3);
    out->start_ms = sqlq_i64(st, 4);
    out->end_ms = sqlq_i64(st, 5);
    out->until_ms = sqlq_i64(st, 6);
    out->record = sqlq_i64(st, 7) != 0;
    out->created_ms = sqlq_i64(st, 8);
    out->updated_ms = sqlq_i64(st, 9);
    sq_col_text(st, 10, out->source_url, sizeof out->source_url);
}

/* Fills l->classrooms with a prepared "classrooms of ?1" statement, which it resets. */
static int load_classrooms(struct sq_store *s, struct sqlq *st, struct st_lesson *l)
{
    sqlq_reset(st);
    sqlq_bind_i64(st, 1, l->id);
    int rc;
    l->n_classrooms = 0;
    while ((rc = sqlq_step(st)) == SQLQ_ROW && l->n_classrooms < STORE_LESSON_CLASSROOMS)
        l->classrooms[l->n_classrooms++] = sqlq_i64(st, 0);
    if (rc != SQLQ_ROW && rc != SQLQ_DONE)
        return sq_db_fail(s, "lesson classrooms", NULL);
    return 0;
}

#define CLASSROOMS_OF "SELECT classroom_id FROM lesson_classrooms WHERE lesson_id = ? ORDER BY pos"

/* ---- checks ---- */

static int teacher_check(struct sq_store *s, int64_t teacher_id, struct st_err *e)
{
    struct st_user t;
    char name[256];
    int rc = sq_user_get(&s->base, teacher_id, &t);
    if (rc == STORE_ERR_NOT_FOUND)
        return sq_err(e, STORE_ERR_ARG, "there is no teacher %lld", (long long)teacher_id);
    if (rc)
        return rc;
    if (t.role != ROLE_TEACHER)
        return sq_err(e, STORE_ERR_ARG, "user %lld (%s) is not a teacher", (long long)t.id,
                      sq_clip(t.name, NAME_CLIP, name, sizeof name));
    if (t.disabled)
        return sq_err(e, STORE_ERR_ARG, "teacher %s's account is disabled",
                      sq_clip(t.name, NAME_CLIP, name, sizeof name));
    return 0;
}

static int classrooms_check(struct sq_store *s, const struct st_lesson *in, struct st_err *e)
{
    if (in->n_classrooms < 0 || in->n_classrooms > STORE_LESSON_CLASSROOMS)
        return sq_err(e, STORE_ERR_ARG, "a lesson books 0 to %d classrooms",
                      STORE_LESSON_CLASSROOMS);
    for (int i = 0; i < in->n_classrooms; i++) {
        for (int j = 0; j < i; j++) {
            if (in->classrooms[j] == in->classrooms[i])
                return sq_err(e, STORE_ERR_ARG, "classroom %lld is listed twice",
                              (long long)in->classrooms[i]);
        }
        int64_t found =
            sq_int_query(s, "SELECT 1 FROM classrooms WHERE id = ?", in->classrooms[i], 0);
        if (found < 0)
            return (int)found;
        if (!found)
            return sq_err(e, STORE_ERR_ARG, "there is no classroom %lld",
                          (long long)in->classrooms[i]);
    }
    return 0;
}

/* Checks a lesson to write, inside the transaction, then looks for double bookings. */
static int lesson_check(struct sq_store *s, const struct st_lesson *in, struct st_err *e)
{
    int rc = sq_check_text(e, "the title", in->title, sizeof in->title, false);
    if (!rc)
        rc = sq_check_text(e, "the subject", in->subject, sizeof in->subject, true);
    if (rc)
        return rc;
    char bad[200];
    if (in->source_url[0] && !rtsp_url_ok(in->source_url, bad, sizeof bad))
        return sq_err(e, STORE_ERR_ARG, "%s", bad);
    struct sched_rule r = rule_of(in);
    const char *why = sched_rule_invalid(&r);
    if (why)
        return sq_err(e, STORE_ERR_ARG, "%s", why);
    if ((rc = classrooms_check(s, in, e)) || (rc = teacher_check(s, in->teacher_id, e)))
        return rc;
    return sq_lesson_conflicts(s, in, e);
}

/* ---- writes ---- */

/* Replaces the lesson's classroom rows with in's. */
static int write_links(struct sq_store *s, int64_t id, const struct st_lesson *in, struct st_err *e)
{
    int rc = sq_delete_id(s, "DELETE FROM lesson_classrooms WHERE lesson_id = ?", id,
                          "lesson classrooms", e);
    if (rc != 0 && rc != STORE_ERR_NOT_FOUND)
        return rc;
    struct sqlq *st;
    if (!(st = sq_prep(s, "INSERT INTO lesson_classrooms (lesson_id, classroom_id, pos) "
                          "VALUES (?, ?, ?)")))
        return sq_db_fail(s, "lesson classrooms", e);
    for (int i = 0; i < in->n_classrooms; i++) {
        sqlq_reset(st);
        sqlq_bind_i64(st, 1, id);
        sqlq_bind_i64(st, 2, in->classrooms[i]);
        sqlq_bind_i64(st, 3, i);
        if (sqlq_step(st) != SQLQ_DONE) {
            rc = sq_db_fail(s, "lesson classrooms", e);
            sqlq_free(st);
            return rc;
        }
    }
    sqlq_free(st);
    return 0;
}

/* Binds the row's values, ?1..?9 and ?11, as both INSERT and UPDATE below number them. */
static void bind_lesson(struct sqlq *st, const struct st_lesson *in, int64_t now)
{
    struct sched_rule r = rule_of(in);
    sq_bind_text(st, 1, in->title);
    sq_bind_text(st, 2, in->subject);
    sqlq_bind_i64(st, 3, in->teacher_id);
    sqlq_bind_i64(st, 4, in->start_ms);
    sqlq_bind_i64(st, 5, in->end_ms);
    sqlq_bind_i64(st, 6, in->until_ms);
    sqlq_bind_i64(st, 7, sched_last_end(&r));
    sqlq_bind_i64(st, 8, in->record);
    sqlq_bind_i64(st, 9, now);
    sq_bind_text(st, 11, in->source_url);
}

/* Runs the UPDATE sql of a lesson's row with bind_lesson's parameters and id as ?10, or
 * with new_id the INSERT ... RETURNING id (the new id into *new_id): 0 or a STORE_ERR_* (in
 * e). */
static int write_lesson(struct sq_store *s, const char *sql, const struct st_lesson *in,
                        int64_t now, int64_t id, int64_t *new_id, const char *what,
                        struct st_err *e)
{
    struct sqlq *st = sq_prep(s, sql);
    if (!st)
        return sq_db_fail(s, what, e);
    bind_lesson(st, in, now);
    if (new_id)
        return sq_insert(s, st, what, e, new_id);
    sqlq_bind_i64(st, 10, id);
    return sq_run(s, st, what, e);
}

int sq_lesson_create(struct store *s, struct st_lesson *in, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    int64_t now = cr_wall_ms(), id = 0;
    struct st_lesson probe = *in;
    probe.id = 0; /* a new lesson clashes with every other */
    rc = lesson_check(sq(s), &probe, e);
    if (rc == 0) {
        rc = write_lesson(sq(s),
                          "INSERT INTO lessons (title, subject, teacher_id, start_ms, end_ms, "
                          "until_ms, last_end_ms, record, created_ms, updated_ms, source_url) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?11) RETURNING id",
                          in, now, 0, &id, "create lesson", e);
    }
    if (rc == 0)
        rc = write_links(sq(s), id, in, e);
    rc = sq_finish(sq(s), rc, e);
    if (rc == 0) {
        in->id = id;
        in->created_ms = in->updated_ms = now;
    }
    return rc;
}

int sq_lesson_update(struct store *s, const struct st_lesson *in, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    int64_t found = sq_int_query(sq(s), "SELECT 1 FROM lessons WHERE id = ?", in->id, 0);
    rc = found < 0 ? (int)found : 0;
    if (rc == 0 && !found)
        rc = sq_err(e, STORE_ERR_NOT_FOUND, "there is no lesson %lld", (long long)in->id);
    if (rc == 0)
        rc = lesson_check(sq(s), in, e);
    if (rc == 0) {
        rc = write_lesson(sq(s),
                          "UPDATE lessons SET title = ?1, subject = ?2, teacher_id = ?3, "
                          "start_ms = ?4, end_ms = ?5, until_ms = ?6, last_end_ms = ?7, "
                          "record = ?8, updated_ms = ?9, source_url = ?11 WHERE id = ?10",
                          in, cr_wall_ms(), in->id, NULL, "update lesson", e);
    }
    if (rc == 0)
        rc = write_links(sq(s), in->id, in, e);
    return sq_finish(sq(s), rc, e);
}

int sq_lesson_delete(struct store *s, int64_t id, struct st_err *e)
{
    struct st_err dummy;
    e = sq_err_init(e, &dummy);
    int rc = sq_begin(sq(s), e);
    if (rc)
        return rc;
    rc = sq_delete_id(sq(s), "DELETE FROM lesson_classrooms WHERE lesson_id = ?", id,
                      "delete lesson", e);
    rc = rc == STORE_ERR_NOT_FOUND ? 0 : rc; /* a lesson may book no classroom */
    if (rc == 0)
        rc = sq_delete_id(sq(s), "DELETE FROM lessons WHERE id = ?", id, "delete lesson", e);
    if (rc == STORE_ERR_NOT_FOUND)
        sq_err(e, rc, "there is no lesson %lld", (long long)id);
    return sq_finish(sq(s), rc, e);
}

/* ---- reads ---- */

int sq_lesson_get(struct store *s, int64_t id, struct st_lesson *out)
{
    struct sqlq *st = sq_prep(sq(s), "SELECT " LESSON_COLUMNS " FROM lessons WHERE id = ?");
    if (!st)
        return STORE_ERR_DB;
    sqlq_bind_i64(st, 1, id);
    int rc = sqlq_step(st);
    if (rc == SQLQ_ROW)
        lesson_row(st, out);
    sqlq_free(st);
    if (rc != SQLQ_ROW)
        return rc == SQLQ_DONE ? STORE_ERR_NOT_FOUND : sq_db_fail(sq(s), "get lesson", NULL);
    if (!(st = sq_prep(sq(s), CLASSROOMS_OF)))
        return STORE_ERR_DB;
    rc = load_classrooms(sq(s), st, out);
    sqlq_free(st);
    return rc;
}

/* The list query for a filter: constant fragments only, values bound as ?1..?4. */
static struct sqlq *list_query(struct sq_store *s, const struct st_lesson_filter *f)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT " LESSON_COLUMNS " FROM lessons WHERE TRUE%s%s%s%s ORDER BY start_ms, id",
             f->from_ms ? " AND last_end_ms > ?1" : "", f->to_ms ? " AND start_ms < ?2" : "",
             f->teacher_id ? " AND teacher_id = ?3" : "",
             f->classroom_id ? " AND id IN (SELECT lesson_id FROM lesson_classrooms "
                               "WHERE classroom_id = ?4)"
                             : "");
    struct sqlq *st = sq_prep(s, sql);
    if (!st)
        return NULL;
    if (f->from_ms)
        sqlq_bind_i64(st, 1, f->from_ms);
    if (f->to_ms)
        sqlq_bind_i64(st, 2, f->to_ms);
    if (f->teacher_id)
        sqlq_bind_i64(st, 3, f->teacher_id);
    if (f->classroom_id)
        sqlq_bind_i64(st, 4, f->classroom_id);
    return st;
}

int sq_lesson_list(struct store *s, const struct st_lesson_filter *f, struct st_lesson **out,
                   int *n)
{
    static const struct st_lesson_filter none = {0};
    *out = NULL;
    *n = 0;
    if (!f)
        f = &none;
    int64_t from = f->from_ms ? f->from_ms : INT64_MIN, to = f->to_ms ? f->to_ms : INT64_MAX;
    struct sqlq *st = list_query(sq(s), f), *links = sq_prep(sq(s), CLASSROOMS_OF);
    if (!st || !links) {
        sqlq_free(st);
        sqlq_free(links);
        return STORE_ERR_DB;
    }
    int cap = 8, rc, err = 0;
    struct st_lesson *v = cr_malloc((size_t)cap * sizeof *v);
    while ((rc = sqlq_step(st)) == SQLQ_ROW) {
        if (*n == cap)
            v = cr_realloc(v, (size_t)(cap *= 2) * sizeof *v);
        lesson_row(st, &v[*n]);
        struct sched_rule r = rule_of(&v[*n]);
        if ((f->from_ms || f->to_ms) && sched_expand(&r, from, to, NULL, 0) == 0)
            continue; /* the range falls between two of its weeks */
        if ((err = load_classrooms(sq(s), links, &v[*n])) != 0)
            break;
        (*n)++;
    }
    sqlq_free(st);
    sqlq_free(links);
    if (err || rc != SQLQ_DONE) {
        free(v);
        *n = 0;
        return err ? err : sq_db_fail(sq(s), "list lessons", NULL);
    }
    *out = v;
    return 0;
}
