/* A recording's files on this node, DATA/recordings/<id>, removed when the recording is
 * deleted (recording.h). Deleted on this node: removed at once. In a cluster without a shared
 * recordings folder, a recording deleted on another node leaves its files here: that node
 * leaves a removal in the catalogue for the holder it names (catalog_removal_add), and this
 * node looks for its own every REMOVALS_EVERY_MS, removes the folders and marks them done
 * (docs/cluster.md, "Recordings"). */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "cluster/directory.h"
#include "store/catalog.h"
#include "lesson/recording_priv.h"
#include "core/context.h"

#define REMOVALS_EVERY_MS 10000

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    if (rc != 0)
        CR_WARN("recordings", "cannot remove %s: %s", path, strerror(errno));
    return 0; /* remove as much as can be */
}

/* Removes DATA/recordings/<id> (an id the catalogue or a checked path gave: one path
 * component); a folder that is not there is no error. */
static void remove_files(struct recording *rec, const char *id)
{
    char dir[REC_DIR_MAX];
    if (!id[0] || strchr(id, '/') || id[0] == '.' ||
        (size_t)snprintf(dir, sizeof dir, "%s/recordings/%s", rec->srv->cfg->data_dir, id) >=
            sizeof dir)
        return;
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        CR_WARN("recordings", "cannot remove %s: %s", dir, strerror(errno));
}

void recording_deleted(struct recording *rec, const char *id, const char *holder)
{
    remove_files(rec, id); /* this node's, or a shared folder's */
    const char *here = dir_url(rec->srv->dir);
    if (holder && holder[0] && strcmp(holder, here) != 0 && rec->srv->catalog &&
        catalog_removal_add(rec->srv->catalog, id, holder) != 0)
        CR_WARN("recordings", "%s: its holder %s is not told to remove its files", id, holder);
}

void rec_files_tick(struct recording *rec, int64_t now_ms)
{
    const char *here = dir_url(rec->srv->dir);
    if (!rec->srv->catalog || !here[0] || now_ms < rec->removals_at_ms)
        return;
    rec->removals_at_ms = now_ms + REMOVALS_EVERY_MS;
    json_t *ids = catalog_removals(rec->srv->catalog, here), *v;
    size_t i;
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        if (!id)
            continue;
        remove_files(rec, id);
        catalog_removal_done(rec->srv->catalog, id);
        CR_INFO("recordings", "%s: deleted on another node, its files here removed", id);
    }
    json_decref(ids);
}
