/* Keyframe request throttle for one publisher track, all its simulcast layers together:
 * many subscribers joining, switching layers or losing packets at once must not become a
 * storm of PLI/FIR (RFC 4585 §6.3.1, RFC 5104 §4.3.1) toward the teacher, and a weak
 * publisher (a classroom's uplink) spends each keyframe on its link. At most one request
 * per interval leaves, whatever the layer: a request inside the interval is remembered
 * (per layer) and sent when the interval ends, unless a keyframe of that layer arrived
 * meanwhile (a browser's simulcast encoder makes one on every layer for any request, so
 * one request usually serves all). Waiting layers are served in turn. */
#ifndef CR_MEDIA_KEYFRAME_H
#define CR_MEDIA_KEYFRAME_H

#include <stdbool.h>
#include <stdint.h>

#define KEYFRAME_MAX_LAYERS 8

struct keyframe_throttle {
    int64_t interval_ms;  /* minimum time between requests sent */
    int64_t last_sent_ms; /* 0: never */
    uint8_t pending;      /* bit i: a request for layer i waits for the interval to pass */
    uint8_t next;         /* the layer served first when several wait */
    uint64_t sent, suppressed;
};

void keyframe_throttle_init(struct keyframe_throttle *k, int64_t interval_ms);
/* A subscriber wants a keyframe of layer (0..KEYFRAME_MAX_LAYERS-1). Returns true if a
 * request for it must be sent now. */
bool keyframe_throttle_request(struct keyframe_throttle *k, int layer, int64_t now_ms);
/* Call periodically: the layer whose waiting request is due now, or -1. */
int keyframe_throttle_poll(struct keyframe_throttle *k, int64_t now_ms);
/* A keyframe of layer arrived from the publisher: its waiting request is satisfied. */
void keyframe_throttle_on_keyframe(struct keyframe_throttle *k, int layer);

#endif
