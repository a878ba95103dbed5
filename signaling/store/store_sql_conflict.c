/* Double bookings in the SQL schedule store (docs/scheduling.md, "Conflicts"): a lesson
 * may not overlap another lesson of the same teacher, nor another lesson booking one of its
 * classrooms, over every occurrence of both (half-open [start, end), sched_overlap).
 *
 * Runs inside the write's transaction. The candidates are the other lessons that share the
 * teacher or a classroom and whose span [start_ms, last_end_ms) meets the new lesson's
 * (indexes on teacher_id, classroom_id, start_ms, last_end_ms); sched_overlap then decides
 * on each. Every clash (the teacher, and each shared classroom) is counted; the earliest
 * STORE_CONFLICTS_MAX go into st_err.conflicts and the first into a plain sentence:
 *   teacher Wang Li already teaches "Fractions" (lesson 7) on 2026-12-08 09:00–09:45 UTC
 *   classroom "Grade 3 A" (Hope School) is already booked for "Fractions" (lesson 7) on ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_sql_priv.h"

#define NAME_CLIP 60
#define CANDIDATES_SQL                                                                             \
    "SELECT id, title, start_ms, end_ms, until_ms, teacher_id FROM lessons "                       \
    "WHERE id <> ?1 AND start_ms < ?2 AND last_end_ms > ?3 AND id IN ("                            \
    "SELECT id FROM lessons WHERE teacher_id = ?4"
#define CANDIDATES_CLASSROOMS                                                                      \
    " UNION SELECT lesson_id FROM lesson_classrooms WHERE classroom_id IN ("

/* Sorted by the clashing occurrence's start, then lesson, the teacher before classrooms. */
static bool before(const struct st_conflict *a, const struct st_conflict *b)
{
    if (a->start_ms != b->start_ms)
        return a->start_ms < b->start_ms;
    if (a->lesson_id != b->lesson_id)
        return a->lesson_id < b->lesson_id;
    return a->teacher && !b->teacher;
}

/* Inserts c in order, keeping the first STORE_CONFLICTS_MAX. */
static void add_conflict(struct st_err *e, const struct st_conflict *c)
{
    int pos = e->n_conflicts;
    while (pos > 0 && before(c, &e->conflicts[pos - 1]))
        pos--;
    if (pos >= STORE_CONFLICTS_MAX)
        return;
    int keep = e->n_conflicts < STORE_CONFLICTS_MAX ? e->n_conflicts : STORE_CONFLICTS_MAX - 1;
    memmove(&e->conflicts[pos + 1], &e->conflicts[pos],
            (size_t)(keep - pos) * sizeof e->conflicts[0]);
    e->conflicts[pos] = *c;
    if (e->n_conflicts < STORE_CONFLICTS_MAX)
        e->n_conflicts++;
}

/* The candidates query for in: its IN list has one constant "?" per classroom. */
static struct sqlq *candidates(struct sq_store *s, const struct st_lesson *in)
{
    char sql[sizeof CANDIDATES_SQL + sizeof CANDIDATES_CLASSROOMS + 4 * STORE_LESSON_CLASSROOMS +
             64];
    size_t len = (size_t)snprintf(sql, sizeof sql, "%s", CANDIDATES_SQL);
    if (in->n_classrooms > 0) {
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s", CANDIDATES_CLASSROOMS);
        for (int i = 0; i < in->n_classrooms; i++)
            len += (size_t)snprintf(sql + len, sizeof sql - len, i ? ", ?" : "?");
        len += (size_t)snprintf(sql + len, sizeof sql - len, ")");
    }
    snprintf(sql + len, sizeof sql - len, ") ORDER BY start_ms, id");
    struct sqlq *st = sq_prep(s, sql);
    if (!st)
        return NULL;
    struct sched_rule r = {in->start_ms, in->end_ms, in->until_ms};
    sqlq_bind_i64(st, 1, in->id);
    sqlq_bind_i64(st, 2, sched_last_end(&r));
    sqlq_bind_i64(st, 3, in->start_ms);
    sqlq_bind_i64(st, 4, in->teacher_id);
    for (int i = 0; i < in->n_classrooms; i++)
        sqlq_bind_i64(st, 5 + i, in->classrooms[i]);
    return st;
}

/* Adds one conflict per shared resource of the candidate row (teacher, classrooms). */
static int add_clashes(struct sq_store *s, struct sqlq *cand, struct sqlq *links,
                       const struct st_lesson *in, const struct sched_span *occ, struct st_err *e,
                       int *total)
{
    struct st_conflict c = {
        .lesson_id = sqlq_i64(cand, 0), .start_ms = occ->start_ms, .end_ms = occ->end_ms};
    sq_col_text(cand, 1, c.title, sizeof c.title);
    if (sqlq_i64(cand, 5) == in->teacher_id) {
        c.teacher = true;
        add_conflict(e, &c);
        ++*total;
    }
    c.teacher = false;
    sqlq_reset(links);
    sqlq_bind_i64(links, 1, c.lesson_id);
    int rc;
    while ((rc = sqlq_step(links)) == SQLQ_ROW) {
        c.classroom_id = sqlq_i64(links, 0);
        for (int i = 0; i < in->n_classrooms; i++) {
            if (in->classrooms[i] == c.classroom_id) {
                add_conflict(e, &c);
                ++*total;
            }
        }
    }
    return rc == SQLQ_DONE ? 0 : sq_db_fail(s, "conflicts", e);
}

/* Two names by id into a and b (empty if missing). */
static void names(struct sq_store *s, const char *sql, int64_t id, char *a, size_t a_len, char *b,
                  size_t b_len)
{
    a[0] = b[0] = '\0';
    struct sqlq *st = sq_prep(s, sql);
    if (!st)
        return;
    sqlq_bind_i64(st, 1, id);
    if (sqlq_step(st) == SQLQ_ROW) {
        sq_col_text(st, 0, a, a_len);
        sq_col_text(st, 1, b, b_len);
    }
    sqlq_free(st);
}

/* The sentence naming the first clash. */
static void describe(struct sq_store *s, const struct st_lesson *in, struct st_err *e, int total)
{
    const struct st_conflict *c = &e->conflicts[0];
    char title[256], span[96], more[64] = "", a[STORE_TEXT_MAX], b[STORE_TEXT_MAX], ca[256],
                               cb[256];
    sq_clip(c->title, NAME_CLIP, title, sizeof title);
    sq_span_text(c->start_ms, c->end_ms, span, sizeof span);
    if (total > 1)
        snprintf(more, sizeof more, " (and %d more clash%s)", total - 1, total > 2 ? "es" : "");
    if (c->teacher) {
        names(s, "SELECT name, username FROM users WHERE id = ?", in->teacher_id, a, sizeof a, b,
              sizeof b);
        sq_err(e, STORE_ERR_CONFLICT, "teacher %s already teaches \"%s\" (lesson %lld) on %s%s",
               sq_clip(a, NAME_CLIP, ca, sizeof ca), title, (long long)c->lesson_id, span, more);
    } else {
        names(s,
              "SELECT c.name, s.name FROM classrooms c JOIN schools s ON s.id = c.school_id "
              "WHERE c.id = ?",
              c->classroom_id, a, sizeof a, b, sizeof b);
        sq_err(e, STORE_ERR_CONFLICT,
               "classroom \"%s\" (%s) is already booked for \"%s\" (lesson %lld) on %s%s",
               sq_clip(a, NAME_CLIP, ca, sizeof ca), sq_clip(b, NAME_CLIP, cb, sizeof cb), title,
               (long long)c->lesson_id, span, more);
    }
}

int sq_lesson_conflicts(struct sq_store *s, const struct st_lesson *in, struct st_err *e)
{
    struct sched_rule mine = {in->start_ms, in->end_ms, in->until_ms};
    struct sqlq *cand = candidates(s, in);
    struct sqlq *links =
        sq_prep(s, "SELECT classroom_id FROM lesson_classrooms WHERE lesson_id = ? ORDER BY pos");
    if (!cand || !links) {
        sqlq_free(cand);
        sqlq_free(links);
        return sq_db_fail(s, "conflicts", e);
    }
    e->n_conflicts = 0;
    int total = 0, rc, err = 0;
    while ((rc = sqlq_step(cand)) == SQLQ_ROW) {
        struct sched_rule other = {sqlq_i64(cand, 2), sqlq_i64(cand, 3), sqlq_i64(cand, 4)};
        struct sched_span occ;
        if (sched_overlap(&mine, &other, NULL, &occ) &&
            (err = add_clashes(s, cand, links, in, &occ, e, &total)) != 0)
            break;
    }
    if (!err && rc != SQLQ_DONE)
        err = sq_db_fail(s, "conflicts", e);
    sqlq_free(cand);
    sqlq_free(links);
    if (err)
        return err;
    if (total == 0)
        return 0;
    describe(s, in, e, total);
    return STORE_ERR_CONFLICT;
}
