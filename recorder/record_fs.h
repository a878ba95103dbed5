/* Files the recorder writes beside its segments (docs/recording.md "On disk"). */
#ifndef CR_RECORDER_RECORD_FS_H
#define CR_RECORDER_RECORD_FS_H

#include <jansson.h>

/* Writes doc to path atomically: path.tmp, fsync, rename. On failure returns -1 and sets
 * *err (g_free it) to "path: strerror", e.g. "...: No space left on device". */
int rec_fs_write_json(const char *path, const json_t *doc, char **err);

/* The number for the next run-NNN folder in track_dir: one more than the highest present,
 * 1 when there is none (or the folder cannot be read). */
int rec_fs_next_run(const char *track_dir);

/* Creates dir and its parents (mode 0755). Returns 0 or -1 with *err set. */
int rec_fs_mkdirs(const char *dir, char **err);

#endif
