/* package_feed: the retiming step. A buffer at running time PTS of a run lands at lesson
 * time base_unix_ns + PTS - lesson start (docs/recording.md). Runs are pushed in start
 * order; a buffer that would go back in time (runs overlapping) is dropped, and video then
 * waits for its next keyframe. The first video buffer is moved to lesson time 0 (for the
 * main video, not the screen, PKG_FEED_FROM_ZERO) so the first picture also covers the
 * time before it (MP4 and MPEG-TS both let a sample last
 * until the next one). Video frames are kept at least 1 ms apart. Runs whose codec differs from the
 * first run's are skipped: one writer pipeline takes one codec. The thread ends with end-of-stream
 * on the appsrc. */
#include <stdio.h>
#include <string.h>

#include "package_feed.h"
#include "package_read.h"

#define FRAME_STEP_NS 1000000 /* the least time between two video frames pushed */

struct pkg_feed {
    struct pkg_run **runs; /* borrowed */
    int n_runs;
    GstAppSrc *src; /* borrowed */
    int64_t start_ns;
    bool video;
    bool from_zero;
    GThread *thread;  /* owned */
    int64_t position; /* state, read by other threads with __atomic */
    int64_t last_out; /* state: lesson time of the last buffer pushed, -1 before */
    bool need_key;    /* state (video) */
    bool stopped;     /* state: the appsrc refused a buffer */
};

static bool same_codec(const struct pkg_run *a, const struct pkg_run *b)
{
    return gst_structure_has_name(gst_caps_get_structure(b->caps, 0),
                                  gst_structure_get_name(gst_caps_get_structure(a->caps, 0)));
}

/* Pushes one buffer of RUN; false once the writer refuses buffers. */
static bool push(struct pkg_feed *f, const struct pkg_run *run, GstSample *smp, bool first)
{
    GstBuffer *in = gst_sample_get_buffer(smp), *out;
    int64_t shift = run->base_unix_ns - f->start_ns, t;
    GstSample *o;
    GstFlowReturn ret;

    if (!in || !GST_BUFFER_PTS_IS_VALID(in))
        return true;
    t = (int64_t)GST_BUFFER_PTS(in) + shift;
    if (t < f->last_out || t < 0) { /* overlaps what was pushed */
        f->need_key = f->video;
        return true;
    }
    if (f->need_key && GST_BUFFER_FLAG_IS_SET(in, GST_BUFFER_FLAG_DELTA_UNIT))
        return true;
    f->need_key = false;
    /* frames that came in a burst (a keyframe replayed to a new tap, an encoder that cannot
     * make one on request: an RTSP camera) may share a timestamp, which the parsers and
     * muxers downstream cannot place: each frame at least 1 ms after the one before */
    if (f->video && f->last_out >= 0 && t < f->last_out + FRAME_STEP_NS)
        t = f->last_out + FRAME_STEP_NS;
    out = gst_buffer_copy(in); /* metadata only; the memory is shared */
    if (f->from_zero && f->last_out < 0)
        t = 0;
    GST_BUFFER_PTS(out) = (GstClockTime)t;
    if (GST_BUFFER_DTS_IS_VALID(in))
        GST_BUFFER_DTS(out) = (GstClockTime)MAX(0, MIN(t, (int64_t)GST_BUFFER_DTS(in) + shift));
    if (first)
        GST_BUFFER_FLAG_SET(out, GST_BUFFER_FLAG_DISCONT);
    o = gst_sample_new(out, gst_sample_get_caps(smp), NULL, NULL);
    ret = gst_app_src_push_sample(f->src, o);
    gst_sample_unref(o);
    gst_buffer_unref(out);
    f->last_out = t;
    __atomic_store_n(&f->position, t, __ATOMIC_RELAXED);
    return ret == GST_FLOW_OK;
}

static void feed_run(struct pkg_feed *f, const struct pkg_run *run)
{
    struct pkg_reader *r = pkg_reader_new(run->segs);
    GstSample *smp;
    bool first = true;

    f->need_key = f->video;
    while (!f->stopped && (smp = pkg_reader_next(r)) != NULL) {
        if (!push(f, run, smp, first))
            f->stopped = true;
        first = false;
        gst_sample_unref(smp);
    }
    pkg_reader_free(r);
}

static gpointer feed_main(gpointer data)
{
    struct pkg_feed *f = data;

    for (int i = 0; i < f->n_runs && !f->stopped; i++) {
        if (!same_codec(f->runs[0], f->runs[i])) {
            fprintf(stderr, "package: warning: run %d of %s: codec changed, skipped\n",
                    f->runs[i]->index, f->runs[i]->track->key);
            continue;
        }
        feed_run(f, f->runs[i]);
    }
    if (!f->stopped)
        gst_app_src_end_of_stream(f->src);
    __atomic_store_n(&f->position, INT64_MAX, __ATOMIC_RELAXED);
    return NULL;
}

struct pkg_feed *pkg_feed_start(struct pkg_run **runs, int n, GstAppSrc *src,
                                int64_t lesson_start_ns, int flags)
{
    struct pkg_feed *f = g_new0(struct pkg_feed, 1);

    f->runs = runs;
    f->n_runs = n;
    f->src = src;
    f->start_ns = lesson_start_ns;
    f->video = (flags & PKG_FEED_VIDEO) != 0;
    f->from_zero = (flags & PKG_FEED_FROM_ZERO) != 0;
    f->last_out = -1;
    f->thread = g_thread_new(f->video ? "pkg-video" : "pkg-audio", feed_main, f);
    return f;
}

int64_t pkg_feed_position(struct pkg_feed *f)
{
    return f ? __atomic_load_n(&f->position, __ATOMIC_RELAXED) : INT64_MAX;
}

void pkg_feed_join(struct pkg_feed *f)
{
    if (!f)
        return;
    g_thread_join(f->thread);
    g_free(f);
}
