/* The SQLite engine of sqldb.h: a database file, DATA/classrelay.db by default.
 *
 * Connection: extended result codes, a 2 s busy timeout (the other component's connection
 * or an operator's sqlite3 shell may hold the lock a moment), WAL journal (readers never
 * wait for the writer; a crash loses at most the last transaction), synchronous NORMAL,
 * foreign keys on. A write transaction is BEGIN IMMEDIATE: it takes the file's write lock
 * at once, so its checks and its writes see no other writer in between.
 *
 * Switching a fresh file to WAL is the one step the busy timeout does not cover: the pragma
 * reads the file's header under a read lock, then asks for the write lock to rewrite it,
 * and SQLite answers SQLITE_BUSY at once, without the busy handler, to a connection that
 * holds a read lock and wants the write lock (sqlite3_busy_handler: it could deadlock).
 * Two connections opening one new file at once (a server starting while `classrelay token`
 * runs) meet there; the loser tries again until the busy timeout is spent. Once the file is
 * in WAL the pragma only reads. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/alloc.h"
#include "store/sqldb_priv.h"

#define BUSY_TIMEOUT_MS 2000
#define WAL_RETRY_MS 5 /* between two tries of the switch to WAL */

struct sqlite_db {
    struct sqldb base; /* first */
    sqlite3 *db;       /* owned */
};

struct sqlite_q {
    struct sqlq base; /* first */
    sqlite3_stmt *st; /* owned */
    bool bound;       /* state: params applied since the last reset */
};

static sqlite3 *conn(const struct sqldb *db) { return ((const struct sqlite_db *)db)->db; }
static sqlite3_stmt *stmt(struct sqlq *q) { return ((struct sqlite_q *)q)->st; }

/* Records the connection's last error; -1. */
static int fail(struct sqldb *db, const char *what)
{
    int ext = sqlite3_extended_errcode(conn(db));
    enum sqldb_fail kind = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY
                               ? SQLDB_FAIL_UNIQUE
                           : ext == SQLITE_CONSTRAINT_FOREIGNKEY ? SQLDB_FAIL_FOREIGN_KEY
                                                                 : SQLDB_FAIL_OTHER;
    return sqldb_fail(db, kind, "%s: %s (%d)", what, sqlite3_errmsg(conn(db)), ext);
}

static void sl_close(struct sqldb *db)
{
    sqlite3_close(conn(db)); /* every statement is freed where it was prepared */
    free(db);
}

static int sl_exec(struct sqldb *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(conn(db), sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    int rc = msg ? sqldb_fail(db, SQLDB_FAIL_OTHER, "%s", msg) : fail(db, "exec");
    sqlite3_free(msg);
    return rc;
}

static int sl_begin(struct sqldb *db) { return sl_exec(db, "BEGIN IMMEDIATE"); }

static int sl_end(struct sqldb *db, bool commit)
{
    int rc = sl_exec(db, commit ? "COMMIT" : "ROLLBACK");
    if (rc && !sqlite3_get_autocommit(conn(db)))
        sqlite3_exec(conn(db), "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static bool sl_in_tx(const struct sqldb *db) { return !sqlite3_get_autocommit(conn(db)); }

static struct sqlq *sl_prep(struct sqldb *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(conn(db), sql, -1, &st, NULL) != SQLITE_OK) {
        fail(db, "prepare");
        sqlite3_finalize(st);
        return NULL;
    }
    struct sqlite_q *q = CR_NEW(struct sqlite_q);
    q->st = st;
    q->base.nparams = sqlite3_bind_parameter_count(st);
    return &q->base;
}

static void bind_all(struct sqlq *q)
{
    for (int i = 0; i < q->nparams; i++) {
        const struct sqlv *v = &q->params[i];
        if (v->type == SQLV_I64)
            sqlite3_bind_int64(stmt(q), i + 1, v->i64);
        else if (v->type == SQLV_DOUBLE)
            sqlite3_bind_double(stmt(q), i + 1, v->dbl);
        else if (v->type == SQLV_TEXT)
            sqlite3_bind_text(stmt(q), i + 1, v->text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(stmt(q), i + 1);
    }
}

static int sl_step(struct sqlq *q)
{
    struct sqlite_q *sq = (struct sqlite_q *)q;
    if (!sq->bound) {
        bind_all(q);
        sq->bound = true;
    }
    int rc = sqlite3_step(sq->st);
    if (rc == SQLITE_ROW)
        return SQLQ_ROW;
    if (rc == SQLITE_DONE) {
        q->db->changes = sqlite3_changes(conn(q->db));
        return SQLQ_DONE;
    }
    return fail(q->db, "step");
}

static void sl_reset(struct sqlq *q)
{
    sqlite3_reset(stmt(q));
    ((struct sqlite_q *)q)->bound = false; /* the values may have changed */
}

static void sl_free(struct sqlq *q)
{
    sqlite3_finalize(stmt(q));
    free(q);
}

static bool sl_null(struct sqlq *q, int c)
{
    return sqlite3_column_type(stmt(q), c) == SQLITE_NULL;
}
static int64_t sl_i64(struct sqlq *q, int c) { return sqlite3_column_int64(stmt(q), c); }
static double sl_dbl(struct sqlq *q, int c) { return sqlite3_column_double(stmt(q), c); }

static const char *sl_text(struct sqlq *q, int c)
{
    return (const char *)sqlite3_column_text(stmt(q), c);
}

static const struct sqldb_ops sqlite_ops = {
    .close = sl_close,
    .exec = sl_exec,
    .begin = sl_begin,
    .end = sl_end,
    .in_tx = sl_in_tx,
    .prep = sl_prep,
    .step = sl_step,
    .reset = sl_reset,
    .free = sl_free,
    .null = sl_null,
    .i64 = sl_i64,
    .dbl = sl_dbl,
    .text = sl_text,
};

/* PRAGMA journal_mode = WAL, tried again while another connection holds the lock it wants
 * (see above): SQLITE_OK or the last code, its message in *msg (sqlite3_free). */
static int set_wal(sqlite3 *db, char **msg)
{
    int rc;
    /* journal_mode answers a row; sqlite3_exec ignores it */
    for (int waited = 0;; waited += WAL_RETRY_MS) {
        rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, msg);
        if ((rc & 0xff) != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
            return rc;
        sqlite3_free(*msg);
        *msg = NULL;
        sqlite3_sleep(WAL_RETRY_MS);
    }
}

struct sqldb *sqldb_sqlite_connect(const char *path, char *err, size_t err_len)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_len, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (set_wal(db, &msg) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", NULL, NULL,
                     &msg) != SQLITE_OK) {
        snprintf(err, err_len, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    struct sqlite_db *s = CR_NEW(struct sqlite_db);
    s->base.ops = &sqlite_ops;
    s->base.engine = SQLDB_SQLITE;
    s->db = db;
    return &s->base;
}
