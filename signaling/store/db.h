/* Opening DATA/classrelay.db and migrating the schema of one component in it: the one place
 * that knows the connection's settings and how schema versions are kept. The schedule store
 * (store_sqlite.c) and the recordings catalogue (catalog.c) each hand db_open() their
 * ordered list of migrations; neither touches PRAGMAs or version rows itself.
 *
 * Connection: extended result codes, a 2 s busy timeout (the other component's connection
 * or an operator's sqlite3 shell may hold the lock a moment), WAL journal (readers never
 * wait for the writer; a crash loses at most the last transaction), synchronous NORMAL,
 * foreign keys on.
 *
 * Versions: one row per component in the table schema_versions (component, version), e.g.
 * ("schedule", 1), ("catalog", 1). Entry i of a component's list takes its version from i
 * to i + 1. Each step is one BEGIN IMMEDIATE transaction that re-reads the version, applies
 * one migration and writes the new version, so a failed migration leaves nothing behind and
 * two processes opening a fresh file at once migrate it once.
 *
 * The catalogue once kept its version in PRAGMA user_version instead (servers before issue
 * 9). A schema with legacy_user_version set counts the larger of its row and user_version
 * as its version (so a file from such a server is adopted at its version, nothing re-run,
 * and a user_version no server of ours wrote is refused), and keeps user_version equal to
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

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

struct db_schema {
    const char *component;         /* its key in schema_versions */
    const char *const *migrations; /* SQL, in order; never edit a released entry: append */
    int n_migrations;              /* the version this server brings the file to */
    bool legacy_user_version;      /* the catalogue only: see above */
};

/* Opens path (creating the file if missing), sets the connection up and migrates schema to
 * its last version. The connection (the caller closes it with sqlite3_close), or NULL with
 * a reason in err: the file cannot be opened, is not a database, or holds a version of
 * schema newer than this server knows (the number is in err), or a migration failed. */
sqlite3 *db_open(const char *path, const struct db_schema *schema, char *err, size_t err_len);

#endif
