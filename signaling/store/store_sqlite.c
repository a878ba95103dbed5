/* The SQLite schedule store (store.h): opening the database, its migrations, the table of
 * operations, and the helpers the entity files share (store_sqlite_priv.h lists them).
 *
 * The file is DATA/classrelay.db, shared with the recordings catalogue (catalog.c). db.c
 * opens this store's own connection and applies its migrations, an append-only list,
 * under the component name "schedule" (db.h: versions, transactions, PRAGMAs).
 *
 * Text rules: valid UTF-8 (RFC 3629 §4: no overlongs, no surrogates, at most U+10FFFF)
 * without control characters (C0, DEL, C1), 1..200 code points; text.c checks them. */
#include "store/store_sqlite_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/db.h"
#include "store/text.h"

/* Schema migrations of the component 'schedule', in order (db.h); entry i takes its version from
 * i to i + 1. Never edit a released entry: append a new one. */
static const char *const migrations[] = {
    /* 1: schools, classrooms, users, lessons and their classrooms, the audit log */
    "CREATE TABLE schools ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL);"
    "CREATE TABLE classrooms ("
    "  id INTEGER PRIMARY KEY,"
    "  school_id INTEGER NOT NULL REFERENCES schools(id),"
    "  name TEXT NOT NULL,"
    "  UNIQUE (school_id, name));"
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  classroom_id INTEGER REFERENCES classrooms(id),"
    "  pw_hash TEXT NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX users_role ON users(role);"
    "CREATE INDEX users_classroom ON users(classroom_id);"
    "CREATE TABLE lessons ("
    "  id INTEGER PRIMARY KEY,"
    "  title TEXT NOT NULL,"
    "  subject TEXT NOT NULL DEFAULT '',"
    "  teacher_id INTEGER NOT NULL REFERENCES users(id),"
    "  start_ms INTEGER NOT NULL,"
    "  end_ms INTEGER NOT NULL,"
    "  until_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_end_ms INTEGER NOT NULL," /* the last occurrence's end, for range queries */
    "  record INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    "CREATE INDEX lessons_teacher ON lessons(teacher_id, start_ms);"
    "CREATE INDEX lessons_start ON lessons(start_ms);"
    "CREATE INDEX lessons_last_end ON lessons(last_end_ms);"
    "CREATE TABLE lesson_classrooms ("
    "  lesson_id INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,"
    "  classroom_id INTEGER NOT NULL REFERENCES classrooms(id),"
    "  pos INTEGER NOT NULL," /* the order the scheduler gave */
    "  PRIMARY KEY (lesson_id, classroom_id)) WITHOUT ROWID;"
    "CREATE INDEX lesson_classrooms_classroom ON lesson_classrooms(classroom_id, lesson_id);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at_ms INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  room TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX audit_at ON audit(at_ms);"
    "CREATE INDEX audit_actor ON audit(actor, at_ms);"
    "CREATE INDEX audit_room ON audit(room, at_ms);",
    /* 2: a lesson's teacher source may be an RTSP camera (lesson/ingest.h) */
    "ALTER TABLE lessons ADD COLUMN source_url TEXT NOT NULL DEFAULT '';",
};
#define SQ_SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static void sq_close(struct store *s)
{
    if (!s)
        return;
    sqlite3_close(sq(s)->db); /* every statement is finalized where it was prepared */
    free(s);
}

static const struct store_ops sqlite_ops = {
    .close = sq_close,
    .school_create = sq_school_create,
    .school_get = sq_school_get,
    .school_list = sq_school_list,
    .school_update = sq_school_update,
    .school_delete = sq_school_delete,
    .classroom_create = sq_classroom_create,
    .classroom_get = sq_classroom_get,
    .classroom_list = sq_classroom_list,
    .classroom_update = sq_classroom_update,
    .classroom_delete = sq_classroom_delete,
    .user_create = sq_user_create,
    .user_get = sq_user_get,
    .user_by_username = sq_user_by_username,
    .user_list = sq_user_list,
    .user_update = sq_user_update,
    .user_delete = sq_user_delete,
    .user_count = sq_user_count,
    .lesson_create = sq_lesson_create,
    .lesson_get = sq_lesson_get,
    .lesson_list = sq_lesson_list,
    .lesson_update = sq_lesson_update,
    .lesson_delete = sq_lesson_delete,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
};

static const struct db_schema schema = {
    .component = "schedule",
    .migrations = migrations,
    .n_migrations = SQ_SCHEMA_VERSION,
};

struct store *store_open_sqlite(const char *path, char *err, size_t err_len)
{
    sqlite3 *db = db_open(path, &schema, err, err_len);
    if (!db)
        return NULL;
    struct sq_store *s = CR_NEW(struct sq_store);
    s->base.ops = &sqlite_ops;
    s->db = db;
    return &s->base;
}

/* ---- room names ---- */

void store_lesson_room(int64_t lesson_id, char *out, size_t out_len)
{
    snprintf(out, out_len, "lesson-%" PRId64, lesson_id);
}

int64_t store_room_lesson(const char *room)
{
    static const char prefix[] = "lesson-";
    if (!room || strncmp(room, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *p = room + sizeof prefix - 1;
    if (*p < '1' || *p > '9') /* digits only, no sign, no leading zero, not 0 */
        return 0;
    int64_t id = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || id > (INT64_MAX - (*p - '0')) / 10)
            return 0;
        id = id * 10 + (*p - '0');
    }
    return id;
}
