/* package_feed: one thread per output stream that reads the stream's runs in order and
 * pushes their buffers, placed on the lesson timeline, into the writer's appsrc. */
#ifndef CR_RECORDER_PACKAGE_FEED_H
#define CR_RECORDER_PACKAGE_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include <gst/app/gstappsrc.h>

#include "package_scan.h"

struct pkg_feed;

/* Starts reading RUNS (borrowed, sorted by start) into SRC (borrowed). VIDEO: drop until
 * a keyframe after anything dropped, and show the first picture from lesson time 0. */
struct pkg_feed *pkg_feed_start(struct pkg_run **runs, int n, GstAppSrc *src,
                                int64_t lesson_start_ns, bool video);
/* Lesson time of the last buffer pushed; INT64_MAX once every buffer is pushed. */
int64_t pkg_feed_position(struct pkg_feed *f);
/* Waits for the thread (unblock it first by stopping the writer if it must end early). */
void pkg_feed_join(struct pkg_feed *f);

#endif
