/* package_scan: reads a recording folder (docs/recording.md, "On disk") into the tracks,
 * runs and segments the packager works from, probes each run's first and last timestamps,
 * and chooses the video and audio runs of the lesson on one wall-clock timeline (and the
 * screen runs, packaged on their own when the camera is the video; and the stage's: the
 * cameras and microphones of the classrooms the teacher called on, recorded while they were
 * on stage). */
#ifndef CR_RECORDER_PACKAGE_SCAN_H
#define CR_RECORDER_PACKAGE_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <gst/gst.h>

struct pkg_track;

struct pkg_run {
    int index;   /* NNN of run-NNN */
    char **segs; /* owned: NULL-terminated, sorted segment paths */
    int n_segs;
    int64_t base_unix_ns;    /* wall-clock time of running time 0 */
    int64_t first_pts;       /* running time of the first readable buffer; -1: none */
    int64_t end_pts;         /* running time just after the last readable buffer */
    GstCaps *caps;           /* owned: caps of the first readable buffer */
    int width, height;       /* video: the largest picture of any segment, else 0 */
    bool size_changes;       /* video: segments of the run differ in picture size (a
                                simulcast layer switch: the recording starts low, say) */
    uint64_t bytes;          /* sum of the segment file sizes */
    struct pkg_track *track; /* borrowed: the run's track */
};

struct pkg_track {
    char *key, *kind, *source, *codec; /* owned, from track.json */
    char *label;                       /* owned, from track.json; NULL: none */
    struct pkg_run *runs;              /* owned */
    int n_runs;
};

struct pkg_lesson {
    struct pkg_track *tracks; /* owned */
    int n_tracks;
    struct pkg_run **video;       /* borrowed runs chosen for the video, sorted by start */
    struct pkg_run **audio;       /* the same for audio */
    struct pkg_run **screen;      /* the same for the screen when the camera is the video
                                     (package_side); NULL otherwise */
    struct pkg_run **stage;       /* the cameras of classrooms on stage (package_side) */
    struct pkg_run **stage_audio; /* their microphones, mixed into the lesson's audio */
    int n_video, n_audio, n_screen, n_stage, n_stage_audio;
    int64_t start_unix_ns; /* earliest first buffer among the chosen runs */
    int64_t end_unix_ns;   /* latest end among the chosen runs */
};

/* The sources the server gives a classroom's tracks recorded while it is on stage. */
#define PKG_STAGE_CAMERA "stage-camera"
#define PKG_STAGE_MIC "stage-mic"
static inline bool pkg_track_on_stage(const struct pkg_track *t)
{
    return strncmp(t->source, "stage-", 6) == 0;
}

/* Wall-clock start and end of a readable run. */
static inline int64_t pkg_run_start(const struct pkg_run *r)
{
    return r->base_unix_ns + r->first_pts;
}
static inline int64_t pkg_run_end(const struct pkg_run *r) { return r->base_unix_ns + r->end_pts; }

/* Fills *out from IN. 0, or -1 with *err (g_free) set. Warnings go to stderr. */
int pkg_scan(const char *in_dir, struct pkg_lesson *out, char **err);
void pkg_lesson_clear(struct pkg_lesson *l);

#endif
