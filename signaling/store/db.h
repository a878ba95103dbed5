/* Opening the database (DATA/classrelay.db, or the PostgreSQL database of store =
 * postgresql://...) and migrating the schema of one component in it: the one place that
 * knows how schema versions are kept. The schedule store (store_sql.c) and the recordings
 * catalogue (catalog.c) each hand db_open() their ordered lists of migrations, one per
 * engine, the same steps in each engine's dialect; neither touches version rows itself.
 * The connection's settings are the engine's (sqldb_sqlite.c, sqldb_pg.c).
 *
 * Versions: one row per component in the table schema_versions (component, version), e.g.
 * ("schedule", 1), ("catalog", 1). Entry i of a component's list takes its version from i
 * to i + 1. Each step is one write transaction (sqldb_begin: BEGIN IMMEDIATE, or on
 * PostgreSQL the cluster-wide advisory lock) that re-reads the version, applies one
 * migration and writes the new version, so a failed migration leaves nothing behind and
 * two processes (two nodes) opening a fresh database at once migrate it once.
 *
 * The catalogue once kept its version in PRAGMA user_version instead (servers before issue
 * 9; SQLite only). A schema with legacy_user_version set counts the larger of its row and
 * user_version as its version (so a file from such a server is adopted at its version, nothing
 * re-run, and a user_version no server of ours wrote is refused), and keeps user_version equal to
 * its row, in the same transaction, so that the previous server binary still opens the
 * file after a rollback. No other component may use user_version.
 *
 * Why the two components keep separate connections rather than share one: each is opened
 * and closed by its own owner (the store by access/auth.c, the catalogue by server.c), the
 * catalogue may fail to open while the schedule runs on, and both are used only from the
 * lws thread, so the second connection costs a file handle and nothing else: WAL lets
 * them read side by side and their writes are short. */
#ifndef CR_SIGNALING_STORE_DB_H
#define CR_SIGNALING_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "store/sqldb.h"

struct db_schema {
    const char *component;            /* its key in schema_versions */
    const char *const *migrations;    /* SQLite's SQL, in order; never edit a released entry */
    const char *const *pg_migrations; /* PostgreSQL's, the same steps; NULL: SQLite only */
    int n_migrations;                 /* the version this server brings the database to */
    bool legacy_user_version;         /* the catalogue only: see above */
};

/* Connects to target (sqldb_connect: a SQLite path, the file created if missing, or a
 * PostgreSQL URI) and migrates schema to its last version. The connection (the caller closes
 * it with sqldb_close), or NULL with a reason in err: it cannot be opened, is not a
 * database, holds a version of schema newer than this server knows (the number is in err),
 * or a migration failed. */
struct sqldb *db_open(const char *target, const struct db_schema *schema, char *err,
                      size_t err_len);

#endif
