/* One SQL connection, SQLite or PostgreSQL, behind the few calls the schedule store
 * (store_sql*.c) and the recordings catalogue (catalog.c) make: statements with bound
 * parameters, stepped row by row, and write transactions. The SQL those files write is the
 * common dialect of both engines (docs/store.md says which); each engine's file
 * (sqldb_sqlite.c, sqldb_pg.c) runs it. A target names the engine: "postgresql://..." or
 * "postgres://..." (a libpq URI) is PostgreSQL, anything else a SQLite file path.
 *
 * Parameters are written as SQLite writes them, "?" or "?N"; the PostgreSQL engine turns
 * them into "$N". Values are copied when bound. A write transaction (sqldb_begin) holds
 * the one write lock of the database until it ends: SQLite's BEGIN IMMEDIATE, or on
 * PostgreSQL a transaction-scoped advisory lock that every writer of every node takes
 * first, so checks made in the transaction (a double booking) still hold at its commit.
 *
 * A PostgreSQL connection that dropped is opened again before the next statement outside a
 * transaction (never inside one: its earlier statements are lost, and the transaction
 * fails). Failures return -1 and leave their message in sqldb_errmsg; callers log it.
 * Failures and reconnections are also counted per engine for the whole process
 * (sqldb_stats, GET /metrics).
 *
 * One thread per connection; migrations are db.c's (db.h). */
#ifndef CR_SIGNALING_STORE_SQLDB_H
#define CR_SIGNALING_STORE_SQLDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sqldb_engine { SQLDB_SQLITE, SQLDB_PG };

/* What a failed statement broke, for the callers that answer differently. */
enum sqldb_fail {
    SQLDB_FAIL_OTHER,
    SQLDB_FAIL_UNIQUE,      /* a UNIQUE or PRIMARY KEY constraint */
    SQLDB_FAIL_FOREIGN_KEY, /* a REFERENCES constraint */
};

enum { SQLQ_DONE = 0, SQLQ_ROW = 1, SQLQ_ERR = -1 }; /* sqlq_step */

struct sqldb;
struct sqlq;

/* True if target is a PostgreSQL URI. */
bool sqldb_is_pg_uri(const char *target);

/* Connects to target (a SQLite file, created if missing, or a PostgreSQL URI), without
 * migrating anything (db_open does). NULL with a reason in err. */
struct sqldb *sqldb_connect(const char *target, char *err, size_t err_len);
void sqldb_close(struct sqldb *db); /* NULL: nothing */
enum sqldb_engine sqldb_engine(const struct sqldb *db);

/* Runs sql, one or more statements without parameters or rows: 0 or -1. */
int sqldb_exec(struct sqldb *db, const char *sql);
/* A write transaction (see above): 0 or -1. */
int sqldb_begin(struct sqldb *db);
int sqldb_commit(struct sqldb *db);    /* 0 or -1 (the transaction is over either way) */
void sqldb_rollback(struct sqldb *db); /* nothing if no transaction is open */
bool sqldb_in_tx(const struct sqldb *db);

/* The last failure: its message (with the engine's code), its kind, and how many failures
 * the connection has seen. */
const char *sqldb_errmsg(const struct sqldb *db);
enum sqldb_fail sqldb_fail_kind(const struct sqldb *db);
uint64_t sqldb_failures(const struct sqldb *db);
/* Rows the last completed INSERT, UPDATE or DELETE changed. */
int64_t sqldb_changes(const struct sqldb *db);

/* The figures of one engine, every connection of the process together (any thread). */
struct sqldb_stats {
    uint64_t connect_failures; /* connections not made: at their open, and each reconnect try */
    uint64_t query_failures;   /* calls that failed, but for a broken UNIQUE or REFERENCES
                                  constraint (sqldb_fail_kind: the caller's answer to give) */
    uint64_t reconnects;       /* connections made again after they dropped (PostgreSQL) */
    uint64_t open;             /* connections open now */
    uint64_t down;             /* ... of those, found dropped and not yet made again */
};
void sqldb_stats(enum sqldb_engine engine, struct sqldb_stats *out);
const char *sqldb_engine_name(enum sqldb_engine engine); /* "sqlite", "postgresql" */

/* A statement, or NULL (sqldb_errmsg says why). */
struct sqlq *sqlq_prep(struct sqldb *db, const char *sql);
int sqlq_nparams(const struct sqlq *q); /* the highest parameter number in its SQL */
/* Parameters are numbered from 1; a number out of range is ignored. */
void sqlq_bind_i64(struct sqlq *q, int i, int64_t v);
void sqlq_bind_double(struct sqlq *q, int i, double v);
void sqlq_bind_text(struct sqlq *q, int i, const char *s); /* NULL binds NULL */
void sqlq_bind_null(struct sqlq *q, int i);
/* Runs the statement at the first call, then moves to its next row: SQLQ_ROW, SQLQ_DONE or
 * SQLQ_ERR. */
int sqlq_step(struct sqlq *q);
void sqlq_reset(struct sqlq *q); /* the next step runs it again; bindings are kept */
void sqlq_free(struct sqlq *q);  /* NULL: nothing */

/* Column c (from 0) of the current row. NULL reads as 0, 0.0 and NULL. */
bool sqlq_null(struct sqlq *q, int c);
int64_t sqlq_i64(struct sqlq *q, int c);
double sqlq_double(struct sqlq *q, int c);
const char *sqlq_text(struct sqlq *q, int c); /* valid until the next step */

#endif
