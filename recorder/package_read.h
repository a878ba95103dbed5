/* package_read: reads the buffers of recorded Matroska segments in order, in-process
 * (filesrc ! matroskademux ! appsink). A truncated segment yields what decodes; an empty or
 * unreadable one yields nothing, with a warning on stderr. Retiming is the caller's. */
#ifndef CR_RECORDER_PACKAGE_READ_H
#define CR_RECORDER_PACKAGE_READ_H

#include <stdbool.h>
#include <stdint.h>

#include <gst/gst.h>

struct pkg_reader;

/* Reads the segment files SEGS (NULL-terminated, borrowed) one after the other. */
struct pkg_reader *pkg_reader_new(char *const *segs);
/* The next sample (caller unrefs), or NULL when every segment is read. */
GstSample *pkg_reader_next(struct pkg_reader *r);
void pkg_reader_free(struct pkg_reader *r);

/* Reads one segment: the first buffer's PTS, the end (PTS + duration) of the last one read
 * (all of them if WHOLE, else only the first) and the first caps (caller unrefs).
 * 0, or -1 when the segment holds no readable buffer. */
int pkg_probe_segment(const char *path, bool whole, int64_t *first, int64_t *end, GstCaps **caps);

#endif
