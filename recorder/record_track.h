/* One recorded track: its UDP port, its pipeline runs, its events. */
#ifndef CR_RECORDER_RECORD_TRACK_H
#define CR_RECORDER_RECORD_TRACK_H

#include <jansson.h>

#include "record_pipe.h"

struct rec_track_cfg {
    const char *key;               /* "2-camera" */
    const char *dir;               /* the track folder */
    const char *kind;              /* "audio" or "video" */
    const char *source;            /* "mic", "camera", "screen", "stage-camera", "stage-mic" */
    const char *label;             /* who it is, for people ("Classroom B"); NULL: none */
    const struct rec_codec *codec; /* borrowed, static */
    int pt, clock_rate;
};

struct rec_track;

struct rec_track_cbs {
    /* An event for stdout (error, need_keyframe, stats, stopped); stolen reference. */
    void (*on_event)(void *ud, json_t *ev);
    /* The track answered "stopped"; the owner may free it (not from inside this call). */
    void (*on_stopped)(void *ud, struct rec_track *t);
};

/* Binds 127.0.0.1:0 for the track's life and starts the first run (errors there are
 * reported as events and retried). NULL with *err set (g_free it) when no socket. */
struct rec_track *rec_track_new(const struct rec_track_cfg *cfg, const struct rec_track_cbs *cbs,
                                void *ud, char **err);

int rec_track_port(const struct rec_track *t);
const char *rec_track_key(const struct rec_track *t);

/* Finalises the current run (EOS, at most REC_TRACK_STOP_MS), then emits "stopped" and
 * calls on_stopped. A second call does nothing. */
void rec_track_stop(struct rec_track *t);

/* Tears down at once, no events; NULL does nothing. */
void rec_track_free(struct rec_track *t);

#define REC_TRACK_STOP_MS 3000
#define REC_TRACK_RETRY_S 5
#define REC_TRACK_STATS_MS 5000

#endif
