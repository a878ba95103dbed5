/* The packaging queue of the recording controller (recording.h): one packager at a time
 * (classrelay-recorder package, niced, killed with the server), its progress written to
 * the catalogue, its final state handed to recording_catalog.c when done. A packager killed
 * with the server leaves the recording "packaging"; the next start packages it again (only
 * this node's: in a cluster the others' are theirs to finish, docs/cluster.md). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "cluster/directory.h"
#include "store/catalog.h"
#include "lesson/child.h"
#include "lesson/evq.h"
#include "lesson/recording_priv.h"
#include "core/context.h"

#define PACK_NICE 10
#define PROGRESS_SAVE_MS 1000 /* catalogue writes of progress, at most this often */
#define RECOVER_DELAY_MS 5000 /* an old recorder may still be finalising */
#define PACK_ATTEMPTS 2       /* a packager that fails is run once more before giving up */

void rec_pack_enqueue(struct recording *rec, const char *id, const char *dir, const char *room,
                      int64_t ended_ms, int64_t delay_ms)
{
    for (struct rec_pack *p = rec->queue; p; p = p->next)
        if (strcmp(p->id, id) == 0)
            return;
    struct rec_pack *p = CR_NEW(struct rec_pack);
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    snprintf(p->room, sizeof p->room, "%s", room);
    p->ended_ms = ended_ms;
    p->not_before_ms = cr_now_ms() + delay_ms;
    struct rec_pack **pp = &rec->queue;
    while (*pp)
        pp = &(*pp)->next;
    *pp = p;
}

static void pop(struct recording *rec)
{
    struct rec_pack *p = rec->queue;
    if (!p)
        return;
    rec->queue = p->next;
    free(p);
}

static void finish(struct recording *rec, struct rec_pack *p, const char *error)
{
    p->done = true;
    if (error && p->attempts < PACK_ATTEMPTS) {
        CR_WARN("recording", "%s: packaging failed (%s): trying again", p->id, error);
        p->retry = true;
        return;
    }
    char path[REC_DIR_MAX + 32];
    snprintf(path, sizeof path, "%s/vod/info.json", p->dir);
    json_error_t jerr;
    json_t *info = error ? NULL : json_load_file(path, 0, &jerr);
    if (!error && !info) {
        CR_ERROR("recording", "%s: packaged, but %s: %s", p->id, path, jerr.text);
        error = "the packager wrote no info.json";
    }
    json_decref(info);
    snprintf(p->error, sizeof p->error, "%s", error ? error : "");
    if (error) {
        rec->package_failed++;
        CR_ERROR("recording", "%s: packaging failed: %s", p->id, error);
    } else {
        rec->packaged++;
        CR_INFO("recording", "%s: ready for replay", p->id);
    }
    rec_cat_final(rec, p); /* written again later if the database is away */
    rec_notify(rec, p->room, error ? "failed" : "ready", p->id, error);
}

static void on_line(struct recording *rec, struct rec_pack *p, const char *line)
{
    json_error_t jerr;
    json_t *ev = json_loads(line, 0, &jerr);
    const char *type = json_string_value(json_object_get(ev, "event"));
    if (type && strcmp(type, "progress") == 0) {
        p->progress = json_number_value(json_object_get(ev, "percent"));
        int64_t now = cr_now_ms();
        if (rec->srv->catalog && now - p->progress_saved_ms >= PROGRESS_SAVE_MS) {
            p->progress_saved_ms = now;
            catalog_rec_set_state(rec->srv->catalog, p->id, "packaging", p->progress, NULL);
        }
    } else if (type && strcmp(type, "done") == 0) {
        finish(rec, p, NULL);
    } else if (type && strcmp(type, "error") == 0) {
        finish(rec, p, json_string_value(json_object_get(ev, "message")) ?: "packaging failed");
    }
    json_decref(ev);
}

bool rec_pack_on_child(struct recording *rec, const struct evq_item *it)
{
    if (!rec->packager || it->child_id != rec->packager->id)
        return false;
    struct rec_pack *p = rec->queue;
    if (it->type == EVQ_CHILD_LINE) {
        on_line(rec, p, it->line);
        return true;
    }
    if (!p->done) {
        char why[96];
        if (WIFSIGNALED(it->status))
            snprintf(why, sizeof why, "the packager was killed by signal %d", WTERMSIG(it->status));
        else
            snprintf(why, sizeof why, "the packager exited with status %d",
                     WEXITSTATUS(it->status));
        finish(rec, p, why);
    }
    child_free(rec->packager, 0);
    rec->packager = NULL;
    if (p->retry) /* stays at the head of the queue for another attempt */
        p->not_before_ms = cr_now_ms() + 3000;
    else
        pop(rec);
    return true;
}

void rec_pack_tick(struct recording *rec, int64_t now_ms)
{
    struct rec_pack *p = rec->queue;
    if (rec->packager || !p || now_ms < p->not_before_ms || !rec->bin[0])
        return;
    char *argv[] = {rec->bin, "package", "--in", p->dir, NULL};
    p->attempts++;
    p->retry = p->done = false;
    rec->packager = child_spawn(rec->srv, argv, PACK_NICE, true);
    if (!rec->packager) {
        finish(rec, p, "the packager cannot start");
        pop(rec);
        return;
    }
    CR_INFO("recording", "%s: packaging", p->id);
}

void rec_pack_free_all(struct recording *rec)
{
    child_free(rec->packager, 0);
    rec->packager = NULL;
    while (rec->queue)
        pop(rec);
}

void rec_pack_recover(struct recording *rec)
{
    struct catalog *cat = rec->srv->catalog;
    json_t *ids = cat ? catalog_rec_unfinished(cat, dir_url(rec->srv->dir)) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        if (!id)
            continue;
        char dir[REC_DIR_MAX];
        snprintf(dir, sizeof dir, "%s/recordings/%s", rec->srv->cfg->data_dir, id);
        CR_INFO("recording", "%s was left unfinished (a crash?): packaging what was written", id);
        json_t *got = catalog_rec_get(cat, id);
        if (got && !json_integer_value(json_object_get(got, "ended_ms"))) {
            /* the crash time is unknown: the last time anything was written */
            struct stat st;
            int64_t ended = 0;
            if (stat(dir, &st) == 0)
                ended = (int64_t)st.st_mtime * 1000;
            catalog_rec_set_ended(cat, id, ended);
        }
        json_decref(got);
        catalog_rec_set_state(cat, id, "packaging", 0, NULL);
        rec_pack_enqueue(rec, id, dir, "", 0, RECOVER_DELAY_MS);
    }
    json_decref(ids);
}
