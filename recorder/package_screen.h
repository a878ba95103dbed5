/* package_screen: the shared screen as its own video-only HLS stream, screen/index.m3u8,
 * on the lesson timeline, when the lesson has a camera and a screen (docs/recording.md,
 * "Packager"). A dark grey picture fills the lesson time no screen run covers, so the
 * stream lasts the whole lesson and stays in sync with the main one. */
#ifndef CR_RECORDER_PACKAGE_SCREEN_H
#define CR_RECORDER_PACKAGE_SCREEN_H

#include <stdint.h>

#include "package_scan.h"

struct pkg_span {
    int64_t at_ns, end_ns; /* lesson time */
};

struct pkg_screen {
    int width, height;       /* of the output; 0: no screen stream */
    struct pkg_span *shared; /* owned: when a screen run had pictures, merged, sorted */
    int n_shared;
};

struct pkg_screen_cb {
    void (*on_progress)(void *ctx, double fraction); /* 0..1 of the screen's work */
    void *ctx;
};

/* Size and shared intervals from l->screen; width 0 when there is nothing to package. */
void pkg_screen_plan(const struct pkg_lesson *l, struct pkg_screen *s);
/* Writes OUT_DIR/screen/ (segments and a VOD playlist). 0, or -1 with *err set. */
int pkg_screen_write(const char *out_dir, const struct pkg_lesson *l, const struct pkg_screen *s,
                     const struct pkg_screen_cb *cb, char **err);
void pkg_screen_clear(struct pkg_screen *s);

#endif
