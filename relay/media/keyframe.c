/* Keyframe request throttle: see keyframe.h. */
#include "media/keyframe.h"

void keyframe_throttle_init(struct keyframe_throttle *k, int64_t interval_ms)
{
    k->interval_ms = interval_ms;
    k->last_sent_ms = 0;
    k->pending = false;
    k->sent = k->suppressed = 0;
}

static bool due(const struct keyframe_throttle *k, int64_t now_ms)
{
    return k->last_sent_ms == 0 || now_ms - k->last_sent_ms >= k->interval_ms;
}

bool keyframe_throttle_request(struct keyframe_throttle *k, int64_t now_ms)
{
    if (due(k, now_ms)) {
        k->last_sent_ms = now_ms;
        k->pending = false;
        k->sent++;
        return true;
    }
    k->pending = true;
    k->suppressed++;
    return false;
}

bool keyframe_throttle_poll(struct keyframe_throttle *k, int64_t now_ms)
{
    if (!k->pending || !due(k, now_ms))
        return false;
    k->pending = false;
    k->last_sent_ms = now_ms;
    k->sent++;
    return true;
}

void keyframe_throttle_on_keyframe(struct keyframe_throttle *k) { k->pending = false; }
