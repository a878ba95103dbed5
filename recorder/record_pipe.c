/* One run's GStreamer pipeline for one track (docs/recording.md "Who does what"):
 *
 *   udpsrc (our socket) -> rtpjitterbuffer -> depayloader [-> parser] -> matroskamux
 *   (streamable) -> filesink (unbuffered)
 *
 * and the segmenter that replaces the matroskamux + filesink pair with a fresh one, writing
 * the next seg-NNNNN.mkv, at the first keyframe (any buffer for audio) at least
 * REC_PIPE_SEGMENT_NS after the current segment began. The segmenter is ours and not
 * splitmuxsink because splitmuxsink keeps each whole GOP in memory until the next keyframe
 * tells it where the GOP ends; a browser sends keyframes only when asked, so a crash would
 * lose minutes. Here each frame reaches the file as soon as the muxer has it, and only the
 * jitterbuffer's latency is at risk. The segmenter runs in the streaming thread, inside a
 * pad probe on the muxer's upstream pad, so no buffer is ever between two files.
 *
 * rtpjitterbuffer (mode slave) stamps buffers from their arrival time on the process-wide
 * monotonic clock, which record_track.c maps to wall-clock time in run.json. With do-lost
 * it tells the depayloader about lost packets (counted here for keyframe requests). Video
 * is dropped until the run's first keyframe so every segment starts with one. Bus
 * messages, states and events are record_track.c's business. */
#include <string.h>

#include "record_pipe.h"

static const struct rec_codec codecs[] = {
    {"OPUS", "audio", "rtpopusdepay", "opusparse"},
    {"VP8", "video", "rtpvp8depay", NULL},
    {"H264", "video", "rtph264depay", "h264parse"},
};

const struct rec_codec *rec_pipe_codec(const char *name)
{
    for (size_t i = 0; name && i < G_N_ELEMENTS(codecs); i++)
        if (g_ascii_strcasecmp(name, codecs[i].name) == 0)
            return &codecs[i];
    return NULL;
}

static GstElement *make(const char *factory, char **err)
{
    GstElement *e = gst_element_factory_make(factory, NULL);
    if (!e && !*err)
        *err = g_strdup_printf("GStreamer element %s is missing", factory);
    return e;
}

static GstPadProbeReturn on_sink_data(GstPad *pad, GstPadProbeInfo *info, gpointer ud)
{
    struct rec_pipe *p = ud;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
        atomic_fetch_add(&p->bytes, gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info)));
    else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
        atomic_fetch_add(&p->bytes,
                         gst_buffer_list_calculate_size(GST_PAD_PROBE_INFO_BUFFER_LIST(info)));
    return GST_PAD_PROBE_OK;
}

/* Creates the writer (matroskamux + filesink) for segment seg_index, adds it to the
 * pipeline and links tail to it. In a playing pipeline the caller brings it to PLAYING;
 * the tail pad resends its sticky events (stream-start, caps, segment) before the next
 * buffer. */
static int add_writer(struct rec_pipe *p, char **err)
{
    GstElement *mux = make("matroskamux", err), *sink = make("filesink", err);
    char *loc = g_strdup_printf("%s/seg-%05d.mkv", p->run_dir, atomic_load(&p->seg_index));
    GstPad *mpad = NULL, *spad;

    if (!mux || !sink)
        goto fail;
    g_object_set(mux, "streamable", TRUE, "writing-app", "classrelay-recorder", NULL);
    g_object_set(sink, "location", loc, "async", FALSE, "sync", FALSE, NULL);
    gst_util_set_object_arg(G_OBJECT(sink), "buffer-mode", "unbuffered");
    gst_bin_add_many(GST_BIN(p->pipeline), mux, sink, NULL);
    if (!gst_element_link(mux, sink)) {
        *err = g_strdup("cannot link matroskamux to filesink");
        goto fail_added;
    }
    mpad = gst_element_request_pad_simple(mux, p->video ? "video_%u" : "audio_%u");
    if (!mpad || GST_PAD_LINK_FAILED(gst_pad_link(p->tail, mpad))) {
        *err = g_strdup("cannot link the stream to matroskamux");
        goto fail_added;
    }
    gst_object_unref(mpad);
    spad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(spad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                      on_sink_data, p, NULL);
    gst_object_unref(spad);
    p->mux = mux;
    p->sink = sink;
    g_free(loc);
    return 0;
fail_added:
    if (mpad) {
        gst_element_release_request_pad(mux, mpad);
        gst_object_unref(mpad);
    }
    gst_bin_remove_many(GST_BIN(p->pipeline), mux, sink, NULL);
    g_free(loc);
    return -1;
fail:
    if (mux)
        gst_object_unref(gst_object_ref_sink(mux));
    if (sink)
        gst_object_unref(gst_object_ref_sink(sink));
    g_free(loc);
    return -1;
}

/* Closes the current segment: no EOS is needed, a streamable Matroska file is complete
 * after its last block, and every block is already written. */
static void drop_writer(struct rec_pipe *p)
{
    GstPad *peer = gst_pad_get_peer(p->tail);
    if (peer) {
        gst_pad_unlink(p->tail, peer);
        gst_element_release_request_pad(p->mux, peer);
        gst_object_unref(peer);
    }
    gst_element_set_state(p->mux, GST_STATE_NULL);
    gst_element_set_state(p->sink, GST_STATE_NULL);
    gst_bin_remove_many(GST_BIN(p->pipeline), p->mux, p->sink, NULL);
    p->mux = p->sink = NULL;
}

static int next_segment(struct rec_pipe *p)
{
    char *err = NULL;

    drop_writer(p);
    atomic_fetch_add(&p->seg_index, 1);
    if (add_writer(p, &err) < 0)
        goto fail;
    gst_element_sync_state_with_parent(p->sink);
    gst_element_sync_state_with_parent(p->mux);
    return 0;
fail:
    GST_ELEMENT_ERROR(p->pipeline, CORE, FAILED, ("%s", err), (NULL));
    g_free(err);
    return -1;
}

/* Video splits at a keyframe, which may come a frame early: allow some slack. */
static long long split_after_ns(const struct rec_pipe *p)
{
    return (long long)REC_PIPE_SEGMENT_NS - (p->video ? (long long)REC_PIPE_SEGMENT_SLACK_NS : 0);
}

/* The segmenter, in the streaming thread. A blocking probe that lets every item pass, so
 * the pad re-sends its sticky events to a writer linked here before the buffer goes on. */
static GstPadProbeReturn on_tail_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer ud)
{
    struct rec_pipe *p = ud;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    GstClockTime pts = GST_BUFFER_PTS(buf), dur = GST_BUFFER_DURATION(buf);
    bool key = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    long long start, end;

    if (atomic_load(&p->waiting_key)) {
        if (!key)
            return GST_PAD_PROBE_DROP;
        atomic_store(&p->waiting_key, false);
    }
    if (!p->mux)
        return GST_PAD_PROBE_DROP;
    if (!GST_CLOCK_TIME_IS_VALID(pts))
        return GST_PAD_PROBE_PASS;
    start = atomic_load(&p->seg_start);
    if (start < 0) {
        atomic_store(&p->seg_start, (long long)pts);
        atomic_store(&p->first_pts, (long long)pts);
    } else if (key && (long long)pts - start >= split_after_ns(p) && !atomic_load(&p->closing)) {
        if (next_segment(p) < 0)
            return GST_PAD_PROBE_DROP;
        atomic_store(&p->seg_start, (long long)pts);
    }
    end = (long long)pts + (GST_CLOCK_TIME_IS_VALID(dur) ? (long long)dur : 0);
    if (end > atomic_load(&p->last_end))
        atomic_store(&p->last_end, end);
    return GST_PAD_PROBE_PASS;
}

static GstPadProbeReturn on_jbuf_event(GstPad *pad, GstPadProbeInfo *info, gpointer ud)
{
    struct rec_pipe *p = ud;
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_CUSTOM_DOWNSTREAM &&
        gst_event_has_name(ev, "GstRTPPacketLost"))
        atomic_fetch_add(&p->losses, 1);
    return GST_PAD_PROBE_OK;
}

static GstCaps *rtp_caps(const struct rec_pipe_cfg *cfg)
{
    return gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, cfg->codec->media,
                               "clock-rate", G_TYPE_INT, cfg->clock_rate, "encoding-name",
                               G_TYPE_STRING, cfg->codec->name, "payload", G_TYPE_INT, cfg->pt,
                               NULL);
}

/* udpsrc -> rtpjitterbuffer -> depayloader [-> parser]; sets p->jbuf and p->tail. */
static int build_source(struct rec_pipe *p, const struct rec_pipe_cfg *cfg, char **err)
{
    GstElement *src = make("udpsrc", err), *jb = make("rtpjitterbuffer", err);
    GstElement *depay = make(cfg->codec->depay, err);
    GstElement *parse = cfg->codec->parser ? make(cfg->codec->parser, err) : NULL;
    GstElement *last = parse ? parse : depay;
    GstCaps *caps;
    GstPad *pad;

    if (!src || !jb || !depay || (cfg->codec->parser && !parse)) {
        GstElement *all[] = {src, jb, depay, parse};
        for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
            if (all[i])
                gst_object_unref(gst_object_ref_sink(all[i]));
        return -1;
    }
    caps = rtp_caps(cfg);
    g_object_set(src, "socket", cfg->sock, "close-socket", FALSE, "caps", caps, NULL);
    gst_caps_unref(caps);
    g_object_set(jb, "latency", REC_PIPE_LATENCY_MS, "do-lost", TRUE, NULL);
    gst_util_set_object_arg(G_OBJECT(jb), "mode", "slave");
    gst_bin_add_many(GST_BIN(p->pipeline), src, jb, depay, NULL);
    if (parse)
        gst_bin_add(GST_BIN(p->pipeline), parse);
    if (!gst_element_link_many(src, jb, depay, parse, NULL)) {
        *err = g_strdup_printf("cannot link udpsrc ! rtpjitterbuffer ! %s%s%s", cfg->codec->depay,
                               parse ? " ! " : "", parse ? cfg->codec->parser : "");
        return -1;
    }
    pad = gst_element_get_static_pad(jb, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_jbuf_event, p, NULL);
    gst_object_unref(pad);
    p->jbuf = jb;
    p->tail = gst_element_get_static_pad(last, "src");
    gst_pad_add_probe(p->tail, GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER, on_tail_buffer,
                      p, NULL);
    return 0;
}

struct rec_pipe *rec_pipe_new(const struct rec_pipe_cfg *cfg, char **err)
{
    struct rec_pipe *p = g_new0(struct rec_pipe, 1);

    *err = NULL;
    p->pipeline = gst_pipeline_new(NULL);
    p->run_dir = g_strdup(cfg->run_dir);
    p->video = strcmp(cfg->codec->media, "video") == 0;
    atomic_init(&p->seg_index, 0);
    atomic_init(&p->seg_start, -1);
    atomic_init(&p->first_pts, -1);
    atomic_init(&p->last_end, 0);
    atomic_init(&p->bytes, 0);
    atomic_init(&p->losses, 0);
    atomic_init(&p->waiting_key, p->video);
    atomic_init(&p->closing, false);
    if (build_source(p, cfg, err) < 0 || add_writer(p, err) < 0)
        goto fail;
    return p;
fail:
    rec_pipe_free(p);
    return NULL;
}

void rec_pipe_free(struct rec_pipe *p)
{
    if (!p)
        return;
    atomic_store(&p->closing, true);
    gst_element_set_state(p->pipeline, GST_STATE_NULL);
    if (p->tail)
        gst_object_unref(p->tail);
    gst_object_unref(p->pipeline);
    g_free(p->run_dir);
    g_free(p);
}

int64_t rec_pipe_duration_ns(struct rec_pipe *p)
{
    long long first = atomic_load(&p->first_pts), end = atomic_load(&p->last_end);
    return first < 0 || end < first ? 0 : (int64_t)(end - first);
}
