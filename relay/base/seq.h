/* The one set of RTP sequence-number helpers (STYLE.md habit 10). 16-bit sequence numbers
 * and 32-bit timestamps wrap; compare them only through these (RFC 3550 §A.1). */
#ifndef CR_BASE_SEQ_H
#define CR_BASE_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* Signed distance from a to b: positive when b is newer than a. */
static inline int16_t seq16_diff(uint16_t a, uint16_t b) { return (int16_t)(uint16_t)(b - a); }
/* True when a is newer than b. */
static inline bool seq16_newer(uint16_t a, uint16_t b) { return seq16_diff(b, a) > 0; }
static inline int32_t ts32_diff(uint32_t a, uint32_t b) { return (int32_t)(b - a); }
static inline bool ts32_newer(uint32_t a, uint32_t b) { return ts32_diff(b, a) > 0; }

/* Unwraps a stream of 16-bit sequence numbers into a 64-bit counter. */
struct seq16_unwrap {
    int64_t last; /* last unwrapped value, -1 before the first */
};
static inline void seq16_unwrap_init(struct seq16_unwrap *u) { u->last = -1; }
static inline int64_t seq16_unwrap(struct seq16_unwrap *u, uint16_t seq)
{
    if (u->last < 0) {
        u->last = seq + 65536; /* keep room below for reordered early packets */
        return u->last;
    }
    int64_t v = u->last + seq16_diff((uint16_t)u->last, seq);
    if (v > u->last)
        u->last = v;
    return v;
}

#endif
