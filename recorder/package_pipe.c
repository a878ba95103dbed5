/* package_pipe: builds the writer with gst_parse_launch from a description put together
 * here (pipeline below), then sets file locations by element name, so no path is ever
 * quoted into the description.
 *
 *   vsrc ! decode ! convert/scale to hi ! tee vt        (copy: vsrc ! tee hv)
 *     vt. ! x264enc hi ! tee hv
 *       hv. ! h264parse ! hlshi.video     hv. ! h264parse ! mp4.
 *     vt. ! scale lo ! x264enc lo ! h264parse ! hlslo.video  (copy: hv. ! decode ! ...)
 *   asrc ! opusdec ! audiorate ! convert/resample ! AAC ! tee at -> hlshi, hlslo, mp4
 *   (audio is mixed down to mono: a teacher's microphone, at half the encoding cost)
 *   with the stage: asrc ... ! audiomixer amix ! AAC ..., msrc ! opusdec ! audiorate !
 *   convert/resample ! amix. (msrc's audiorate fills the time between turns with silence,
 *   so the mixer never waits for the stage)
 *
 * audiorate fills holes with silence (and the time before the first buffer, as it does
 * not skip to the first); a video hole shows the last picture, because every sample lasts
 * until the next one in MPEG-TS and MP4 alike. Nothing syncs to a clock: the pipeline has
 * none, so it runs as fast as the CPUs go. */
#include <stdio.h>
#include <string.h>

#include "package_pipe.h"

/* Compressed-data queues before the muxers: large enough that a muxer waiting for the
 * other stream never stalls the tee feeding its siblings. */
#define QCOMP "queue max-size-buffers=0 max-size-bytes=0 max-size-time=20000000000"
#define QRAW "queue max-size-buffers=6 max-size-bytes=0 max-size-time=0"
#define HLS_TARGET_S 4
#define KEYINT_FRAMES 60 /* 2 s at 30 frames/s */

static int n_cpus(void) { return (int)g_get_num_processors(); }

void pkg_pipe_add_decoder(GString *d, const GstCaps *caps)
{
    const char *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));

    if (strcmp(name, "video/x-vp8") == 0)
        g_string_append_printf(d, "vp8dec threads=%d ! ", n_cpus());
    else if (strcmp(name, "video/x-vp9") == 0)
        g_string_append_printf(d, "vp9dec threads=%d ! ", n_cpus());
    else if (strcmp(name, "video/x-h264") == 0)
        g_string_append_printf(d, "h264parse ! avdec_h264 max-threads=%d ! ", n_cpus());
    else
        g_string_append(d, "decodebin ! ");
}

/* hi: superfast (CLASSRELAY_PACKAGE_PRESET overrides it; ultrafast packages a VP8 lesson
 * about 1.6 times faster at a visibly lower quality per bit). lo: always ultrafast, a
 * 360p picture gains little from the slower presets. */
static const char *preset(bool lo)
{
    const char *p = g_getenv("CLASSRELAY_PACKAGE_PRESET");
    return lo ? "ultrafast" : p ? p : "superfast";
}

static void add_x264(GString *d, int kbps, bool lo)
{
    g_string_append_printf(d,
                           "x264enc speed-preset=%s threads=0 bframes=0 key-int-max=%d "
                           "bitrate=%d ! video/x-h264,profile=%s ! ",
                           preset(lo), KEYINT_FRAMES, kbps, lo ? "main" : "high");
}

static void add_video(GString *d, const struct pkg_writer_cfg *c)
{
    g_string_append(d, "appsrc name=vsrc format=time is-live=false block=true "
                       "max-bytes=4000000 ! ");
    if (c->copy_video) {
        g_string_append(d, "tee name=hv ");
    } else {
        pkg_pipe_add_decoder(d, c->video_caps);
        g_string_append_printf(d,
                               "videoconvert ! videoscale ! video/x-raw,format=I420,width=%d,"
                               "height=%d,pixel-aspect-ratio=1/1 ! tee name=vt vt. ! " QRAW " ! ",
                               c->hi_w, c->hi_h);
        add_x264(d, c->hi_kbps, false);
        g_string_append(d, "tee name=hv ");
    }
    g_string_append(d, "hv. ! " QCOMP " ! h264parse name=hiparse config-interval=-1 ! "
                       "video/x-h264,stream-format=byte-stream,alignment=au ! hlshi.video ");
    g_string_append(d, "hv. ! " QCOMP " ! h264parse ! video/x-h264,stream-format=avc,"
                       "alignment=au ! mp4. ");
    if (!c->with_lo)
        return;
    if (c->copy_video) {
        g_string_append(d, "hv. ! " QCOMP " ! ");
        pkg_pipe_add_decoder(d, c->video_caps);
    } else {
        g_string_append(d, "vt. ! " QRAW " ! ");
    }
    g_string_append_printf(d,
                           "videoscale ! video/x-raw,format=I420,width=%d,height=%d,"
                           "pixel-aspect-ratio=1/1 ! ",
                           c->lo_w, c->lo_h);
    add_x264(d, c->lo_kbps, true);
    g_string_append(d, "h264parse name=loparse config-interval=-1 ! video/x-h264,"
                       "stream-format=byte-stream,alignment=au ! " QCOMP " ! hlslo.video ");
}

/* voaacenc encodes about 2.3 times faster than avenc_aac (280x against 120x real time for
 * mono 48 kHz on these machines), which makes it most of the copy path's time. */
static const char *aac_encoder(void)
{
    GstElementFactory *f = gst_element_factory_find("voaacenc");
    if (f) {
        gst_object_unref(f);
        return "voaacenc";
    }
    return "avenc_aac";
}

int64_t pkg_aac_delay_ns(void)
{
    /* measured by tests/integration/package_vod.py as the constant lag of audio behind
     * video: voaacenc 1600 samples at 48 kHz (33.3 ms), avenc_aac one 1024-sample frame */
    return strcmp(aac_encoder(), "voaacenc") == 0 ? 33333333 : 21333333;
}

#define PCM_IN(src)                                                                                \
    "appsrc name=" src " format=time is-live=false block=true max-bytes=200000 ! opusdec ! "       \
    "audiorate ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=1 ! "

static void add_audio(GString *d, const struct pkg_writer_cfg *c)
{
    g_string_append(d, PCM_IN("asrc"));
    if (c->mix_caps)
        g_string_append(d, "audiomixer name=amix ! audio/x-raw,rate=48000,channels=1 ! ");
    g_string_append_printf(d,
                           "%s bitrate=%d ! aacparse ! "
                           "tee name=at at. ! " QCOMP " ! hlshi.audio at. ! " QCOMP " ! mp4. ",
                           aac_encoder(), c->audio_bps);
    if (c->mix_caps)
        g_string_append(d, PCM_IN("msrc") "amix. ");
    if (c->with_lo)
        g_string_append(d, "at. ! " QCOMP " ! hlslo.audio ");
}

static void add_sinks(GString *d, const struct pkg_writer_cfg *c)
{
    const char *hls = "playlist-length=0 max-files=0 target-duration=";

    g_string_append_printf(d, "hlssink2 name=hlshi %s%d ", hls, HLS_TARGET_S);
    if (c->with_lo)
        g_string_append_printf(d, "hlssink2 name=hlslo %s%d ", hls, HLS_TARGET_S);
    g_string_append(d, "mp4mux name=mp4 faststart=true ! filesink name=mp4file ");
}

static void set_locations(GstElement *pipe, const char *out_dir, bool with_lo)
{
    static const char *names[] = {"hi", "lo"};

    for (int i = 0; i < (with_lo ? 2 : 1); i++) {
        char *el = g_strdup_printf("hls%s", names[i]);
        char *dir = g_build_filename(out_dir, names[i], NULL);
        char *seg = g_build_filename(dir, "seg%05d.ts", NULL);
        char *pl = g_build_filename(dir, "index.m3u8", NULL);
        GstElement *e = gst_bin_get_by_name(GST_BIN(pipe), el);
        g_mkdir_with_parents(dir, 0755);
        g_object_set(e, "location", seg, "playlist-location", pl, NULL);
        gst_object_unref(e);
        g_free(el);
        g_free(dir);
        g_free(seg);
        g_free(pl);
    }
    char *mp4 = g_build_filename(out_dir, "lesson.mp4", NULL);
    GstElement *e = gst_bin_get_by_name(GST_BIN(pipe), "mp4file");
    g_object_set(e, "location", mp4, NULL);
    gst_object_unref(e);
    g_free(mp4);
}

static GstAppSrc *get_src(GstElement *pipe, const char *name, GstCaps *caps)
{
    GstElement *e;

    if (!caps)
        return NULL;
    e = gst_bin_get_by_name(GST_BIN(pipe), name);
    g_object_set(e, "caps", caps, NULL);
    gst_object_unref(e); /* the pipeline keeps it alive */
    return GST_APP_SRC(e);
}

/* A buffer without a PTS makes mp4mux fail the whole lesson ("Buffer has no PTS"); one
 * is seen now and then under load in the transcoding path, and its DTS there can be
 * x264enc's, 1000 hours ahead (GstVideoEncoder's min_pts), which once put a frame at
 * 3600000 s and stalled the replay from the start. Such a buffer gets the end of the
 * buffer before it on the same pad, else its DTS when that is a lesson's time (under a
 * day), else 0; its DTS is set to the same, as nothing muxed here has reordered frames
 * (bframes=0, WebRTC codecs, AAC). The first one per pad is reported on stderr. */
#define LESSON_TIME_MAX (24 * 3600 * GST_SECOND)

struct pts_guard {
    GstClockTime next;
    bool warned;
};

static GstClockTime repaired_pts(const struct pts_guard *g, const GstBuffer *b)
{
    if (GST_CLOCK_TIME_IS_VALID(g->next))
        return g->next;
    if (GST_BUFFER_DTS_IS_VALID(b) && GST_BUFFER_DTS(b) < LESSON_TIME_MAX)
        return GST_BUFFER_DTS(b);
    return 0;
}

static GstPadProbeReturn guard_pts(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    struct pts_guard *g = data;
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!GST_BUFFER_PTS_IS_VALID(b)) {
        GstClockTime t = repaired_pts(g, b);
        b = gst_buffer_make_writable(b);
        GST_BUFFER_PTS(b) = t;
        GST_BUFFER_DTS(b) = t;
        GST_PAD_PROBE_INFO_DATA(info) = b;
        if (!g->warned)
            fprintf(stderr, "package: warning: a buffer without PTS reached %s:%s; given %.3f s\n",
                    GST_DEBUG_PAD_NAME(pad), (double)t / GST_SECOND);
        g->warned = true;
    }
    g->next = GST_BUFFER_PTS(b) + (GST_BUFFER_DURATION_IS_VALID(b) ? GST_BUFFER_DURATION(b) : 0);
    return GST_PAD_PROBE_OK;
}

static gboolean add_pts_guard(GstElement *el, GstPad *pad, gpointer unused)
{
    struct pts_guard *g = g_new0(struct pts_guard, 1);
    g->next = GST_CLOCK_TIME_NONE;
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, guard_pts, g, g_free);
    return TRUE;
}

/* Every muxer's input is guarded: MP4, and the HLS sinks (their MPEG-TS muxer). */
static void guard_muxers(GstElement *pipe)
{
    static const char *names[] = {"mp4", "hlshi", "hlslo"};

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        GstElement *e = gst_bin_get_by_name(GST_BIN(pipe), names[i]);
        if (!e)
            continue;
        gst_element_foreach_sink_pad(e, add_pts_guard, NULL);
        gst_object_unref(e);
    }
}

int pkg_writer_open(struct pkg_writer *w, const struct pkg_writer_cfg *c, char **err)
{
    GString *d = g_string_new(NULL);
    GError *e = NULL;

    memset(w, 0, sizeof(*w));
    if (c->video_caps)
        add_video(d, c);
    if (c->audio_caps)
        add_audio(d, c);
    add_sinks(d, c);
    if (g_getenv("CLASSRELAY_PACKAGE_DEBUG"))
        fprintf(stderr, "package: writer: %s\n", d->str);
    w->pipe = gst_parse_launch_full(d->str, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &e);
    g_string_free(d, TRUE);
    if (!w->pipe) {
        *err = g_strdup_printf("writer pipeline: %s", e ? e->message : "?");
        g_clear_error(&e);
        return -1;
    }
    gst_pipeline_use_clock(GST_PIPELINE(w->pipe), NULL);
    guard_muxers(w->pipe);
    set_locations(w->pipe, c->out_dir, c->with_lo);
    w->vsrc = get_src(w->pipe, "vsrc", c->video_caps);
    w->asrc = get_src(w->pipe, "asrc", c->audio_caps);
    w->msrc = get_src(w->pipe, "msrc", c->mix_caps);
    if (gst_element_set_state(w->pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        *err = g_strdup("writer pipeline does not start");
        pkg_writer_close(w);
        return -1;
    }
    return 0;
}

/* H.264 profile names of the caps (gst-plugins-bad codecparsers) to profile_idc and the
 * constraint flags byte (ISO/IEC 14496-10 §7.4.2.1.1). */
static void profile_bytes(const char *p, int *idc, int *flags)
{
    *idc = 0x64;
    *flags = 0;
    if (!p)
        return;
    if (strcmp(p, "constrained-baseline") == 0)
        *idc = 0x42, *flags = 0xc0;
    else if (strcmp(p, "baseline") == 0)
        *idc = 0x42;
    else if (strcmp(p, "main") == 0)
        *idc = 0x4d;
    else if (strcmp(p, "high-10") == 0)
        *idc = 0x6e;
}

void pkg_writer_codec(struct pkg_writer *w, const char *name, char out[16])
{
    char *el = g_strdup_printf("%sparse", name);
    GstElement *e = w->pipe ? gst_bin_get_by_name(GST_BIN(w->pipe), el) : NULL;
    int idc = 0x64, flags = 0, level = 40;

    g_free(el);
    if (e) {
        GstPad *pad = gst_element_get_static_pad(e, "src");
        GstCaps *caps = gst_pad_get_current_caps(pad);
        if (caps) {
            const GstStructure *s = gst_caps_get_structure(caps, 0);
            const char *lv = gst_structure_get_string(s, "level");
            profile_bytes(gst_structure_get_string(s, "profile"), &idc, &flags);
            if (lv)
                level = (int)(g_ascii_strtod(lv, NULL) * 10 + 0.5);
            if (lv && strcmp(lv, "1b") == 0)
                level = 11;
            gst_caps_unref(caps);
        }
        gst_object_unref(pad);
        gst_object_unref(e);
    }
    snprintf(out, 16, "avc1.%02X%02X%02X", idc & 0xff, flags & 0xff, level & 0xff);
}

void pkg_writer_close(struct pkg_writer *w)
{
    if (!w->pipe)
        return;
    gst_element_set_state(w->pipe, GST_STATE_NULL);
    gst_object_unref(w->pipe);
    memset(w, 0, sizeof(*w));
}
