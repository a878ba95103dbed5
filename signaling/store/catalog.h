/* The recordings catalogue: one row per recorded lesson and the notes researchers leave on
 * it (comments, bookmarks, chapters), kept in the embedded SQLite database file
 * DATA/classrelay.db, or in the PostgreSQL database of store = postgresql://...
 * (docs/recording.md, docs/store.md). The schema is versioned and migrated at open by db.c
 * (component "catalog").
 *
 * Every function runs on the lws thread and is synchronous: the statements are small and
 * indexed, and SQLite runs in WAL mode, so a call takes well under a millisecond (on
 * PostgreSQL, a round trip to its server). Ids are
 * text chosen by the caller for recordings and integers for notes. Functions return 0 or
 * a negative CAT_ERR_*. */
#ifndef CR_SIGNALING_CATALOG_H
#define CR_SIGNALING_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum cat_err {
    CAT_OK = 0,
    CAT_ERR_NOT_FOUND = -2,
    CAT_ERR_ARG = -3,  /* a value out of range or malformed */
    CAT_ERR_BUSY = -4, /* refused in the current state (deleting a recording in progress) */
    CAT_ERR_DB = -5,   /* the database failed (disk full, corrupt, unreachable): logged */
};

struct catalog;

/* Opens target, a PostgreSQL URI ("postgresql://..." or "postgres://...") or else the path of
 * a SQLite file (created if missing), and migrates it. NULL with a reason in err on
 * failure. */
struct catalog *catalog_open(const char *target, char *err, size_t err_len);
void catalog_close(struct catalog *cat); /* NULL: nothing */

#define CAT_NODE_MAX 256 /* bytes of a node's URL, with its NUL */

struct cat_recording { /* the fields the controller sets; text fields are copied */
    const char *id, *room, *teacher, *title;
    int64_t started_ms;
    const char *node; /* the URL of the node that records it and holds its files (a
                         cluster's, docs/cluster.md); NULL or "": a single node */
};
int catalog_rec_create(struct catalog *cat, const struct cat_recording *rec);

/* state: "recording", "packaging", "ready", "failed". progress 0..100 (clamped). error: NULL
 * clears it. */
int catalog_rec_set_state(struct catalog *cat, const char *id, const char *state, double progress,
                          const char *error);
int catalog_rec_set_ended(struct catalog *cat, const char *id, int64_t ended_ms);
/* tracks: a JSON array [{"kind","source","codec"}] (borrowed, not stolen). */
int catalog_rec_set_tracks(struct catalog *cat, const char *id, json_t *tracks);
/* info: the packager's vod/info.json (borrowed); sets duration, renditions, chapters, hls
 * and mp4 urls; size_bytes: the recording folder's size. */
int catalog_rec_set_vod(struct catalog *cat, const char *id, json_t *info, int64_t size_bytes);

/* One recording as the REST API shows it (REC in docs/recording.md); NULL if absent. */
json_t *catalog_rec_get(struct catalog *cat, const char *id);
/* The URL of the node that holds recording id's files into node ("" : a single node's).
 * CAT_ERR_NOT_FOUND for an unknown recording. */
int catalog_rec_node(struct catalog *cat, const char *id, char node[CAT_NODE_MAX]);

struct cat_filter {                 /* NULL / 0: no condition */
    const char *room, *teacher, *q; /* q: substring of title, room or teacher */
    int64_t from_ms, to_ms;         /* started_ms in [from, to) */
    const char *state;
    int limit, offset; /* limit 0: 50; at most 500 */
};
/* {"recordings":[REC...],"total":N}, newest first; f NULL: no conditions. NULL when the
 * database failed (logged). */
json_t *catalog_rec_list(struct catalog *cat, const struct cat_filter *f);

/* Ids of the recordings of node (cat_recording.node; NULL as "") left "recording" or
 * "packaging" (a crash interrupted them): a JSON array of strings. Another node's are
 * that node's to finish. */
json_t *catalog_rec_unfinished(struct catalog *cat, const char *node);

/* Removes the row and its notes (not the files). CAT_ERR_BUSY while recording/packaging. */
int catalog_rec_delete(struct catalog *cat, const char *id);

/* Deleted recordings whose files another node holds (a cluster without a shared recordings
 * folder, docs/cluster.md): the node that deletes one leaves a removal for the holder
 * (node: its URL), which finds it (at most 100 at a time, oldest first), removes the files
 * and marks it done. Adding one twice keeps the first. */
int catalog_removal_add(struct catalog *cat, const char *id, const char *node);
json_t *catalog_removals(struct catalog *cat, const char *node); /* a JSON array of ids */
int catalog_removal_done(struct catalog *cat, const char *id);

struct cat_note {
    const char *kind; /* "comment", "bookmark", "chapter" */
    int64_t at_ms;    /* position in the lesson, >= 0 */
    const char *text; /* 1..2000 bytes of UTF-8 */
    const char *author;
};
/* Adds a note; *out gets the NOTE object (new reference). CAT_ERR_ARG for a kind, text or
 * author out of bounds (author: at most 64 characters) or at_ms more than a minute past a
 * known duration; CAT_ERR_NOT_FOUND for an unknown recording. */
int catalog_note_add(struct catalog *cat, const char *rec_id, const struct cat_note *note,
                     json_t **out);
/* {"notes":[...]} ordered by at_ms; NULL if the recording is absent. */
json_t *catalog_note_list(struct catalog *cat, const char *rec_id);
int catalog_note_delete(struct catalog *cat, const char *rec_id, int64_t note_id);

#endif
