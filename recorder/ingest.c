/* "classrelay-recorder ingest" (docs/recording.md, "RTSP ingest"): an RTSP camera published
 * to the relay as the lesson's teacher. The server starts one per ingesting room and talks
 * to it in JSON lines (record_ctl.c carries them), like the recorder:
 *
 *   server → ingest: {"cmd":"start","url":"rtsp://…","ice_ip":"127.0.0.1"}
 *                    {"cmd":"answer","sdp":"…"}    {"cmd":"ping","seq":N}
 *   ingest → server: {"event":"ready","version"}   {"event":"pong","seq":N}
 *                    {"event":"source","state":"connecting"|"playing"|"lost",
 *                     "video","audio","message","retry_ms"}
 *                    {"event":"offer","sdp":"…"}   {"event":"connection","state":"…"}
 *                    {"event":"error","message","fatal"}
 *
 * The URL comes on stdin, never in argv (where ps would show its password); messages are
 * redacted (base/redact.h). The camera side (ingest_src.c) rebuilds itself after a loss; the
 * WebRTC side (ingest_send.c) is made once, when the camera first sends, and stays: a
 * camera that comes back continues the same tracks. The process exits 0 at stdin EOF or
 * SIGTERM, and 3 when its peer connection failed (the server starts a new one). */
#include "ingest.h"

#include <signal.h>
#include <string.h>

#include <glib-unix.h>
#include <gst/gst.h>

#include "ingest_send.h"
#include "ingest_src.h"
#include "record_ctl.h"

#define INGEST_VERSION "0.1.0"
#define EXIT_PEER_FAILED 3

struct ingest {
    GMainLoop *loop;          /* owned */
    struct ingest_src *src;   /* owned; NULL until start */
    struct ingest_send *send; /* owned; NULL until the camera first sends */
    char ice_ip[64];
    int status; /* the exit status */
};

static void on_sample(void *ud, bool video, GstSample *sample, unsigned session)
{
    struct ingest *in = ud;
    struct ingest_send *send = g_atomic_pointer_get(&in->send);
    if (send)
        ingest_send_push(send, video, sample, session);
}

static void on_offer(void *ud, const char *sdp)
{
    rec_ctl_emit(json_pack("{s:s, s:s}", "event", "offer", "sdp", sdp));
}

static void on_state(void *ud, const char *state)
{
    struct ingest *in = ud;
    rec_ctl_emit(json_pack("{s:s, s:s}", "event", "connection", "state", state));
    if (strcmp(state, "failed") == 0) {
        g_printerr("ingest: the peer connection failed: exiting\n");
        in->status = EXIT_PEER_FAILED;
        g_main_loop_quit(in->loop);
    }
}

static const struct ingest_send_cbs send_cbs = {.on_offer = on_offer, .on_state = on_state};

static void on_playing(void *ud, const char *video, const char *audio)
{
    struct ingest *in = ud;
    rec_ctl_emit(json_pack("{s:s, s:s, s:s, s:s}", "event", "source", "state", "playing", "video",
                           video, "audio", audio));
    if (in->send)
        return;
    if (!video[0]) {
        rec_ctl_error(NULL, "the camera sends no H.264 video: nothing to publish", false);
        return;
    }
    char *err = NULL;
    struct ingest_send *send =
        ingest_send_new(true, audio[0] != '\0', in->ice_ip, &send_cbs, in, &err);
    if (!send) {
        rec_ctl_error(NULL, err, true);
        g_free(err);
        in->status = 1;
        g_main_loop_quit(in->loop);
        return;
    }
    g_atomic_pointer_set(&in->send, send);
}

static void on_lost(void *ud, const char *why, unsigned retry_ms)
{
    rec_ctl_emit(json_pack("{s:s, s:s, s:s, s:i}", "event", "source", "state", "lost", "message",
                           why, "retry_ms", (int)retry_ms));
}

static const struct ingest_src_cbs src_cbs = {
    .on_sample = on_sample, .on_playing = on_playing, .on_lost = on_lost};

static const char *str_field(json_t *cmd, const char *name)
{
    json_t *v = json_object_get(cmd, name);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

static void cmd_start(struct ingest *in, json_t *cmd)
{
    const char *url = str_field(cmd, "url"), *ip = str_field(cmd, "ice_ip");
    if (in->src) {
        rec_ctl_error(NULL, "already started", false);
        return;
    }
    if (!url || (strncmp(url, "rtsp://", 7) != 0 && strncmp(url, "rtsps://", 8) != 0)) {
        rec_ctl_error(NULL, "start needs an rtsp:// or rtsps:// url", true);
        return;
    }
    snprintf(in->ice_ip, sizeof in->ice_ip, "%s", ip ? ip : "127.0.0.1");
    rec_ctl_emit(json_pack("{s:s, s:s}", "event", "source", "state", "connecting"));
    char *err = NULL;
    in->src = ingest_src_new(url, &src_cbs, in, &err);
    if (!in->src) {
        rec_ctl_error(NULL, err, true);
        g_free(err);
    }
}

static void cmd_answer(struct ingest *in, json_t *cmd)
{
    const char *sdp = str_field(cmd, "sdp");
    char *err = NULL;
    if (!sdp || !in->send)
        rec_ctl_error(NULL, "answer needs sdp, after an offer", false);
    else if (ingest_send_answer(in->send, sdp, &err) != 0)
        rec_ctl_error(NULL, err, false);
    g_free(err);
}

static void on_command(void *ud, json_t *cmd)
{
    struct ingest *in = ud;
    const char *name = str_field(cmd, "cmd");
    if (name && strcmp(name, "start") == 0) {
        cmd_start(in, cmd);
    } else if (name && strcmp(name, "answer") == 0) {
        cmd_answer(in, cmd);
    } else if (name && strcmp(name, "ping") == 0) {
        rec_ctl_pong(cmd);
    } else {
        rec_ctl_error(NULL, "unknown command (start, answer, ping)", false);
    }
}

static void on_eof(void *ud) { g_main_loop_quit(((struct ingest *)ud)->loop); }

static gboolean on_signal(gpointer ud)
{
    g_main_loop_quit(((struct ingest *)ud)->loop);
    return G_SOURCE_CONTINUE;
}

int ingest_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct ingest in = {0};
    const struct rec_ctl_cbs ctl_cbs = {.on_command = on_command, .on_eof = on_eof};
    signal(SIGPIPE, SIG_IGN);
    in.loop = g_main_loop_new(NULL, FALSE);
    if (rec_ctl_open(&ctl_cbs, &in) < 0)
        return 1;
    g_unix_signal_add(SIGTERM, on_signal, &in);
    g_unix_signal_add(SIGINT, on_signal, &in);
    rec_ctl_emit(json_pack("{s:s, s:s}", "event", "ready", "version", INGEST_VERSION));
    g_main_loop_run(in.loop);
    ingest_src_free(in.src); /* no more samples after this */
    ingest_send_free(in.send);
    g_main_loop_unref(in.loop);
    return in.status;
}
