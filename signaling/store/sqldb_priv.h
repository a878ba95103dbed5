/* Private to sqldb*.c: the operations an engine provides behind sqldb.h, and the parts of a
 * connection and a statement that sqldb.c keeps for every engine (bound values, the last
 * failure). sqldb_sqlite.c and sqldb_pg.c each embed these structs first in their own. */
#ifndef CR_SIGNALING_STORE_SQLDB_PRIV_H
#define CR_SIGNALING_STORE_SQLDB_PRIV_H

#include "store/sqldb.h"

enum sqlv_type { SQLV_NULL, SQLV_I64, SQLV_DOUBLE, SQLV_TEXT };

struct sqlv { /* a bound value */
    enum sqlv_type type;
    int64_t i64;
    double dbl;
    char *text; /* owned */
};

struct sqldb_ops {
    void (*close)(struct sqldb *db);
    int (*exec)(struct sqldb *db, const char *sql);
    int (*begin)(struct sqldb *db);
    int (*end)(struct sqldb *db, bool commit);
    bool (*in_tx)(const struct sqldb *db);
    /* sets q->nparams; sqldb.c allocates the values */
    struct sqlq *(*prep)(struct sqldb *db, const char *sql);
    int (*step)(struct sqlq *q); /* binds q->params at the first step */
    void (*reset)(struct sqlq *q);
    void (*free)(struct sqlq *q); /* the engine's part only */
    bool (*null)(struct sqlq *q, int c);
    int64_t (*i64)(struct sqlq *q, int c);
    double (*dbl)(struct sqlq *q, int c);
    const char *(*text)(struct sqlq *q, int c);
};

struct sqldb {
    const struct sqldb_ops *ops;
    enum sqldb_engine engine;
    char errmsg[512];     /* state: the last failure */
    enum sqldb_fail fail; /* state */
    uint64_t failures;    /* state */
    int64_t changes;      /* state: of the last write */
    bool down;            /* state: found dropped, not yet made again (sqldb_count_lost) */
};

struct sqlq {
    struct sqldb *db; /* borrowed */
    int nparams;
    struct sqlv *params; /* owned, nparams of them */
};

/* s on one line: line breaks and tabs as spaces, runs of spaces as one, none at the end
 * (libpq's messages hold all three). */
void sqldb_one_line(char *s);
/* The process's figures (sqldb_stats), kept by sqldb.c; sqldb_fail counts the failed calls.
 * A connection made (opened) or one that could not be (connect_failed: at its open or at a
 * reconnect try); db found dropped (lost), or made again (back: a reconnect). */
void sqldb_count_opened(struct sqldb *db);
void sqldb_count_connect_failed(enum sqldb_engine engine);
void sqldb_count_lost(struct sqldb *db);
void sqldb_count_back(struct sqldb *db);

/* Records a failure of db (its message on one line): msg (printf-style) and its kind; returns -1.
 */
int sqldb_fail(struct sqldb *db, enum sqldb_fail kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct sqldb *sqldb_sqlite_connect(const char *path, char *err, size_t err_len);
struct sqldb *sqldb_pg_connect(const char *uri, char *err, size_t err_len);

#endif
