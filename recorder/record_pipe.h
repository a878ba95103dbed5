/* One run's GStreamer pipeline for one track, and the segmenter inside it. */
#ifndef CR_RECORDER_RECORD_PIPE_H
#define CR_RECORDER_RECORD_PIPE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>
#include <gst/gst.h>

#define REC_PIPE_SEGMENT_NS (10 * GST_SECOND)      /* a new segment at the first keyframe after */
#define REC_PIPE_SEGMENT_SLACK_NS (GST_SECOND / 2) /* video: a keyframe this early still splits */
#define REC_PIPE_LATENCY_MS 200                    /* rtpjitterbuffer latency */

struct rec_codec {
    const char *name;   /* encoding-name: OPUS, VP8, H264 */
    const char *media;  /* audio or video */
    const char *depay;  /* depayloader factory */
    const char *parser; /* parser factory, NULL where none is needed */
};

/* The codec called name (case-insensitive), or NULL when we cannot record it. */
const struct rec_codec *rec_pipe_codec(const char *name);

struct rec_pipe_cfg {
    const struct rec_codec *codec; /* borrowed */
    int pt, clock_rate;
    GSocket *sock;       /* borrowed: bound UDP socket, udpsrc does not close it */
    const char *run_dir; /* borrowed: existing folder for seg-NNNNN.mkv */
};

struct rec_pipe {
    GstElement *pipeline; /* owned */
    GstElement *jbuf;     /* borrowed: child of pipeline */
    GstPad *tail;         /* owned ref: src pad feeding the muxer */
    GstElement *mux;      /* borrowed: current segment's matroskamux (streaming thread) */
    GstElement *sink;     /* borrowed: current segment's filesink (streaming thread) */
    char *run_dir;        /* owned */
    bool video;
    /* state shared by the streaming thread (writes) and the main loop (reads) */
    atomic_int seg_index;    /* NNNNN of the segment being written */
    atomic_llong seg_start;  /* PTS of its first buffer, -1 before any */
    atomic_llong first_pts;  /* PTS of the run's first recorded buffer, -1 before any */
    atomic_llong last_end;   /* PTS + duration of the last recorded buffer */
    atomic_ullong bytes;     /* bytes handed to the filesinks */
    atomic_uint losses;      /* packet-lost events seen after the jitterbuffer */
    atomic_bool waiting_key; /* video: dropping until the run's first keyframe */
    atomic_bool closing;     /* no more segment changes: the pipeline is going down */
};

/* Builds the pipeline in state NULL, writing <run_dir>/seg-00000.mkv first. Returns NULL
 * with *err set (g_free it) when an element is missing or will not link. */
struct rec_pipe *rec_pipe_new(const struct rec_pipe_cfg *cfg, char **err);

/* Sets the pipeline to NULL and frees everything; NULL does nothing. */
void rec_pipe_free(struct rec_pipe *p);

/* Recorded media time of the run so far, in ns (0 before the first buffer). */
int64_t rec_pipe_duration_ns(struct rec_pipe *p);

#endif
