/* package_read: recorded segments back into buffers, one small GStreamer pipeline per
 * segment (filesrc ! matroskademux ! appsink, no clock). Segments are Matroska written
 * streamable by splitmuxsink (no cues, no duration), so the demuxer simply walks the
 * clusters; the last segment of a run killed by SIGKILL ends in the middle of a cluster
 * and the demuxer reports an error there: every buffer before it is kept. */
#include <stdio.h>
#include <string.h>

#include <gst/app/gstappsink.h>

#include "package_read.h"

/* A demuxer that produces nothing for this long is stuck: give up on the segment. */
#define SEG_STALL_US (10 * G_USEC_PER_SEC)

struct seg {
    GstElement *pipe; /* owned */
    GstElement *sink; /* borrowed from pipe */
    const char *path; /* borrowed */
    bool done;
};

struct pkg_reader {
    char *const *segs; /* borrowed */
    int next_seg;
    struct seg cur; /* state: cur.pipe is NULL between segments */
};

static void on_pad_added(GstElement *demux, GstPad *pad, gpointer data)
{
    GstElement *sink = data;
    GstPad *sinkpad = gst_element_get_static_pad(sink, "sink");

    (void)demux;
    if (!gst_pad_is_linked(sinkpad))
        gst_pad_link(pad, sinkpad);
    gst_object_unref(sinkpad);
}

static int seg_open(struct seg *s, const char *path)
{
    GstElement *src, *demux;

    memset(s, 0, sizeof(*s));
    s->path = path;
    s->pipe = gst_pipeline_new(NULL);
    src = gst_element_factory_make("filesrc", NULL);
    demux = gst_element_factory_make("matroskademux", NULL);
    s->sink = gst_element_factory_make("appsink", NULL);
    if (!src || !demux || !s->sink) {
        fprintf(stderr, "package: filesrc, matroskademux or appsink missing\n");
        return -1;
    }
    g_object_set(src, "location", path, NULL);
    g_object_set(s->sink, "sync", FALSE, "max-buffers", 200, "emit-signals", FALSE, NULL);
    gst_bin_add_many(GST_BIN(s->pipe), src, demux, s->sink, NULL);
    gst_element_link(src, demux);
    g_signal_connect(demux, "pad-added", G_CALLBACK(on_pad_added), s->sink);
    gst_pipeline_use_clock(GST_PIPELINE(s->pipe), NULL);
    if (gst_element_set_state(s->pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        fprintf(stderr, "package: warning: cannot read %s, skipped\n", path);
        return -1;
    }
    return 0;
}

static void seg_close(struct seg *s)
{
    if (!s->pipe)
        return;
    gst_element_set_state(s->pipe, GST_STATE_NULL);
    gst_object_unref(s->pipe);
    s->pipe = NULL;
}

/* True (and a warning) when the segment's pipeline reported an error. */
static bool seg_failed(struct seg *s)
{
    GstBus *bus = gst_element_get_bus(s->pipe);
    GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    bool failed = msg != NULL;

    if (msg) {
        GError *e = NULL;
        gst_message_parse_error(msg, &e, NULL);
        fprintf(stderr, "package: warning: %s: %s (read up to there)\n", s->path,
                e ? e->message : "error");
        g_clear_error(&e);
        gst_message_unref(msg);
    }
    gst_object_unref(bus);
    return failed;
}

/* The segment's next sample, or NULL at its end (EOS, error or stall). */
static GstSample *seg_next(struct seg *s)
{
    gint64 idle_since = g_get_monotonic_time();

    while (!s->done) {
        GstSample *smp = gst_app_sink_try_pull_sample(GST_APP_SINK(s->sink), 50 * GST_MSECOND);
        if (smp)
            return smp;
        if (gst_app_sink_is_eos(GST_APP_SINK(s->sink)) || seg_failed(s))
            s->done = true;
        else if (g_get_monotonic_time() - idle_since > SEG_STALL_US) {
            fprintf(stderr, "package: warning: %s: no data, skipped\n", s->path);
            s->done = true;
        }
    }
    return NULL;
}

struct pkg_reader *pkg_reader_new(char *const *segs)
{
    struct pkg_reader *r = g_new0(struct pkg_reader, 1);
    r->segs = segs;
    return r;
}

GstSample *pkg_reader_next(struct pkg_reader *r)
{
    for (;;) {
        if (r->cur.pipe) {
            GstSample *smp = seg_next(&r->cur);
            if (smp)
                return smp;
            seg_close(&r->cur);
        }
        if (!r->segs[r->next_seg])
            return NULL;
        if (seg_open(&r->cur, r->segs[r->next_seg++]) < 0)
            seg_close(&r->cur);
    }
}

void pkg_reader_free(struct pkg_reader *r)
{
    if (!r)
        return;
    seg_close(&r->cur);
    g_free(r);
}

int pkg_probe_segment(const char *path, bool whole, int64_t *first, int64_t *end, GstCaps **caps)
{
    char *segs[2] = {(char *)path, NULL};
    struct pkg_reader *r = pkg_reader_new(segs);
    GstSample *smp;
    int n = 0;

    *first = *end = -1;
    *caps = NULL;
    while ((smp = pkg_reader_next(r)) != NULL) {
        GstBuffer *b = gst_sample_get_buffer(smp);
        if (b && GST_BUFFER_PTS_IS_VALID(b)) {
            int64_t pts = (int64_t)GST_BUFFER_PTS(b);
            int64_t e =
                pts + (GST_BUFFER_DURATION_IS_VALID(b) ? (int64_t)GST_BUFFER_DURATION(b) : 0);
            if (n++ == 0) {
                *first = pts;
                *caps = gst_caps_ref(gst_sample_get_caps(smp));
            }
            if (e > *end)
                *end = e;
        }
        gst_sample_unref(smp);
        if (n > 0 && !whole)
            break;
    }
    pkg_reader_free(r);
    return n > 0 ? 0 : -1;
}
