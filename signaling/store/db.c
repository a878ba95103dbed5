/* Opening the database file and migrating a component's schema: see db.h. */
#include "store/db.h"

#include <stdio.h>

#include "base/log.h"

#define DB_BUSY_TIMEOUT_MS 2000
#define DB_TAG "db"

/* An integer from a query with at most one text parameter: the first column of the first
 * row, def if there is no row, or -1 on failure. */
static int int_query(sqlite3 *db, const char *sql, const char *param, int def)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (param)
            sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : rc == SQLITE_DONE ? def : -1;
    }
    sqlite3_finalize(st);
    return v;
}

static int set_row_version(sqlite3 *db, const char *component, int v)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, v);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    return rc;
}

static int set_user_version(sqlite3 *db, int v, char **msg)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    return sqlite3_exec(db, sql, NULL, NULL, msg);
}

/* One step: in a transaction, reads the version and applies the next migration. 1 if it
 * applied one, 0 if the schema is current, -1 with err. */
static int migrate_step(sqlite3 *db, const struct db_schema *sc, char *err, size_t err_len)
{
    char *msg = NULL;
    int v = -1, next = -1;
    if (sqlite3_exec(db,
                     "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS schema_versions ("
                     "component TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL)",
                     NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    int row =
        int_query(db, "SELECT version FROM schema_versions WHERE component = ?", sc->component, 0);
    int uv = sc->legacy_user_version ? int_query(db, "PRAGMA user_version", NULL, 0) : 0;
    v = row < 0 || uv < 0 ? -1 : row > uv ? row : uv;
    if (v < 0 || v > sc->n_migrations) {
        snprintf(err, err_len, "%s schema version %d is not one this server knows (0..%d)",
                 sc->component, v, sc->n_migrations);
        goto rollback;
    }
    next = v < sc->n_migrations ? v + 1 : v;
    if (next > v && sqlite3_exec(db, sc->migrations[v], NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    if (next != row && set_row_version(db, sc->component, next) != SQLITE_OK)
        goto fail;
    if (sc->legacy_user_version && next != uv && set_user_version(db, next, &msg) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    if (next > v)
        CR_INFO(DB_TAG, "%s schema migrated to version %d", sc->component, next);
    else if (next != row)
        CR_INFO(DB_TAG, "%s schema version %d taken over from PRAGMA user_version", sc->component,
                next);
    return next > v;
fail:
    snprintf(err, err_len, "%s migration %d: %s", sc->component, v + 1,
             msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
rollback:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

sqlite3 *db_open(const char *path, const struct db_schema *schema, char *err, size_t err_len)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_len, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
    /* journal_mode answers a row; sqlite3_exec ignores it */
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                     "PRAGMA foreign_keys = ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, err_len, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        goto fail;
    }
    while ((rc = migrate_step(db, schema, err, err_len)) > 0)
        ;
    if (rc < 0)
        goto fail;
    return db;
fail:
    sqlite3_close(db);
    return NULL;
}
