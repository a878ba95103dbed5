/* What the tests of signaling/store/ share (#included by test_catalog.c, test_db.c,
 * test_store.c, test_store_lesson.c and test_store_race.c): the database a test runs on,
 * and SQL on it through a connection of its own, as an operator's shell would, to look
 * behind the code under test.
 *
 * A test binary runs on SQLite by default (a file in its temporary folder), or on
 * PostgreSQL when given "--pg DIR", DIR being a server tools/pg_tmp.sh started (ctest's
 * fixture "pg", tests/CMakeLists.txt): each database the test asks for is then a new one
 * on that server, named after the test and its process id, dropped at the end, so runs
 * never see each other's rows. */
#ifndef CR_TEST_SQL_FILE_H
#define CR_TEST_SQL_FILE_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char sql_pg_base[512]; /* the server's URI, "" : SQLite */
static char sql_pg_made[8][64];
static int sql_pg_n;

static inline void sql_no_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static inline bool sql_is_pg(const char *target) { return strncmp(target, "postgres", 8) == 0; }

/* The first column of the first row of sql on target (a SQLite path or a PostgreSQL URI),
 * or -1. */
static inline long long sql_file_int(const char *target, const char *sql)
{
    long long v = -1;
    if (sql_is_pg(target)) {
        PGconn *c = PQconnectdb(target);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
            v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        PQfinish(c);
        return v;
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(target, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

/* Runs sql (any number of statements) on target: 0 (SQLITE_OK) or an error code. */
static inline int sql_file_exec(const char *target, const char *sql)
{
    if (sql_is_pg(target)) {
        PGconn *c = PQconnectdb(target);
        PQsetNoticeProcessor(c, sql_no_notice, NULL); /* "does not exist, skipping" */
        PGresult *r = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(r);
        int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : 1;
        if (rc)
            fprintf(stderr, "sql_file_exec: %s", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        return rc;
    }
    sqlite3 *db;
    int rc = sqlite3_open(target, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* Reads "--pg DIR" from the arguments (the server's URI from DIR/uri): 0, or -1 printed. */
static inline int sql_test_args(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "--pg") != 0)
        return 0;
    char file[600];
    snprintf(file, sizeof file, "%s/uri", argv[2]);
    FILE *f = fopen(file, "r");
    if (!f || !fgets(sql_pg_base, sizeof sql_pg_base, f)) {
        fprintf(stderr, "no PostgreSQL server in %s (tools/pg_tmp.sh start %s)\n", argv[2],
                argv[2]);
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    sql_pg_base[strcspn(sql_pg_base, "\n")] = '\0';
    return 0;
}

/* A new database for the test into out: dir/name.db on SQLite, else a database created on
 * the server (its URI is the server's with the database name replaced). */
static inline void sql_test_db(const char *dir, const char *name, char *out, size_t len)
{
    if (!sql_pg_base[0]) {
        snprintf(out, len, "%s/%s.db", dir, name);
        return;
    }
    char db[64], sql[128];
    snprintf(db, sizeof db, "%s_%ld", name, (long)getpid());
    /* one statement each: CREATE DATABASE cannot run inside a multi-statement string */
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db);
    sql_file_exec(sql_pg_base, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    sql_file_exec(sql_pg_base, sql);
    if (sql_pg_n < 8)
        snprintf(sql_pg_made[sql_pg_n++], sizeof sql_pg_made[0], "%s", db);
    const char *rest = strstr(sql_pg_base, "///postgres?");
    snprintf(out, len, "postgresql:///%s?%.400s", db, rest ? rest + 12 : "");
}

/* Drops the databases sql_test_db made. */
static inline void sql_test_cleanup(void)
{
    char sql[160];
    for (int i = 0; i < sql_pg_n; i++) {
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %.63s WITH (FORCE)", sql_pg_made[i]);
        sql_file_exec(sql_pg_base, sql);
    }
    sql_pg_n = 0;
}

#endif
