/* package_info: builds info.json with jansson. Lesson time is wall-clock time minus the
 * lesson start (the earliest first buffer among the chosen runs), in milliseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "package_info.h"

/* Holes shorter than this are jitter between runs, not gaps worth listing. */
#define GAP_MIN_NS (300 * 1000000LL)

struct span {
    int64_t a, b;
};

static int cmp_span(const void *x, const void *y)
{
    const struct span *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a;
}

static int64_t ms(int64_t ns) { return ns / 1000000; }

/* Lesson time not covered by any chosen run, video or audio. */
static json_t *gaps(const struct pkg_lesson *l)
{
    int n = l->n_video + l->n_audio;
    struct span *s = g_new0(struct span, n > 0 ? n : 1);
    json_t *out = json_array();
    int64_t covered;

    for (int i = 0; i < n; i++) {
        const struct pkg_run *r = i < l->n_video ? l->video[i] : l->audio[i - l->n_video];
        s[i].a = pkg_run_start(r);
        s[i].b = pkg_run_end(r);
    }
    qsort(s, n, sizeof(*s), cmp_span);
    covered = l->start_unix_ns;
    for (int i = 0; i < n; i++) {
        if (s[i].a - covered >= GAP_MIN_NS)
            json_array_append_new(out, json_pack("{sI sI}", "at_ms",
                                                 (json_int_t)ms(covered - l->start_unix_ns),
                                                 "duration_ms", (json_int_t)ms(s[i].a - covered)));
        if (s[i].b > covered)
            covered = s[i].b;
    }
    g_free(s);
    return out;
}

static void add_chapter(json_t *a, int64_t at_ns, const char *title)
{
    json_array_append_new(a, json_pack("{sI ss}", "at_ms", (json_int_t)ms(at_ns), "title", title));
}

static int cmp_chapter(const void *x, const void *y)
{
    json_int_t p = json_integer_value(json_object_get(*(json_t *const *)x, "at_ms"));
    json_int_t q = json_integer_value(json_object_get(*(json_t *const *)y, "at_ms"));
    return p < q ? -1 : p > q;
}

/* Sorted by time (jansson arrays cannot sort themselves). */
static json_t *sorted(json_t *a)
{
    size_t n = json_array_size(a);
    json_t **items = g_new0(json_t *, n > 0 ? n : 1);
    json_t *out = json_array();

    for (size_t i = 0; i < n; i++)
        items[i] = json_array_get(a, i);
    qsort(items, n, sizeof(*items), cmp_chapter);
    for (size_t i = 0; i < n; i++)
        json_array_append(out, items[i]);
    g_free(items);
    json_decref(a);
    return out;
}

/* "On stage 上台: <label>" at the first picture (else sound) of each stage turn: one track
 * per turn, its camera's first run. */
static void stage_chapters(json_t *a, const struct pkg_lesson *l)
{
    for (int t = 0; t < l->n_tracks; t++) {
        const struct pkg_track *tr = &l->tracks[t];
        if (!pkg_track_on_stage(tr) || strcmp(tr->source, PKG_STAGE_CAMERA) != 0)
            continue;
        for (int k = 0; k < tr->n_runs; k++) {
            if (tr->runs[k].first_pts < 0)
                continue;
            char *title =
                g_strdup_printf("On stage 上台: %s", tr->label ? tr->label : "a classroom");
            add_chapter(a, MAX(0, pkg_run_start(&tr->runs[k]) - l->start_unix_ns), title);
            g_free(title);
            break;
        }
    }
}

/* Lesson start, then every new run of the main stream (video, else audio): a new track
 * is the teacher reconnecting, a new run of the same track the recorder restarting. Every
 * screen-share run start is a chapter too, whether or not the screen is the video, and
 * every stage turn. */
static json_t *chapters(const struct pkg_lesson *l)
{
    json_t *a = json_array();
    struct pkg_run **runs = l->n_video ? l->video : l->audio;
    int n = l->n_video ? l->n_video : l->n_audio;

    add_chapter(a, 0, "Lesson starts");
    for (int i = 1; i < n; i++)
        add_chapter(a, pkg_run_start(runs[i]) - l->start_unix_ns,
                    runs[i]->track != runs[i - 1]->track ? "Teacher reconnected"
                                                         : "Recording resumed");
    for (int t = 0; t < l->n_tracks; t++) {
        const struct pkg_track *tr = &l->tracks[t];
        if (strcmp(tr->source, "screen") != 0)
            continue;
        for (int k = 0; k < tr->n_runs; k++) {
            int64_t at = pkg_run_start(&tr->runs[k]) - l->start_unix_ns;
            if (tr->runs[k].first_pts >= 0 && at >= 1000000000LL) /* not "Lesson starts" */
                add_chapter(a, at, "Screen shared");
        }
    }
    stage_chapters(a, l);
    return sorted(a);
}

static json_t *tracks(const struct pkg_lesson *l)
{
    json_t *a = json_array();

    for (int t = 0; t < l->n_tracks; t++) {
        const struct pkg_track *tr = &l->tracks[t];
        int64_t dur = 0;
        int runs = 0;
        for (int k = 0; k < tr->n_runs; k++)
            if (tr->runs[k].first_pts >= 0) {
                dur += tr->runs[k].end_pts - tr->runs[k].first_pts;
                runs++;
            }
        json_array_append_new(a, json_pack("{ss ss ss si sI}", "kind", tr->kind, "source",
                                           tr->source, "codec", tr->codec, "runs", runs,
                                           "duration_ms", (json_int_t)ms(dur)));
    }
    return a;
}

static json_t *renditions(const struct pkg_rendition *r, int n)
{
    json_t *a = json_array();

    for (int i = 0; i < n; i++) {
        char *pl = g_strdup_printf("%s/index.m3u8", r[i].name);
        json_array_append_new(a, json_pack("{ss si si sI ss}", "name", r[i].name, "width",
                                           r[i].width, "height", r[i].height, "bandwidth",
                                           (json_int_t)r[i].peak_bps, "playlist", pl));
        g_free(pl);
    }
    return a;
}

/* {"playlist":"<name>/index.m3u8","width","height","<spans_key>":[{"at_ms","duration_ms"}]} */
static json_t *side_json(const struct pkg_side *s)
{
    json_t *spans = json_array();
    char *pl = g_strdup_printf("%s/index.m3u8", s->kind->name);

    for (int i = 0; i < s->n_spans; i++)
        json_array_append_new(
            spans, json_pack("{sI sI}", "at_ms", (json_int_t)ms(s->spans[i].at_ns), "duration_ms",
                             (json_int_t)ms(s->spans[i].end_ns - s->spans[i].at_ns)));
    json_t *j = json_pack("{ss si si so}", "playlist", pl, "width", s->width, "height", s->height,
                          s->kind->spans_key, spans);
    g_free(pl);
    return j;
}

int pkg_info_write(const char *out_dir, const struct pkg_lesson *l, bool transcoded,
                   const struct pkg_rendition *r, int n_r, const struct pkg_side *sides,
                   int n_sides)
{
    char *path = g_build_filename(out_dir, "info.json", NULL);
    json_t *j = json_pack("{sI sb sI so so ss ss so so}", "duration_ms",
                          (json_int_t)ms(l->end_unix_ns - l->start_unix_ns), "transcoded",
                          transcoded, "started_unix_ms", (json_int_t)ms(l->start_unix_ns), "tracks",
                          tracks(l), "renditions", renditions(r, n_r), "hls", "master.m3u8", "mp4",
                          "lesson.mp4", "gaps", gaps(l), "chapters", chapters(l));
    int rc;

    for (int i = 0; j && i < n_sides; i++)
        if (sides[i].width > 0)
            json_object_set_new(j, sides[i].kind->name, side_json(&sides[i]));
    rc = j ? json_dump_file(j, path, JSON_INDENT(1)) : -1;

    if (rc < 0)
        fprintf(stderr, "package: cannot write %s\n", path);
    json_decref(j);
    g_free(path);
    return rc < 0 ? -1 : 0;
}
