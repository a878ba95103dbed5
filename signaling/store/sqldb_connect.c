/* Choosing the engine of sqldb.h from a target: a PostgreSQL URI (sqldb_pg.c), else the
 * path of a SQLite file (sqldb_sqlite.c); the connection counted as made or not
 * (sqldb_stats). */
#include <string.h>

#include "store/sqldb_priv.h"

bool sqldb_is_pg_uri(const char *target)
{
    return target &&
           (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0);
}

struct sqldb *sqldb_connect(const char *target, char *err, size_t err_len)
{
    bool pg = sqldb_is_pg_uri(target);
    struct sqldb *db =
        pg ? sqldb_pg_connect(target, err, err_len) : sqldb_sqlite_connect(target, err, err_len);
    if (db)
        sqldb_count_opened(db);
    else
        sqldb_count_connect_failed(pg ? SQLDB_PG : SQLDB_SQLITE);
    return db;
}
