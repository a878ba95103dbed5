/* The RTSP source of the ingest: see ingest_src.h. rtspsrc and its RTP payloads: RFC 2326
 * (RTSP, §10.12 interleaved), RFC 6184 (H.264), RFC 3640 and RFC 6416 (AAC), RFC 3551
 * (G.711), RFC 7587 (Opus). Pads of rtspsrc appear on its thread once the session is set up;
 * each gets a branch (a bin from a description) ending in an appsink. The bus, the stall
 * watchdog and the rebuilds run on the main loop. */
#include "ingest_src.h"

#include <stdio.h>
#include <string.h>

#include <gst/app/gstappsink.h>

#include "base/redact.h"

#define STALL_MS 3000 /* no video this long while playing: the source is lost */
#define WATCH_MS 250  /* how often the watchdog looks */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 10000
#define UDP_TIMEOUT_US 2000000 /* no UDP packet this long: rtspsrc retries interleaved TCP */

struct ingest_src {
    char *url; /* owned, secret: never printed */
    struct ingest_src_cbs cbs;
    void *ud;
    GstElement *pipe; /* owned; NULL between tries */
    guint bus_watch, watchdog, retry;
    unsigned session;     /* pipelines built so far */
    unsigned backoff_ms;  /* the wait before the next try */
    bool playing;         /* on_playing said for this pipeline */
    GMutex lock;          /* guards what the streaming threads write below */
    gint64 last_video_us; /* monotonic; 0: none yet in this pipeline */
    gint64 last_any_us;
    char video[32], audio[32];
};

struct branch {
    struct ingest_src *s; /* borrowed */
    bool video;
    unsigned session;
};

static void build(struct ingest_src *s);

static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer ud)
{
    struct branch *b = ud;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (!sample)
        return GST_FLOW_EOS;
    g_mutex_lock(&b->s->lock);
    gint64 now = g_get_monotonic_time();
    b->s->last_any_us = now;
    if (b->video)
        b->s->last_video_us = now;
    g_mutex_unlock(&b->s->lock);
    b->s->cbs.on_sample(b->s->ud, b->video, sample, b->session);
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

/* The branch for one RTP stream of the camera, by its encoding name; NULL: not taken. */
static const char *branch_desc(const char *media, const char *enc)
{
    /* named decoders, not decodebin: a bin's ghost pad would take decodebin's unlinked
     * neighbour */
    static const struct {
        const char *enc, *decode;
    } audio[] = {{"MPEG4-GENERIC", "rtpmp4gdepay ! aacparse ! avdec_aac"},
                 {"MP4A-LATM", "rtpmp4adepay ! aacparse ! avdec_aac"},
                 {"PCMU", "rtppcmudepay ! mulawdec"},
                 {"PCMA", "rtppcmadepay ! alawdec"},
                 {"OPUS", "rtpopusdepay ! opusdec"}};
    static char desc[400];
    if (strcmp(media, "video") == 0 && g_ascii_strcasecmp(enc, "H264") == 0)
        return "rtph264depay ! h264parse config-interval=-1 ! "
               "video/x-h264,stream-format=byte-stream,alignment=au ! "
               "appsink name=sink sync=false max-buffers=200 drop=true";
    if (strcmp(media, "audio") != 0)
        return NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(audio); i++) {
        if (g_ascii_strcasecmp(enc, audio[i].enc) != 0)
            continue;
        snprintf(desc, sizeof desc,
                 "%s ! audioconvert ! audioresample ! "
                 "audio/x-raw,rate=48000,channels=2 ! opusenc bitrate=64000 ! "
                 "appsink name=sink sync=false max-buffers=200 drop=true",
                 audio[i].decode);
        return desc;
    }
    return NULL;
}

static void on_pad_added(GstElement *src, GstPad *pad, gpointer ud)
{
    struct ingest_src *s = ud;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (!caps)
        caps = gst_pad_query_caps(pad, NULL);
    const GstStructure *st = gst_caps_get_structure(caps, 0);
    const char *media = gst_structure_get_string(st, "media");
    const char *enc = gst_structure_get_string(st, "encoding-name");
    const char *desc = media && enc ? branch_desc(media, enc) : NULL;
    bool video = media && strcmp(media, "video") == 0;
    g_mutex_lock(&s->lock);
    char *have = video ? s->video : s->audio;
    bool taken = have[0] != '\0';
    if (desc && !taken)
        snprintf(have, sizeof s->video, "%s", enc);
    g_mutex_unlock(&s->lock);
    if (!desc || taken) {
        g_printerr("ingest: the camera's %s stream (%s) is not taken%s\n", media ? media : "?",
                   enc ? enc : "?", taken ? ": one of its kind already is" : "");
        desc = "fakesink sync=false";
    }
    GError *err = NULL;
    GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &err);
    gst_caps_unref(caps);
    if (!bin) {
        g_printerr("ingest: %s\n", err ? err->message : "cannot make a branch");
        g_clear_error(&err);
        return;
    }
    GstElement *sink = gst_bin_get_by_name(GST_BIN(bin), "sink");
    if (sink) {
        struct branch *b = g_new0(struct branch, 1);
        *b = (struct branch){s, video, s->session};
        GstAppSinkCallbacks cbs = {.new_sample = on_new_sample};
        gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, b, g_free);
        gst_object_unref(sink);
    }
    GstElement *pipe = GST_ELEMENT(gst_element_get_parent(src));
    gst_bin_add(GST_BIN(pipe), bin);
    gst_element_sync_state_with_parent(bin);
    GstPad *sinkpad = gst_element_get_static_pad(bin, "sink");
    if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK)
        g_printerr("ingest: cannot link the camera's %s stream\n", media ? media : "?");
    gst_object_unref(sinkpad);
    gst_object_unref(pipe);
}

static void teardown(struct ingest_src *s)
{
    if (s->bus_watch)
        g_source_remove(s->bus_watch);
    if (s->watchdog)
        g_source_remove(s->watchdog);
    s->bus_watch = s->watchdog = 0;
    if (s->pipe) {
        gst_element_set_state(s->pipe, GST_STATE_NULL);
        gst_object_unref(s->pipe);
        s->pipe = NULL;
    }
}

static gboolean on_retry(gpointer ud)
{
    struct ingest_src *s = ud;
    s->retry = 0;
    build(s);
    return G_SOURCE_REMOVE;
}

/* The source is gone: down now, again in backoff. */
static void lost(struct ingest_src *s, const char *why)
{
    char text[512];
    cr_redact_userinfo(why, text, sizeof text);
    teardown(s);
    unsigned wait = s->backoff_ms;
    s->backoff_ms = wait * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : wait * 2;
    s->retry = g_timeout_add(wait, on_retry, s);
    g_printerr("ingest: source lost (%s); trying again in %u ms\n", text, wait);
    s->cbs.on_lost(s->ud, text, wait);
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer ud)
{
    struct ingest_src *s = ud;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError *err = NULL;
        gst_message_parse_error(msg, &err, NULL); /* the debug text may quote the URL */
        lost(s, err && err->message ? err->message : "error");
        g_clear_error(&err);
        return G_SOURCE_REMOVE; /* lost() removed the watch's id; the source ends here */
    }
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
        lost(s, "the camera ended the stream");
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* Says when media flows, and calls a pipeline that stopped sending lost. */
static gboolean on_watchdog(gpointer ud)
{
    struct ingest_src *s = ud;
    char video[32], audio[32];
    g_mutex_lock(&s->lock);
    gint64 last = s->video[0] ? s->last_video_us : s->last_any_us;
    snprintf(video, sizeof video, "%s", s->video);
    snprintf(audio, sizeof audio, "%s", s->audio);
    g_mutex_unlock(&s->lock);
    gint64 now = g_get_monotonic_time();
    if (!s->playing && last) {
        s->playing = true;
        s->backoff_ms = BACKOFF_FIRST_MS;
        s->cbs.on_playing(s->ud, video, audio);
    }
    if (s->playing && now - last > (gint64)STALL_MS * 1000) {
        s->watchdog = 0; /* this source ends with the return below */
        lost(s, "no media from the camera for 3 s");
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void build(struct ingest_src *s)
{
    s->session++;
    s->playing = false;
    g_mutex_lock(&s->lock);
    s->last_video_us = s->last_any_us = 0;
    s->video[0] = s->audio[0] = '\0';
    g_mutex_unlock(&s->lock);
    s->pipe = gst_pipeline_new("rtsp");
    GstElement *src = gst_element_factory_make("rtspsrc", "src");
    g_object_set(src, "location", s->url, "latency", 200, "timeout", (guint64)UDP_TIMEOUT_US,
                 "tcp-timeout", (guint64)5000000, NULL);
    gst_util_set_object_arg(G_OBJECT(src), "protocols", "udp+tcp");
    g_signal_connect(src, "pad-added", G_CALLBACK(on_pad_added), s);
    gst_bin_add(GST_BIN(s->pipe), src);
    GstBus *bus = gst_element_get_bus(s->pipe);
    s->bus_watch = gst_bus_add_watch(bus, on_bus, s);
    gst_object_unref(bus);
    s->watchdog = g_timeout_add(WATCH_MS, on_watchdog, s);
    if (gst_element_set_state(s->pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
        lost(s, "the RTSP source did not start");
}

struct ingest_src *ingest_src_new(const char *url, const struct ingest_src_cbs *cbs, void *ud,
                                  char **err)
{
    GstElementFactory *f = gst_element_factory_find("rtspsrc");
    if (!f) {
        *err = g_strdup("GStreamer has no rtspsrc (gstreamer1.0-plugins-good)");
        return NULL;
    }
    gst_object_unref(f);
    struct ingest_src *s = g_new0(struct ingest_src, 1);
    s->url = g_strdup(url);
    s->cbs = *cbs;
    s->ud = ud;
    s->backoff_ms = BACKOFF_FIRST_MS;
    g_mutex_init(&s->lock);
    build(s);
    return s;
}

void ingest_src_free(struct ingest_src *s)
{
    if (!s)
        return;
    if (s->retry)
        g_source_remove(s->retry);
    teardown(s);
    g_mutex_clear(&s->lock);
    g_free(s->url);
    g_free(s);
}
