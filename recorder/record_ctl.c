/* The recorder's control channel (docs/recording.md "Recorder control protocol"). stdin is
 * read without blocking from a GIOChannel watch on the main loop, one JSON object per line;
 * what the commands mean is record.c's business. Events go to stdout, one compact JSON
 * object per line, flushed at once so the controller sees each as it happens. Everything
 * here runs on the main loop's thread; streaming threads never write to stdout. */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "record_ctl.h"

static struct rec_ctl_cbs ctl_cbs; /* state: given once by rec_ctl_open */
static void *ctl_ud;               /* borrowed */

void rec_ctl_emit(json_t *ev)
{
    char *text = json_dumps(ev, JSON_COMPACT);
    if (text) {
        fputs(text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(text);
    }
    json_decref(ev);
}

void rec_ctl_error(const char *track, const char *message, bool fatal)
{
    json_t *ev = json_pack("{s:s}", "event", "error");
    if (track)
        json_object_set_new(ev, "track", json_string(track));
    json_object_set_new(ev, "message", json_string(message ? message : "unknown error"));
    json_object_set_new(ev, "fatal", json_boolean(fatal));
    g_printerr("record: error%s%s: %s\n", track ? " on " : "", track ? track : "", message);
    rec_ctl_emit(ev);
}

static void handle_line(const char *line, size_t len)
{
    json_error_t jerr;
    json_t *cmd;

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len == 0)
        return;
    cmd = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!cmd) {
        char *msg = g_strdup_printf("bad command line: %s", jerr.text);
        rec_ctl_error(NULL, msg, false);
        g_free(msg);
        return;
    }
    if (!json_is_object(cmd))
        rec_ctl_error(NULL, "bad command line: not a JSON object", false);
    else
        ctl_cbs.on_command(ctl_ud, cmd);
    json_decref(cmd);
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer ud)
{
    for (;;) {
        char *line = NULL;
        gsize len = 0;
        GError *err = NULL;
        GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, &err);

        if (st == G_IO_STATUS_NORMAL) {
            handle_line(line, len);
            g_free(line);
            continue;
        }
        g_free(line);
        if (st == G_IO_STATUS_AGAIN)
            return G_SOURCE_CONTINUE;
        if (st == G_IO_STATUS_ERROR) {
            g_printerr("record: stdin: %s\n", err ? err->message : "read error");
            g_clear_error(&err);
        }
        ctl_cbs.on_eof(ctl_ud);
        return G_SOURCE_REMOVE;
    }
}

int rec_ctl_open(const struct rec_ctl_cbs *cbs, void *ud)
{
    GIOChannel *ch = g_io_channel_unix_new(0);
    GError *err = NULL;

    ctl_cbs = *cbs;
    ctl_ud = ud;
    if (g_io_channel_set_encoding(ch, NULL, &err) != G_IO_STATUS_NORMAL ||
        g_io_channel_set_flags(ch, G_IO_FLAG_NONBLOCK, &err) != G_IO_STATUS_NORMAL) {
        g_printerr("record: stdin: %s\n", err->message);
        g_error_free(err);
        g_io_channel_unref(ch);
        return -1;
    }
    g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
    g_io_channel_unref(ch); /* the watch holds its own reference */
    return 0;
}

void rec_ctl_pong(const json_t *cmd)
{
    json_t *ev = json_pack("{s:s}", "event", "pong");
    json_t *seq = json_object_get(cmd, "seq");
    if (seq)
        json_object_set(ev, "seq", seq);
    rec_ctl_emit(ev);
}
