/* package_info: vod/info.json (docs/recording.md, "Packager"): duration, tracks,
 * renditions, gaps (lesson time with no chosen run recording), chapters (lesson start,
 * reconnects, restarts, screen shares, stage turns) and the side streams, all derived from the
 * scanned timeline. */
#ifndef CR_RECORDER_PACKAGE_INFO_H
#define CR_RECORDER_PACKAGE_INFO_H

#include <stdbool.h>

#include "package_hls.h"
#include "package_scan.h"
#include "package_side.h"

/* Writes OUT_DIR/info.json; a side stream's key ("screen", "stage") only when it has a
 * width. 0, or -1 (message on stderr). */
int pkg_info_write(const char *out_dir, const struct pkg_lesson *l, bool transcoded,
                   const struct pkg_rendition *r, int n_r, const struct pkg_side *sides,
                   int n_sides);

#endif
