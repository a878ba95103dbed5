/* package_side: two pipelines joined here, in the calling thread (two, not one, because
 * each must preroll on its own: the encoder gets its first pictures only after the
 * decoder has delivered a picture for a later tick).
 *
 *   ssrc (fed by package_feed, the runs on the lesson timeline) ! decoder !
 *     convert/scale into WxH (borders keep the aspect ratio) ! appsink sdec
 *   appsrc senc (raw, kind->fps) ! x264enc ! h264parse ! hlssink2 -> <name>/
 *
 * In between, a fixed grid of kind->fps pictures from lesson time 0 to the lesson's end:
 * each tick shows the latest decoded picture if the tick lies in an interval (and the
 * picture belongs to it), else a dark grey frame. The fixed rate gives a keyframe every
 * KEYINT_S whatever the source rate (a browser sends a still screen at 1 frame/s or
 * less), and the stream lasts exactly the lesson. A side stream is always transcoded: the
 * grey filler has to be encoded anyway, and one encoder keeps the stream uniform. Runs
 * that overlap (two classrooms on stage at once) show the one that started first until
 * it ends (package_feed drops what goes back in time). Reading and retiming are
 * package_feed's; the playlist is finished by package_hls. */
#include <stdio.h>
#include <string.h>

#include <gst/app/gstappsink.h>

#include "package_feed.h"
#include "package_hls.h"
#include "package_pipe.h"
#include "package_side.h"

#define KEYINT_S 2
#define GREY_Y 40                       /* luma of the filler (16 is black) */
#define MERGE_NS (300 * 1000000LL)      /* runs closer than this form one interval */
#define STALL_US (120 * G_USEC_PER_SEC) /* no decoded picture for this long: stuck */

/* The courseware: sharp text matters more than motion. */
const struct pkg_side_kind pkg_side_screen = {"screen", "shared", 10, 600, 1280, 720};
/* A classroom answering: a small picture beside the teacher's, motion matters more. */
const struct pkg_side_kind pkg_side_stage = {"stage", "turns", 15, 500, 640, 360};

struct bridge {
    GstElement *dpipe, *epipe; /* owned: decoder, encoder */
    GstAppSink *dec;           /* borrowed from dpipe */
    GstAppSrc *src, *enc;      /* borrowed: the feeder's (dpipe), the encoder's (epipe) */
    GstBuffer *grey;           /* owned */
    GstSample *cur, *next;     /* owned: latest picture at or before the tick, the one after */
    bool dec_done;             /* state: sdec reached its end */
    char *err;                 /* state: first error, handed to the caller */
    const char *name;          /* static: the kind's, for messages */
    int64_t tick_ns;           /* one picture of the grid */
};

static int even(int v) { return MAX(2, v & ~1); }

static int cmp_span(const void *x, const void *y)
{
    const struct pkg_span *p = x, *q = y;
    return p->at_ns < q->at_ns ? -1 : p->at_ns > q->at_ns;
}

void pkg_side_plan(const struct pkg_lesson *l, struct pkg_run **runs, int n_runs,
                   const struct pkg_side_kind *kind, struct pkg_side *s)
{
    int64_t dur = l->end_unix_ns - l->start_unix_ns;
    int w = 0, h = 0, n = 0;

    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->runs = runs;
    s->n_runs = n_runs;
    s->spans = g_new0(struct pkg_span, n_runs > 0 ? n_runs : 1);
    for (int i = 0; i < n_runs; i++) {
        const struct pkg_run *r = runs[i];
        int64_t a = MAX(0, pkg_run_start(r) - l->start_unix_ns);
        int64_t b = MIN(dur, pkg_run_end(r) - l->start_unix_ns);
        if ((int64_t)r->width * r->height > (int64_t)w * h)
            w = r->width, h = r->height;
        if (b > a)
            s->spans[n++] = (struct pkg_span){a, b};
    }
    qsort(s->spans, n, sizeof(*s->spans), cmp_span);
    for (int i = 0; i < n; i++) { /* merge in place */
        struct pkg_span *last = s->n_spans ? &s->spans[s->n_spans - 1] : NULL;
        if (last && s->spans[i].at_ns - last->end_ns < MERGE_NS)
            last->end_ns = MAX(last->end_ns, s->spans[i].end_ns);
        else
            s->spans[s->n_spans++] = s->spans[i];
    }
    if (s->n_spans == 0)
        return;
    if (w <= 0 || h <= 0)
        w = kind->max_w, h = kind->max_h;
    /* fit into max_w x max_h, never upscaled */
    double k = MIN(1.0, MIN((double)kind->max_w / w, (double)kind->max_h / h));
    s->width = even((int)(w * k + 0.5));
    s->height = even((int)(h * k + 0.5));
}

void pkg_side_clear(struct pkg_side *s)
{
    g_free(s->spans);
    memset(s, 0, sizeof(*s));
}

/* I420 WxH (even) in GStreamer's default layout, all dark grey. */
static GstBuffer *grey_frame(int w, int h)
{
    gsize ys = GST_ROUND_UP_4(w), cs = GST_ROUND_UP_4(w / 2);
    gsize size = ys * h + 2 * cs * (h / 2);
    GstBuffer *b = gst_buffer_new_allocate(NULL, size, NULL);
    GstMapInfo m;

    gst_buffer_map(b, &m, GST_MAP_WRITE);
    memset(m.data, GREY_Y, ys * h);
    memset(m.data + ys * h, 128, size - ys * h);
    gst_buffer_unmap(b, &m);
    return b;
}

static GstElement *launch(struct bridge *b, const char *desc)
{
    GError *e = NULL;
    GstElement *p = gst_parse_launch_full(desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &e);

    if (!p && !b->err)
        b->err = g_strdup_printf("%s pipeline: %s", b->name, e ? e->message : "?");
    g_clear_error(&e);
    if (p)
        gst_pipeline_use_clock(GST_PIPELINE(p), NULL);
    return p;
}

static GstElement *by_name(GstElement *pipe, const char *name)
{
    GstElement *el = gst_bin_get_by_name(GST_BIN(pipe), name);
    gst_object_unref(el); /* the pipeline keeps it alive */
    return el;
}

static int bridge_open(struct bridge *b, const struct pkg_side *s, const char *out_dir)
{
    const struct pkg_side_kind *k = s->kind;
    GString *d = g_string_new("appsrc name=ssrc format=time is-live=false block=true "
                              "max-bytes=4000000 ! ");
    char *dir = g_build_filename(out_dir, k->name, NULL);
    char *seg = g_build_filename(dir, "seg%05d.ts", NULL);
    char *pl = g_build_filename(dir, "index.m3u8", NULL);
    char *enc;

    b->name = k->name;
    b->tick_ns = GST_SECOND / k->fps;
    pkg_pipe_add_decoder(d, s->runs[0]->caps);
    g_string_append_printf(d,
                           "videoconvert ! videoscale add-borders=true ! video/x-raw,format=I420,"
                           "width=%d,height=%d,pixel-aspect-ratio=1/1 ! appsink name=sdec "
                           "sync=false max-buffers=4",
                           s->width, s->height);
    enc = g_strdup_printf(
        "appsrc name=senc format=time is-live=false block=true max-bytes=%d "
        "caps=video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1,"
        "pixel-aspect-ratio=1/1 ! x264enc speed-preset=superfast threads=0 bframes=0 "
        "key-int-max=%d bitrate=%d ! video/x-h264,profile=high ! h264parse "
        "config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au ! "
        "hlssink2 name=shls playlist-length=0 max-files=0 target-duration=4",
        s->width * s->height * 6, s->width, s->height, k->fps, k->fps * KEYINT_S, k->kbps);
    b->dpipe = launch(b, d->str);
    b->epipe = launch(b, enc);
    if (b->dpipe && b->epipe) {
        g_mkdir_with_parents(dir, 0755);
        g_object_set(by_name(b->epipe, "shls"), "location", seg, "playlist-location", pl, NULL);
        b->src = GST_APP_SRC(by_name(b->dpipe, "ssrc"));
        g_object_set(b->src, "caps", s->runs[0]->caps, NULL);
        b->enc = GST_APP_SRC(by_name(b->epipe, "senc"));
        b->dec = GST_APP_SINK(by_name(b->dpipe, "sdec"));
        b->grey = grey_frame(s->width, s->height);
        if (gst_element_set_state(b->epipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE ||
            gst_element_set_state(b->dpipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
            b->err = g_strdup_printf("%s pipeline does not start", b->name);
    }
    g_string_free(d, TRUE);
    g_free(enc);
    g_free(dir);
    g_free(seg);
    g_free(pl);
    return b->err ? -1 : 0;
}

/* Takes M (an error message, or NULL) into b->err unless there is one already. */
static void take_error(struct bridge *b, GstMessage *m)
{
    if (m && !b->err) {
        GError *e = NULL;
        char *dbg = NULL;
        gst_message_parse_error(m, &e, &dbg);
        fprintf(stderr, "package: %s error: %s (%s)\n", b->name, e->message, dbg ? dbg : "");
        b->err = g_strdup_printf("%s: %s", b->name, e->message);
        g_clear_error(&e);
        g_free(dbg);
    }
    if (m)
        gst_message_unref(m);
}

/* Sets b->err from an error message on either bus, if any. */
static void check_bus(struct bridge *b)
{
    GstElement *pipes[2] = {b->dpipe, b->epipe};

    for (int i = 0; i < 2; i++) {
        GstBus *bus = gst_element_get_bus(pipes[i]);
        take_error(b, gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR));
        gst_object_unref(bus);
    }
}

/* The next decoded picture, or NULL at the end or on an error (b->err). */
static GstSample *pull(struct bridge *b)
{
    gint64 since = g_get_monotonic_time();

    while (!b->dec_done && !b->err) {
        GstSample *smp = gst_app_sink_try_pull_sample(b->dec, 200 * GST_MSECOND);
        if (smp)
            return smp;
        if (gst_app_sink_is_eos(b->dec))
            b->dec_done = true;
        check_bus(b);
        if (!b->err && g_get_monotonic_time() - since > STALL_US)
            b->err = g_strdup_printf("%s decoder stalled", b->name);
    }
    return NULL;
}

static int64_t pts_of(GstSample *smp)
{
    GstBuffer *buf = gst_sample_get_buffer(smp);
    return buf && GST_BUFFER_PTS_IS_VALID(buf) ? (int64_t)GST_BUFFER_PTS(buf) : 0;
}

/* The picture for tick T: the latest decoded one if T is in an interval that the picture
 * belongs to, else the grey frame. Borrowed. */
static GstBuffer *picture_at(struct bridge *b, const struct pkg_side *s, int64_t t)
{
    if (!b->next && !b->dec_done)
        b->next = pull(b);
    while (b->next && pts_of(b->next) <= t) {
        if (b->cur)
            gst_sample_unref(b->cur);
        b->cur = b->next;
        b->next = pull(b);
    }
    for (int i = 0; b->cur && i < s->n_spans; i++)
        if (t >= s->spans[i].at_ns && t < s->spans[i].end_ns)
            return pts_of(b->cur) >= s->spans[i].at_ns - b->tick_ns ? gst_sample_get_buffer(b->cur)
                                                                    : b->grey;
    return b->grey;
}

/* Pushes the whole grid, then drains the decoder and waits for the end of the stream. */
static void bridge_run(struct bridge *b, const struct pkg_side *s, int64_t dur,
                       const struct pkg_side_cb *cb)
{
    int64_t tick = b->tick_ns, n = (dur + tick - 1) / tick;
    GstSample *smp;

    for (int64_t k = 0; k < n && !b->err; k++) {
        GstBuffer *out = gst_buffer_copy(picture_at(b, s, k * tick)); /* shares memory */
        GST_BUFFER_PTS(out) = (GstClockTime)(k * tick);
        GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
        GST_BUFFER_DURATION(out) = (GstClockTime)tick;
        GST_BUFFER_FLAGS(out) = 0;
        if (gst_app_src_push_buffer(b->enc, out) != GST_FLOW_OK && !b->err)
            b->err = g_strdup_printf("%s encoder refused a picture", b->name);
        if (cb && cb->on_progress && k % s->kind->fps == 0)
            cb->on_progress(cb->ctx, (double)k / (double)n);
    }
    if (b->err)
        return;
    gst_app_src_end_of_stream(b->enc);
    while ((smp = pull(b)) != NULL) /* pictures after the lesson's end */
        gst_sample_unref(smp);
    if (b->err)
        return;
    GstBus *bus = gst_element_get_bus(b->epipe);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, STALL_US * GST_USECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (!m)
        b->err = g_strdup_printf("%s writer stalled", b->name);
    else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR)
        take_error(b, m);
    else
        gst_message_unref(m);
    gst_object_unref(bus);
}

int pkg_side_write(const char *out_dir, const struct pkg_lesson *l, const struct pkg_side *s,
                   const struct pkg_side_cb *cb, char **err)
{
    struct bridge b = {0};
    struct pkg_feed *feed = NULL;
    struct pkg_rendition r = {.name = s->kind->name};

    if (bridge_open(&b, s, out_dir) == 0) {
        feed = pkg_feed_start(s->runs, s->n_runs, b.src, l->start_unix_ns, PKG_FEED_VIDEO);
        bridge_run(&b, s, l->end_unix_ns - l->start_unix_ns, cb);
    }
    /* stopping the decoder unblocks the feeder if it still waits in a full appsrc */
    for (int i = 0; i < 2; i++)
        if (i ? b.epipe : b.dpipe)
            gst_element_set_state(i ? b.epipe : b.dpipe, GST_STATE_NULL);
    pkg_feed_join(feed);
    if (b.cur)
        gst_sample_unref(b.cur);
    if (b.next)
        gst_sample_unref(b.next);
    if (b.grey)
        gst_buffer_unref(b.grey);
    if (b.dpipe)
        gst_object_unref(b.dpipe);
    if (b.epipe)
        gst_object_unref(b.epipe);
    if (!b.err && pkg_hls_finish(out_dir, &r) < 0)
        b.err = g_strdup_printf("no %s playlist was written", s->kind->name);
    if (b.err) {
        *err = b.err;
        return -1;
    }
    return 0;
}
