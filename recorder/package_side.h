/* package_side: a picture beside the lesson video as its own video-only HLS stream on the
 * lesson timeline (docs/recording.md, "Packager"): the shared screen (screen/index.m3u8,
 * when the lesson has a camera too) and the stage (stage/index.m3u8, the cameras of the
 * classrooms the teacher called on). A dark grey picture fills the lesson time no run
 * covers, so the stream lasts the whole lesson and stays in sync with the main one. */
#ifndef CR_RECORDER_PACKAGE_SIDE_H
#define CR_RECORDER_PACKAGE_SIDE_H

#include <stdint.h>

#include "package_scan.h"

struct pkg_span {
    int64_t at_ns, end_ns; /* lesson time */
};

/* What a side stream is: its folder and info.json key, the key of its intervals, and how
 * it is encoded. */
struct pkg_side_kind {
    const char *name;      /* "screen": the folder, the info.json key, messages */
    const char *spans_key; /* "shared": info.json's list of the intervals with pictures */
    int fps, kbps;         /* a fixed frame rate, x264 bit rate */
    int max_w, max_h;      /* fitted into this, never upscaled */
};

extern const struct pkg_side_kind pkg_side_screen, pkg_side_stage;

struct pkg_side {
    const struct pkg_side_kind *kind; /* static */
    struct pkg_run **runs;            /* borrowed from the lesson, sorted by start */
    int n_runs;
    int width, height;      /* of the output; 0: nothing to package */
    struct pkg_span *spans; /* owned: when a run had pictures, merged, sorted */
    int n_spans;
};

struct pkg_side_cb {
    void (*on_progress)(void *ctx, double fraction); /* 0..1 of this stream's work */
    void *ctx;
};

/* Size and intervals of RUNS (N of them, of lesson L); s->width 0 when there is nothing to
 * package. */
void pkg_side_plan(const struct pkg_lesson *l, struct pkg_run **runs, int n,
                   const struct pkg_side_kind *kind, struct pkg_side *s);
/* Writes OUT_DIR/<name>/ (segments and a VOD playlist). 0, or -1 with *err set. */
int pkg_side_write(const char *out_dir, const struct pkg_lesson *l, const struct pkg_side *s,
                   const struct pkg_side_cb *cb, char **err);
void pkg_side_clear(struct pkg_side *s);

#endif
