/* package_scan: the recording folder as the packager sees it. Lists tracks/<key>/ (with
 * track.json), their run-NNN/ folders (with run.json) and seg-NNNNN.mkv files, probes each
 * run's first buffer (first readable segment) and last buffer (last readable segment, read
 * whole because it may be truncated), and picks the lesson's video (camera tracks, else
 * screen) and audio (mic tracks, else any audio) runs, plus the screen runs beside a
 * camera. The screen runs never move the lesson's start or end. Decoding is package_read's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "package_read.h"
#include "package_scan.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in DIR starting with PREFIX and ending with SUFFIX (g_strfreev). */
static char **list_dir(const char *dir, const char *prefix, const char *suffix, int *n)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    GPtrArray *a = g_ptr_array_new();
    const char *name;

    while (d && (name = g_dir_read_name(d)) != NULL)
        if (g_str_has_prefix(name, prefix) && g_str_has_suffix(name, suffix))
            g_ptr_array_add(a, g_strdup(name));
    if (d)
        g_dir_close(d);
    if (a->len > 1) /* pdata may be NULL when empty */
        qsort(a->pdata, a->len, sizeof(char *), cmp_str);
    *n = (int)a->len;
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

static char *json_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return g_strdup(s ? s : "");
}

static void caps_size(const GstCaps *caps, int *w, int *h)
{
    const GstStructure *st = gst_caps_get_structure(caps, 0);
    *w = *h = 0;
    gst_structure_get_int(st, "width", w);
    gst_structure_get_int(st, "height", h);
}

/* First and last readable buffers of the run; first_pts stays -1 when there is none. */
static void probe_run(struct pkg_run *run)
{
    int64_t first, end;
    GstCaps *caps;

    run->first_pts = run->end_pts = -1;
    for (int i = 0; i < run->n_segs; i++)
        if (pkg_probe_segment(run->segs[i], false, &first, &end, &caps) == 0) {
            run->first_pts = first;
            run->caps = caps;
            caps_size(caps, &run->width, &run->height);
            break;
        }
    if (run->first_pts < 0)
        return;
    /* each segment starts at a keyframe with its own caps: the run is as big as its largest
     * (the relay may forward a low simulcast layer for the first seconds) */
    for (int i = 0; run->width > 0 && i < run->n_segs; i++) {
        int w, h;
        if (pkg_probe_segment(run->segs[i], false, &first, &end, &caps) != 0)
            continue;
        caps_size(caps, &w, &h);
        gst_caps_unref(caps);
        if (w <= 0 || h <= 0)
            continue;
        run->size_changes |= w != run->width || h != run->height;
        if ((int64_t)w * h > (int64_t)run->width * run->height) {
            run->width = w;
            run->height = h;
        }
    }
    for (int i = run->n_segs - 1; i >= 0; i--)
        if (pkg_probe_segment(run->segs[i], true, &first, &end, &caps) == 0) {
            run->end_pts = end;
            gst_caps_unref(caps);
            break;
        }
    if (run->end_pts < run->first_pts)
        run->end_pts = run->first_pts;
}

static int load_run(struct pkg_run *run, const char *dir, const char *name)
{
    char *path = g_build_filename(dir, "run.json", NULL);
    json_t *j = json_load_file(path, 0, NULL);
    char **names;

    g_free(path);
    if (!j || !json_is_integer(json_object_get(j, "base_unix_ns"))) {
        fprintf(stderr, "package: warning: %s/run.json missing or invalid, run skipped\n", dir);
        json_decref(j);
        return -1;
    }
    run->base_unix_ns = json_integer_value(json_object_get(j, "base_unix_ns"));
    json_decref(j);
    run->index = atoi(name + 4);
    names = list_dir(dir, "seg-", ".mkv", &run->n_segs);
    run->segs = g_new0(char *, run->n_segs + 1);
    for (int i = 0; i < run->n_segs; i++) {
        struct stat st;
        run->segs[i] = g_build_filename(dir, names[i], NULL);
        if (stat(run->segs[i], &st) == 0)
            run->bytes += (uint64_t)st.st_size;
    }
    g_strfreev(names);
    probe_run(run);
    return 0;
}

static int load_track(struct pkg_track *t, const char *dir, const char *key)
{
    char *path = g_build_filename(dir, "track.json", NULL);
    json_t *j = json_load_file(path, 0, NULL);
    char **names;
    int n;

    g_free(path);
    if (!j) {
        fprintf(stderr, "package: warning: %s/track.json missing, track skipped\n", dir);
        return -1;
    }
    t->key = g_strdup(key);
    t->kind = json_str(j, "kind");
    t->source = json_str(j, "source");
    t->label = json_is_string(json_object_get(j, "label")) ? json_str(j, "label") : NULL;
    t->codec = json_str(j, "codec");
    json_decref(j);
    names = list_dir(dir, "run-", "", &n);
    t->runs = g_new0(struct pkg_run, n > 0 ? n : 1);
    for (int i = 0; i < n; i++) {
        char *rdir = g_build_filename(dir, names[i], NULL);
        struct pkg_run *run = &t->runs[t->n_runs];
        run->track = t;
        if (load_run(run, rdir, names[i]) == 0)
            t->n_runs++;
        g_free(rdir);
    }
    g_strfreev(names);
    return 0;
}

static int cmp_run_start(const void *a, const void *b)
{
    int64_t x = pkg_run_start(*(struct pkg_run *const *)a);
    int64_t y = pkg_run_start(*(struct pkg_run *const *)b);
    return x < y ? -1 : x > y;
}

/* The readable runs of the tracks of KIND whose source is SOURCE (NULL: any but the
 * stage's). */
static int choose(struct pkg_lesson *l, const char *kind, const char *source, struct pkg_run ***out)
{
    GPtrArray *a = g_ptr_array_new();
    int n;

    for (int i = 0; i < l->n_tracks; i++) {
        struct pkg_track *t = &l->tracks[i];
        if (strcmp(t->kind, kind) != 0 || (source && strcmp(t->source, source) != 0) ||
            (!source && pkg_track_on_stage(t)))
            continue;
        for (int k = 0; k < t->n_runs; k++)
            if (t->runs[k].first_pts >= 0)
                g_ptr_array_add(a, &t->runs[k]);
    }
    if (a->len > 1) /* pdata may be NULL when empty */
        qsort(a->pdata, a->len, sizeof(void *), cmp_run_start);
    n = (int)a->len;
    *out = (struct pkg_run **)g_ptr_array_free(a, FALSE);
    return n;
}

static void choose_runs(struct pkg_lesson *l)
{
    l->n_video = choose(l, "video", "camera", &l->video);
    if (l->n_video == 0) {
        g_free(l->video);
        l->n_video = choose(l, "video", "screen", &l->video);
    }
    if (l->n_video > 0 && strcmp(l->video[0]->track->source, "camera") == 0)
        l->n_screen = choose(l, "video", "screen", &l->screen);
    l->n_audio = choose(l, "audio", "mic", &l->audio);
    if (l->n_audio == 0) {
        g_free(l->audio);
        l->n_audio = choose(l, "audio", NULL, &l->audio);
    }
    l->n_stage = choose(l, "video", PKG_STAGE_CAMERA, &l->stage);
    l->n_stage_audio = choose(l, "audio", PKG_STAGE_MIC, &l->stage_audio);
    l->start_unix_ns = INT64_MAX;
    l->end_unix_ns = INT64_MIN;
    for (int k = 0; k < 2; k++) {
        struct pkg_run **runs = k ? l->audio : l->video;
        for (int i = 0; i < (k ? l->n_audio : l->n_video); i++) {
            if (pkg_run_start(runs[i]) < l->start_unix_ns)
                l->start_unix_ns = pkg_run_start(runs[i]);
            if (pkg_run_end(runs[i]) > l->end_unix_ns)
                l->end_unix_ns = pkg_run_end(runs[i]);
        }
    }
}

int pkg_scan(const char *in_dir, struct pkg_lesson *out, char **err)
{
    char *tdir = g_build_filename(in_dir, "tracks", NULL);
    char **keys;
    int n;

    memset(out, 0, sizeof(*out));
    if (!g_file_test(tdir, G_FILE_TEST_IS_DIR)) {
        *err = g_strdup_printf("%s: no tracks folder", in_dir);
        g_free(tdir);
        return -1;
    }
    keys = list_dir(tdir, "", "", &n);
    out->tracks = g_new0(struct pkg_track, n > 0 ? n : 1);
    for (int i = 0; i < n; i++) {
        char *dir = g_build_filename(tdir, keys[i], NULL);
        if (g_file_test(dir, G_FILE_TEST_IS_DIR) &&
            load_track(&out->tracks[out->n_tracks], dir, keys[i]) == 0)
            out->n_tracks++;
        g_free(dir);
    }
    g_strfreev(keys);
    g_free(tdir);
    choose_runs(out);
    if (out->n_video == 0 && out->n_audio == 0) {
        *err = g_strdup("no audio or video track was recorded");
        return -1;
    }
    return 0;
}

void pkg_lesson_clear(struct pkg_lesson *l)
{
    for (int i = 0; i < l->n_tracks; i++) {
        struct pkg_track *t = &l->tracks[i];
        for (int k = 0; k < t->n_runs; k++) {
            g_strfreev(t->runs[k].segs);
            if (t->runs[k].caps)
                gst_caps_unref(t->runs[k].caps);
        }
        g_free(t->runs);
        g_free(t->key);
        g_free(t->kind);
        g_free(t->source);
        g_free(t->label);
        g_free(t->codec);
    }
    g_free(l->tracks);
    g_free(l->video);
    g_free(l->audio);
    g_free(l->screen);
    g_free(l->stage);
    g_free(l->stage_audio);
    memset(l, 0, sizeof(*l));
}
