/* The PostgreSQL engine of sqldb.h (libpq), for a cluster of servers sharing one database
 * (docs/store.md).
 *
 * Statements are sent with PQexecParams, values as text with their types (int8, float8,
 * text; a bound NULL leaves its type to the server), after "?N" and "?" are turned into
 * "$N" outside quoted literals. A parameter number the SQL never uses is sent as text, so
 * the server need not guess its type.
 *
 * A write transaction is BEGIN followed by pg_advisory_xact_lock(SQLDB_PG_LOCK): the
 * transaction-scoped lock every schedule writer and every migration of every node takes
 * first, released by COMMIT or ROLLBACK. Under READ COMMITTED each later statement of the
 * transaction sees everything the previous holder committed, so a double-booking check and
 * the write it allows cannot be split by another node's booking (two bookings are
 * serialised, never both let in; writes are rare, a lock wait is short). Reads take no
 * lock.
 *
 * A connection found broken (PQstatus CONNECTION_BAD) outside a transaction is reset
 * before the next statement, at most once per RETRY_MS: a server that is down costs each
 * call one quick failure, not a connection timeout. Each is counted (sqldb_stats): the
 * connection lost when a call finds it broken, each reset that fails, each that succeeds.
 * connect_timeout is 5 s unless the URI says otherwise. Notices (CREATE TABLE IF NOT
 * EXISTS ...) are dropped. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "store/sqldb_priv.h"

#define SQLDB_PG_LOCK 0x436c61737352 /* "ClassR": the write lock's advisory key */
#define RETRY_MS 1000
#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701

struct pg_db {
    struct sqldb base;   /* first */
    PGconn *conn;        /* owned */
    bool tx;             /* state: a transaction is open (or was, on a lost connection) */
    int64_t next_try_ms; /* state: no reset before this */
};

struct pg_q {
    struct sqlq base; /* first */
    char *sql;        /* owned: with $N */
    bool *used;       /* owned: parameter i + 1 appears in sql */
    PGresult *res;    /* owned: the result once run */
    int row;          /* state: the current row of res */
};

static struct pg_db *pg(struct sqldb *db) { return (struct pg_db *)db; }
static struct pg_q *pq(struct sqlq *q) { return (struct pg_q *)q; }

static void no_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* Records a failed result (or the connection's error when res is NULL); -1. */
static int fail(struct sqldb *db, const char *what, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(pg(db)->conn);
    enum sqldb_fail kind = !state                        ? SQLDB_FAIL_OTHER
                           : strcmp(state, "23505") == 0 ? SQLDB_FAIL_UNIQUE
                           : strcmp(state, "23503") == 0 ? SQLDB_FAIL_FOREIGN_KEY
                                                         : SQLDB_FAIL_OTHER;
    if (PQstatus(pg(db)->conn) != CONNECTION_OK)
        sqldb_count_lost(db);
    return sqldb_fail(db, kind, "%s: %s (%s)", what, msg && msg[0] ? msg : "no answer",
                      state ? state : "connection");
}

/* 0 if the connection is up (reset if it had dropped, outside a transaction), else -1. */
static int ready(struct sqldb *db)
{
    struct pg_db *p = pg(db);
    if (PQstatus(p->conn) == CONNECTION_OK)
        return 0;
    sqldb_count_lost(db);
    if (p->tx)
        return sqldb_fail(db, SQLDB_FAIL_OTHER,
                          "the connection to PostgreSQL dropped in a "
                          "transaction");
    int64_t now = cr_now_ms();
    if (now < p->next_try_ms)
        return sqldb_fail(db, SQLDB_FAIL_OTHER, "PostgreSQL is unreachable: %s",
                          PQerrorMessage(p->conn));
    PQreset(p->conn);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        p->next_try_ms = now + RETRY_MS;
        sqldb_count_connect_failed(SQLDB_PG);
        return sqldb_fail(db, SQLDB_FAIL_OTHER, "PostgreSQL is unreachable: %s",
                          PQerrorMessage(p->conn));
    }
    PQsetClientEncoding(p->conn, "UTF8");
    sqldb_count_back(db);
    CR_INFO("store", "the connection to PostgreSQL is back");
    return 0;
}

/* Runs sql without parameters; 0 or -1 (what names it in the message). */
static int run(struct sqldb *db, const char *sql, const char *what)
{
    if (ready(db) != 0)
        return -1;
    PGresult *res = PQexec(pg(db)->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : fail(db, what, res);
    if (rc == 0 && strcmp(what, "commit") == 0 && strcmp(PQcmdStatus(res), "COMMIT") != 0)
        rc = sqldb_fail(db, SQLDB_FAIL_OTHER, "commit: the transaction was rolled back");
    PQclear(res);
    return rc;
}

static void pg_close(struct sqldb *db)
{
    PQfinish(pg(db)->conn);
    free(db);
}

static int pg_exec(struct sqldb *db, const char *sql) { return run(db, sql, "exec"); }

static int pg_begin(struct sqldb *db)
{
    char sql[96];
    snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
             (long long)SQLDB_PG_LOCK);
    int rc = run(db, sql, "begin");
    if (rc == 0)
        pg(db)->tx = true;
    else if (PQtransactionStatus(pg(db)->conn) != PQTRANS_IDLE)
        run(db, "ROLLBACK", "rollback");
    return rc;
}

static int pg_end(struct sqldb *db, bool commit)
{
    bool lost = PQstatus(pg(db)->conn) != CONNECTION_OK;
    pg(db)->tx = false; /* over either way; a lost connection ended it at the server */
    if (lost)
        return commit ? sqldb_fail(db, SQLDB_FAIL_OTHER, "commit: the connection dropped") : 0;
    return run(db, commit ? "COMMIT" : "ROLLBACK", commit ? "commit" : "rollback");
}

static bool pg_in_tx(const struct sqldb *db) { return ((const struct pg_db *)db)->tx; }

/* sql with "?N" and "?" as "$N" (a bare "?" is one more than the highest number so far, as
 * SQLite counts), quoted literals untouched; marks used parameters in *used (allocated)
 * and their count in *n. */
static char *translate(const char *sql, int *n, bool **used)
{
    size_t len = strlen(sql);
    char *out = cr_malloc(4 * len + 1), *o = out;
    bool *u = cr_calloc(len + 1, sizeof *u); /* never more parameters than characters */
    int max = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote || *p == '\'' || *p == '"') {
            quote = !quote ? *p : *p == quote ? 0 : quote;
            *o++ = *p;
            continue;
        }
        if (*p != '?') {
            *o++ = *p;
            continue;
        }
        int num = 0;
        while (p[1] >= '0' && p[1] <= '9' && num < 1000)
            num = num * 10 + (*++p - '0');
        if (num == 0 || num > (int)len)
            num = max + 1;
        max = num > max ? num : max;
        u[num - 1] = true;
        o += sprintf(o, "$%d", num);
    }
    *o = '\0';
    *n = max;
    *used = u;
    return out;
}

static struct sqlq *pg_prep(struct sqldb *db, const char *sql)
{
    (void)db;
    struct pg_q *q = CR_NEW(struct pg_q);
    q->sql = translate(sql, &q->base.nparams, &q->used);
    return &q->base;
}

/* Sends the statement with its values; the result in q->res. */
static PGresult *execute(struct sqlq *q)
{
    int n = q->nparams;
    const char **values = cr_calloc(n ? (size_t)n : 1, sizeof *values);
    Oid *types = cr_calloc(n ? (size_t)n : 1, sizeof *types);
    char(*num)[32] = cr_calloc(n ? (size_t)n : 1, sizeof *num);
    for (int i = 0; i < n; i++) {
        const struct sqlv *v = &q->params[i];
        types[i] = v->type == SQLV_I64      ? OID_INT8
                   : v->type == SQLV_DOUBLE ? OID_FLOAT8
                   : v->type == SQLV_TEXT   ? OID_TEXT
                   : pq(q)->used[i]         ? 0
                                            : OID_TEXT;
        if (v->type == SQLV_I64)
            snprintf(num[i], sizeof num[i], "%lld", (long long)v->i64);
        else if (v->type == SQLV_DOUBLE)
            snprintf(num[i], sizeof num[i], "%.17g", v->dbl);
        values[i] = v->type == SQLV_TEXT ? v->text : v->type == SQLV_NULL ? NULL : num[i];
    }
    PGresult *res = PQexecParams(pg(q->db)->conn, pq(q)->sql, n, types, values, NULL, NULL, 0);
    free(values);
    free(types);
    free(num);
    return res;
}

static int pg_step(struct sqlq *q)
{
    struct pg_q *p = pq(q);
    if (!p->res) {
        if (ready(q->db) != 0)
            return SQLQ_ERR;
        p->res = execute(q);
        p->row = -1;
        ExecStatusType st = PQresultStatus(p->res);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            int rc = fail(q->db, "step", p->res);
            PQclear(p->res);
            p->res = NULL;
            return rc;
        }
        const char *changed = PQcmdTuples(p->res);
        if (changed[0])
            q->db->changes = strtoll(changed, NULL, 10);
    }
    return ++p->row < PQntuples(p->res) ? SQLQ_ROW : SQLQ_DONE;
}

static void pg_reset(struct sqlq *q)
{
    PQclear(pq(q)->res);
    pq(q)->res = NULL;
}

static void pg_free(struct sqlq *q)
{
    pg_reset(q);
    free(pq(q)->sql);
    free(pq(q)->used);
    free(q);
}

static bool pg_null(struct sqlq *q, int c)
{
    struct pg_q *p = pq(q);
    return !p->res || p->row < 0 || p->row >= PQntuples(p->res) || c >= PQnfields(p->res) ||
           PQgetisnull(p->res, p->row, c);
}

static const char *pg_text(struct sqlq *q, int c)
{
    return pg_null(q, c) ? NULL : PQgetvalue(pq(q)->res, pq(q)->row, c);
}

static int64_t pg_i64(struct sqlq *q, int c)
{
    const char *t = pg_text(q, c);
    return t ? strtoll(t, NULL, 10) : 0;
}

static double pg_dbl(struct sqlq *q, int c)
{
    const char *t = pg_text(q, c);
    return t ? strtod(t, NULL) : 0.0;
}

static const struct sqldb_ops pg_ops = {
    .close = pg_close,
    .exec = pg_exec,
    .begin = pg_begin,
    .end = pg_end,
    .in_tx = pg_in_tx,
    .prep = pg_prep,
    .step = pg_step,
    .reset = pg_reset,
    .free = pg_free,
    .null = pg_null,
    .i64 = pg_i64,
    .dbl = pg_dbl,
    .text = pg_text,
};

struct sqldb *sqldb_pg_connect(const char *uri, char *err, size_t err_len)
{
    /* later values override earlier ones: the URI may set its own connect_timeout */
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const values[] = {"5", uri, NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, err_len, "%s", conn ? PQerrorMessage(conn) : "out of memory");
        sqldb_one_line(err);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, no_notice, NULL);
    PQsetClientEncoding(conn, "UTF8");
    struct pg_db *p = CR_NEW(struct pg_db);
    p->base.ops = &pg_ops;
    p->base.engine = SQLDB_PG;
    p->conn = conn;
    return &p->base;
}
