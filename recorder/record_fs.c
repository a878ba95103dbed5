/* Files the recorder writes beside its segments (docs/recording.md "On disk"): the track
 * and run folders, track.json and run.json. JSON goes through a temporary file, fsync and
 * rename, so a crash leaves the old file or the new one, never half of one, and the
 * packager never reads a run.json that is still being written. The segments themselves are
 * written by the pipeline (record_pipe.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "record_fs.h"

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int rec_fs_write_json(const char *path, const json_t *doc, char **err)
{
    char *tmp = g_strdup_printf("%s.tmp", path);
    char *text = json_dumps(doc, JSON_COMPACT);
    int fd = -1, saved;

    if (!text) {
        errno = EINVAL;
        goto fail;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto fail;
    free(text);
    g_free(tmp);
    return 0;
fail:
    saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    *err = g_strdup_printf("%s: %s", path, g_strerror(saved));
    free(text);
    g_free(tmp);
    return -1;
}

int rec_fs_next_run(const char *track_dir)
{
    DIR *d = opendir(track_dir);
    struct dirent *e;
    int max = 0;

    if (!d)
        return 1;
    while ((e = readdir(d)) != NULL) {
        unsigned n;
        char tail;
        if (sscanf(e->d_name, "run-%u%c", &n, &tail) == 1 && n < 100000 && (int)n > max)
            max = (int)n;
    }
    closedir(d);
    return max + 1;
}

int rec_fs_mkdirs(const char *dir, char **err)
{
    if (g_mkdir_with_parents(dir, 0755) == 0)
        return 0;
    *err = g_strdup_printf("%s: %s", dir, g_strerror(errno));
    return -1;
}
