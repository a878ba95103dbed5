/* The HTTP Range request header (RFC 9110 §14.1.2, §14.2), one byte range only: what the
 * replay files of front/rest_recordings.c answer with 206 or 416. A pure function over the
 * header text, fuzzed alone (tests/fuzz/fuzz_sig_range.c). */
#ifndef CR_SIGNALING_HTTP_RANGE_H
#define CR_SIGNALING_HTTP_RANGE_H

#include <stdint.h>

/* h: the Range header's value. 1: the range is [*start, *start + *len) of a file of size
 * bytes, never empty and never past the end; 0: no usable Range (several ranges, another
 * unit, not a range-spec: send the whole file); -1: unsatisfiable (416). */
int http_range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *len);

#endif
