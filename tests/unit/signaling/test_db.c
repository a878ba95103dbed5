/* Tests signaling/store/db.c: a database file made by a server before issue 9 (the
 * catalogue versioned by PRAGMA user_version, the schedule by a row of schema_versions) is
 * taken over with every row kept and no migration run again, in either opening order and
 * with only one of the two components present; db_open's own rules on a toy component:
 * migrations applied in order, a failing one rolled back whole, a version from a newer
 * server refused, user_version left alone by a component that does not claim it.
 *
 * The old SQL below is a fixture, copied from catalog.c and store_sqlite.c (now store_sql.c) as
 * they were before db.c: never edit it to follow the current schema. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sql_file.h"
#include "store/catalog.h"
#include "store/db.h"
#include "store/store.h"
#include "test.h"

static char dir[] = "/tmp/test_db.XXXXXX";

/* ---- fixtures: the schema as servers before issue 9 made it ---- */

/* catalog.c's migration 1, applied with PRAGMA user_version = 1 in the same transaction */
static const char old_catalog_sql[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE recordings ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  room TEXT NOT NULL,"
    "  teacher TEXT NOT NULL DEFAULT '',"
    "  title TEXT NOT NULL DEFAULT '',"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER,"
    "  duration_ms INTEGER,"
    "  state TEXT NOT NULL DEFAULT 'recording',"
    "  progress REAL NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  size_bytes INTEGER NOT NULL DEFAULT 0,"
    "  tracks_json TEXT,"
    "  vod_json TEXT);"
    "CREATE INDEX recordings_room ON recordings(room, started_ms);"
    "CREATE INDEX recordings_teacher ON recordings(teacher, started_ms);"
    "CREATE INDEX recordings_started ON recordings(started_ms);"
    "CREATE TABLE notes ("
    "  id INTEGER PRIMARY KEY,"
    "  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  author TEXT NOT NULL DEFAULT '',"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX notes_recording ON notes(recording_id, at_ms);"
    "PRAGMA user_version = 1;"
    "COMMIT;";

/* store_sqlite.c's table of versions and its migration 1, with its version row */
static const char old_schedule_sql[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS schema_versions ("
    "component TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL);"
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
    "  last_end_ms INTEGER NOT NULL,"
    "  record INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    "CREATE INDEX lessons_teacher ON lessons(teacher_id, start_ms);"
    "CREATE INDEX lessons_start ON lessons(start_ms);"
    "CREATE INDEX lessons_last_end ON lessons(last_end_ms);"
    "CREATE TABLE lesson_classrooms ("
    "  lesson_id INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,"
    "  classroom_id INTEGER NOT NULL REFERENCES classrooms(id),"
    "  pos INTEGER NOT NULL,"
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
    "CREATE INDEX audit_room ON audit(room, at_ms);"
    "INSERT INTO schema_versions (component, version) VALUES ('schedule', 1);"
    "COMMIT;";

static const char old_catalog_rows[] =
    "INSERT INTO recordings (id, room, teacher, title, started_ms, ended_ms, state) VALUES"
    " ('rec-1', 'lesson-1', 'Wang Li', 'Fractions', 1000, 61000, 'ready'),"
    " ('rec-2', 'lesson-2', 'Zhao Min', 'Poems', 2000, NULL, 'recording');"
    "INSERT INTO notes (recording_id, kind, at_ms, text, author, created_ms) VALUES"
    " ('rec-1', 'chapter', 5000, 'Halves', 'Wang Li', 70000),"
    " ('rec-1', 'comment', 9000, 'good question', 'researcher', 71000);";

static const char old_schedule_rows[] =
    "INSERT INTO schools (id, name) VALUES (1, 'Hope School');"
    "INSERT INTO classrooms (id, school_id, name) VALUES (1, 1, 'Grade 3 A'), (2, 1, 'Grade 4');"
    "INSERT INTO users (id, username, name, role, classroom_id, pw_hash, created_ms) VALUES"
    " (1, 'admin', 'Administrator', 'admin', NULL, 'x', 1),"
    " (2, 'wangli', 'Wang Li', 'teacher', NULL, 'x', 2),"
    " (3, 'g3a', 'Grade 3 A', 'classroom', 1, 'x', 3);"
    "INSERT INTO lessons (id, title, teacher_id, start_ms, end_ms, last_end_ms, created_ms,"
    " updated_ms) VALUES (1, 'Fractions', 2, 1000, 61000, 61000, 5, 5);"
    "INSERT INTO lesson_classrooms (lesson_id, classroom_id, pos) VALUES (1, 1, 0), (1, 2, 1);"
    "INSERT INTO audit (at_ms, actor, role, action) VALUES (7, 'admin', 'admin', 'login');";

/* ---- helpers ---- */

static void file_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* The version rows and user_version, as "catalog=2 schedule=2 user_version=2" (a missing
 * row reads -1). */
static void versions(const char *path, char *out, size_t len)
{
    snprintf(out, len, "catalog=%lld schedule=%lld user_version=%lld",
             sql_file_int(path, "SELECT version FROM schema_versions WHERE component = 'catalog'"),
             sql_file_int(path, "SELECT version FROM schema_versions WHERE component = 'schedule'"),
             sql_file_int(path, "PRAGMA user_version"));
}

/* The old catalogue's rows, read through catalog.c. */
static void check_catalog_rows(struct catalog *cat, const char *path)
{
    CHECK_EQ(sql_file_int(path, "SELECT count(*) FROM recordings"), 2);
    CHECK_EQ(sql_file_int(path, "SELECT count(*) FROM notes"), 2);
    json_t *r = catalog_rec_get(cat, "rec-1");
    CHECK(r != NULL);
    CHECK_STR(json_string_value(json_object_get(r, "title")), "Fractions");
    CHECK_EQ(json_integer_value(json_object_get(r, "duration_ms")), 60000);
    CHECK_EQ(json_array_size(json_object_get(r, "chapters")), 1);
    json_decref(r);
    json_t *notes = catalog_note_list(cat, "rec-1");
    CHECK_EQ(json_array_size(json_object_get(notes, "notes")), 2);
    json_decref(notes);
    json_t *open = catalog_rec_unfinished(cat, ""); /* a single node's: node_url '' */
    CHECK_EQ(json_array_size(open), 1);
    CHECK_STR(json_string_value(json_array_get(open, 0)), "rec-2");
    json_decref(open);
}

/* The old schedule's rows, read through store_sqlite.c. */
static void check_schedule_rows(struct store *s, const char *path)
{
    CHECK_EQ(sql_file_int(path,
                          "SELECT (SELECT count(*) FROM schools) + (SELECT count(*) FROM "
                          "classrooms) + (SELECT count(*) FROM users) + (SELECT count(*) FROM "
                          "lessons) + (SELECT count(*) FROM lesson_classrooms) + (SELECT "
                          "count(*) FROM audit)"),
             1 + 2 + 3 + 1 + 2 + 1);
    struct st_user u;
    CHECK_EQ(s->ops->user_by_username(s, "wangli", &u), 0);
    CHECK_STR(u.name, "Wang Li");
    CHECK_EQ(u.role, ROLE_TEACHER);
    struct st_lesson l;
    CHECK_EQ(s->ops->lesson_get(s, 1, &l), 0);
    CHECK_STR(l.title, "Fractions");
    CHECK_EQ(l.n_classrooms, 2);
    int n = 0;
    CHECK_EQ(s->ops->user_count(s, &n), 0);
    CHECK_EQ(n, 3);
}

/* ---- a file from before issue 9 ---- */

/* Both components old; opened catalogue first if catalog_first, else the store first; then
 * opened again, which would fail if a migration ran twice (CREATE TABLE of a table that
 * exists). */
static void test_old_file(const char *name, bool catalog_first)
{
    char path[300], v[128];
    file_path(path, sizeof path, name);
    CHECK_EQ(sql_file_exec(path, old_catalog_sql), SQLITE_OK);
    CHECK_EQ(sql_file_exec(path, old_schedule_sql), SQLITE_OK);
    CHECK_EQ(sql_file_exec(path, old_catalog_rows), SQLITE_OK);
    CHECK_EQ(sql_file_exec(path, old_schedule_rows), SQLITE_OK);
    versions(path, v, sizeof v);
    CHECK_STR(v, "catalog=-1 schedule=1 user_version=1");

    for (int round = 0; round < 2; round++) {
        char err[256] = "";
        struct catalog *cat = NULL;
        struct store *s = NULL;
        if (catalog_first)
            cat = catalog_open(path, err, sizeof err);
        s = store_open(path, err, sizeof err);
        if (!catalog_first)
            cat = catalog_open(path, err, sizeof err);
        if (!cat || !s)
            fprintf(stderr, "%s round %d: %s\n", name, round, err);
        CHECK(cat != NULL && s != NULL);
        if (cat && s) {
            check_catalog_rows(cat, path);
            check_schedule_rows(s, path);
        }
        catalog_close(cat);
        store_close(s);
        versions(path, v, sizeof v);
        CHECK_STR(v, "catalog=2 schedule=2 user_version=2");
        CHECK_EQ(sql_file_int(path, "SELECT count(*) FROM schema_versions"), 2);
    }
}

/* Only the catalogue (the schedule store never opened), and only the schedule (the
 * catalogue failed to open): the missing one is made, the present one kept. */
static void test_old_file_one_component(void)
{
    char path[300], v[128], err[256] = "";
    file_path(path, sizeof path, "catalog-only.db");
    CHECK_EQ(sql_file_exec(path, old_catalog_sql), SQLITE_OK);
    CHECK_EQ(sql_file_exec(path, old_catalog_rows), SQLITE_OK);
    struct catalog *cat = catalog_open(path, err, sizeof err);
    struct store *s = store_open(path, err, sizeof err);
    CHECK(cat != NULL && s != NULL);
    if (cat)
        check_catalog_rows(cat, path);
    catalog_close(cat);
    store_close(s);
    versions(path, v, sizeof v);
    CHECK_STR(v, "catalog=2 schedule=2 user_version=2");

    file_path(path, sizeof path, "schedule-only.db");
    CHECK_EQ(sql_file_exec(path, old_schedule_sql), SQLITE_OK);
    CHECK_EQ(sql_file_exec(path, old_schedule_rows), SQLITE_OK);
    s = store_open(path, err, sizeof err);
    CHECK(s != NULL);
    if (s)
        check_schedule_rows(s, path);
    store_close(s);
    versions(path, v, sizeof v);
    CHECK_STR(v, "catalog=-1 schedule=2 user_version=0"); /* the store leaves it alone */
    cat = catalog_open(path, err, sizeof err);
    CHECK(cat != NULL);
    catalog_close(cat);
    versions(path, v, sizeof v);
    CHECK_STR(v, "catalog=2 schedule=2 user_version=2");
    CHECK_EQ(sql_file_int(path, "SELECT count(*) FROM recordings"), 0);
}

/* ---- db_open's rules, on a toy component ---- */

static const char *const toy_migrations[] = {
    "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);",
    "CREATE TABLE b (y INTEGER); INSERT INTO b SELECT x + 1 FROM a;", /* needs a */
    "CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);",    /* fails halfway */
};

static void test_toy(void)
{
    char path[300], err[256] = "";
    file_path(path, sizeof path, "toy.db");
    struct db_schema toy = {.component = "toy", .migrations = toy_migrations, .n_migrations = 2};
    struct sqldb *db = db_open(path, &toy, err, sizeof err);
    CHECK(db != NULL);
    sqldb_close(db);
    CHECK_EQ(sql_file_int(path, "SELECT version FROM schema_versions WHERE component = 'toy'"), 2);
    CHECK_EQ(sql_file_int(path, "SELECT y FROM b"), 2); /* in order */
    CHECK_EQ(sql_file_int(path, "PRAGMA user_version"), 0);
    db = db_open(path, &toy, err, sizeof err); /* again: nothing to do */
    CHECK(db != NULL);
    struct sqlq *st;
    if (db && (st = sqlq_prep(db, "PRAGMA journal_mode"))) {
        CHECK(sqlq_step(st) == SQLQ_ROW);
        CHECK_STR(sqlq_text(st, 0), "wal");
        sqlq_free(st);
    }
    if (db)
        CHECK_EQ(sqldb_exec(db, "INSERT INTO b VALUES (1)"), 0);
    sqldb_close(db);

    /* a failing migration leaves neither its table nor its version */
    toy.n_migrations = 3;
    CHECK(db_open(path, &toy, err, sizeof err) == NULL);
    CHECK(strstr(err, "toy migration 3") != NULL && strstr(err, "nowhere") != NULL);
    CHECK_EQ(sql_file_int(path, "SELECT version FROM schema_versions WHERE component = 'toy'"), 2);
    CHECK_EQ(sql_file_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'c'"), 0);

    /* a version from a newer server is refused and left as it is */
    toy.n_migrations = 2;
    CHECK_EQ(sql_file_exec(path, "UPDATE schema_versions SET version = 9 WHERE component = 'toy'"),
             SQLITE_OK);
    CHECK(db_open(path, &toy, err, sizeof err) == NULL);
    CHECK(strstr(err, "toy schema version 9") != NULL);
    CHECK_EQ(sql_file_int(path, "SELECT version FROM schema_versions WHERE component = 'toy'"), 9);

    /* a component that claims user_version counts it; one that does not, ignores it */
    CHECK_EQ(sql_file_exec(path, "UPDATE schema_versions SET version = 2 WHERE component = 'toy';"
                                 "PRAGMA user_version = 7"),
             SQLITE_OK);
    db = db_open(path, &toy, err, sizeof err);
    CHECK(db != NULL);
    sqldb_close(db);
    toy.legacy_user_version = true;
    CHECK(db_open(path, &toy, err, sizeof err) == NULL);
    CHECK(strstr(err, "toy schema version 7") != NULL);

    /* not a database; no such folder */
    char junk[300];
    file_path(junk, sizeof junk, "junk.db");
    FILE *f = fopen(junk, "wb");
    fputs("this is not an SQLite file, not at all, it is long enough to have a header", f);
    fclose(f);
    CHECK(db_open(junk, &toy, err, sizeof err) == NULL);
    CHECK(db_open("/nonexistent-dir/x/classrelay.db", &toy, err, sizeof err) == NULL);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_old_file("old-catalog-first.db", true);
    test_old_file("old-store-first.db", false);
    test_old_file_one_component();
    test_toy();
    test_remove_tree(dir);
    return test_report();
}
