/* The engine-neutral half of sqldb.h: bound values, the last failure, the process's
 * figures, and each call handed to the engine's operations (sqldb_priv.h). Choosing the
 * engine is sqldb_connect.c's, so that the engines, which call sqldb_fail here, are called
 * by neither.
 *
 * The figures are one set per engine for the whole process, atomic: every connection adds
 * to them from its own thread (one per connection), and GET /metrics reads them from
 * another without asking each owner for its connections. */
#include "store/sqldb_priv.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

static struct {
    atomic_uint_least64_t connect_failures, query_failures, reconnects, open, down;
} figures[SQLDB_PG + 1];

void sqldb_count_opened(struct sqldb *db) { figures[db->engine].open++; }
void sqldb_count_connect_failed(enum sqldb_engine engine) { figures[engine].connect_failures++; }

void sqldb_count_lost(struct sqldb *db)
{
    if (!db->down)
        figures[db->engine].down++;
    db->down = true;
}

void sqldb_count_back(struct sqldb *db)
{
    if (db->down)
        figures[db->engine].down--;
    db->down = false;
    figures[db->engine].reconnects++;
}

void sqldb_stats(enum sqldb_engine engine, struct sqldb_stats *out)
{
    *out = (struct sqldb_stats){
        .connect_failures = figures[engine].connect_failures,
        .query_failures = figures[engine].query_failures,
        .reconnects = figures[engine].reconnects,
        .open = figures[engine].open,
        .down = figures[engine].down,
    };
}

const char *sqldb_engine_name(enum sqldb_engine engine)
{
    return engine == SQLDB_PG ? "postgresql" : "sqlite";
}

void sqldb_close(struct sqldb *db)
{
    if (!db)
        return;
    if (db->down)
        figures[db->engine].down--;
    figures[db->engine].open--;
    db->ops->close(db);
}

enum sqldb_engine sqldb_engine(const struct sqldb *db) { return db->engine; }

void sqldb_one_line(char *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i] == '\n' || s[i] == '\t' ? ' ' : s[i];
        if (c != ' ' || (o > 0 && s[o - 1] != ' '))
            s[o++] = c;
    }
    while (o > 0 && s[o - 1] == ' ')
        o--;
    s[o] = '\0';
}

int sqldb_fail(struct sqldb *db, enum sqldb_fail kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->errmsg, sizeof db->errmsg, fmt, ap);
    va_end(ap);
    sqldb_one_line(db->errmsg);
    db->fail = kind;
    db->failures++;
    if (kind == SQLDB_FAIL_OTHER)
        figures[db->engine].query_failures++;
    return -1;
}

int sqldb_exec(struct sqldb *db, const char *sql) { return db->ops->exec(db, sql); }
int sqldb_begin(struct sqldb *db) { return db->ops->begin(db); }
int sqldb_commit(struct sqldb *db) { return db->ops->end(db, true); }

void sqldb_rollback(struct sqldb *db)
{
    if (db->ops->in_tx(db))
        db->ops->end(db, false);
}

bool sqldb_in_tx(const struct sqldb *db) { return db->ops->in_tx(db); }
const char *sqldb_errmsg(const struct sqldb *db) { return db->errmsg; }
enum sqldb_fail sqldb_fail_kind(const struct sqldb *db) { return db->fail; }
uint64_t sqldb_failures(const struct sqldb *db) { return db->failures; }
int64_t sqldb_changes(const struct sqldb *db) { return db->changes; }

/* ---- statements ---- */

struct sqlq *sqlq_prep(struct sqldb *db, const char *sql)
{
    struct sqlq *q = db->ops->prep(db, sql);
    if (q) {
        q->db = db;
        q->params = cr_calloc(q->nparams ? (size_t)q->nparams : 1, sizeof *q->params);
    }
    return q;
}

int sqlq_nparams(const struct sqlq *q) { return q->nparams; }

/* The value slot of parameter i (from 1), emptied, or NULL if out of range. */
static struct sqlv *slot(struct sqlq *q, int i)
{
    if (i < 1 || i > q->nparams)
        return NULL;
    struct sqlv *v = &q->params[i - 1];
    free(v->text);
    memset(v, 0, sizeof *v);
    return v;
}

void sqlq_bind_i64(struct sqlq *q, int i, int64_t x)
{
    struct sqlv *v = slot(q, i);
    if (v)
        *v = (struct sqlv){.type = SQLV_I64, .i64 = x};
}

void sqlq_bind_double(struct sqlq *q, int i, double x)
{
    struct sqlv *v = slot(q, i);
    if (v)
        *v = (struct sqlv){.type = SQLV_DOUBLE, .dbl = x};
}

void sqlq_bind_text(struct sqlq *q, int i, const char *s)
{
    struct sqlv *v = slot(q, i);
    if (v && s)
        *v = (struct sqlv){.type = SQLV_TEXT, .text = cr_strdup(s)};
}

void sqlq_bind_null(struct sqlq *q, int i) { slot(q, i); }

int sqlq_step(struct sqlq *q) { return q->db->ops->step(q); }
void sqlq_reset(struct sqlq *q) { q->db->ops->reset(q); }

void sqlq_free(struct sqlq *q)
{
    if (!q)
        return;
    for (int i = 0; i < q->nparams; i++)
        free(q->params[i].text);
    free(q->params);
    q->db->ops->free(q);
}

bool sqlq_null(struct sqlq *q, int c) { return q->db->ops->null(q, c); }
int64_t sqlq_i64(struct sqlq *q, int c) { return q->db->ops->i64(q, c); }
double sqlq_double(struct sqlq *q, int c) { return q->db->ops->dbl(q, c); }
const char *sqlq_text(struct sqlq *q, int c) { return q->db->ops->text(q, c); }
