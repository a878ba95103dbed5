/* Fuzz entry point for the body of POST /api/v1/recordings/<id>/notes (the replay page's
 * comments, bookmarks and chapters; docs/recording.md): front/rest_recordings.c
 * rest_note_in reads it, store/catalog.c catalog_note_add checks its bounds and stores it in
 * a real SQLite catalogue (in memory), as the handler does. The first input byte picks
 * the recording: one still recording (no duration yet) or one of 90 s. Checks: a refusal
 * says why in a sentence that makes a JSON error answer; a stored note reads back as sent
 * (kind, position, text, author) and is listed; nothing but CAT_ERR_ARG refuses a note. */
#include <stdint.h>
#include <stdio.h>

#include "answer_check.h"
#include "base/log.h"
#include "front/rest_recordings.h"
#include "store/catalog.h"

static struct catalog *cat;

static void init_once(void)
{
    char err[256];
    cr_log_set_level(CR_LOG_ERROR);
    if (!(cat = catalog_open(":memory:", err, sizeof err)))
        abort();
    struct cat_recording live = {"rec-live", "lesson", "Teacher", "Live", 1000, NULL};
    struct cat_recording done = {"rec-done", "lesson", "Teacher", "Done", 1000, NULL};
    json_t *info = json_pack("{s:I}", "duration_ms", (json_int_t)90000);
    if (catalog_rec_create(cat, &live) || catalog_rec_create(cat, &done) ||
        catalog_rec_set_vod(cat, "rec-done", info, 0))
        abort();
    json_decref(info);
}

static bool same_text(json_t *v, const char *want)
{
    return json_is_string(v) && strcmp(json_string_value(v), want ? want : "") == 0;
}

/* The note just added, as the list shows it. */
static void check_listed(const char *rec, json_int_t id)
{
    json_t *list = catalog_note_list(cat, rec), *n;
    size_t i;
    bool found = false;
    REQUIRE(list);
    json_array_foreach(json_object_get(list, "notes"), i, n) found |=
        json_integer_value(json_object_get(n, "id")) == id;
    REQUIRE(found);
    json_decref(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cat)
        init_once();
    if (size < 1)
        return 0;
    const char *rec = data[0] & 1 ? "rec-done" : "rec-live";
    char *text = malloc(size - 1 ? size - 1 : 1); /* exact size: overreads are caught */
    memcpy(text, data + 1, size - 1);
    struct cat_note note;
    const char *why;
    char buf[256];
    json_t *body = rest_note_in(text, size - 1, &note, &why, buf, sizeof buf);
    free(text);
    if (why) {
        check_sentence(body ? SRV_ERR_BAD_REQUEST : SRV_ERR_BAD_JSON, why, strlen(why) + 1);
        json_decref(body);
        return 0;
    }
    REQUIRE(body && note.kind && note.text && note.at_ms >= 0);
    json_t *out = NULL;
    int rc = catalog_note_add(cat, rec, &note, &out);
    REQUIRE(rc == 0 || rc == CAT_ERR_ARG);
    if (rc == 0) {
        REQUIRE(same_text(json_object_get(out, "kind"), note.kind));
        REQUIRE(same_text(json_object_get(out, "text"), note.text));
        REQUIRE(same_text(json_object_get(out, "author"), note.author));
        REQUIRE(json_integer_value(json_object_get(out, "at_ms")) == note.at_ms);
        json_int_t id = json_integer_value(json_object_get(out, "id"));
        check_listed(rec, id);
        REQUIRE(catalog_note_delete(cat, rec, id) == 0); /* the catalogue stays small */
    }
    json_decref(out);
    json_decref(body);
    return 0;
}
