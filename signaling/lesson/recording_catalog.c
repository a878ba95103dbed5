/* What the recording controller writes to the catalogue and must not lose (recording.h): a
 * recording's row, made from its recording.json, and its final state once packaged (the
 * lesson's end, then the replay and "ready", or "failed" and why). With the catalogue in
 * PostgreSQL (docs/store.md) the database may be away when a lesson starts or ends: a
 * final state it refused is kept and written again every SAVE_RETRY_MS until it lands,
 * making the row first if the lesson began while the database was away. Writes of passing
 * states (progress, a track's error) are not retried: the next one or the final state
 * replaces them. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/log.h"
#include "cluster/directory.h"
#include "store/catalog.h"
#include "lesson/recording_priv.h"
#include "core/context.h"

#define SAVE_RETRY_MS 10000

/* Bytes under path (recursively). */
static int64_t du(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return (int64_t)st.st_size;
    int64_t sum = 0;
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[REC_DIR_MAX + 300];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        sum += du(sub);
    }
    if (d)
        closedir(d);
    return sum;
}

/* A JSON file of the recording's folder (recording.json, vod/info.json); NULL if unreadable. */
static json_t *load(const char *dir, const char *name)
{
    char path[REC_DIR_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return json_load_file(path, 0, NULL);
}

int rec_cat_create(struct recording *rec, json_t *meta)
{
    if (!rec->srv->catalog)
        return 0;
    struct cat_recording cr = {
        .id = json_string_value(json_object_get(meta, "id")),
        .room = json_string_value(json_object_get(meta, "room")),
        .teacher = json_string_value(json_object_get(meta, "teacher")),
        .title = json_string_value(json_object_get(meta, "title")),
        .started_ms = json_integer_value(json_object_get(meta, "started_ms")),
        .node = dir_url(rec->srv->dir), /* this node holds its files */
    };
    return catalog_rec_create(rec->srv->catalog, &cr);
}

static int write_final(struct recording *rec, const struct rec_pack *p)
{
    struct catalog *cat = rec->srv->catalog;
    int rc = p->ended_ms ? catalog_rec_set_ended(cat, p->id, p->ended_ms) : 0;
    if (rc == 0 && p->error[0])
        return catalog_rec_set_state(cat, p->id, "failed", p->progress, p->error);
    json_t *info = rc == 0 ? load(p->dir, "vod/info.json") : NULL;
    if (rc == 0)
        rc = info ? catalog_rec_set_vod(cat, p->id, info, du(p->dir)) : CAT_ERR_ARG;
    if (rc == 0)
        rc = catalog_rec_set_state(cat, p->id, "ready", 100, NULL);
    json_decref(info);
    return rc;
}

/* 0, or the catalogue's error (CAT_ERR_DB: the database is away). */
static int save(struct recording *rec, const struct rec_pack *p)
{
    int rc = write_final(rec, p);
    if (rc != CAT_ERR_NOT_FOUND)
        return rc;
    json_t *meta = load(p->dir, "recording.json"), *info = load(p->dir, "vod/info.json");
    rc = meta ? rec_cat_create(rec, meta) : CAT_ERR_NOT_FOUND; /* begun while it was away */
    json_t *tracks = json_object_get(info, "tracks");
    if (rc == 0 && json_is_array(tracks))
        catalog_rec_set_tracks(rec->srv->catalog, p->id, tracks);
    json_decref(meta);
    json_decref(info);
    return rc == 0 ? write_final(rec, p) : rc;
}

void rec_cat_final(struct recording *rec, const struct rec_pack *p)
{
    if (!rec->srv->catalog || save(rec, p) != CAT_ERR_DB)
        return;
    CR_WARN("recording", "%s: the catalogue is away: its state is written again later", p->id);
    struct rec_pack *copy = CR_NEW(struct rec_pack);
    *copy = *p;
    copy->next = rec->unsaved;
    rec->unsaved = copy;
}

void rec_cat_tick(struct recording *rec, int64_t now_ms)
{
    if (!rec->unsaved || now_ms < rec->unsaved_at_ms)
        return;
    rec->unsaved_at_ms = now_ms + SAVE_RETRY_MS;
    struct rec_pack **pp = &rec->unsaved;
    while (*pp) {
        struct rec_pack *p = *pp;
        int rc = save(rec, p);
        if (rc == CAT_ERR_DB) {
            pp = &p->next;
            continue;
        }
        if (rc == 0)
            CR_INFO("recording", "%s: its state is in the catalogue now", p->id);
        *pp = p->next;
        free(p);
    }
}

void rec_cat_free_all(struct recording *rec)
{
    while (rec->unsaved) { /* still "recording" or "packaging": the next start packages them */
        struct rec_pack *p = rec->unsaved;
        rec->unsaved = p->next;
        free(p);
    }
}
