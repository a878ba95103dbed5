/* Keyframe request throttle for one publisher track: many subscribers joining or losing
 * packets at once must not become a storm of PLI/FIR (RFC 4585 §6.3.1, RFC 5104 §4.3.1)
 * toward the teacher. A request inside the interval is remembered and sent when the
 * interval ends, unless a keyframe arrived meanwhile. */
#ifndef CR_MEDIA_KEYFRAME_H
#define CR_MEDIA_KEYFRAME_H

#include <stdbool.h>
#include <stdint.h>

struct keyframe_throttle {
    int64_t interval_ms;  /* minimum time between requests sent */
    int64_t last_sent_ms; /* 0: never */
    bool pending;         /* a request waits for the interval to pass */
    uint64_t sent, suppressed;
};

void keyframe_throttle_init(struct keyframe_throttle *k, int64_t interval_ms);
/* A subscriber wants a keyframe. Returns true if a request must be sent now. */
bool keyframe_throttle_request(struct keyframe_throttle *k, int64_t now_ms);
/* Call periodically: returns true when a pending request is due now. */
bool keyframe_throttle_poll(struct keyframe_throttle *k, int64_t now_ms);
/* A keyframe arrived from the publisher: pending requests are satisfied. */
void keyframe_throttle_on_keyframe(struct keyframe_throttle *k);

#endif
