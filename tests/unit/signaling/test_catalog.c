/* Tests signaling/catalog.c on a real SQLite file in a temporary directory, or on a fresh
 * PostgreSQL database with --pg DIR (sql_file.h; ctest runs both): creating
 * recordings and moving them through their states, the REC object (tracks, renditions,
 * hls/mp4 urls and chapters derived from the packager's info.json, chapter notes merged
 * in), list filters (room, teacher, q, state, from/to, limit/offset, newest first), SQL
 * meta-characters in every text field stored and found verbatim, notes (add, list ordered
 * by position, delete, validation), deleting (refused while recording or packaging; notes
 * go with the recording), the unfinished list, the node holding each recording (one
 * node's unfinished list leaves another's alone; removals of deleted recordings' files left
 * to their holder), and reopening the file (WAL, schema
 * version kept, nothing migrated twice). */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "sql_file.h"
#include "store/catalog.h"
#include "test.h"

static char dir[] = "/tmp/test_catalog.XXXXXX";
static char path[600];
static bool pg; /* the run is on PostgreSQL */

static const char *const evil[] = {
    "'); DROP TABLE recordings;--",     "\" OR 1=1 --",
    "Robert'); DELETE FROM notes; --",  "%_\\ 100% sure_",
    "x'||(SELECT sqlite_version())||'",
};

static struct catalog *open_cat(void)
{
    char err[256] = "";
    struct catalog *cat = catalog_open(path, err, sizeof err);
    if (!cat)
        fprintf(stderr, "catalog_open: %s\n", err);
    CHECK(cat != NULL);
    return cat;
}

/* The catalogue's version; on SQLite user_version must mirror it (db.h). */
static int schema_version(void)
{
    int v = (int)sql_file_int(path, "SELECT version FROM schema_versions WHERE component = "
                                    "'catalog'");
    if (!pg)
        CHECK_EQ(sql_file_int(path, "PRAGMA user_version"), v);
    return v;
}

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "(not a string)";
}

static json_int_t num(json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

static int add(struct catalog *cat, const char *id, const char *room, const char *teacher,
               const char *title, int64_t started)
{
    struct cat_recording r = {id, room, teacher, title, started, NULL};
    return catalog_rec_create(cat, &r);
}

static void test_create_and_states(struct catalog *cat)
{
    CHECK_EQ(add(cat, "20260101-090000-math-a1b2", "math", "Ms Li", "Fractions", 1000), 0);
    CHECK_EQ(add(cat, "20260101-090000-math-a1b2", "math", "x", "dup", 1), CAT_ERR_ARG);
    CHECK_EQ(add(cat, NULL, "math", "x", "t", 1), CAT_ERR_ARG);
    CHECK_EQ(add(cat, "bad-utf8", "math", "x", "\xff\xfe", 1), CAT_ERR_ARG);

    json_t *r = catalog_rec_get(cat, "20260101-090000-math-a1b2");
    CHECK(r != NULL);
    CHECK_STR(str(r, "state"), "recording");
    CHECK_STR(str(r, "teacher"), "Ms Li");
    CHECK_EQ(num(r, "started_ms"), 1000);
    CHECK(json_is_null(json_object_get(r, "ended_ms")));
    CHECK(json_is_null(json_object_get(r, "duration_ms")));
    CHECK(json_is_null(json_object_get(r, "error")));
    CHECK(json_is_null(json_object_get(r, "hls")));
    CHECK(json_is_null(json_object_get(r, "mp4")));
    CHECK(json_is_null(json_object_get(r, "screen")));
    CHECK_EQ(json_array_size(json_object_get(r, "tracks")), 0);
    CHECK_EQ(json_array_size(json_object_get(r, "renditions")), 0);
    CHECK_EQ(json_array_size(json_object_get(r, "chapters")), 0);
    json_decref(r);
    CHECK(catalog_rec_get(cat, "nope") == NULL);

    const char *id = "20260101-090000-math-a1b2";
    CHECK_EQ(catalog_rec_set_state(cat, id, "packaging", 42.5, NULL), 0);
    CHECK_EQ(catalog_rec_set_state(cat, id, "paused", 0, NULL), CAT_ERR_ARG);
    CHECK_EQ(catalog_rec_set_state(cat, "nope", "ready", 0, NULL), CAT_ERR_NOT_FOUND);
    CHECK_EQ(catalog_rec_set_state(cat, id, "packaging", 100.0001, NULL), 0); /* clamped */
    json_t *c = catalog_rec_get(cat, id);
    CHECK(json_real_value(json_object_get(c, "progress")) == 100);
    json_decref(c);
    CHECK_EQ(catalog_rec_set_state(cat, id, "packaging", NAN, NULL), 0); /* NaN: 0 */
    c = catalog_rec_get(cat, id);
    CHECK(json_real_value(json_object_get(c, "progress")) == 0);
    json_decref(c);
    CHECK_EQ(catalog_rec_set_state(cat, id, "packaging", 42.5, NULL), 0);
    CHECK_EQ(catalog_rec_set_ended(cat, id, 61000), 0);
    CHECK_EQ(catalog_rec_set_ended(cat, "nope", 1), CAT_ERR_NOT_FOUND);
    r = catalog_rec_get(cat, id);
    CHECK_STR(str(r, "state"), "packaging");
    CHECK(json_real_value(json_object_get(r, "progress")) == 42.5);
    CHECK_EQ(num(r, "ended_ms"), 61000);
    CHECK_EQ(num(r, "duration_ms"), 60000); /* ended - started until the packager says */
    json_decref(r);

    json_t *tracks = json_loads("[{\"kind\":\"audio\",\"source\":\"mic\",\"codec\":\"opus\"},"
                                "{\"kind\":\"video\",\"source\":\"camera\",\"codec\":\"VP8\"}]",
                                0, NULL);
    CHECK_EQ(catalog_rec_set_tracks(cat, id, tracks), 0);
    CHECK_EQ(catalog_rec_set_tracks(cat, id, json_object_get(tracks, "x")), CAT_ERR_ARG);
    json_t *info = json_loads(
        "{\"duration_ms\":61234,\"transcoded\":true,\"hls\":\"master.m3u8\",\"mp4\":\"lesson.mp4\","
        "\"renditions\":[{\"name\":\"hi\",\"width\":1280,\"height\":720,\"bandwidth\":1500000,"
        "\"playlist\":\"hi/index.m3u8\"},{\"name\":\"lo\",\"width\":640,\"height\":360,"
        "\"bandwidth\":400000,\"playlist\":\"lo/index.m3u8\"},{\"name\":\"evil\",\"width\":1,"
        "\"height\":1,\"bandwidth\":1,\"playlist\":\"../../etc/passwd\"}],"
        "\"chapters\":[{\"at_ms\":30000,\"title\":\"Screen shared\"},"
        "{\"at_ms\":0,\"title\":\"Lesson starts\"}],"
        "\"screen\":{\"playlist\":\"screen/index.m3u8\",\"width\":1280,\"height\":720,"
        "\"shared\":[{\"at_ms\":30000,\"duration_ms\":15000}]}}",
        0, NULL);
    CHECK(info != NULL);
    CHECK_EQ(catalog_rec_set_vod(cat, id, info, 123456789), 0);
    CHECK_EQ(catalog_rec_set_vod(cat, "nope", info, 1), CAT_ERR_NOT_FOUND);
    CHECK_EQ(catalog_rec_set_state(cat, id, "ready", 100, NULL), 0);
    r = catalog_rec_get(cat, id);
    CHECK_STR(str(r, "state"), "ready");
    CHECK_EQ(num(r, "duration_ms"), 61234);
    CHECK_EQ(num(r, "size_bytes"), 123456789);
    CHECK_STR(str(r, "hls"), "/recordings/20260101-090000-math-a1b2/master.m3u8");
    CHECK_STR(str(r, "mp4"), "/recordings/20260101-090000-math-a1b2/lesson.mp4");
    json_t *rend = json_object_get(r, "renditions");
    CHECK_EQ(json_array_size(rend), 2); /* the one escaping vod/ is dropped */
    CHECK_STR(str(json_array_get(rend, 0), "url"),
              "/recordings/20260101-090000-math-a1b2/hi/index.m3u8");
    CHECK_EQ(num(json_array_get(rend, 1), "height"), 360);
    CHECK_EQ(num(json_array_get(rend, 1), "bandwidth"), 400000);
    CHECK(json_equal(json_object_get(r, "tracks"), tracks));
    json_t *scr = json_object_get(r, "screen");
    CHECK_STR(str(scr, "url"), "/recordings/20260101-090000-math-a1b2/screen/index.m3u8");
    CHECK_EQ(num(scr, "height"), 720);
    CHECK_EQ(num(json_array_get(json_object_get(scr, "shared"), 0), "duration_ms"), 15000);
    json_t *ch = json_object_get(r, "chapters");
    CHECK_EQ(json_array_size(ch), 2);
    CHECK_EQ(num(json_array_get(ch, 0), "at_ms"), 0);
    CHECK_STR(str(json_array_get(ch, 1), "title"), "Screen shared");
    json_decref(r);
    json_decref(tracks);
    json_decref(info);

    CHECK_EQ(add(cat, "20260101-100000-art-0001", "art", "Mr Wu", "Colours", 5000), 0);
    CHECK_EQ(catalog_rec_set_state(cat, "20260101-100000-art-0001", "failed", 0,
                                   "no audio or video track was recorded"),
             0);
    r = catalog_rec_get(cat, "20260101-100000-art-0001");
    CHECK_STR(str(r, "error"), "no audio or video track was recorded");
    json_decref(r);
    CHECK_EQ(catalog_rec_set_state(cat, "20260101-100000-art-0001", "ready", 100, NULL), 0);
    r = catalog_rec_get(cat, "20260101-100000-art-0001");
    CHECK(json_is_null(json_object_get(r, "error"))); /* NULL clears it */
    json_decref(r);
}

/* Every text field gets SQL meta-characters; all are stored and shown verbatim. */
static void test_meta_characters(struct catalog *cat)
{
    char id[32];
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        snprintf(id, sizeof id, "evil-%zu", i);
        CHECK_EQ(add(cat, id, evil[i], evil[i], evil[i], 100000 + (int64_t)i), 0);
        CHECK_EQ(catalog_rec_set_state(cat, id, "failed", 0, evil[i]), 0);
        json_t *r = catalog_rec_get(cat, id);
        CHECK_STR(str(r, "room"), evil[i]);
        CHECK_STR(str(r, "teacher"), evil[i]);
        CHECK_STR(str(r, "title"), evil[i]);
        CHECK_STR(str(r, "error"), evil[i]);
        json_decref(r);
        struct cat_note n = {"comment", 5, evil[i], evil[i]};
        json_t *out = NULL;
        CHECK_EQ(catalog_note_add(cat, id, &n, &out), 0);
        CHECK_STR(str(out, "text"), evil[i]);
        CHECK_STR(str(out, "author"), evil[i]);
        json_decref(out);
        /* as a filter value: finds exactly this one */
        struct cat_filter f = {.room = evil[i]};
        json_t *l = catalog_rec_list(cat, &f);
        CHECK_EQ(num(l, "total"), 1);
        json_decref(l);
        struct cat_filter fq = {.q = evil[i]};
        l = catalog_rec_list(cat, &fq);
        CHECK_EQ(num(l, "total"), 1);
        CHECK_STR(str(json_array_get(json_object_get(l, "recordings"), 0), "id"), id);
        json_decref(l);
        CHECK(catalog_rec_get(cat, evil[i]) == NULL); /* as an id */
        CHECK(catalog_note_list(cat, evil[i]) == NULL);
    }
    /* the tables are all still there */
    json_t *l = catalog_rec_list(cat, NULL);
    CHECK_EQ(num(l, "total"), 2 + (json_int_t)(sizeof evil / sizeof evil[0]));
    json_decref(l);
    json_t *notes = catalog_note_list(cat, "evil-2");
    CHECK_EQ(json_array_size(json_object_get(notes, "notes")), 1);
    json_decref(notes);
    /* "%" and "_" in q are literal, not LIKE wildcards */
    struct cat_filter f = {.q = "100%"};
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), 1);
    json_decref(l);
    f.q = "M_ Li"; /* as a wildcard it would find "Ms Li" */
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), 0);
    json_decref(l);
    f.q = "Fr%ns"; /* ... and "Fractions" */
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), 0);
    json_decref(l);
}

static void test_list_filters(struct catalog *cat)
{
    struct cat_filter f = {0};
    json_t *l = catalog_rec_list(cat, &f);
    json_t *recs = json_object_get(l, "recordings");
    size_t total = json_array_size(recs);
    CHECK_EQ(num(l, "total"), total);
    for (size_t i = 1; i < total; i++) /* newest first */
        CHECK(num(json_array_get(recs, i - 1), "started_ms") >=
              num(json_array_get(recs, i), "started_ms"));
    json_decref(l);

    f = (struct cat_filter){.room = "math"};
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), 1);
    json_decref(l);
    f = (struct cat_filter){.teacher = "Mr Wu"};
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), 1);
    CHECK_STR(str(json_array_get(json_object_get(l, "recordings"), 0), "room"), "art");
    json_decref(l);
    f = (struct cat_filter){.q = "fraction"}; /* substring, ASCII case-insensitive */
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), 1);
    json_decref(l);
    f = (struct cat_filter){.q = "ms l"}; /* the teacher */
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), 1);
    json_decref(l);
    f = (struct cat_filter){.state = "ready"};
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), 2);
    json_decref(l);
    f = (struct cat_filter){.from_ms = 1000, .to_ms = 5000}; /* [from, to) */
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), 1);
    json_decref(l);
    f = (struct cat_filter){.from_ms = 5000};
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), total - 1);
    json_decref(l);
    f = (struct cat_filter){.room = "math", .teacher = "Mr Wu"};
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), 0);
    json_decref(l);

    f = (struct cat_filter){.limit = 2, .offset = 1};
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(num(l, "total"), total); /* total ignores paging */
    recs = json_object_get(l, "recordings");
    CHECK_EQ(json_array_size(recs), 2);
    json_t *all = catalog_rec_list(cat, NULL);
    CHECK_STR(str(json_array_get(recs, 0), "id"),
              str(json_array_get(json_object_get(all, "recordings"), 1), "id"));
    json_decref(all);
    json_decref(l);
    f = (struct cat_filter){.offset = 1000};
    l = catalog_rec_list(cat, &f);
    CHECK_EQ(json_array_size(json_object_get(l, "recordings")), 0);
    json_decref(l);
}

static void test_notes(struct catalog *cat)
{
    const char *id = "20260101-090000-math-a1b2";
    json_t *out = NULL;
    struct cat_note n = {"bookmark", 20000, "Good question here", "researcher 1"};
    CHECK_EQ(catalog_note_add(cat, id, &n, &out), 0);
    CHECK_EQ(num(out, "at_ms"), 20000);
    CHECK_STR(str(out, "kind"), "bookmark");
    CHECK(num(out, "id") > 0);
    CHECK(num(out, "created_ms") > 1700000000000LL);
    json_int_t bookmark = num(out, "id");
    json_decref(out);
    n = (struct cat_note){"chapter", 10000, "Group work", NULL};
    CHECK_EQ(catalog_note_add(cat, id, &n, &out), 0);
    CHECK_STR(str(out, "author"), "");
    json_decref(out);
    n = (struct cat_note){"comment", 0, "李老师 asks 🙂", "研究员"};
    CHECK_EQ(catalog_note_add(cat, id, &n, &out), 0);
    json_decref(out);

    /* validation */
    char big[2002];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    static const struct cat_note bad[] = {
        {"rant", 0, "x", NULL},
        {NULL, 0, "x", NULL},
        {"comment", -1, "x", NULL},
        {"comment", 0, "", NULL},
        {"comment", 0, NULL, NULL},
        {"comment", 0, "\xc3", NULL},
        {"comment", 0, "\xc0\xaf", NULL},     /* overlong "/" */
        {"comment", 0, "\xed\xa0\x80", NULL}, /* a surrogate */
        {"comment", 0, "x", "\xff"},
        {"comment", 0, "x", "12345678901234567890123456789012345678901234567890123456789012345"},
        {"comment", 61234 + 60001, "too late", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(catalog_note_add(cat, id, &bad[i], &out), CAT_ERR_ARG);
        CHECK(out == NULL);
    }
    n = (struct cat_note){"comment", 0, big, NULL};
    CHECK_EQ(catalog_note_add(cat, id, &n, &out), CAT_ERR_ARG); /* 2001 bytes */
    big[2000] = '\0';
    CHECK_EQ(catalog_note_add(cat, id, &n, &out), 0); /* 2000 */
    json_int_t big_id = num(out, "id");
    json_decref(out);
    char author[64 * 3 + 1] = ""; /* 64 characters, 192 bytes */
    for (int i = 0; i < 64; i++)
        strcat(author, "\xe7\xa0\x94"); /* 研 */
    n = (struct cat_note){"comment", 0, "x", author};
    CHECK_EQ(catalog_note_add(cat, id, &n, &out), 0);
    json_int_t long_author = num(out, "id");
    json_decref(out);
    n = (struct cat_note){"comment", 0, "x", NULL};
    CHECK_EQ(catalog_note_add(cat, "nope", &n, &out), CAT_ERR_NOT_FOUND);
    CHECK(out == NULL);

    json_t *l = catalog_note_list(cat, id);
    json_t *notes = json_object_get(l, "notes");
    CHECK_EQ(json_array_size(notes), 5);
    for (size_t i = 1; i < json_array_size(notes); i++) /* ordered by at_ms */
        CHECK(num(json_array_get(notes, i - 1), "at_ms") <= num(json_array_get(notes, i), "at_ms"));
    CHECK_STR(str(json_array_get(notes, 4), "kind"), "bookmark");
    json_decref(l);
    CHECK(catalog_note_list(cat, "nope") == NULL);

    /* a chapter note shows among the chapters */
    json_t *r = catalog_rec_get(cat, id);
    json_t *ch = json_object_get(r, "chapters");
    CHECK_EQ(json_array_size(ch), 3);
    CHECK_STR(str(json_array_get(ch, 1), "title"), "Group work");
    CHECK_EQ(num(json_array_get(ch, 1), "at_ms"), 10000);
    json_decref(r);

    CHECK_EQ(catalog_note_delete(cat, id, bookmark), 0);
    CHECK_EQ(catalog_note_delete(cat, id, bookmark), CAT_ERR_NOT_FOUND);
    CHECK_EQ(catalog_note_delete(cat, "evil-0", big_id), CAT_ERR_NOT_FOUND); /* another's */
    CHECK_EQ(catalog_note_delete(cat, id, big_id), 0);
    CHECK_EQ(catalog_note_delete(cat, id, long_author), 0);
    l = catalog_note_list(cat, id);
    CHECK_EQ(json_array_size(json_object_get(l, "notes")), 2);
    json_decref(l);
}

static void test_unfinished_and_delete(struct catalog *cat)
{
    CHECK_EQ(add(cat, "live-1", "music", "Ms Ko", "Songs", 9000), 0);
    CHECK_EQ(add(cat, "live-2", "music", "Ms Ko", "Songs 2", 9500), 0);
    CHECK_EQ(catalog_rec_set_state(cat, "live-2", "packaging", 10, NULL), 0);
    json_t *u = catalog_rec_unfinished(cat, "");
    CHECK_EQ(json_array_size(u), 2);
    CHECK_STR(json_string_value(json_array_get(u, 0)), "live-1");
    CHECK_STR(json_string_value(json_array_get(u, 1)), "live-2");
    json_decref(u);

    CHECK_EQ(catalog_rec_delete(cat, "live-1"), CAT_ERR_BUSY);
    CHECK_EQ(catalog_rec_delete(cat, "live-2"), CAT_ERR_BUSY);
    CHECK_EQ(catalog_rec_delete(cat, "nope"), CAT_ERR_NOT_FOUND);
    CHECK_EQ(catalog_rec_delete(cat, evil[0]), CAT_ERR_NOT_FOUND);

    /* the cascade: the notes go with the recording */
    const char *id = "20260101-090000-math-a1b2";
    CHECK_EQ(catalog_rec_delete(cat, id), 0);
    CHECK(catalog_rec_get(cat, id) == NULL);
    CHECK(catalog_note_list(cat, id) == NULL);
    CHECK_EQ(catalog_rec_delete(cat, id), CAT_ERR_NOT_FOUND);
    CHECK_EQ(sql_file_int(path, "SELECT count(*) FROM notes WHERE recording_id = "
                                "'20260101-090000-math-a1b2'"),
             0);

    CHECK_EQ(catalog_rec_set_state(cat, "live-1", "ready", 100, NULL), 0);
    u = catalog_rec_unfinished(cat, NULL);
    CHECK_EQ(json_array_size(u), 1);
    json_decref(u);
}

/* In a cluster each recording names the node that holds its files (migration 2): REC's
 * "node", catalog_rec_node(), the unfinished list of one node alone, and the removals a
 * deleting node leaves to the holder. */
static void test_holder(struct catalog *cat)
{
    const char *a = "http://10.0.0.1:8080", *b = "https://node-b.example.org:8443";
    struct cat_recording ra = {"node-a-1", "gallery", "Mr Wu", "Colours", 20000, a};
    struct cat_recording rb = {"node-b-1", "gallery", "Mr Wu", "Shapes", 21000, b};
    CHECK_EQ(catalog_rec_create(cat, &ra), 0);
    CHECK_EQ(catalog_rec_create(cat, &rb), 0);
    char node[CAT_NODE_MAX] = "x", big[CAT_NODE_MAX + 8];
    CHECK_EQ(catalog_rec_node(cat, "node-a-1", node), 0);
    CHECK_STR(node, a);
    CHECK_EQ(catalog_rec_node(cat, "live-1", node), 0);
    CHECK_STR(node, ""); /* a single node's */
    CHECK_EQ(catalog_rec_node(cat, "nope", node), CAT_ERR_NOT_FOUND);
    CHECK_STR(node, "");
    memset(big, 'h', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct cat_recording too_long = {"node-c-1", "gallery", "", "", 1, big};
    CHECK_EQ(catalog_rec_create(cat, &too_long), CAT_ERR_ARG);

    json_t *r = catalog_rec_get(cat, "node-b-1");
    CHECK_STR(str(r, "node"), b);
    json_decref(r);
    r = catalog_rec_get(cat, "live-1");
    CHECK(json_is_null(json_object_get(r, "node")));
    json_decref(r);
    json_t *l = catalog_rec_list(cat, &(struct cat_filter){.room = "gallery"});
    CHECK_EQ(json_array_size(json_object_get(l, "recordings")), 2);
    CHECK_STR(str(json_array_get(json_object_get(l, "recordings"), 0), "node"), b);
    json_decref(l);

    /* each node finishes only its own: B's live recording is not A's to package */
    json_t *u = catalog_rec_unfinished(cat, a);
    CHECK_EQ(json_array_size(u), 1);
    CHECK_STR(json_string_value(json_array_get(u, 0)), "node-a-1");
    json_decref(u);
    u = catalog_rec_unfinished(cat, "");
    CHECK_EQ(json_array_size(u), 1); /* live-2, a single node's */
    CHECK_STR(json_string_value(json_array_get(u, 0)), "live-2");
    json_decref(u);

    /* deleted on A, held by B: a removal for B alone, taken once */
    CHECK_EQ(catalog_removal_add(cat, "node-b-1", b), 0);
    CHECK_EQ(catalog_removal_add(cat, "node-b-1", b), 0); /* again: kept once */
    CHECK_EQ(catalog_removal_add(cat, "node-x-1", ""), CAT_ERR_ARG);
    CHECK_EQ(catalog_removal_add(cat, NULL, b), CAT_ERR_ARG);
    u = catalog_removals(cat, a);
    CHECK_EQ(json_array_size(u), 0);
    json_decref(u);
    u = catalog_removals(cat, b);
    CHECK_EQ(json_array_size(u), 1);
    CHECK_STR(json_string_value(json_array_get(u, 0)), "node-b-1");
    json_decref(u);
    CHECK_EQ(catalog_removal_done(cat, "node-b-1"), 0);
    CHECK_EQ(catalog_removal_done(cat, "node-b-1"), CAT_ERR_NOT_FOUND);
    u = catalog_removals(cat, b);
    CHECK_EQ(json_array_size(u), 0);
    json_decref(u);
}

static void test_reopen(void)
{
    CHECK_EQ(schema_version(), 2);
    struct catalog *cat = open_cat(); /* would fail if a migration ran again */
    if (!cat)
        return;
    CHECK_EQ(schema_version(), 2);
    json_t *r = catalog_rec_get(cat, "live-2");
    CHECK(r != NULL);
    CHECK_STR(str(r, "state"), "packaging");
    json_decref(r);
    catalog_close(cat);

    /* a file from a newer server is refused, not scribbled on */
    CHECK_EQ(sql_file_exec(path, pg ? "UPDATE schema_versions SET version = 99 WHERE component "
                                      "= 'catalog'"
                                    : "PRAGMA user_version = 99"),
             SQLITE_OK);
    char err[256] = "";
    CHECK(catalog_open(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "99") != NULL);

    /* not a database, and a folder that does not exist */
    char junk[300];
    snprintf(junk, sizeof junk, "%s/junk.db", dir);
    FILE *f = fopen(junk, "wb");
    fputs("this is not an SQLite file, not at all, it is long enough to have a header", f);
    fclose(f);
    CHECK(catalog_open(junk, err, sizeof err) == NULL);
    CHECK(catalog_open("/nonexistent-dir/x/classrelay.db", err, sizeof err) == NULL);
    catalog_close(NULL);
}

int main(int argc, char **argv)
{
    if (!mkdtemp(dir) || sql_test_args(argc, argv) != 0) {
        perror("mkdtemp");
        return 1;
    }
    sql_test_db(dir, "test_catalog", path, sizeof path);
    pg = sql_is_pg(path);
    struct catalog *cat = open_cat();
    if (!cat)
        return test_report();
    CHECK_EQ(schema_version(), 2);
    test_create_and_states(cat);
    test_meta_characters(cat);
    test_list_filters(cat);
    test_notes(cat);
    test_unfinished_and_delete(cat);
    test_holder(cat);
    catalog_close(cat);
    test_reopen();
    sql_test_cleanup();
    test_remove_tree(dir);
    return test_report();
}
