/* The helpers every file of the SQLite schedule store shares (store_sqlite_priv.h): error
 * reporting, statements, bound text, transactions, checked text fields. They call nothing
 * else of the store, so the entity files and the operations table in store_sqlite.c form
 * no circle. */
#include "store/store_sqlite_priv.h"

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
    CR_WARN(SQ_TAG, "%s: %s (%d)", what, sqlite3_errmsg(s->db), sqlite3_extended_errcode(s->db));
    if (e)
        snprintf(e->msg, sizeof e->msg, "the schedule database failed (%s); see the server log",
                 what);
    return STORE_ERR_DB;
}

sqlite3_stmt *sq_prep(struct sq_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sq_db_fail(s, "prepare", NULL);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

void sq_bind_text(sqlite3_stmt *st, int i, const char *text)
{
    sqlite3_bind_text(st, i, text ? text : "", -1, SQLITE_TRANSIENT);
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

void sq_col_text(sqlite3_stmt *st, int c, char *out, size_t out_len)
{
    const char *t = (const char *)sqlite3_column_text(st, c);
    size_t n = t ? utf8_fit(t, strlen(t), out_len - 1) : 0;
    if (n)
        memcpy(out, t, n);
    out[n] = '\0';
}

int sq_begin(struct sq_store *s, struct st_err *e)
{
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sq_db_fail(s, "begin", e);
    return 0;
}

int sq_finish(struct sq_store *s, int rc, struct st_err *e)
{
    if (rc == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = sq_db_fail(s, "commit", e);
    if (rc != 0 && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (rc == STORE_ERR_DB && e && !e->msg[0])
        snprintf(e->msg, sizeof e->msg, "the schedule database failed; see the server log");
    return rc;
}

int64_t sq_int_query(struct sq_store *s, const char *sql, int64_t id, int64_t def)
{
    sqlite3_stmt *st = sq_prep(s, sql);
    if (!st)
        return STORE_ERR_DB;
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : def;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        v = sq_db_fail(s, "query", NULL);
    sqlite3_finalize(st);
    return v;
}

int sq_run(struct sq_store *s, sqlite3_stmt *st, const char *what, struct st_err *e)
{
    int rc = sqlite3_step(st);
    int ext = sqlite3_extended_errcode(s->db);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return sqlite3_changes(s->db) ? 0 : STORE_ERR_NOT_FOUND;
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return STORE_ERR_EXISTS;
    return sq_db_fail(s, what, e);
}

int sq_delete_id(struct sq_store *s, const char *sql, int64_t id, const char *what,
                 struct st_err *e)
{
    sqlite3_stmt *st = sq_prep(s, sql);
    if (!st)
        return sq_db_fail(s, what, e);
    sqlite3_bind_int64(st, 1, id);
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

/* The store's name for text_utf8_chars (text.h), which store_sqlite_audit.c uses too. */
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

/* ---- open, migrate, close ---- */
