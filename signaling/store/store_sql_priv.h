/* Private to the SQL schedule store (store_sql*.c), one code for SQLite and PostgreSQL
 * through sqldb.h: the handle, the helpers every entity's file shares, and each file's
 * operations for the table in store_sql.c.
 *
 *   store_sql.c           open, migrations of both engines, close, the operations table,
 *                         room names
 *   store_sql_util.c      helpers, validation of text fields
 *   store_sql_place.c     schools and classrooms
 *   store_sql_user.c      users
 *   store_sql_lesson.c    lessons: validation, writes, reads, lists
 *   store_sql_conflict.c  double bookings, found inside the write transaction
 *   store_sql_audit.c     the audit log
 *
 * Writes run in one write transaction (sq_begin / sq_finish: sqldb_begin, which holds the
 * database's one write lock, SQLite's or the cluster's) that holds their checks, so a
 * refused write changes nothing and two writers, on one node or two, cannot both pass a
 * check. Every value is a bound parameter. The SQL is the dialect both engines share
 * (docs/store.md); where they differ, sq_pg() picks. */
#ifndef CR_SIGNALING_STORE_SQLITE_PRIV_H
#define CR_SIGNALING_STORE_SQLITE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/sched.h"
#include "store/sqldb.h"
#include "store/store.h"

#define SQ_TEXT_CHARS 200 /* code points of a text field */
#define SQ_TAG "store"

struct sq_store {
    struct store base; /* first: store.h's handle */
    struct sqldb *db;  /* owned */
};

static inline struct sq_store *sq(struct store *s) { return (struct sq_store *)s; }
static inline bool sq_pg(const struct sq_store *s) { return sqldb_engine(s->db) == SQLDB_PG; }

/* ---- helpers (store_sql_util.c) ---- */

/* Logs the connection's error with what (CR_WARN, with the count of failures so far), sets
 * e->msg if e, and returns STORE_ERR_DB. */
int sq_db_fail(struct sq_store *s, const char *what, struct st_err *e);
/* A prepared statement, or NULL (logged). */
struct sqlq *sq_prep(struct sq_store *s, const char *sql);
void sq_bind_text(struct sqlq *st, int i, const char *text); /* NULL binds "" */ /* NULL binds "" */
/* Column c as text into out (truncated at a character boundary to fit). */
void sq_col_text(struct sqlq *st, int c, char *out, size_t out_len);
/* A write transaction (sqldb_begin): 0 or STORE_ERR_DB. */
int sq_begin(struct sq_store *s, struct st_err *e);
/* Commits if rc is 0, else rolls back; returns rc, or STORE_ERR_DB if the commit failed. */
int sq_finish(struct sq_store *s, int rc, struct st_err *e);
/* Runs a query binding id to ?1 (if it has a parameter) and returns its first column as
 * an integer: the value, def if it gave no row, or STORE_ERR_DB (logged). For counts and
 * ids, which are never negative. */
int64_t sq_int_query(struct sq_store *s, const char *sql, int64_t id, int64_t def);
/* Steps a statement that returns no rows and finalizes it: 0, STORE_ERR_NOT_FOUND if it
 * changed nothing, STORE_ERR_EXISTS on a UNIQUE violation, or STORE_ERR_DB (logged). */
int sq_run(struct sq_store *s, struct sqlq *st, const char *what, struct st_err *e);
/* Steps an INSERT ... RETURNING id and frees it: 0 with the new row's id in *id, or as
 * sq_run. */
int sq_insert(struct sq_store *s, struct sqlq *st, const char *what, struct st_err *e, int64_t *id);
/* sq_run of the DELETE sql with id bound to ?1 (e.g. "DELETE FROM users WHERE id = ?"). */
int sq_delete_id(struct sq_store *s, const char *sql, int64_t id, const char *what,
                 struct st_err *e);

/* e, or dummy when e is NULL, with an empty message and no conflicts. */
struct st_err *sq_err_init(struct st_err *e, struct st_err *dummy);
/* Sets e->msg (cut at a character boundary) and returns code. */
int sq_err(struct st_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* s clipped to max_chars characters (with "…" if cut) into out, for messages. */
const char *sq_clip(const char *s, int max_chars, char *out, size_t out_len);
/* "2026-12-08 09:00–09:45 UTC" (the end's date too when it differs). */
void sq_span_text(int64_t start_ms, int64_t end_ms, char *out, size_t out_len);

/* 0, or STORE_ERR_ARG naming field: a NUL-terminated text in a buf_len array of valid
 * UTF-8 without control characters, 1..200 characters (0..200 if may_be_empty). */
int sq_check_text(struct st_err *e, const char *field, const char *s, size_t buf_len,
                  bool may_be_empty);
/* Code points of valid UTF-8 (RFC 3629 §4) among the first len bytes, or -1; controls
 * (C0, DEL, C1) count as invalid when no_controls. */
long sq_utf8_chars(const char *s, size_t len, bool no_controls);

/* ---- operations, by file ---- */

int sq_school_create(struct store *s, struct st_school *in, struct st_err *e);
int sq_school_get(struct store *s, int64_t id, struct st_school *out);
int sq_school_list(struct store *s, struct st_school **out, int *n);
int sq_school_update(struct store *s, const struct st_school *in, struct st_err *e);
int sq_school_delete(struct store *s, int64_t id, struct st_err *e);
int sq_classroom_create(struct store *s, struct st_classroom *in, struct st_err *e);
int sq_classroom_get(struct store *s, int64_t id, struct st_classroom *out);
int sq_classroom_list(struct store *s, int64_t school_id, struct st_classroom **out, int *n);
int sq_classroom_update(struct store *s, const struct st_classroom *in, struct st_err *e);
int sq_classroom_delete(struct store *s, int64_t id, struct st_err *e);

int sq_user_create(struct store *s, struct st_user *in, struct st_err *e);
int sq_user_get(struct store *s, int64_t id, struct st_user *out);
int sq_user_by_username(struct store *s, const char *username, struct st_user *out);
int sq_user_list(struct store *s, enum role role, struct st_user **out, int *n);
int sq_user_update(struct store *s, const struct st_user *in, struct st_err *e);
int sq_user_delete(struct store *s, int64_t id, struct st_err *e);
int sq_user_count(struct store *s, int *n);

int sq_lesson_create(struct store *s, struct st_lesson *in, struct st_err *e);
int sq_lesson_get(struct store *s, int64_t id, struct st_lesson *out);
int sq_lesson_list(struct store *s, const struct st_lesson_filter *f, struct st_lesson **out,
                   int *n);
int sq_lesson_update(struct store *s, const struct st_lesson *in, struct st_err *e);
int sq_lesson_delete(struct store *s, int64_t id, struct st_err *e);

/* Inside the write transaction: STORE_ERR_CONFLICT with e->conflicts and e->msg if another
 * lesson than in->id (0 on create) books in's teacher or one of its classrooms at an
 * overlapping time; 0 if none; STORE_ERR_DB. */
int sq_lesson_conflicts(struct sq_store *s, const struct st_lesson *in, struct st_err *e);

int sq_audit_add(struct store *s, const struct st_audit *in);
int sq_audit_list(struct store *s, const struct st_audit_filter *f, struct st_audit **out, int *n);

#endif
