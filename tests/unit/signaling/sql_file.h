/* What the tests of signaling/store/ share (#included by test_catalog.c, test_db.c,
 * test_store.c and test_store_lesson.c): SQL on the database file through a connection of
 * its own, as an operator's sqlite3 shell would, to look behind the code under test. */
#ifndef CR_TEST_SQL_FILE_H
#define CR_TEST_SQL_FILE_H

#include <sqlite3.h>

/* The first column of the first row of sql on the file at path, or -1. */
static inline long long sql_file_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

/* Runs sql (any number of statements) on the file at path: SQLITE_OK or an error code. */
static inline int sql_file_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

#endif
