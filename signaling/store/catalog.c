/* The recordings catalogue in SQLite: see catalog.h and docs/recording.md.
 *
 * One connection, used only from the lws thread, opened by db.c (WAL, busy timeout, foreign
 * keys on: a recording's notes go with it). The schema is the list `migrations`, which
 * db.c applies in order at open under the component name "catalog": adding a table later
 * is one more entry at the end. Every value reaches SQLite as a bound
 * parameter; the only SQL text assembled at run time is the list query's WHERE clause,
 * made of constant fragments.
 *
 * The REC object is built from the row: tracks from tracks_json, and renditions, hls, mp4
 * and chapters from the packager's info.json (vod_json), with the notes of kind "chapter"
 * merged into the chapters. This file knows nothing of HTTP (rest_recordings.c). */
#include "store/catalog.h"

#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/alloc.h"
#include "base/log.h"
#include "store/db.h"
#include "store/text.h"

#define CAT_TEXT_MAX 2000    /* bytes of a note's text */
#define CAT_AUTHOR_MAX 64    /* characters of a note's author */
#define CAT_NOTE_SLACK 60000 /* a note may sit this far past the recorded duration */
#define CAT_LIMIT_DEFAULT 50
#define CAT_LIMIT_MAX 500

struct catalog {
    sqlite3 *db; /* owned */
};

/* Schema migrations of the component 'catalog', in order (db.h); entry i takes its version
 * from i to i + 1. Never edit a released entry: append a new one. */
static const char *const migrations[] = {
    /* 1: recordings and their notes */
    "CREATE TABLE recordings ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  room TEXT NOT NULL,"
    "  teacher TEXT NOT NULL DEFAULT '',"
    "  title TEXT NOT NULL DEFAULT '',"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER,"
    "  duration_ms INTEGER,"
    "  state TEXT NOT NULL DEFAULT 'recording',"
    "  progress REAL NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  size_bytes INTEGER NOT NULL DEFAULT 0,"
    "  tracks_json TEXT,"
    "  vod_json TEXT);"
    "CREATE INDEX recordings_room ON recordings(room, started_ms);"
    "CREATE INDEX recordings_teacher ON recordings(teacher, started_ms);"
    "CREATE INDEX recordings_started ON recordings(started_ms);"
    "CREATE TABLE notes ("
    "  id INTEGER PRIMARY KEY,"
    "  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  author TEXT NOT NULL DEFAULT '',"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX notes_recording ON notes(recording_id, at_ms);",
};
#define CAT_SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

#define REC_COLUMNS                                                                                \
    "id, room, teacher, title, started_ms, ended_ms, duration_ms, state, progress, error, "        \
    "size_bytes, tracks_json, vod_json"
enum { /* column indexes of REC_COLUMNS */
       C_ID,
       C_ROOM,
       C_TEACHER,
       C_TITLE,
       C_STARTED,
       C_ENDED,
       C_DURATION,
       C_STATE,
       C_PROGRESS,
       C_ERROR,
       C_SIZE,
       C_TRACKS,
       C_VOD
};

static int db_fail(struct catalog *cat, const char *what)
{
    CR_WARN("catalog", "%s: %s", what, sqlite3_errmsg(cat->db));
    return CAT_ERR_DB;
}

/* Prepares sql; NULL (logged) on failure. */
static sqlite3_stmt *prep(struct catalog *cat, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_fail(cat, "prepare");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows and finalizes it. 0, CAT_ERR_NOT_FOUND if it
 * changed nothing and must_change, or CAT_ERR_DB. */
static int run(struct catalog *cat, sqlite3_stmt *st, bool must_change)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(cat, "step");
    return must_change && sqlite3_changes(cat->db) == 0 ? CAT_ERR_NOT_FOUND : 0;
}

/* ---- validation ---- */

/* Number of code points of valid UTF-8 (text.h: RFC 3629 §4), or -1. */
static long utf8_chars(const char *s) { return text_utf8_chars(s, strlen(s), false); }

static bool one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++) {
        if (strcmp(s, *set) == 0)
            return true;
    }
    return false;
}

static const char *const states[] = {"recording", "packaging", "ready", "failed", NULL};
static const char *const note_kinds[] = {"comment", "bookmark", "chapter", NULL};

/* A text field the controller sets: NULL or valid UTF-8 of at most max bytes. */
static bool text_ok(const char *s, size_t max)
{
    return !s || (strlen(s) <= max && utf8_chars(s) >= 0);
}

/* ---- open, close ---- */

static const struct db_schema schema = {
    .component = "catalog",
    .migrations = migrations,
    .n_migrations = CAT_SCHEMA_VERSION,
    .legacy_user_version = true, /* versioned by PRAGMA user_version before issue 9 */
};

struct catalog *catalog_open(const char *path, char *err, size_t err_len)
{
    sqlite3 *db = db_open(path, &schema, err, err_len);
    if (!db)
        return NULL;
    struct catalog *cat = CR_NEW(struct catalog);
    cat->db = db;
    return cat;
}

void catalog_close(struct catalog *cat)
{
    if (!cat)
        return;
    sqlite3_close(cat->db); /* every statement is finalized where it was prepared */
    free(cat);
}

/* ---- recordings: writes ---- */

int catalog_rec_create(struct catalog *cat, const struct cat_recording *rec)
{
    if (!rec->id || !rec->id[0] || !rec->room || !text_ok(rec->id, 128) ||
        !text_ok(rec->room, 256) || !text_ok(rec->teacher, 256) || !text_ok(rec->title, 1024))
        return CAT_ERR_ARG;
    sqlite3_stmt *st = prep(cat, "INSERT INTO recordings (id, room, teacher, title, started_ms) "
                                 "VALUES (?, ?, ?, ?, ?)");
    if (!st)
        return CAT_ERR_DB;
    bind_text(st, 1, rec->id);
    bind_text(st, 2, rec->room);
    bind_text(st, 3, rec->teacher ? rec->teacher : "");
    bind_text(st, 4, rec->title ? rec->title : "");
    sqlite3_bind_int64(st, 5, rec->started_ms);
    if (sqlite3_step(st) != SQLITE_DONE) {
        bool dup = sqlite3_extended_errcode(cat->db) == SQLITE_CONSTRAINT_PRIMARYKEY;
        int rc = dup ? CAT_ERR_ARG : db_fail(cat, "create recording");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    return 0;
}

int catalog_rec_set_state(struct catalog *cat, const char *id, const char *state, double progress,
                          const char *error)
{
    if (!id || !one_of(state, states) || !text_ok(error, 4096))
        return CAT_ERR_ARG;
    /* clamped, not refused: a state change must not be lost to a rounding error */
    progress = progress > 100 ? 100 : progress >= 0 ? progress : 0;
    sqlite3_stmt *st =
        prep(cat, "UPDATE recordings SET state = ?, progress = ?, error = ? WHERE id = ?");
    if (!st)
        return CAT_ERR_DB;
    bind_text(st, 1, state);
    sqlite3_bind_double(st, 2, progress);
    bind_text(st, 3, error);
    bind_text(st, 4, id);
    return run(cat, st, true);
}

int catalog_rec_set_ended(struct catalog *cat, const char *id, int64_t ended_ms)
{
    if (!id)
        return CAT_ERR_ARG;
    sqlite3_stmt *st = prep(cat, "UPDATE recordings SET ended_ms = ? WHERE id = ?");
    if (!st)
        return CAT_ERR_DB;
    sqlite3_bind_int64(st, 1, ended_ms);
    bind_text(st, 2, id);
    return run(cat, st, true);
}

/* Sets one JSON text column (a constant name) of recording id. */
static int set_json(struct catalog *cat, const char *sql, const char *id, json_t *value,
                    int64_t number)
{
    char *text = json_dumps(value, JSON_COMPACT);
    if (!text)
        return CAT_ERR_ARG;
    sqlite3_stmt *st = prep(cat, sql);
    if (!st) {
        free(text);
        return CAT_ERR_DB;
    }
    bind_text(st, 1, text);
    bind_text(st, 2, id);
    if (sqlite3_bind_parameter_count(st) >= 4) {
        json_t *d = json_object_get(value, "duration_ms");
        if (json_is_number(d))
            sqlite3_bind_int64(st, 3, (int64_t)json_number_value(d));
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, number);
    }
    free(text);
    return run(cat, st, true);
}

int catalog_rec_set_tracks(struct catalog *cat, const char *id, json_t *tracks)
{
    if (!id || !json_is_array(tracks))
        return CAT_ERR_ARG;
    return set_json(cat, "UPDATE recordings SET tracks_json = ?1 WHERE id = ?2", id, tracks, 0);
}

int catalog_rec_set_vod(struct catalog *cat, const char *id, json_t *info, int64_t size_bytes)
{
    if (!id || !json_is_object(info) || size_bytes < 0)
        return CAT_ERR_ARG;
    return set_json(cat,
                    "UPDATE recordings SET vod_json = ?1, duration_ms = coalesce(?3, duration_ms),"
                    " size_bytes = ?4 WHERE id = ?2",
                    id, info, size_bytes);
}

/* ---- recordings: the REC object ---- */

static json_t *col_text(sqlite3_stmt *st, int c)
{
    const unsigned char *s = sqlite3_column_text(st, c);
    return s ? json_string((const char *)s) : json_null();
}

static json_t *col_int(sqlite3_stmt *st, int c)
{
    if (sqlite3_column_type(st, c) == SQLITE_NULL)
        return json_null();
    return json_integer((json_int_t)sqlite3_column_int64(st, c));
}

static json_t *col_json(sqlite3_stmt *st, int c)
{
    const unsigned char *s = sqlite3_column_text(st, c);
    return s ? json_loads((const char *)s, 0, NULL) : NULL;
}

/* "/recordings/<id>/<file>" for a file name the packager wrote, or json null. */
static json_t *vod_url(const char *id, json_t *file)
{
    const char *f = json_string_value(file);
    if (!f || !f[0] || f[0] == '/' || strstr(f, ".."))
        return json_null();
    char url[1024];
    if ((size_t)snprintf(url, sizeof url, "/recordings/%s/%s", id, f) >= sizeof url)
        return json_null();
    return json_string(url);
}

static json_t *renditions_json(const char *id, json_t *vod)
{
    json_t *out = json_array(), *r;
    size_t i;
    json_array_foreach(json_object_get(vod, "renditions"), i, r)
    {
        json_t *url = vod_url(id, json_object_get(r, "playlist"));
        if (json_is_null(url))
            continue;
        json_array_append_new(
            out, json_pack("{s:O?, s:I, s:I, s:I, s:o}", "name", json_object_get(r, "name"),
                           "width", json_integer_value(json_object_get(r, "width")), "height",
                           json_integer_value(json_object_get(r, "height")), "bandwidth",
                           json_integer_value(json_object_get(r, "bandwidth")), "url", url));
    }
    return out;
}

/* A side stream of info.json (key "screen": the courseware, spans "shared"; "stage": the
 * classrooms called on, spans "turns"), or json null: {"url","width","height",spans}. */
static json_t *side_json(const char *id, json_t *vod, const char *key, const char *spans)
{
    json_t *s = json_object_get(vod, key);
    json_t *url = vod_url(id, json_object_get(s, "playlist"));
    if (json_is_null(url))
        return url;
    json_t *shared = json_array(), *iv;
    size_t i;
    json_array_foreach(json_object_get(s, spans), i, iv)
    {
        json_t *at = json_object_get(iv, "at_ms"), *dur = json_object_get(iv, "duration_ms");
        if (json_is_number(at) && json_is_number(dur))
            json_array_append_new(
                shared, json_pack("{s:I, s:I}", "at_ms", (json_int_t)json_number_value(at),
                                  "duration_ms", (json_int_t)json_number_value(dur)));
    }
    return json_pack("{s:o, s:I, s:I, s:o}", "url", url, "width",
                     json_integer_value(json_object_get(s, "width")), "height",
                     json_integer_value(json_object_get(s, "height")), spans, shared);
}

static int chapter_cmp(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "at_ms"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "at_ms"));
    return x < y ? -1 : x > y;
}

/* The packager's chapters and the notes of kind "chapter", ordered by at_ms. */
static json_t *chapters_json(struct catalog *cat, const char *id, json_t *vod)
{
    json_t *all = json_array(), *c;
    size_t i;
    json_array_foreach(json_object_get(vod, "chapters"), i, c)
    {
        json_t *at = json_object_get(c, "at_ms"), *title = json_object_get(c, "title");
        if (json_is_number(at) && json_is_string(title))
            json_array_append_new(all,
                                  json_pack("{s:I, s:O}", "at_ms",
                                            (json_int_t)json_number_value(at), "title", title));
    }
    sqlite3_stmt *st = prep(cat, "SELECT at_ms, text FROM notes WHERE recording_id = ? AND "
                                 "kind = 'chapter' ORDER BY at_ms, id");
    if (st) {
        bind_text(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(all, json_pack("{s:I, s:o}", "at_ms",
                                                 (json_int_t)sqlite3_column_int64(st, 0), "title",
                                                 col_text(st, 1)));
        sqlite3_finalize(st);
    }
    size_t n = json_array_size(all);
    json_t **v = cr_malloc((n ? n : 1) * sizeof *v);
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(all, i));
    qsort(v, n, sizeof *v, chapter_cmp); /* not stable: ties keep no particular order */
    json_array_clear(all);
    for (i = 0; i < n; i++)
        json_array_append_new(all, v[i]);
    free(v);
    return all;
}

/* REC from a row of REC_COLUMNS. */
static json_t *rec_json(struct catalog *cat, sqlite3_stmt *st)
{
    const char *id = (const char *)sqlite3_column_text(st, C_ID);
    json_t *tracks = col_json(st, C_TRACKS), *vod = col_json(st, C_VOD);
    if (!json_is_array(tracks)) {
        json_decref(tracks);
        tracks = json_array();
    }
    json_t *duration = col_int(st, C_DURATION);
    if (json_is_null(duration) && sqlite3_column_type(st, C_ENDED) != SQLITE_NULL) {
        json_decref(duration);
        duration = json_integer(
            (json_int_t)(sqlite3_column_int64(st, C_ENDED) - sqlite3_column_int64(st, C_STARTED)));
    }
    json_t *rec = json_pack(
        "{s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:f, s:o, s:I, s:o, s:o, s:o, s:o, s:o}", "id",
        id, "room", col_text(st, C_ROOM), "teacher", col_text(st, C_TEACHER), "title",
        col_text(st, C_TITLE), "started_ms", (json_int_t)sqlite3_column_int64(st, C_STARTED),
        "ended_ms", col_int(st, C_ENDED), "duration_ms", duration, "state", col_text(st, C_STATE),
        "progress", sqlite3_column_double(st, C_PROGRESS), "error", col_text(st, C_ERROR),
        "size_bytes", (json_int_t)sqlite3_column_int64(st, C_SIZE), "tracks", tracks, "renditions",
        renditions_json(id, vod), "hls", vod_url(id, json_object_get(vod, "hls")), "mp4",
        vod_url(id, json_object_get(vod, "mp4")), "chapters", chapters_json(cat, id, vod));
    json_object_set_new(rec, "screen", side_json(id, vod, "screen", "shared"));
    json_object_set_new(rec, "stage", side_json(id, vod, "stage", "turns"));
    json_decref(vod);
    return rec;
}

json_t *catalog_rec_get(struct catalog *cat, const char *id)
{
    if (!id)
        return NULL;
    sqlite3_stmt *st = prep(cat, "SELECT " REC_COLUMNS " FROM recordings WHERE id = ?");
    if (!st)
        return NULL;
    bind_text(st, 1, id);
    json_t *rec = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        rec = rec_json(cat, st);
    sqlite3_finalize(st);
    return rec;
}

/* ---- recordings: the list ---- */

/* q as a LIKE pattern matching it anywhere, with %, _ and \ escaped. */
static char *like_pattern(const char *q)
{
    size_t n = strlen(q);
    char *p = cr_malloc(2 * n + 3), *o = p;
    *o++ = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            *o++ = '\\';
        *o++ = *q;
    }
    *o++ = '%';
    *o = '\0';
    return p;
}

/* Binds the filter's values to the numbered placeholders of where_clause(): a value
 * without its condition binds nothing. */
static void bind_filter(sqlite3_stmt *st, const struct cat_filter *f, const char *like)
{
    if (f->room)
        bind_text(st, 1, f->room);
    if (f->teacher)
        bind_text(st, 2, f->teacher);
    if (f->state)
        bind_text(st, 3, f->state);
    if (f->from_ms)
        sqlite3_bind_int64(st, 4, f->from_ms);
    if (f->to_ms)
        sqlite3_bind_int64(st, 5, f->to_ms);
    if (like)
        bind_text(st, 6, like);
}

static void where_clause(char *w, size_t len, const struct cat_filter *f)
{
    snprintf(w, len, " WHERE 1%s%s%s%s%s%s", f->room ? " AND room = ?1" : "",
             f->teacher ? " AND teacher = ?2" : "", f->state ? " AND state = ?3" : "",
             f->from_ms ? " AND started_ms >= ?4" : "", f->to_ms ? " AND started_ms < ?5" : "",
             f->q ? " AND (title LIKE ?6 ESCAPE '\\' OR room LIKE ?6 ESCAPE '\\' OR teacher LIKE ?6"
                    " ESCAPE '\\')"
                  : "");
}

json_t *catalog_rec_list(struct catalog *cat, const struct cat_filter *f)
{
    static const struct cat_filter none = {0};
    if (!f)
        f = &none;
    int limit = f->limit <= 0              ? CAT_LIMIT_DEFAULT
                : f->limit > CAT_LIMIT_MAX ? CAT_LIMIT_MAX
                                           : f->limit;
    int offset = f->offset < 0 ? 0 : f->offset;
    char *like = f->q ? like_pattern(f->q) : NULL;
    char where[512], sql[1024];
    where_clause(where, sizeof where, f);
    json_t *list = json_array();
    json_int_t total = 0;

    snprintf(sql, sizeof sql, "SELECT count(*) FROM recordings%s", where);
    sqlite3_stmt *st = prep(cat, sql);
    if (st) {
        bind_filter(st, f, like);
        if (sqlite3_step(st) == SQLITE_ROW)
            total = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    snprintf(sql, sizeof sql,
             "SELECT " REC_COLUMNS " FROM recordings%s ORDER BY started_ms DESC, id DESC "
             "LIMIT ?7 OFFSET ?8",
             where);
    if ((st = prep(cat, sql))) {
        bind_filter(st, f, like);
        sqlite3_bind_int(st, 7, limit);
        sqlite3_bind_int(st, 8, offset);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(list, rec_json(cat, st));
        sqlite3_finalize(st);
    }
    free(like);
    return json_pack("{s:o, s:I}", "recordings", list, "total", total);
}

json_t *catalog_rec_unfinished(struct catalog *cat)
{
    json_t *ids = json_array();
    sqlite3_stmt *st = prep(cat, "SELECT id FROM recordings WHERE state IN "
                                 "('recording', 'packaging') ORDER BY started_ms");
    if (!st)
        return ids;
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(ids, col_text(st, 0));
    sqlite3_finalize(st);
    return ids;
}

int catalog_rec_delete(struct catalog *cat, const char *id)
{
    if (!id)
        return CAT_ERR_ARG;
    sqlite3_stmt *st = prep(cat, "DELETE FROM recordings WHERE id = ? AND state NOT IN "
                                 "('recording', 'packaging')");
    if (!st)
        return CAT_ERR_DB;
    bind_text(st, 1, id);
    int rc = run(cat, st, true);
    if (rc != CAT_ERR_NOT_FOUND)
        return rc;
    json_t *rec = catalog_rec_get(cat, id); /* absent, or in progress */
    rc = rec ? CAT_ERR_BUSY : CAT_ERR_NOT_FOUND;
    json_decref(rec);
    return rc;
}

/* ---- notes ---- */

/* The recording's duration (-1: unknown), or CAT_ERR_NOT_FOUND / CAT_ERR_DB. */
static int64_t rec_duration(struct catalog *cat, const char *id)
{
    sqlite3_stmt *st = prep(cat, "SELECT duration_ms FROM recordings WHERE id = ?");
    if (!st)
        return CAT_ERR_DB;
    bind_text(st, 1, id);
    int64_t d = CAT_ERR_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW)
        d = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return d;
}

static json_t *note_json(sqlite3_stmt *st)
{
    return json_pack("{s:I, s:o, s:I, s:o, s:o, s:I}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "kind", col_text(st, 1), "at_ms",
                     (json_int_t)sqlite3_column_int64(st, 2), "text", col_text(st, 3), "author",
                     col_text(st, 4), "created_ms", (json_int_t)sqlite3_column_int64(st, 5));
}

int catalog_note_add(struct catalog *cat, const char *rec_id, const struct cat_note *note,
                     json_t **out)
{
    *out = NULL;
    const char *author = note->author ? note->author : "";
    long author_chars = utf8_chars(author);
    if (!rec_id || !one_of(note->kind, note_kinds) || note->at_ms < 0 || !note->text ||
        !note->text[0] || strlen(note->text) > CAT_TEXT_MAX || utf8_chars(note->text) < 0 ||
        author_chars < 0 || author_chars > CAT_AUTHOR_MAX)
        return CAT_ERR_ARG;
    int64_t duration = rec_duration(cat, rec_id);
    if (duration == CAT_ERR_NOT_FOUND || duration == CAT_ERR_DB)
        return (int)duration;
    if (duration >= 0 && note->at_ms > duration + CAT_NOTE_SLACK)
        return CAT_ERR_ARG;
    sqlite3_stmt *st =
        prep(cat, "INSERT INTO notes (recording_id, kind, at_ms, text, author, created_ms) "
                  "VALUES (?, ?, ?, ?, ?, ?) RETURNING id, kind, at_ms, text, author, created_ms");
    if (!st)
        return CAT_ERR_DB;
    bind_text(st, 1, rec_id);
    bind_text(st, 2, note->kind);
    sqlite3_bind_int64(st, 3, note->at_ms);
    bind_text(st, 4, note->text);
    bind_text(st, 5, author);
    sqlite3_bind_int64(st, 6, cr_wall_ms());
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = note_json(st);
    if (rc == SQLITE_ROW)
        rc = sqlite3_step(st); /* RETURNING: the insert completes at SQLITE_DONE */
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(*out);
        *out = NULL;
        bool gone = sqlite3_extended_errcode(cat->db) == SQLITE_CONSTRAINT_FOREIGNKEY;
        return gone ? CAT_ERR_NOT_FOUND : db_fail(cat, "add note");
    }
    return 0;
}

json_t *catalog_note_list(struct catalog *cat, const char *rec_id)
{
    if (!rec_id || rec_duration(cat, rec_id) < -1)
        return NULL;
    sqlite3_stmt *st = prep(cat, "SELECT id, kind, at_ms, text, author, created_ms FROM notes "
                                 "WHERE recording_id = ? ORDER BY at_ms, id");
    if (!st)
        return NULL;
    bind_text(st, 1, rec_id);
    json_t *notes = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(notes, note_json(st));
    sqlite3_finalize(st);
    return json_pack("{s:o}", "notes", notes);
}

int catalog_note_delete(struct catalog *cat, const char *rec_id, int64_t note_id)
{
    if (!rec_id)
        return CAT_ERR_ARG;
    sqlite3_stmt *st = prep(cat, "DELETE FROM notes WHERE id = ? AND recording_id = ?");
    if (!st)
        return CAT_ERR_DB;
    sqlite3_bind_int64(st, 1, note_id);
    bind_text(st, 2, rec_id);
    return run(cat, st, true);
}
