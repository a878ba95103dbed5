/* The ingest's webrtcbin publisher: see ingest_send.h. RFC 8829 (JSEP: the offer, then the
 * answer), RFC 8445 (ICE, gathered on one address; the relay is ICE lite and we control),
 * RFC 6184 (H.264 payload, packetization-mode 1), RFC 7587 (Opus payload). webrtcbin calls
 * back on its own threads; everything that reaches the caller is moved to the main loop. */
#define GST_USE_UNSTABLE_API /* gst/webrtc is marked unstable in 1.22 */
#include "ingest_send.h"

#include <stdio.h>
#include <string.h>

#include <gst/app/gstappsrc.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#define CAPS_WAIT_MS 3000 /* the offer waits this long at most for media on every line */

#define PIPELINE_HEAD "webrtcbin name=webrtc bundle-policy=max-bundle "
#define VIDEO_BRANCH                                                                               \
    "appsrc name=vsrc is-live=true format=time ! queue ! h264parse config-interval=-1 ! "          \
    "rtph264pay config-interval=-1 pt=102 mtu=1200 aggregate-mode=zero-latency ! "                 \
    "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000 ! webrtc. "
#define AUDIO_BRANCH                                                                               \
    "appsrc name=asrc is-live=true format=time ! queue ! rtpopuspay pt=111 ! "                     \
    "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! webrtc. "

struct ingest_send {
    struct ingest_send_cbs cbs;
    void *ud;
    GstElement *pipe, *webrtc; /* owned; webrtc borrowed from pipe */
    GstElement *src[2];        /* [0] audio, [1] video appsrc; borrowed from pipe; or NULL */
    GstWebRTCICE *agent;       /* owned reference */
    guint caps_wait;           /* the timer waiting for media before the offer */
    gint64 caps_deadline_us;   /* monotonic */
    bool offered;              /* the offer went out */
    GMutex lock;               /* guards the following, written by streaming threads */
    unsigned session;          /* the camera session last seen */
    gint64 offset;             /* ns added to the camera's timestamps in this session */
    bool rebase;               /* the next sample sets offset */
    GstClockTime last[2];      /* the last timestamp sent, per kind */
    GstCaps *caps[2];          /* owned: caps set on each appsrc */
    GString *candidates[8];    /* owned: "a=candidate:..." lines per m-line */
};

/* ---- to the main loop ---- */

struct note {
    struct ingest_send *s;
    bool offer; /* else a state */
    char *text;
};

static gboolean deliver(gpointer ud)
{
    struct note *n = ud;
    if (n->offer)
        n->s->cbs.on_offer(n->s->ud, n->text);
    else
        n->s->cbs.on_state(n->s->ud, n->text);
    g_free(n->text);
    g_free(n);
    return G_SOURCE_REMOVE;
}

static void post(struct ingest_send *s, bool offer, char *text)
{
    struct note *n = g_new0(struct note, 1);
    *n = (struct note){s, offer, text};
    g_idle_add(deliver, n);
}

/* ---- media in ---- */

static GstClockTime running_time(GstElement *pipe)
{
    GstClock *clock = gst_element_get_clock(pipe);
    if (!clock)
        return GST_CLOCK_TIME_NONE;
    GstClockTime now = gst_clock_get_time(clock), base = gst_element_get_base_time(pipe);
    gst_object_unref(clock);
    return now > base ? now - base : 0;
}

void ingest_send_push(struct ingest_send *s, bool video, GstSample *sample, unsigned session)
{
    GstElement *src = s->src[video];
    GstBuffer *in = gst_sample_get_buffer(sample);
    GstClockTime now = running_time(s->pipe);
    if (!src || !in || !GST_CLOCK_TIME_IS_VALID(now))
        return; /* not playing yet: the camera's first moments are dropped */
    GstClockTime pts = GST_BUFFER_PTS(in);
    g_mutex_lock(&s->lock);
    if (session != s->session) {
        s->session = session;
        s->rebase = true;
    }
    if (s->rebase || !GST_CLOCK_TIME_IS_VALID(pts)) {
        s->offset = (gint64)now - (GST_CLOCK_TIME_IS_VALID(pts) ? (gint64)pts : (gint64)now);
        s->rebase = !GST_CLOCK_TIME_IS_VALID(pts);
    }
    gint64 out = (GST_CLOCK_TIME_IS_VALID(pts) ? (gint64)pts : (gint64)now) + s->offset;
    if (GST_CLOCK_TIME_IS_VALID(s->last[video]) && out <= (gint64)s->last[video])
        out = (gint64)s->last[video] + 1;
    s->last[video] = (GstClockTime)out;
    GstCaps *caps = gst_sample_get_caps(sample);
    bool new_caps = caps && (!s->caps[video] || !gst_caps_is_equal(caps, s->caps[video]));
    if (new_caps)
        gst_caps_replace(&s->caps[video], caps);
    g_mutex_unlock(&s->lock);
    if (new_caps)
        gst_app_src_set_caps(GST_APP_SRC(src), caps);
    GstBuffer *buf = gst_buffer_copy(in); /* the memory is shared, not copied */
    GST_BUFFER_PTS(buf) = (GstClockTime)out;
    GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
    gst_app_src_push_buffer(GST_APP_SRC(src), buf);
}

/* ---- the offer ---- */

static void on_candidate(GstElement *webrtc, guint mline, gchar *cand, gpointer ud)
{
    struct ingest_send *s = ud;
    if (mline >= G_N_ELEMENTS(s->candidates))
        return;
    g_mutex_lock(&s->lock);
    if (!s->candidates[mline])
        s->candidates[mline] = g_string_new(NULL);
    g_string_append_printf(s->candidates[mline], "a=%s\r\n", cand);
    g_mutex_unlock(&s->lock);
}

/* The local description as text, with the candidates webrtcbin left out of it (1.22 keeps
 * them out: they went to on-ice-candidate) after each m-line's a=mid. */
static char *offer_text(struct ingest_send *s)
{
    GstWebRTCSessionDescription *desc = NULL;
    g_object_get(s->webrtc, "local-description", &desc, NULL);
    if (!desc)
        return NULL;
    char *sdp = gst_sdp_message_as_text(desc->sdp);
    gst_webrtc_session_description_free(desc);
    if (strstr(sdp, "a=candidate:"))
        return sdp;
    GString *out = g_string_new(NULL);
    int mline = -1;
    char **lines = g_strsplit(sdp, "\r\n", -1);
    g_mutex_lock(&s->lock);
    for (char **l = lines; *l && **l; l++) {
        mline += g_str_has_prefix(*l, "m=");
        g_string_append_printf(out, "%s\r\n", *l);
        if (g_str_has_prefix(*l, "a=mid:") && mline >= 0 &&
            mline < (int)G_N_ELEMENTS(s->candidates) && s->candidates[mline])
            g_string_append(out, s->candidates[mline]->str);
    }
    g_mutex_unlock(&s->lock);
    g_strfreev(lines);
    g_free(sdp);
    return g_string_free(out, FALSE);
}

static void on_gathering(GObject *webrtc, GParamSpec *pspec, gpointer ud)
{
    struct ingest_send *s = ud;
    GstWebRTCICEGatheringState st;
    g_object_get(webrtc, "ice-gathering-state", &st, NULL);
    if (st != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE || s->offered)
        return;
    s->offered = true;
    char *sdp = offer_text(s);
    if (sdp)
        post(s, true, sdp);
}

static void on_offer_created(GstPromise *p, gpointer ud)
{
    struct ingest_send *s = ud;
    const GstStructure *reply = gst_promise_get_reply(p);
    GstWebRTCSessionDescription *offer = NULL;
    if (reply)
        gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
    gst_promise_unref(p);
    if (!offer) {
        post(s, false, g_strdup("failed"));
        return;
    }
    g_signal_emit_by_name(s->webrtc, "set-local-description", offer, NULL);
    gst_webrtc_session_description_free(offer);
}

static bool every_line_has_caps(GstElement *webrtc)
{
    bool all = true, any = false;
    GstIterator *it = gst_element_iterate_sink_pads(webrtc);
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
        GstCaps *caps = gst_pad_get_current_caps(GST_PAD(g_value_get_object(&v)));
        any = true;
        all &= caps && gst_structure_has_field(gst_caps_get_structure(caps, 0), "ssrc");
        if (caps)
            gst_caps_unref(caps);
        g_value_reset(&v);
    }
    g_value_unset(&v);
    gst_iterator_free(it);
    return any && all;
}

/* Waits for media on every line (the offer then names each line's SSRC), then offers. */
static gboolean offer_when_ready(gpointer ud)
{
    struct ingest_send *s = ud;
    if (!every_line_has_caps(s->webrtc) && g_get_monotonic_time() < s->caps_deadline_us)
        return G_SOURCE_CONTINUE;
    s->caps_wait = 0;
    GArray *trans = NULL;
    g_signal_emit_by_name(s->webrtc, "get-transceivers", &trans);
    for (guint i = 0; trans && i < trans->len; i++)
        g_object_set(g_array_index(trans, GstWebRTCRTPTransceiver *, i), "direction",
                     GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
    if (trans)
        g_array_unref(trans);
    GstPromise *p = gst_promise_new_with_change_func(on_offer_created, s, NULL);
    g_signal_emit_by_name(s->webrtc, "create-offer", NULL, p);
    return G_SOURCE_REMOVE;
}

static void on_connection(GObject *webrtc, GParamSpec *pspec, gpointer ud)
{
    GstWebRTCPeerConnectionState st;
    g_object_get(webrtc, "connection-state", &st, NULL);
    GEnumClass *k = g_type_class_ref(GST_TYPE_WEBRTC_PEER_CONNECTION_STATE);
    GEnumValue *v = g_enum_get_value(k, (gint)st);
    post(ud, false, g_strdup(v ? v->value_nick : "unknown"));
    g_type_class_unref(k);
}

/* ---- the object ---- */

struct ingest_send *ingest_send_new(bool video, bool audio, const char *ice_ip,
                                    const struct ingest_send_cbs *cbs, void *ud, char **err)
{
    char *desc =
        g_strconcat(PIPELINE_HEAD, video ? VIDEO_BRANCH : "", audio ? AUDIO_BRANCH : "", NULL);
    GError *gerr = NULL;
    GstElement *pipe = gst_parse_launch(desc, &gerr);
    g_free(desc);
    if (!pipe || gerr) {
        *err =
            g_strdup_printf("cannot build the WebRTC sender: %s", gerr ? gerr->message : "unknown");
        g_clear_error(&gerr);
        if (pipe)
            gst_object_unref(pipe);
        return NULL;
    }
    struct ingest_send *s = g_new0(struct ingest_send, 1);
    s->cbs = *cbs;
    s->ud = ud;
    s->pipe = pipe;
    s->last[0] = s->last[1] = GST_CLOCK_TIME_NONE;
    g_mutex_init(&s->lock);
    s->webrtc = gst_bin_get_by_name(GST_BIN(pipe), "webrtc");
    gst_object_unref(s->webrtc); /* the pipeline holds it */
    for (int k = 0; k < 2; k++) {
        s->src[k] = gst_bin_get_by_name(GST_BIN(pipe), k ? "vsrc" : "asrc");
        if (s->src[k])
            gst_object_unref(s->src[k]);
    }
    g_object_get(s->webrtc, "ice-agent", &s->agent, NULL);
    gboolean ok = FALSE;
    if (s->agent)
        g_signal_emit_by_name(s->agent, "add-local-ip-address", ice_ip, &ok);
    if (!ok)
        g_printerr("ingest: ICE cannot be kept to %s: gathering on every address\n", ice_ip);
    g_signal_connect(s->webrtc, "on-ice-candidate", G_CALLBACK(on_candidate), s);
    g_signal_connect(s->webrtc, "notify::ice-gathering-state", G_CALLBACK(on_gathering), s);
    g_signal_connect(s->webrtc, "notify::connection-state", G_CALLBACK(on_connection), s);
    if (gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        *err = g_strdup("the WebRTC sender did not start");
        ingest_send_free(s);
        return NULL;
    }
    s->caps_deadline_us = g_get_monotonic_time() + (gint64)CAPS_WAIT_MS * 1000;
    s->caps_wait = g_timeout_add(50, offer_when_ready, s);
    return s;
}

int ingest_send_answer(struct ingest_send *s, const char *sdp, char **err)
{
    GstSDPMessage *msg = NULL;
    if (gst_sdp_message_new_from_text(sdp, &msg) != GST_SDP_OK) {
        *err = g_strdup("the answer is not SDP");
        return -1;
    }
    GstWebRTCSessionDescription *d =
        gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, msg);
    GstPromise *p = gst_promise_new();
    g_signal_emit_by_name(s->webrtc, "set-remote-description", d, p);
    gst_promise_wait(p);
    const GstStructure *reply = gst_promise_get_reply(p);
    int rc = 0;
    if (reply && gst_structure_has_field(reply, "error")) {
        GError *gerr = NULL;
        gst_structure_get(reply, "error", G_TYPE_ERROR, &gerr, NULL);
        *err = g_strdup_printf("the answer was refused: %s", gerr ? gerr->message : "?");
        g_clear_error(&gerr);
        rc = -1;
    }
    gst_promise_unref(p);
    gst_webrtc_session_description_free(d);
    return rc;
}

void ingest_send_free(struct ingest_send *s)
{
    if (!s)
        return;
    if (s->caps_wait)
        g_source_remove(s->caps_wait);
    gst_element_set_state(s->pipe, GST_STATE_NULL);
    if (s->agent)
        gst_object_unref(s->agent);
    gst_object_unref(s->pipe);
    for (int k = 0; k < 2; k++)
        if (s->caps[k])
            gst_caps_unref(s->caps[k]);
    for (size_t i = 0; i < G_N_ELEMENTS(s->candidates); i++)
        if (s->candidates[i])
            g_string_free(s->candidates[i], TRUE);
    g_mutex_clear(&s->lock);
    g_free(s);
}
