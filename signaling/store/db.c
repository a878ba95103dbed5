/* Opening the database and migrating a component's schema: see db.h. */
#include "store/db.h"

#include <stdio.h>

#include "base/log.h"

#define DB_TAG "db"

/* An integer from a query with at most one text parameter: the first column of the first
 * row, def if there is no row, or -1 on failure. */
static int int_query(struct sqldb *db, const char *sql, const char *param, int def)
{
    struct sqlq *q = sqlq_prep(db, sql);
    if (!q)
        return -1;
    sqlq_bind_text(q, 1, param);
    int rc = sqlq_step(q);
    int v = rc == SQLQ_ROW ? (int)sqlq_i64(q, 0) : rc == SQLQ_DONE ? def : -1;
    sqlq_free(q);
    return v;
}

static int set_row_version(struct sqldb *db, const char *component, int v)
{
    struct sqlq *q =
        sqlq_prep(db, "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                      "ON CONFLICT (component) DO UPDATE SET version = excluded.version");
    if (!q)
        return -1;
    sqlq_bind_text(q, 1, component);
    sqlq_bind_i64(q, 2, v);
    int rc = sqlq_step(q) == SQLQ_DONE ? 0 : -1;
    sqlq_free(q);
    return rc;
}

static int set_user_version(struct sqldb *db, int v)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    return sqldb_exec(db, sql);
}

/* One step: in a write transaction, reads the version and applies the next migration. 1 if
 * it applied one, 0 if the schema is current, -1 with err. */
static int migrate_step(struct sqldb *db, const struct db_schema *sc, char *err, size_t err_len)
{
    bool pg = sqldb_engine(db) == SQLDB_PG, legacy = sc->legacy_user_version && !pg;
    const char *const *list = pg ? sc->pg_migrations : sc->migrations;
    int v = -1, next = -1;
    if (sqldb_begin(db) != 0 ||
        sqldb_exec(db, "CREATE TABLE IF NOT EXISTS schema_versions ("
                       "component TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL)") != 0)
        goto fail;
    int row =
        int_query(db, "SELECT version FROM schema_versions WHERE component = ?", sc->component, 0);
    int uv = legacy ? int_query(db, "PRAGMA user_version", NULL, 0) : 0;
    v = row < 0 || uv < 0 ? -1 : row > uv ? row : uv;
    if (v < 0 || v > sc->n_migrations) {
        snprintf(err, err_len, "%s schema version %d is not one this server knows (0..%d)",
                 sc->component, v, sc->n_migrations);
        goto rollback;
    }
    next = v < sc->n_migrations ? v + 1 : v;
    if (next > v && sqldb_exec(db, list[v]) != 0)
        goto fail;
    if (next != row && set_row_version(db, sc->component, next) != 0)
        goto fail;
    if (legacy && next != uv && set_user_version(db, next) != 0)
        goto fail;
    if (sqldb_commit(db) != 0)
        goto fail;
    if (next > v)
        CR_INFO(DB_TAG, "%s schema migrated to version %d", sc->component, next);
    else if (next != row)
        CR_INFO(DB_TAG, "%s schema version %d taken over from PRAGMA user_version", sc->component,
                next);
    return next > v;
fail:
    snprintf(err, err_len, "%s migration %d: %s", sc->component, v + 1, sqldb_errmsg(db));
rollback:
    sqldb_rollback(db);
    return -1;
}

struct sqldb *db_open(const char *target, const struct db_schema *schema, char *err, size_t err_len)
{
    if (sqldb_is_pg_uri(target) && !schema->pg_migrations) {
        snprintf(err, err_len, "%s has no PostgreSQL schema", schema->component);
        return NULL;
    }
    struct sqldb *db = sqldb_connect(target, err, err_len);
    if (!db)
        return NULL;
    int rc;
    while ((rc = migrate_step(db, schema, err, err_len)) > 0)
        ;
    if (rc < 0) {
        sqldb_close(db);
        return NULL;
    }
    return db;
}
