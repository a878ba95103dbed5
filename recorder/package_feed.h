/* package_feed: one thread per output stream that reads the stream's runs in order and
 * pushes their buffers, placed on the lesson timeline, into the writer's appsrc. */
#ifndef CR_RECORDER_PACKAGE_FEED_H
#define CR_RECORDER_PACKAGE_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include <gst/app/gstappsrc.h>

#include "package_scan.h"

struct pkg_feed;

enum pkg_feed_flags {
    PKG_FEED_VIDEO = 1 << 0,     /* drop until a keyframe after anything dropped */
    PKG_FEED_FROM_ZERO = 1 << 1, /* show the first picture from lesson time 0 */
};

/* Starts reading RUNS (borrowed, sorted by start) into SRC (borrowed); FLAGS is a set of
 * enum pkg_feed_flags. */
struct pkg_feed *pkg_feed_start(struct pkg_run **runs, int n, GstAppSrc *src,
                                int64_t lesson_start_ns, int flags);
/* Lesson time of the last buffer pushed; INT64_MAX once every buffer is pushed. */
int64_t pkg_feed_position(struct pkg_feed *f);
/* Waits for the thread (unblock it first by stopping the writer if it must end early). */
void pkg_feed_join(struct pkg_feed *f);

#endif
