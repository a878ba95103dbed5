/* "classrelay-recorder record" (docs/recording.md "Recorder control protocol"): the main
 * loop, the command dispatch and the shutdown. Commands arrive through record_ctl.c; each
 * started track is a record_track.c object keyed by its track key. stdin EOF, SIGTERM and
 * SIGINT stop every track (EOS, bounded) and exit 0; a second signal exits at once.
 * Malformed commands are answered with an error event and otherwise ignored. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <gst/gst.h>

#include "record.h"
#include "record_ctl.h"
#include "record_track.h"

#define REC_VERSION "0.1.0"

struct recorder {
    GMainLoop *loop;    /* owned */
    GHashTable *tracks; /* owned: key -> struct rec_track * (owned) */
    bool quitting;
};

static void on_track_event(void *ud, json_t *ev) { rec_ctl_emit(ev); }

struct dead_track {
    struct recorder *r;  /* borrowed */
    struct rec_track *t; /* owned */
};

static gboolean free_dead_track(gpointer ud)
{
    struct dead_track *d = ud;
    rec_track_free(d->t);
    if (d->r->quitting && g_hash_table_size(d->r->tracks) == 0)
        g_main_loop_quit(d->r->loop);
    g_free(d);
    return G_SOURCE_REMOVE;
}

/* The track is done: forget it now (a new start may reuse the key), free it later. */
static void on_track_stopped(void *ud, struct rec_track *t)
{
    struct recorder *r = ud;
    struct dead_track *d = g_new0(struct dead_track, 1);
    gpointer key = NULL;
    if (g_hash_table_steal_extended(r->tracks, rec_track_key(t), &key, NULL))
        g_free(key);
    d->r = r;
    d->t = t;
    g_idle_add(free_dead_track, d);
}

static const struct rec_track_cbs track_cbs = {
    .on_event = on_track_event,
    .on_stopped = on_track_stopped,
};

static const char *str_field(json_t *cmd, const char *name)
{
    json_t *v = json_object_get(cmd, name);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

/* A key becomes a folder name in the controller's tree; keep it one plain name. */
static bool key_ok(const char *key)
{
    return key && strlen(key) < 64 && strchr(key, '/') == NULL && strcmp(key, ".") != 0 &&
           strcmp(key, "..") != 0;
}

static void cmd_start(struct recorder *r, json_t *cmd)
{
    struct rec_track_cfg cfg = {
        .key = str_field(cmd, "track"),
        .dir = str_field(cmd, "dir"),
        .kind = str_field(cmd, "kind"),
        .source = str_field(cmd, "source"),
        .label = str_field(cmd, "label"),
        .codec = rec_pipe_codec(str_field(cmd, "codec")),
        .pt = (int)json_integer_value(json_object_get(cmd, "pt")),
        .clock_rate = (int)json_integer_value(json_object_get(cmd, "clock_rate")),
    };
    struct rec_track *t;
    char *err = NULL;

    if (!key_ok(cfg.key) || !cfg.dir || !cfg.kind || !cfg.source) {
        rec_ctl_error(cfg.key, "start needs track, dir, kind, source, codec, pt, clock_rate", true);
        return;
    }
    if (!cfg.codec || strcmp(cfg.kind, cfg.codec->media) != 0) {
        rec_ctl_error(cfg.key, "codec not recordable (OPUS audio, VP8 or H264 video)", true);
        return;
    }
    if (cfg.pt < 0 || cfg.pt > 127 || cfg.clock_rate <= 0) {
        rec_ctl_error(cfg.key, "bad pt or clock_rate", true);
        return;
    }
    if (g_hash_table_contains(r->tracks, cfg.key)) {
        rec_ctl_error(cfg.key, "track already started", false);
        return;
    }
    if (r->quitting) {
        rec_ctl_error(cfg.key, "recorder is shutting down", true);
        return;
    }
    t = rec_track_new(&cfg, &track_cbs, r, &err);
    if (!t) {
        rec_ctl_error(cfg.key, err, true);
        g_free(err);
        return;
    }
    g_hash_table_insert(r->tracks, g_strdup(cfg.key), t);
    rec_ctl_emit(json_pack("{s:s, s:s, s:i}", "event", "started", "track", cfg.key, "port",
                           rec_track_port(t)));
}

static void on_command(void *ud, json_t *cmd)
{
    struct recorder *r = ud;
    const char *name = str_field(cmd, "cmd");

    if (name && strcmp(name, "start") == 0) {
        cmd_start(r, cmd);
    } else if (name && strcmp(name, "stop") == 0) {
        const char *key = str_field(cmd, "track");
        struct rec_track *t = key ? g_hash_table_lookup(r->tracks, key) : NULL;
        if (t)
            rec_track_stop(t);
        else
            rec_ctl_error(key, "stop: no such track", false);
    } else if (name && strcmp(name, "ping") == 0) {
        rec_ctl_pong(cmd);
    } else {
        rec_ctl_error(NULL, "unknown command (start, stop, ping)", false);
    }
}

/* Stops every track; the loop ends when the last one has been freed. */
static void shut_down(struct recorder *r, const char *why)
{
    GList *all, *l;

    if (r->quitting) {
        g_printerr("record: %s again, exiting now\n", why);
        g_main_loop_quit(r->loop);
        return;
    }
    g_printerr("record: %s, finalising %u track(s)\n", why, g_hash_table_size(r->tracks));
    r->quitting = true;
    if (g_hash_table_size(r->tracks) == 0) {
        g_main_loop_quit(r->loop);
        return;
    }
    all = g_hash_table_get_values(r->tracks);
    for (l = all; l; l = l->next)
        rec_track_stop(l->data);
    g_list_free(all);
}

static void on_eof(void *ud) { shut_down(ud, "stdin closed"); }

static gboolean on_sigterm(gpointer ud)
{
    shut_down(ud, "SIGTERM");
    return G_SOURCE_CONTINUE;
}

static gboolean on_sigint(gpointer ud)
{
    shut_down(ud, "SIGINT");
    return G_SOURCE_CONTINUE;
}

int record_main(int argc, char **argv)
{
    struct recorder r = {0};
    const struct rec_ctl_cbs ctl_cbs = {.on_command = on_command, .on_eof = on_eof};

    signal(SIGPIPE, SIG_IGN); /* a dead controller shows as stdin EOF */
    r.loop = g_main_loop_new(NULL, FALSE);
    r.tracks =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)rec_track_free);
    if (rec_ctl_open(&ctl_cbs, &r) < 0)
        return 1;
    g_unix_signal_add(SIGTERM, on_sigterm, &r);
    g_unix_signal_add(SIGINT, on_sigint, &r);
    rec_ctl_emit(json_pack("{s:s, s:s}", "event", "ready", "version", REC_VERSION));
    g_main_loop_run(r.loop);
    g_hash_table_destroy(r.tracks);
    g_main_loop_unref(r.loop);
    return 0;
}
