/* "classrelay-recorder package --in DIR [--out DIR]" (docs/recording.md, "Packager"):
 * scans the recording folder (package_scan), builds one writer pipeline (package_pipe),
 * feeds it from one thread per stream (package_feed), reports progress on stdout from the
 * feeders' positions while the writer runs, packages a shared screen beside a camera and
 * the stage as streams of their own (package_side), then finishes the playlists
 * (package_hls) and writes
 * info.json (package_info). Events are JSON lines on stdout; diagnostics go to
 * stderr. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "package.h"
#include "package_feed.h"
#include "package_hls.h"
#include "package_info.h"
#include "package_pipe.h"
#include "package_scan.h"
#include "package_side.h"

#define PROGRESS_EVERY_MS 500
/* No buffer pushed (or, once all are, no end of stream) for this long: the writer hangs. */
#define STALL_US (120 * G_USEC_PER_SEC)
/* A side stream's part of the progress when there is one (measured for the screen: about
 * 1/5 of the whole time for a VP8 lesson shared throughout, tests/bench/package_speed.py). */
#define SIDE_SHARE 0.2
enum { SIDE_SCREEN, SIDE_STAGE, N_SIDES };

struct job {
    const char *in_dir, *out_dir; /* borrowed from argv / owned by package_main */
    struct pkg_lesson lesson;
    struct pkg_writer_cfg cfg;
    struct pkg_writer writer;
    struct pkg_feed *vfeed, *afeed, *mfeed; /* owned; mfeed: the stage's microphones */
    struct pkg_side sides[N_SIDES];         /* width 0: not packaged */
    double main_share;                      /* of the progress: 1 less SIDE_SHARE per side stream */
    double side_at;  /* state: the progress fraction where the side stream at work starts */
    double last_pct; /* state: the last progress printed */
};

static void emit(json_t *ev)
{
    char *s = json_dumps(ev, JSON_COMPACT | JSON_REAL_PRECISION(4));
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(ev);
}

static int fail(const char *msg)
{
    emit(json_pack("{ss ss}", "event", "error", "message", msg));
    return 1;
}

/* Prints progress PCT (capped below 100 until done) if it moved by 0.1 or more. */
static void progress(struct job *j, double pct)
{
    pct = MIN(99.9, pct);
    if (pct < j->last_pct + 0.1)
        return;
    emit(json_pack("{ss sf}", "event", "progress", "percent", (int)(pct * 10) / 10.0));
    j->last_pct = pct;
}

static void on_side_progress(void *ctx, double fraction)
{
    struct job *j = ctx;
    progress(j, 100.0 * (j->side_at + SIDE_SHARE * fraction));
}

static int even(int v) { return v & ~1; }

/* Renditions and bit rates from the chosen runs (the largest picture is "hi"). */
static void plan(struct job *j)
{
    struct pkg_lesson *l = &j->lesson;
    struct pkg_writer_cfg *c = &j->cfg;
    int64_t bytes = 0, ns = 0;
    bool all_h264 = true;
    struct pkg_run *big = l->n_video ? l->video[0] : NULL;

    c->out_dir = j->out_dir;
    c->audio_caps = l->n_audio ? l->audio[0]->caps : NULL;
    c->mix_caps = c->audio_caps && l->n_stage_audio ? l->stage_audio[0]->caps : NULL;
    c->audio_bps = 64000;
    c->with_lo = g_getenv("CLASSRELAY_PACKAGE_SKIP_LO") == NULL;
    if (!big)
        return;
    for (int i = 0; i < l->n_video; i++) {
        struct pkg_run *r = l->video[i];
        if ((int64_t)r->width * r->height > (int64_t)big->width * big->height)
            big = r;
        bytes += (int64_t)r->bytes;
        ns += r->end_pts - r->first_pts;
        all_h264 &= gst_structure_has_name(gst_caps_get_structure(r->caps, 0), "video/x-h264");
        all_h264 &=
            r->width == l->video[0]->width && r->height == l->video[0]->height && !r->size_changes;
    }
    c->video_caps = l->video[0]->caps;
    c->copy_video = all_h264 && big->width > 0;
    c->hi_w = even(big->width > 0 ? big->width : 1280);
    c->hi_h = even(big->height > 0 ? big->height : 720);
    c->hi_kbps = ns > 0 ? (int)CLAMP(bytes * 8 * 1000000 / ns, 300, 8000) : 1500;
    c->lo_h = MIN(360, c->hi_h);
    c->lo_w = even((int)((int64_t)c->hi_w * c->lo_h / c->hi_h));
    c->lo_kbps = 400;
}

/* Waits for the writer's EOS, printing progress; 0, or -1 with *err set. */
static int run_writer(struct job *j, char **err)
{
    GstBus *bus = gst_element_get_bus(j->writer.pipe);
    int64_t total = MAX(1, j->lesson.end_unix_ns - j->lesson.start_unix_ns);
    int64_t last_pos = -1;
    gint64 moved = g_get_monotonic_time();
    int rc = 1;

    while (rc > 0) {
        GstMessage *m = gst_bus_timed_pop_filtered(bus, PROGRESS_EVERY_MS * GST_MSECOND,
                                                   GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
        int64_t pos = MIN(MIN(pkg_feed_position(j->vfeed), pkg_feed_position(j->afeed)),
                          pkg_feed_position(j->mfeed));
        double pct = (double)MIN(pos, total) * 100.0 / (double)total * j->main_share;
        if (pos != last_pos) {
            last_pos = pos;
            moved = g_get_monotonic_time();
        } else if (!m && g_get_monotonic_time() - moved > STALL_US) {
            *err = g_strdup("writer stalled");
            rc = -1;
        }
        progress(j, pct);
        if (m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
            GError *e = NULL;
            char *dbg = NULL;
            gst_message_parse_error(m, &e, &dbg);
            fprintf(stderr, "package: writer error: %s (%s)\n", e->message, dbg ? dbg : "");
            *err = g_strdup_printf("writer: %s", e->message);
            g_clear_error(&e);
            g_free(dbg);
            rc = -1;
        } else if (m) {
            rc = 0;
        }
        if (m)
            gst_message_unref(m);
    }
    gst_object_unref(bus);
    return rc;
}

/* Playlists, master playlist and info.json once the writer is done. */
static int finish(struct job *j, char **err)
{
    struct pkg_rendition r[2] = {{.name = "hi"}, {.name = "lo"}};
    int n = j->cfg.with_lo ? 2 : 1;
    const char *aac = j->cfg.audio_caps ? "mp4a.40.2" : NULL;

    for (int i = 0; i < n; i++) {
        char avc[16] = "";
        if (j->cfg.video_caps) {
            pkg_writer_codec(&j->writer, r[i].name, avc);
            r[i].width = i ? j->cfg.lo_w : j->cfg.hi_w;
            r[i].height = i ? j->cfg.lo_h : j->cfg.hi_h;
        }
        snprintf(r[i].codecs, sizeof(r[i].codecs), "%s%s%s", avc, avc[0] && aac ? "," : "",
                 aac ? aac : "");
        if (pkg_hls_finish(j->out_dir, &r[i]) < 0) {
            *err = g_strdup_printf("no %s playlist was written", r[i].name);
            return -1;
        }
    }
    if (pkg_hls_master(j->out_dir, r, n) < 0 ||
        pkg_info_write(j->out_dir, &j->lesson, !j->cfg.copy_video && j->cfg.video_caps, r, n,
                       j->sides, N_SIDES) < 0) {
        *err = g_strdup("cannot write master.m3u8 or info.json");
        return -1;
    }
    return 0;
}

/* The lesson does not fail for want of a side stream: info.json then has no key for it. */
static void write_side(struct job *j, struct pkg_side *s)
{
    struct pkg_side_cb cb = {.on_progress = on_side_progress, .ctx = j};
    char *serr = NULL;

    if (s->width <= 0)
        return;
    if (pkg_side_write(j->out_dir, &j->lesson, s, &cb, &serr) < 0) {
        fprintf(stderr, "package: warning: %s stream dropped: %s\n", s->kind->name, serr);
        pkg_side_clear(s);
    }
    g_free(serr);
    j->side_at += SIDE_SHARE;
}

static int package(struct job *j, char **err)
{
    int rc;

    if (pkg_scan(j->in_dir, &j->lesson, err) < 0)
        return -1;
    plan(j);
    pkg_side_plan(&j->lesson, j->lesson.screen, j->lesson.n_screen, &pkg_side_screen,
                  &j->sides[SIDE_SCREEN]);
    pkg_side_plan(&j->lesson, j->lesson.stage, j->lesson.n_stage, &pkg_side_stage,
                  &j->sides[SIDE_STAGE]);
    j->main_share = 1;
    for (int i = 0; i < N_SIDES; i++)
        j->main_share -= j->sides[i].width > 0 ? SIDE_SHARE : 0;
    j->last_pct = -1;
    if (g_mkdir_with_parents(j->out_dir, 0755) < 0) {
        *err = g_strdup_printf("cannot create %s", j->out_dir);
        return -1;
    }
    if (pkg_writer_open(&j->writer, &j->cfg, err) < 0)
        return -1;
    if (j->writer.vsrc)
        j->vfeed = pkg_feed_start(j->lesson.video, j->lesson.n_video, j->writer.vsrc,
                                  j->lesson.start_unix_ns, PKG_FEED_VIDEO | PKG_FEED_FROM_ZERO);
    if (j->writer.asrc)
        /* the AAC encoder delays what it encodes and stamps it undelayed: feed audio that
         * much early (neither TS nor our MP4 carries an edit list for the priming) */
        j->afeed = pkg_feed_start(j->lesson.audio, j->lesson.n_audio, j->writer.asrc,
                                  j->lesson.start_unix_ns + pkg_aac_delay_ns(), 0);
    if (j->writer.msrc) /* the stage's microphones, mixed in: the same timeline */
        j->mfeed = pkg_feed_start(j->lesson.stage_audio, j->lesson.n_stage_audio, j->writer.msrc,
                                  j->lesson.start_unix_ns + pkg_aac_delay_ns(), 0);
    rc = run_writer(j, err);
    j->side_at = j->main_share;
    for (int i = 0; rc == 0 && i < N_SIDES; i++)
        write_side(j, &j->sides[i]);
    if (rc == 0)
        rc = finish(j, err);
    /* Stopping the writer unblocks a feeder waiting in a full appsrc. */
    gst_element_set_state(j->writer.pipe, GST_STATE_NULL);
    pkg_feed_join(j->vfeed);
    pkg_feed_join(j->afeed);
    pkg_feed_join(j->mfeed);
    pkg_writer_close(&j->writer);
    return rc;
}

int package_main(int argc, char **argv)
{
    struct job j = {0};
    char *out = NULL, *err = NULL;
    int rc;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--in") == 0)
            j.in_dir = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            out = g_strdup(argv[i + 1]);
    }
    if (!j.in_dir) {
        fprintf(stderr, "usage: classrelay-recorder package --in DIR [--out DIR]\n");
        g_free(out);
        return 2;
    }
    j.out_dir = out ? out : g_build_filename(j.in_dir, "vod", NULL);
    rc = package(&j, &err);
    if (rc == 0)
        emit(json_pack("{ss sf}", "event", "progress", "percent", 100.0));
    if (rc == 0)
        emit(json_pack("{ss sI sb}", "event", "done", "duration_ms",
                       (json_int_t)((j.lesson.end_unix_ns - j.lesson.start_unix_ns) / 1000000),
                       "transcoded", !j.cfg.copy_video && j.cfg.video_caps));
    else
        fail(err ? err : "packaging failed");
    g_free(err);
    for (int i = 0; i < N_SIDES; i++)
        pkg_side_clear(&j.sides[i]);
    pkg_lesson_clear(&j.lesson);
    g_free((char *)j.out_dir);
    return rc == 0 ? 0 : 1;
}
