/* The recorder's control channel (docs/recording.md "Recorder control protocol"):
 * commands as JSON lines on stdin, events as JSON lines on stdout. */
#ifndef CR_RECORDER_RECORD_CTL_H
#define CR_RECORDER_RECORD_CTL_H

#include <stdbool.h>

#include <jansson.h>

struct rec_ctl_cbs {
    /* One parsed JSON object per line; borrowed for the call. */
    void (*on_command)(void *ud, json_t *cmd);
    /* stdin reached end of file (or failed): the controller is gone. */
    void (*on_eof)(void *ud);
};

/* Watches stdin (fd 0, made non-blocking) on the default GLib main context. Lines that are
 * not a JSON object are answered with an error event, never passed on. Returns 0 or -1. */
int rec_ctl_open(const struct rec_ctl_cbs *cbs, void *ud);

/* Writes ev as one line on stdout and flushes; steals the reference. */
void rec_ctl_emit(json_t *ev);
/* Answers a {"cmd":"ping","seq":N} with {"event":"pong","seq":N}. */
void rec_ctl_pong(const json_t *cmd);

/* {"event":"error",["track":track,]"message":message,"fatal":fatal} */
void rec_ctl_error(const char *track, const char *message, bool fatal);

#endif
