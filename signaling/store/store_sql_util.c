/* The helpers every file of the SQL schedule store shares (store_sql_priv.h): error
 * reporting, statements, bound text, transactions, checked text fields. They call nothing
 * else of the store, so the entity files and the operations table in store_sql.c form
 * no circle. */
#include "store/store_sql_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/alloc.h"
#include "base/log.h"
#include "store/text.h"

int sq_db_fail(struct sq_store *s, const char *what, struct st_err *e)
{
    CR_WARN(SQ_TAG, "%s: %s (database failure %llu)", what, sqldb_errmsg(s->db),
            (unsigned long long)sqldb_failures(s->db));
    if (e)
        snprintf(e->msg, sizeof e->msg, "the schedule database failed (%s); see the server log",
                 what);
    return STORE_ERR_DB;
}

struct sqlq *sq_prep(struct sq_store *s, const char *sql)
{
    struct sqlq *st = sqlq_prep(s->db, sql);
    if (!st)
        sq_db_fail(s, "prepare", NULL);
    return st;
}

void sq_bind_text(struct sqlq *st, int i, const char *text)
{
    sqlq_bind_text(st, i, text ? text : "");
}

/* Length of the longest prefix of s, at most max bytes, that ends on a character
 * boundary. */
static size_t utf8_fit(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n] is a continuation byte: the character would be split */
    return n;
}

void sq_col_text(struct sqlq *st, int c, char *out, size_t out_len)
{
    const char *t = sqlq_text(st, c);
    size_t n = t ? utf8_fit(t, strlen(t), out_len - 1) : 0;
    if (n)
        memcpy(out, t, n);
    out[n] = '\0';
}

int sq_begin(struct sq_store *s, struct st_err *e)
{
    if (sqldb_begin(s->db) != 0)
        return sq_db_fail(s, "begin", e);
    return 0;
}

int sq_finish(struct sq_store *s, int rc, struct st_err *e)
{
    if (rc == 0 && sqldb_commit(s->db) != 0)
        rc = sq_db_fail(s, "commit", e);
    if (rc != 0)
        sqldb_rollback(s->db);
    if (rc == STORE_ERR_DB && e && !e->msg[0])
        snprintf(e->msg, sizeof e->msg, "the schedule database failed; see the server log");
    return rc;
}

int64_t sq_int_query(struct sq_store *s, const char *sql, int64_t id, int64_t def)
{
    struct sqlq *st = sq_prep(s, sql);
    if (!st)
        return STORE_ERR_DB;
    if (sqlq_nparams(st) > 0)
        sqlq_bind_i64(st, 1, id);
    int rc = sqlq_step(st);
    int64_t v = rc == SQLQ_ROW ? sqlq_i64(st, 0) : def;
    if (rc != SQLQ_ROW && rc != SQLQ_DONE)
        v = sq_db_fail(s, "query", NULL);
    sqlq_free(st);
    return v;
}

int sq_run(struct sq_store *s, struct sqlq *st, const char *what, struct st_err *e)
{
    int rc = sqlq_step(st);
    sqlq_free(st);
    if (rc == SQLQ_DONE)
        return sqldb_changes(s->db) ? 0 : STORE_ERR_NOT_FOUND;
    if (sqldb_fail_kind(s->db) == SQLDB_FAIL_UNIQUE)
        return STORE_ERR_EXISTS;
    return sq_db_fail(s, what, e);
}

int sq_insert(struct sq_store *s, struct sqlq *st, const char *what, struct st_err *e, int64_t *id)
{
    int rc = sqlq_step(st);
    if (rc == SQLQ_ROW) {
        *id = sqlq_i64(st, 0);
        rc = sqlq_step(st); /* SQLite: the statement completes at SQLQ_DONE */
    }
    sqlq_free(st);
    if (rc == SQLQ_DONE)
        return 0;
    if (sqldb_fail_kind(s->db) == SQLDB_FAIL_UNIQUE)
        return STORE_ERR_EXISTS;
    return sq_db_fail(s, what, e);
}

int sq_delete_id(struct sq_store *s, const char *sql, int64_t id, const char *what,
                 struct st_err *e)
{
    struct sqlq *st = sq_prep(s, sql);
    if (!st)
        return sq_db_fail(s, what, e);
    sqlq_bind_i64(st, 1, id);
    return sq_run(s, st, what, e);
}

struct st_err *sq_err_init(struct st_err *e, struct st_err *dummy)
{
    if (!e)
        e = dummy;
    e->msg[0] = '\0';
    e->n_conflicts = 0;
    return e;
}

int sq_err(struct st_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof e->msg) /* cut: do not leave half a character */
        e->msg[utf8_fit(e->msg, sizeof e->msg - 1, sizeof e->msg - 2)] = '\0';
    return code;
}

const char *sq_clip(const char *s, int max_chars, char *out, size_t out_len)
{
    size_t i = 0;
    int chars = 0;
    while (s[i] && chars < max_chars) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    bool cut = s[i] != '\0';
    size_t n = utf8_fit(s, i, out_len - (cut ? 4 : 1)); /* "…" is 3 bytes */
    memcpy(out, s, n);
    memcpy(out + n, cut ? "\xE2\x80\xA6" : "", cut ? 4 : 1);
    return out;
}

void sq_span_text(int64_t start_ms, int64_t end_ms, char *out, size_t out_len)
{
    time_t a = (time_t)(start_ms / 1000), b = (time_t)(end_ms / 1000);
    struct tm ta, tb;
    if (!gmtime_r(&a, &ta) || !gmtime_r(&b, &tb)) {
        snprintf(out, out_len, "%" PRId64 "–%" PRId64 " ms UTC", start_ms, end_ms);
        return;
    }
    char day_a[16], day_b[16];
    strftime(day_a, sizeof day_a, "%Y-%m-%d", &ta);
    strftime(day_b, sizeof day_b, "%Y-%m-%d", &tb);
    bool same = strcmp(day_a, day_b) == 0;
    snprintf(out, out_len, "%s %02d:%02d\xE2\x80\x93%s%s%02d:%02d UTC", day_a, ta.tm_hour,
             ta.tm_min, same ? "" : day_b, same ? "" : " ", tb.tm_hour, tb.tm_min);
}

/* The store's name for text_utf8_chars (text.h), which store_sql_audit.c uses too. */
long sq_utf8_chars(const char *s, size_t len, bool no_controls)
{
    return text_utf8_chars(s, len, no_controls);
}

int sq_check_text(struct st_err *e, const char *field, const char *s, size_t buf_len,
                  bool may_be_empty)
{
    size_t len = strnlen(s, buf_len);
    if (len == buf_len)
        return sq_err(e, STORE_ERR_ARG, "%s is longer than %d characters", field, SQ_TEXT_CHARS);
    long chars = text_utf8_chars(s, len, true);
    if (chars < 0)
        return sq_err(e, STORE_ERR_ARG,
                      "%s must be UTF-8 text without control characters (such as line breaks)",
                      field);
    if (chars == 0 && !may_be_empty)
        return sq_err(e, STORE_ERR_ARG, "%s must not be empty", field);
    if (chars > SQ_TEXT_CHARS)
        return sq_err(e, STORE_ERR_ARG, "%s is longer than %d characters", field, SQ_TEXT_CHARS);
    return 0;
}
