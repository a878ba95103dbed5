/* The SQLite schedule store (store.h): opening the database, its migrations, the table of
 * operations, and the helpers the entity files share (store_sqlite_priv.h lists them).
 *
 * The file is DATA/classrelay.db, shared with the recordings catalogue (catalog.c), which
 * versions its own tables with PRAGMA user_version. This store leaves user_version alone
 * and keeps its version in the row 'schedule' of the table schema_versions; its migrations
 * are an append-only list applied in order at open, each in one BEGIN IMMEDIATE
 * transaction that re-reads the version first, so two processes opening a fresh file at
 * once migrate it once. Its own connection: WAL, a 2 s busy timeout (the catalogue's
 * connection or an operator's sqlite3 shell may hold the lock a moment), foreign keys on.
 *
 * Text rules: valid UTF-8 (RFC 3629 §4: no overlongs, no surrogates, at most U+10FFFF)
 * without control characters (C0, DEL, C1), 1..200 code points; text.c checks them. */
#include "store/store_sqlite_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/log.h"
#include "store/text.h"

#define SQ_BUSY_TIMEOUT_MS 2000
#define SQ_COMPONENT "schedule"

/* Schema migrations of the component 'schedule', in order; entry i takes its version from
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
};
#define SQ_SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* The component's version inside the open transaction: 0 if none, or -1. */
static int schema_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "SELECT version FROM schema_versions WHERE component = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, SQ_COMPONENT, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : rc == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return v;
}

static int set_version(sqlite3 *db, int v)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, SQ_COMPONENT, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, v);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    return rc;
}

/* One step: in a transaction, reads the version and applies the next migration. 1 if it
 * applied one, 0 if the schema is current, -1 with err. */
static int migrate_step(sqlite3 *db, char *err, size_t err_len)
{
    char *msg = NULL;
    int v = -1, applied = 0;
    if (sqlite3_exec(db,
                     "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS schema_versions ("
                     "component TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL)",
                     NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    v = schema_version(db);
    if (v < 0 || v > SQ_SCHEMA_VERSION) {
        snprintf(err, err_len, "schedule schema version %d is not one this server knows (0..%d)", v,
                 SQ_SCHEMA_VERSION);
        goto rollback;
    }
    if (v < SQ_SCHEMA_VERSION) {
        if (sqlite3_exec(db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            set_version(db, v + 1) != SQLITE_OK)
            goto fail;
        applied = 1;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    if (applied)
        CR_INFO(SQ_TAG, "schedule schema migrated to version %d", v + 1);
    return applied;
fail:
    snprintf(err, err_len, "schedule migration %d: %s", v + 1, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
rollback:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

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

struct store *store_open_sqlite(const char *path, char *err, size_t err_len)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_len, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, SQ_BUSY_TIMEOUT_MS);
    /* journal_mode answers a row; sqlite3_exec ignores it */
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                     "PRAGMA foreign_keys = ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, err_len, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        goto fail;
    }
    while ((rc = migrate_step(db, err, err_len)) > 0)
        ;
    if (rc < 0)
        goto fail;
    struct sq_store *s = CR_NEW(struct sq_store);
    s->base.ops = &sqlite_ops;
    s->db = db;
    return &s->base;
fail:
    sqlite3_close(db);
    return NULL;
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
