/* Tests signaling/store_sql*.c on a real SQLite file in a temporary directory, or on a
 * fresh PostgreSQL database with --pg DIR (sql_file.h; ctest runs both), for
 * everything but lessons (test_store_lesson.c): schools, classrooms and users created, read,
 * listed, updated and deleted; unique names; the text rules (length in characters, UTF-8,
 * control characters) refused with nothing changed; SQL meta-characters stored verbatim in
 * every text field; deletes refused while referenced (IN_USE); the audit log and its
 * filters; a database failure reported as STORE_ERR_DB (and on PostgreSQL a connection
 * killed under the store, reconnected), each counted in the figures of /metrics
 * (sqldb_stats: failed calls, connections not made, lost and made again); migrations kept
 * across reopening
 * and beside the recordings catalogue in the same file; lesson room names. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/catalog.h"
#include "store/sqldb.h"
#include "store/store.h"
#include "sql_file.h"
#include "test.h"

static char dir[] = "/tmp/test_store.XXXXXX";
static char path[600];
static bool pg; /* the run is on PostgreSQL */

static const char *const evil[] = {
    "'; DROP TABLE lessons; --",        "Robert'); DELETE FROM users; --",
    "\"quoted\" and 'single' `back`",   "100% sure_ %_\\ back\\slash",
    "x'||(SELECT sqlite_version())||'", "分数 — Grüße 😀 ?1 :name @p $x",
};
#define N_EVIL ((int)(sizeof evil / sizeof evil[0]))
#define HASH "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"

static struct store *open_store(const char *p)
{
    char err[256] = "";
    struct store *s = store_open(p, err, sizeof err);
    if (!s)
        fprintf(stderr, "store_open: %s\n", err);
    CHECK(s != NULL);
    return s;
}

/* The process's database figures for the engine of the run. */
static struct sqldb_stats figures(void)
{
    struct sqldb_stats st;
    sqldb_stats(pg ? SQLDB_PG : SQLDB_SQLITE, &st);
    return st;
}

/* An integer from SQL on the file, through a separate connection. */
static long long sql_int(const char *sql) { return sql_file_int(path, sql); }

static int sql_exec(const char *sql) { return sql_file_exec(path, sql); }

static long long rows(void)
{
    return sql_int("SELECT (SELECT count(*) FROM schools) + (SELECT count(*) FROM classrooms) + "
                   "(SELECT count(*) FROM users) + (SELECT count(*) FROM lessons) + "
                   "(SELECT count(*) FROM lesson_classrooms)");
}

static int64_t school(struct store *s, const char *name)
{
    struct st_school sc = {0};
    snprintf(sc.name, sizeof sc.name, "%s", name);
    CHECK_EQ(s->ops->school_create(s, &sc, NULL), 0);
    return sc.id;
}

static int64_t classroom(struct store *s, int64_t school_id, const char *name)
{
    struct st_classroom c = {.school_id = school_id};
    snprintf(c.name, sizeof c.name, "%s", name);
    CHECK_EQ(s->ops->classroom_create(s, &c, NULL), 0);
    return c.id;
}

static struct st_user user_of(const char *username, const char *name, enum role role,
                              int64_t classroom_id)
{
    struct st_user u = {.role = role, .classroom_id = classroom_id};
    snprintf(u.username, sizeof u.username, "%s", username);
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.pw_hash, sizeof u.pw_hash, "%s", HASH);
    return u;
}

static void test_places(struct store *s)
{
    struct st_err e;
    int64_t hope = school(s, "Hope School"), sun = school(s, "Sunrise School");
    CHECK(hope > 0 && sun > hope);
    struct st_school sc;
    CHECK_EQ(s->ops->school_get(s, hope, &sc), 0);
    CHECK_STR(sc.name, "Hope School");
    CHECK_EQ(s->ops->school_get(s, 9999, &sc), STORE_ERR_NOT_FOUND);
    struct st_school up = {.id = sun};
    snprintf(up.name, sizeof up.name, "Sunrise Primary");
    CHECK_EQ(s->ops->school_update(s, &up, &e), 0);
    up.id = 9999;
    CHECK_EQ(s->ops->school_update(s, &up, &e), STORE_ERR_NOT_FOUND);
    struct st_school *list;
    int n;
    CHECK_EQ(s->ops->school_list(s, &list, &n), 0);
    CHECK_EQ(n, 2);
    CHECK_STR(list[0].name, "Hope School"); /* by name */
    CHECK_STR(list[1].name, "Sunrise Primary");
    free(list);

    int64_t g3a = classroom(s, hope, "Grade 3 A"), g3b = classroom(s, hope, "Grade 3 B");
    int64_t other = classroom(s, sun, "Grade 3 A"); /* the same name in another school */
    CHECK(g3a > 0 && g3b > 0 && other > 0);
    struct st_classroom c = {.school_id = hope};
    snprintf(c.name, sizeof c.name, "Grade 3 A");
    long long before = rows();
    CHECK_EQ(s->ops->classroom_create(s, &c, &e), STORE_ERR_EXISTS);
    CHECK(strstr(e.msg, "Grade 3 A") && strstr(e.msg, "Hope School"));
    c.school_id = 9999;
    snprintf(c.name, sizeof c.name, "Lab");
    CHECK_EQ(s->ops->classroom_create(s, &c, &e), STORE_ERR_ARG);
    CHECK(strstr(e.msg, "no school 9999") != NULL);
    CHECK_EQ(rows(), before);
    struct st_classroom *cl;
    CHECK_EQ(s->ops->classroom_list(s, hope, &cl, &n), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(cl[0].id, g3a);
    CHECK_EQ(cl[1].id, g3b);
    free(cl);
    CHECK_EQ(s->ops->classroom_list(s, 0, &cl, &n), 0);
    CHECK_EQ(n, 3);
    free(cl);
    c = (struct st_classroom){.id = g3b, .school_id = hope};
    snprintf(c.name, sizeof c.name, "Grade 3 A"); /* renamed onto a sibling */
    CHECK_EQ(s->ops->classroom_update(s, &c, &e), STORE_ERR_EXISTS);
    snprintf(c.name, sizeof c.name, "Grade 3 B (new)");
    CHECK_EQ(s->ops->classroom_update(s, &c, &e), 0);
    CHECK_EQ(s->ops->classroom_get(s, g3b, &c), 0);
    CHECK_STR(c.name, "Grade 3 B (new)");
    c.id = 9999;
    CHECK_EQ(s->ops->classroom_update(s, &c, &e), STORE_ERR_NOT_FOUND);

    /* a school with classrooms stays; without, it goes */
    CHECK_EQ(s->ops->school_delete(s, hope, &e), STORE_ERR_IN_USE);
    CHECK(strstr(e.msg, "Hope School") && strstr(e.msg, "2 classrooms"));
    int64_t empty = school(s, "Closed School");
    CHECK_EQ(s->ops->school_delete(s, empty, &e), 0);
    CHECK_EQ(s->ops->school_delete(s, empty, &e), STORE_ERR_NOT_FOUND);
    CHECK_EQ(s->ops->classroom_delete(s, other, &e), 0);
    CHECK_EQ(s->ops->classroom_get(s, other, &c), STORE_ERR_NOT_FOUND);
    CHECK_EQ(s->ops->classroom_delete(s, other, &e), STORE_ERR_NOT_FOUND);
    CHECK_EQ(s->ops->school_delete(s, sun, &e), 0);
}

static void test_users(struct store *s)
{
    struct st_err e;
    struct st_classroom *cl;
    int n;
    CHECK_EQ(s->ops->classroom_list(s, 0, &cl, &n), 0);
    CHECK(n >= 1);
    int64_t room = n ? cl[0].id : 0;
    free(cl);

    struct st_user t = user_of("wang.li", "Wang Li", ROLE_TEACHER, 0);
    CHECK_EQ(s->ops->user_create(s, &t, &e), 0);
    CHECK(t.id > 0 && t.created_ms > 0);
    struct st_user a = user_of("admin", "Administrator", ROLE_ADMIN, 0);
    CHECK_EQ(s->ops->user_create(s, &a, &e), 0);
    struct st_user dup = user_of("Wang.Li", "Someone else", ROLE_OBSERVER, 0);
    long long before = rows();
    CHECK_EQ(s->ops->user_create(s, &dup, &e), STORE_ERR_EXISTS); /* case does not count */
    CHECK(strstr(e.msg, "Wang.Li") != NULL);

    /* refused users, nothing written */
    static const char *const bad_names[] = {"ab", "a b", "bad/name", "é-accent",
                                            "",   "x;y", "tab\tx"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        struct st_user u = user_of(bad_names[i], "Name", ROLE_OBSERVER, 0);
        CHECK_EQ(s->ops->user_create(s, &u, &e), STORE_ERR_ARG);
    }
    struct st_user u = user_of("abc", "Name", ROLE_OBSERVER, 0);
    memset(u.username, 'x', sizeof u.username); /* no NUL within the field */
    CHECK_EQ(s->ops->user_create(s, &u, &e), STORE_ERR_ARG);
    memset(u.username, 'x', sizeof u.username - 1); /* 64: the longest */
    u.username[sizeof u.username - 1] = '\0';
    CHECK_EQ(s->ops->user_create(s, &u, &e), 0);
    CHECK_EQ(s->ops->user_delete(s, u.id, &e), 0);
    u = user_of("nobody", "Name", ROLE_NONE, 0);
    CHECK_EQ(s->ops->user_create(s, &u, &e), STORE_ERR_ARG);
    u.role = ROLE_COUNT;
    CHECK_EQ(s->ops->user_create(s, &u, &e), STORE_ERR_ARG);
    u = user_of("g3a.pc", "Grade 3 A", ROLE_CLASSROOM, 0); /* a classroom needs its room */
    CHECK_EQ(s->ops->user_create(s, &u, &e), STORE_ERR_ARG);
    u.classroom_id = 9999;
    CHECK_EQ(s->ops->user_create(s, &u, &e), STORE_ERR_ARG);
    u = user_of("teacher2", "T", ROLE_TEACHER, room); /* only a classroom names one */
    CHECK_EQ(s->ops->user_create(s, &u, &e), STORE_ERR_ARG);
    u = user_of("nohash", "T", ROLE_TEACHER, 0);
    u.pw_hash[0] = '\0';
    CHECK_EQ(s->ops->user_create(s, &u, &e), STORE_ERR_ARG);
    CHECK_EQ(rows(), before);

    struct st_user pc = user_of("g3a.pc", "Grade 3 A PC", ROLE_CLASSROOM, room);
    CHECK_EQ(s->ops->user_create(s, &pc, &e), 0);
    struct st_user got;
    CHECK_EQ(s->ops->user_get(s, pc.id, &got), 0);
    CHECK_STR(got.username, "g3a.pc");
    CHECK_EQ(got.role, ROLE_CLASSROOM);
    CHECK_EQ(got.classroom_id, room);
    CHECK_STR(got.pw_hash, HASH);
    CHECK(!got.disabled);
    CHECK_EQ(s->ops->user_by_username(s, "WANG.LI", &got), 0);
    CHECK_EQ(got.id, t.id);
    CHECK_EQ(got.classroom_id, 0);
    CHECK_EQ(s->ops->user_by_username(s, "nobody", &got), STORE_ERR_NOT_FOUND);
    CHECK_EQ(s->ops->user_get(s, 9999, &got), STORE_ERR_NOT_FOUND);

    /* update: "" keeps the hash; a new one replaces it */
    struct st_user up = t;
    snprintf(up.name, sizeof up.name, "Wang Li (maths)");
    up.pw_hash[0] = '\0';
    up.disabled = true;
    CHECK_EQ(s->ops->user_update(s, &up, &e), 0);
    CHECK_EQ(s->ops->user_get(s, t.id, &got), 0);
    CHECK_STR(got.name, "Wang Li (maths)");
    CHECK_STR(got.pw_hash, HASH);
    CHECK(got.disabled);
    CHECK_EQ(got.created_ms, t.created_ms);
    snprintf(up.pw_hash, sizeof up.pw_hash, "$scrypt$new");
    up.disabled = false;
    CHECK_EQ(s->ops->user_update(s, &up, &e), 0);
    CHECK_EQ(s->ops->user_get(s, t.id, &got), 0);
    CHECK_STR(got.pw_hash, "$scrypt$new");
    snprintf(up.username, sizeof up.username, "ADMIN");
    CHECK_EQ(s->ops->user_update(s, &up, &e), STORE_ERR_EXISTS);
    up = t;
    up.id = 9999;
    CHECK_EQ(s->ops->user_update(s, &up, &e), STORE_ERR_NOT_FOUND);

    struct st_user *list;
    CHECK_EQ(s->ops->user_list(s, ROLE_TEACHER, &list, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(list[0].id, t.id);
    free(list);
    CHECK_EQ(s->ops->user_list(s, ROLE_NONE, &list, &n), 0);
    CHECK_EQ(n, 3);
    CHECK_STR(list[0].username, "admin"); /* by username */
    free(list);
    CHECK_EQ(s->ops->user_count(s, &n), 0);
    CHECK_EQ(n, 3);

    /* a classroom bound to an account cannot go; the account can */
    CHECK_EQ(s->ops->classroom_delete(s, room, &e), STORE_ERR_IN_USE);
    CHECK(strstr(e.msg, "g3a.pc") != NULL);
    CHECK_EQ(s->ops->user_delete(s, pc.id, &e), 0);
    CHECK_EQ(s->ops->user_delete(s, pc.id, &e), STORE_ERR_NOT_FOUND);
}

/* Lengths in characters, UTF-8 and control characters: refused, and nothing changes. */
static void test_text_rules(struct store *s)
{
    struct st_err e;
    struct st_school sc = {0};
    char *p = sc.name;
    for (int i = 0; i < 200; i++, p += 3)
        memcpy(p, "分", 3); /* 200 characters, 600 bytes */
    CHECK_EQ(s->ops->school_create(s, &sc, &e), 0);
    struct st_school got;
    CHECK_EQ(s->ops->school_get(s, sc.id, &got), 0);
    CHECK_STR(got.name, sc.name);
    CHECK_EQ(s->ops->school_delete(s, sc.id, &e), 0);

    long long before = rows();
    memcpy(p, "分", 4); /* 201 */
    CHECK_EQ(s->ops->school_create(s, &sc, &e), STORE_ERR_ARG);
    CHECK(strstr(e.msg, "200") != NULL);
    memset(sc.name, 'a', sizeof sc.name); /* no NUL at all */
    CHECK_EQ(s->ops->school_create(s, &sc, &e), STORE_ERR_ARG);
    static const char *const bad[] = {
        "",         "line\nbreak",  "tab\there",       "del\x7f",      "c1 \xc2\x85 next",
        "\xff\xfe", "over\xc0\xaf", "sur\xed\xa0\x80", "cut \xe5\x88", "big \xf4\x90\x80\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct st_school b = {0};
        snprintf(b.name, sizeof b.name, "%s", bad[i]);
        CHECK_EQ(s->ops->school_create(s, &b, &e), STORE_ERR_ARG);
        CHECK(e.msg[0] != '\0');
        struct st_user u = user_of("fine.name", bad[i], ROLE_OBSERVER, 0);
        CHECK_EQ(s->ops->user_create(s, &u, &e), STORE_ERR_ARG);
    }
    CHECK_EQ(rows(), before);
    /* an update refused leaves the row as it was */
    struct st_school *list;
    int n;
    CHECK_EQ(s->ops->school_list(s, &list, &n), 0);
    if (n > 0) {
        struct st_school b = list[0];
        snprintf(b.name, sizeof b.name, "bad\x01");
        CHECK_EQ(s->ops->school_update(s, &b, &e), STORE_ERR_ARG);
        CHECK_EQ(s->ops->school_get(s, b.id, &got), 0);
        CHECK_STR(got.name, list[0].name);
    }
    free(list);
}

static void test_meta_characters(struct store *s)
{
    struct st_err e;
    for (int i = 0; i < N_EVIL; i++) {
        int64_t sid = school(s, evil[i]);
        int64_t cid = classroom(s, sid, evil[i]);
        struct st_school sc;
        struct st_classroom c;
        CHECK_EQ(s->ops->school_get(s, sid, &sc), 0);
        CHECK_STR(sc.name, evil[i]);
        CHECK_EQ(s->ops->classroom_get(s, cid, &c), 0);
        CHECK_STR(c.name, evil[i]);
        char username[32];
        snprintf(username, sizeof username, "evil_%d", i);
        struct st_user u = user_of(username, evil[i], ROLE_CLASSROOM, cid), got;
        CHECK_EQ(s->ops->user_create(s, &u, &e), 0);
        CHECK_EQ(s->ops->user_get(s, u.id, &got), 0);
        CHECK_STR(got.name, evil[i]);
        /* as a lookup value: nothing found, nothing broken */
        CHECK_EQ(s->ops->user_by_username(s, evil[i], &got), STORE_ERR_NOT_FOUND);
        struct st_audit a = {.at_ms = 5000 + i};
        snprintf(a.actor, sizeof a.actor, "%.60s", evil[i]);
        snprintf(a.role, sizeof a.role, "observer");
        snprintf(a.action, sizeof a.action, "join");
        snprintf(a.room, sizeof a.room, "%s", evil[i]);
        snprintf(a.detail, sizeof a.detail, "%s", evil[i]);
        CHECK_EQ(s->ops->audit_add(s, &a), 0);
        struct st_audit_filter f = {.room = a.room};
        struct st_audit *out;
        int n;
        CHECK_EQ(s->ops->audit_list(s, &f, &out, &n), 0);
        CHECK_EQ(n, 1);
        if (n == 1) {
            CHECK_STR(out[0].room, evil[i]);
            CHECK_STR(out[0].detail, evil[i]);
            CHECK_STR(out[0].actor, a.actor);
        }
        free(out);
    }
    CHECK(sql_int("SELECT count(*) FROM lessons") >= 0); /* the table is still there */
    CHECK_EQ(sql_int("SELECT count(*) FROM users WHERE username LIKE 'evil%'"), N_EVIL);
}

static void test_audit(struct store *s)
{
    for (int i = 0; i < 120; i++) {
        struct st_audit a = {.at_ms = 100000 + i * 1000};
        snprintf(a.actor, sizeof a.actor, i % 2 ? "u1" : "link:3");
        snprintf(a.role, sizeof a.role, i % 2 ? "teacher" : "classroom");
        snprintf(a.action, sizeof a.action, i % 3 ? "join" : "publish");
        snprintf(a.room, sizeof a.room, i < 60 ? "lesson-1" : "");
        snprintf(a.detail, sizeof a.detail, "entry %d", i);
        CHECK_EQ(s->ops->audit_add(s, &a), 0);
    }
    struct st_audit *out;
    int n;
    CHECK_EQ(s->ops->audit_list(s, NULL, &out, &n), 0);
    CHECK_EQ(n, 100);                      /* the default limit */
    CHECK_STR(out[0].detail, "entry 119"); /* newest first */
    CHECK(out[0].at_ms > out[1].at_ms);
    free(out);
    struct st_audit_filter f = {.actor = "u1", .action = "join", .room = "lesson-1"};
    CHECK_EQ(s->ops->audit_list(s, &f, &out, &n), 0);
    int want = 0;
    for (int i = 0; i < 60; i++)
        want += (i % 2) && (i % 3);
    CHECK_EQ(n, want);
    for (int i = 0; i < n; i++)
        CHECK(strcmp(out[i].actor, "u1") == 0 && strcmp(out[i].action, "join") == 0);
    free(out);
    f = (struct st_audit_filter){.from_ms = 110000, .to_ms = 115000, .limit = 3};
    CHECK_EQ(s->ops->audit_list(s, &f, &out, &n), 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(out[0].at_ms, 114000); /* to is exclusive */
    CHECK_EQ(out[2].at_ms, 112000);
    free(out);
    f = (struct st_audit_filter){.limit = 5000};
    CHECK_EQ(s->ops->audit_list(s, &f, &out, &n), 0);
    CHECK(n > 120 && n <= 1000);
    free(out);

    /* odd bytes are kept as '?', never refused; an action is required */
    struct st_audit a = {.at_ms = 1};
    snprintf(a.actor, sizeof a.actor, "bad\xff\x01user");
    snprintf(a.action, sizeof a.action, "login_failed");
    CHECK_EQ(s->ops->audit_add(s, &a), 0);
    f = (struct st_audit_filter){.action = "login_failed"};
    CHECK_EQ(s->ops->audit_list(s, &f, &out, &n), 0);
    CHECK_EQ(n, 1);
    if (n == 1)
        CHECK_STR(out[0].actor, "bad??user");
    free(out);
    a.action[0] = '\0';
    CHECK_EQ(s->ops->audit_add(s, &a), STORE_ERR_ARG);
}

/* The database failing under the store: an error code, a log line, no crash, nothing half
 * done. */
static void test_db_failure(struct store *s)
{
    CHECK_EQ(sql_exec(pg ? "CREATE FUNCTION on_fire() RETURNS trigger LANGUAGE plpgsql AS "
                           "$$BEGIN RAISE EXCEPTION 'disk on fire'; END$$;"
                           "CREATE TRIGGER no_schools BEFORE INSERT ON schools "
                           "FOR EACH ROW EXECUTE FUNCTION on_fire()"
                         : "CREATE TRIGGER no_schools BEFORE INSERT ON schools "
                           "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"),
             SQLITE_OK);
    struct st_school sc = {0};
    snprintf(sc.name, sizeof sc.name, "Doomed");
    struct st_err e;
    long long before = rows();
    struct sqldb_stats was = figures();
    CHECK_EQ(s->ops->school_create(s, &sc, &e), STORE_ERR_DB);
    CHECK_EQ(figures().query_failures, was.query_failures + 1);
    CHECK(e.msg[0] != '\0');
    CHECK_EQ(rows(), before);
    CHECK_EQ(sql_exec(pg ? "DROP TRIGGER no_schools ON schools" : "DROP TRIGGER no_schools"),
             SQLITE_OK);
    CHECK_EQ(sql_exec("ALTER TABLE audit RENAME TO audit_gone"), SQLITE_OK);
    struct st_audit a = {.at_ms = 1};
    snprintf(a.action, sizeof a.action, "join");
    CHECK_EQ(s->ops->audit_add(s, &a), STORE_ERR_DB);
    struct st_audit *out = NULL;
    int n = 7;
    CHECK_EQ(s->ops->audit_list(s, NULL, &out, &n), STORE_ERR_DB);
    CHECK(out == NULL && n == 0);
    CHECK_EQ(figures().query_failures, was.query_failures + 3);
    CHECK_EQ(sql_exec("ALTER TABLE audit_gone RENAME TO audit"), SQLITE_OK);
    CHECK_EQ(s->ops->audit_add(s, &a), 0);
    /* the connection is still usable for writes: no transaction was left open */
    CHECK_EQ(s->ops->school_create(s, &sc, &e), 0);
    CHECK_EQ(s->ops->school_delete(s, sc.id, &e), 0);
    struct sqldb_stats now = figures();
    CHECK_EQ(now.query_failures, was.query_failures + 3);
    CHECK_EQ(now.connect_failures, was.connect_failures);
    CHECK_EQ(now.reconnects, was.reconnects);
    CHECK(now.open > 0 && now.down == 0); /* classrelay_store_up: 1 */
}

/* PostgreSQL's connection killed under the store (a restart, a failover): at most the next
 * call fails with STORE_ERR_DB, logged, and counted with the connection down; the one after
 * reconnects, counted. */
static void test_reconnect(struct store *s)
{
    struct sqldb_stats was = figures();
    CHECK_EQ(sql_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                      "current_database() AND pid <> pg_backend_pid()"),
             0);
    int n = -1, rc = s->ops->user_count(s, &n);
    CHECK(rc == 0 || rc == STORE_ERR_DB);
    bool failed = rc == STORE_ERR_DB;
    struct sqldb_stats cut = figures();
    CHECK_EQ(cut.query_failures, was.query_failures + failed);
    CHECK_EQ(cut.down, was.down + failed); /* classrelay_store_up: 0 */
    CHECK_EQ(cut.reconnects, was.reconnects);
    CHECK_EQ(s->ops->user_count(s, &n), 0);
    CHECK(n > 0);
    struct sqldb_stats back = figures();
    CHECK_EQ(back.reconnects, was.reconnects + failed);
    CHECK_EQ(back.down, 0);
    CHECK_EQ(back.connect_failures, was.connect_failures);
    struct st_school sc = {.name = "After reconnect"};
    CHECK_EQ(s->ops->school_create(s, &sc, NULL), 0);
    CHECK_EQ(s->ops->school_delete(s, sc.id, NULL), 0);
}

/* Reopening keeps everything and migrates nothing twice; the catalogue shares the file. */
static void test_reopen_and_catalog(void)
{
    long long before = rows();
    CHECK_EQ(sql_int("SELECT version FROM schema_versions WHERE component = 'schedule'"), 2);
    char err[256];
    struct catalog *cat = catalog_open(path, err, sizeof err);
    CHECK(cat != NULL);
    struct store *s = open_store(path);
    if (!cat || !s) {
        catalog_close(cat);
        store_close(s);
        return;
    }
    CHECK_EQ(rows(), before);
    /* one row per component (db.h); user_version mirrors the catalogue's for old servers */
    CHECK_EQ(sql_int("SELECT version FROM schema_versions WHERE component = 'catalog'"), 2);
    if (!pg)
        CHECK_EQ(sql_int("PRAGMA user_version"), 2);
    CHECK_EQ(sql_int("SELECT count(*) FROM schema_versions"), 2);
    struct cat_recording rec = {
        "20261208-090000-lesson-1-abcd", "lesson-1", "Wang Li", "Fractions", 1000, NULL};
    CHECK_EQ(catalog_rec_create(cat, &rec), 0);
    int64_t sid = school(s, "After reopen");
    CHECK(sid > 0);
    json_t *r = catalog_rec_get(cat, rec.id);
    CHECK(r != NULL);
    json_decref(r);
    catalog_close(cat);
    store_close(s);
    s = open_store(path);
    store_close(s);
    CHECK_EQ(sql_int("SELECT version FROM schema_versions WHERE component = 'schedule'"), 2);
    CHECK_EQ(sql_int("SELECT count(*) FROM recordings"), 1);

    /* the other order, on a fresh file: the catalogue first, then the store */
    char path2[700];
    sql_test_db(dir, "second", path2, sizeof path2);
    cat = catalog_open(path2, err, sizeof err);
    CHECK(cat != NULL);
    s = open_store(path2);
    CHECK(s != NULL);
    if (s)
        CHECK(school(s, "Second") > 0);
    CHECK_EQ(catalog_rec_create(cat, &rec), 0);
    store_close(s);
    catalog_close(cat);

    /* a schema from a newer server is refused, not mangled */
    CHECK_EQ(sql_exec("UPDATE schema_versions SET version = 99 WHERE component = 'schedule'"),
             SQLITE_OK);
    err[0] = '\0';
    CHECK(store_open(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "99") != NULL);
    CHECK_EQ(sql_exec("UPDATE schema_versions SET version = 1 WHERE component = 'schedule'"),
             SQLITE_OK);
    struct sqldb_stats was;
    sqldb_stats(SQLDB_SQLITE, &was);
    CHECK(store_open("/nonexistent-dir/x/classrelay.db", err, sizeof err) == NULL);
    struct sqldb_stats now;
    sqldb_stats(SQLDB_SQLITE, &now);
    CHECK_EQ(now.connect_failures, was.connect_failures + 1);
    CHECK_EQ(now.open, was.open);
    store_close(NULL);
}

static void test_rooms(void)
{
    char room[64];
    store_lesson_room(7, room, sizeof room);
    CHECK_STR(room, "lesson-7");
    store_lesson_room(INT64_MAX, room, sizeof room);
    CHECK_EQ(store_room_lesson(room), INT64_MAX);
    CHECK_EQ(store_room_lesson("lesson-7"), 7);
    CHECK_EQ(store_room_lesson("lesson-1234567890"), 1234567890);
    static const char *const bad[] = {
        "lesson-0",
        "lesson-07",
        "lesson-",
        "lesson--7",
        "lesson-+7",
        "lesson-7x",
        "lesson-7 ",
        " lesson-7",
        "Lesson-7",
        "lesson7",
        "demo",
        "",
        "lesson-0x7",
        "lesson-9223372036854775808",
        "lesson-99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(store_room_lesson(bad[i]), 0);
    CHECK_EQ(store_room_lesson(NULL), 0);
}

int main(int argc, char **argv)
{
    if (!mkdtemp(dir) || sql_test_args(argc, argv) != 0) {
        perror("mkdtemp");
        return 1;
    }
    sql_test_db(dir, "test_store", path, sizeof path);
    pg = sql_is_pg(path);
    struct store *s = open_store(path);
    if (!s)
        return test_report();
    test_places(s);
    test_users(s);
    test_text_rules(s);
    test_meta_characters(s);
    test_audit(s);
    test_db_failure(s);
    if (pg)
        test_reconnect(s);
    store_close(s);
    test_reopen_and_catalog();
    test_rooms();
    sql_test_cleanup();
    test_remove_tree(dir);
    return test_report();
}
