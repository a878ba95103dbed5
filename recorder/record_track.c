/* One recorded track (docs/recording.md "Recorder control protocol"): the UDP socket bound
 * to 127.0.0.1 once for the track's life, so the relay's tap keeps its destination when a
 * pipeline is restarted; track.json; and a sequence of runs, each a record_pipe.c pipeline
 * writing into its own run-NNN folder with its own run.json. A pipeline error (a full disk)
 * is reported, the run is torn down and a new run is tried every REC_TRACK_RETRY_S. Every
 * 500 ms a tick asks for a keyframe where video needs one (rate-limited) and every
 * REC_TRACK_STATS_MS reports the totals. Runs on the main loop; the streaming threads only
 * touch the atomics in struct rec_pipe. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "record_fs.h"
#include "record_track.h"

#define RCVBUF_BYTES (4 * 1024 * 1024)
#define TICK_MS 500
#define KEYFRAME_GAP_MS 2000   /* between requests for a run start or a loss */
#define KEYFRAME_LONG_MS 10000 /* between requests for a segment that will not end */
#define LONG_SEGMENT_NS (REC_PIPE_SEGMENT_NS + 5 * GST_SECOND)

struct rec_track {
    char *key, *dir, *kind, *source, *label; /* owned; label may be NULL */
    const struct rec_codec *codec;           /* borrowed, static */
    int pt, clock_rate;
    bool video;
    struct rec_track_cbs cbs;
    void *ud;      /* borrowed */
    GSocket *sock; /* owned: outlives every run */
    int port;
    struct rec_pipe *pipe; /* owned; NULL between runs */
    guint bus_watch, tick_timer, retry_timer, stop_timer;
    bool track_json_ok, stopping;
    /* totals of finished runs */
    guint64 done_packets, done_lost, done_bytes;
    int64_t done_duration_ns;
    /* keyframe requests and stats */
    int64_t last_keyframe_ms, last_stats_ms;
    unsigned seen_losses;
};

static void emit(struct rec_track *t, json_t *ev) { t->cbs.on_event(t->ud, ev); }

static void emit_error(struct rec_track *t, const char *message)
{
    g_printerr("record: %s: %s\n", t->key, message);
    emit(t, json_pack("{s:s, s:s, s:s, s:b}", "event", "error", "track", t->key, "message", message,
                      "fatal", 0));
}

static GSocket *bind_socket(int *port, char **err)
{
    GError *gerr = NULL;
    GSocket *s =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &gerr);
    GInetAddress *lo;
    GSocketAddress *sa, *local;
    int size = RCVBUF_BYTES;

    if (!s)
        goto fail;
    /* FORCE passes net.core.rmem_max when we may (root); else the kernel caps it. */
    if (setsockopt(g_socket_get_fd(s), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(g_socket_get_fd(s), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    sa = g_inet_socket_address_new(lo, 0);
    g_object_unref(lo);
    if (!g_socket_bind(s, sa, FALSE, &gerr)) {
        g_object_unref(sa);
        goto fail;
    }
    g_object_unref(sa);
    local = g_socket_get_local_address(s, &gerr);
    if (!local)
        goto fail;
    *port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
    g_object_unref(local);
    return s;
fail:
    *err = g_strdup_printf("UDP socket: %s", gerr->message);
    g_error_free(gerr);
    if (s)
        g_object_unref(s);
    return NULL;
}

/* Datagrams that queued while no pipeline ran would all get one arrival time. */
static void drain_socket(struct rec_track *t)
{
    char buf[2048];
    while (recv(g_socket_get_fd(t->sock), buf, sizeof buf, MSG_DONTWAIT) >= 0)
        ;
}

static int write_track_json(struct rec_track *t, char **err)
{
    char *path = g_build_filename(t->dir, "track.json", NULL);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s?}", "track", t->key, "kind", t->kind,
                            "source", t->source, "codec", t->codec->name, "clock_rate",
                            t->clock_rate, "label", t->label);
    int rc = rec_fs_mkdirs(t->dir, err) < 0 ? -1 : rec_fs_write_json(path, doc, err);
    json_decref(doc);
    g_free(path);
    return rc;
}

/* Removes a run folder that holds no media (a run that failed before writing any). */
static void prune_run(const char *run_dir)
{
    GDir *d = g_dir_open(run_dir, 0, NULL);
    const char *name;
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    bool media = false;

    if (!d)
        goto out;
    while ((name = g_dir_read_name(d)) != NULL) {
        char *path = g_build_filename(run_dir, name, NULL);
        struct stat st;
        if (g_str_has_suffix(name, ".mkv") && g_stat(path, &st) == 0 && st.st_size > 0)
            media = true;
        g_ptr_array_add(files, path);
    }
    g_dir_close(d);
    for (guint i = 0; !media && i < files->len; i++)
        g_unlink(files->pdata[i]);
    if (!media)
        g_rmdir(run_dir);
out:
    g_ptr_array_free(files, TRUE);
}

static guint64 jbuf_stat(struct rec_pipe *p, const char *field)
{
    GstStructure *s = NULL;
    guint64 v = 0;
    g_object_get(p->jbuf, "stats", &s, NULL);
    if (s) {
        gst_structure_get_uint64(s, field, &v);
        gst_structure_free(s);
    }
    return v;
}

/* Ends the current run, adding its figures to the totals. from_bus: called from the bus
 * watch, which removes itself. */
static void end_run(struct rec_track *t, bool from_bus)
{
    struct rec_pipe *p = t->pipe;
    char *run_dir;

    if (!p)
        return;
    if (t->bus_watch && !from_bus)
        g_source_remove(t->bus_watch);
    t->bus_watch = 0;
    atomic_store(&p->closing, true);
    gst_element_set_state(p->pipeline, GST_STATE_NULL);
    t->done_packets += jbuf_stat(p, "num-pushed");
    t->done_lost += jbuf_stat(p, "num-lost");
    t->done_bytes += atomic_load(&p->bytes);
    t->done_duration_ns += rec_pipe_duration_ns(p);
    run_dir = g_strdup(p->run_dir);
    rec_pipe_free(p);
    t->pipe = NULL;
    prune_run(run_dir);
    g_free(run_dir);
}

static void schedule_retry(struct rec_track *t);
static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer ud);

/* Points running time 0 of the pipeline at now on the system clock (monotonic, shared by
 * every track of the process) and returns the wall-clock time of that instant in ns. */
static int64_t pin_base_time(GstElement *pipeline)
{
    GstClock *clock = gst_system_clock_obtain();
    GstClockTime base;
    int64_t wall_ns;

    gst_pipeline_use_clock(GST_PIPELINE(pipeline), clock);
    gst_element_set_start_time(pipeline, GST_CLOCK_TIME_NONE);
    base = gst_clock_get_time(clock);
    wall_ns = g_get_real_time() * 1000;
    gst_element_set_base_time(pipeline, base);
    gst_object_unref(clock);
    return wall_ns;
}

static char *play_error(GstElement *pipeline)
{
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    GError *gerr = NULL;
    char *text;

    if (!m) {
        gst_object_unref(bus);
        return g_strdup("the pipeline would not start");
    }
    gst_message_parse_error(m, &gerr, NULL);
    text = g_strdup(gerr->message);
    g_error_free(gerr);
    gst_message_unref(m);
    gst_object_unref(bus);
    return text;
}

/* Starts run-NNN: folder, pipeline, run.json (before any media), PLAYING. */
static int start_run(struct rec_track *t)
{
    char *err = NULL, *run_dir = NULL, *path = NULL;
    struct rec_pipe_cfg cfg = {
        .codec = t->codec, .pt = t->pt, .clock_rate = t->clock_rate, .sock = t->sock};
    json_t *doc;
    GstBus *bus;
    int rc;

    if (!t->track_json_ok && write_track_json(t, &err) < 0)
        goto fail;
    t->track_json_ok = true;
    run_dir = g_strdup_printf("%s/run-%03d", t->dir, rec_fs_next_run(t->dir));
    if (rec_fs_mkdirs(run_dir, &err) < 0)
        goto fail;
    cfg.run_dir = run_dir;
    t->pipe = rec_pipe_new(&cfg, &err);
    if (!t->pipe)
        goto fail_dir;
    doc = json_pack("{s:I}", "base_unix_ns", (json_int_t)pin_base_time(t->pipe->pipeline));
    path = g_build_filename(run_dir, "run.json", NULL);
    rc = rec_fs_write_json(path, doc, &err);
    json_decref(doc);
    if (rc < 0)
        goto fail_pipe;
    drain_socket(t);
    if (gst_element_set_state(t->pipe->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        err = play_error(t->pipe->pipeline);
        goto fail_pipe;
    }
    bus = gst_element_get_bus(t->pipe->pipeline);
    t->bus_watch = gst_bus_add_watch(bus, on_bus, t);
    gst_object_unref(bus);
    g_printerr("record: %s: recording into %s\n", t->key, run_dir);
    g_free(path);
    g_free(run_dir);
    return 0;
fail_pipe:
    end_run(t, false);
fail_dir:
    prune_run(run_dir);
fail:
    emit_error(t, err);
    g_free(err);
    g_free(path);
    g_free(run_dir);
    schedule_retry(t);
    return -1;
}

static gboolean on_retry(gpointer ud)
{
    struct rec_track *t = ud;
    t->retry_timer = 0;
    start_run(t);
    return G_SOURCE_REMOVE;
}

static void schedule_retry(struct rec_track *t)
{
    if (!t->stopping && !t->retry_timer)
        t->retry_timer = g_timeout_add_seconds(REC_TRACK_RETRY_S, on_retry, t);
}

static void clear_source(guint *id)
{
    if (*id)
        g_source_remove(*id);
    *id = 0;
}

static void finish_stop(struct rec_track *t, bool from_bus)
{
    end_run(t, from_bus);
    clear_source(&t->stop_timer);
    clear_source(&t->retry_timer);
    clear_source(&t->tick_timer);
    emit(t, json_pack("{s:s, s:s, s:I, s:I}", "event", "stopped", "track", t->key, "duration_ms",
                      (json_int_t)(t->done_duration_ns / 1000000), "bytes",
                      (json_int_t)t->done_bytes));
    t->cbs.on_stopped(t->ud, t);
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer ud)
{
    struct rec_track *t = ud;
    GError *gerr = NULL;
    char *dbg = NULL;

    switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR:
        gst_message_parse_error(msg, &gerr, &dbg);
        g_printerr("record: %s: pipeline error, detail: %s\n", t->key, dbg ? dbg : "none");
        if (!t->stopping)
            emit_error(t, gerr->message);
        else
            g_printerr("record: %s: %s\n", t->key, gerr->message);
        g_error_free(gerr);
        g_free(dbg);
        if (t->stopping) {
            finish_stop(t, true);
        } else {
            end_run(t, true);
            schedule_retry(t);
        }
        return G_SOURCE_REMOVE;
    case GST_MESSAGE_EOS:
        if (t->stopping) {
            finish_stop(t, true);
        } else { /* nothing ends a live stream but us: start over */
            emit_error(t, "the pipeline ended unexpectedly");
            end_run(t, true);
            schedule_retry(t);
        }
        return G_SOURCE_REMOVE;
    case GST_MESSAGE_WARNING:
        gst_message_parse_warning(msg, &gerr, &dbg);
        g_printerr("record: %s: warning: %s (%s)\n", t->key, gerr->message, dbg ? dbg : "");
        g_error_free(gerr);
        g_free(dbg);
        return G_SOURCE_CONTINUE;
    default:
        return G_SOURCE_CONTINUE;
    }
}

/* Why the video wants a keyframe now, or NULL; rate-limited per reason. */
static const char *keyframe_reason(struct rec_track *t, int64_t now_ms)
{
    struct rec_pipe *p = t->pipe;
    int64_t since = now_ms - t->last_keyframe_ms;
    long long start = atomic_load(&p->seg_start), end = atomic_load(&p->last_end);
    unsigned losses = atomic_load(&p->losses);

    if (atomic_load(&p->waiting_key) && jbuf_stat(p, "num-pushed") > 0)
        return since >= KEYFRAME_GAP_MS ? "start" : NULL;
    if (losses != t->seen_losses)
        return since >= KEYFRAME_GAP_MS ? "loss" : NULL;
    if (start >= 0 && end - start > (long long)LONG_SEGMENT_NS)
        return since >= KEYFRAME_LONG_MS ? "segment" : NULL;
    return NULL;
}

static void emit_stats(struct rec_track *t)
{
    struct rec_pipe *p = t->pipe;
    guint64 packets = t->done_packets, lost = t->done_lost, bytes = t->done_bytes;
    int64_t dur = t->done_duration_ns;

    if (p) {
        packets += jbuf_stat(p, "num-pushed");
        lost += jbuf_stat(p, "num-lost");
        bytes += atomic_load(&p->bytes);
        dur += rec_pipe_duration_ns(p);
    }
    emit(t, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "event", "stats", "track", t->key,
                      "packets", (json_int_t)packets, "lost", (json_int_t)lost, "bytes",
                      (json_int_t)bytes, "duration_ms", (json_int_t)(dur / 1000000)));
}

static gboolean on_tick(gpointer ud)
{
    struct rec_track *t = ud;
    int64_t now_ms = g_get_monotonic_time() / 1000;

    if (t->pipe && t->video && !t->stopping) {
        const char *why = keyframe_reason(t, now_ms);
        if (why) {
            t->last_keyframe_ms = now_ms;
            t->seen_losses = atomic_load(&t->pipe->losses);
            emit(t, json_pack("{s:s, s:s, s:s}", "event", "need_keyframe", "track", t->key,
                              "reason", why));
        }
    }
    if (now_ms - t->last_stats_ms >= REC_TRACK_STATS_MS) {
        t->last_stats_ms = now_ms;
        emit_stats(t);
    }
    return G_SOURCE_CONTINUE;
}

struct rec_track *rec_track_new(const struct rec_track_cfg *cfg, const struct rec_track_cbs *cbs,
                                void *ud, char **err)
{
    struct rec_track *t;
    int port = 0;
    GSocket *sock = bind_socket(&port, err);

    if (!sock)
        return NULL;
    t = g_new0(struct rec_track, 1);
    t->key = g_strdup(cfg->key);
    t->dir = g_strdup(cfg->dir);
    t->kind = g_strdup(cfg->kind);
    t->source = g_strdup(cfg->source);
    t->label = g_strdup(cfg->label);
    t->codec = cfg->codec;
    t->pt = cfg->pt;
    t->clock_rate = cfg->clock_rate;
    t->video = strcmp(cfg->codec->media, "video") == 0;
    t->cbs = *cbs;
    t->ud = ud;
    t->sock = sock;
    t->port = port;
    t->last_keyframe_ms = INT64_MIN / 2;
    t->last_stats_ms = g_get_monotonic_time() / 1000;
    t->tick_timer = g_timeout_add(TICK_MS, on_tick, t);
    start_run(t);
    return t;
}

int rec_track_port(const struct rec_track *t) { return t->port; }
const char *rec_track_key(const struct rec_track *t) { return t->key; }

static gboolean on_stop_timeout(gpointer ud)
{
    struct rec_track *t = ud;
    t->stop_timer = 0;
    g_printerr("record: %s: no EOS within %d ms, closing anyway\n", t->key, REC_TRACK_STOP_MS);
    finish_stop(t, false);
    return G_SOURCE_REMOVE;
}

void rec_track_stop(struct rec_track *t)
{
    if (t->stopping)
        return;
    t->stopping = true;
    clear_source(&t->retry_timer);
    if (!t->pipe) {
        finish_stop(t, false);
        return;
    }
    atomic_store(&t->pipe->closing, true);
    gst_element_send_event(t->pipe->pipeline, gst_event_new_eos());
    t->stop_timer = g_timeout_add(REC_TRACK_STOP_MS, on_stop_timeout, t);
}

void rec_track_free(struct rec_track *t)
{
    if (!t)
        return;
    end_run(t, false);
    clear_source(&t->stop_timer);
    clear_source(&t->retry_timer);
    clear_source(&t->tick_timer);
    g_object_unref(t->sock);
    g_free(t->key);
    g_free(t->dir);
    g_free(t->kind);
    g_free(t->source);
    g_free(t->label);
    g_free(t);
}
