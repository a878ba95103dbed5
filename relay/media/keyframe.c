/* Keyframe request throttle: see keyframe.h. */
#include "media/keyframe.h"

void keyframe_throttle_init(struct keyframe_throttle *k, int64_t interval_ms)
{
    *k = (struct keyframe_throttle){.interval_ms = interval_ms};
}

static bool due(const struct keyframe_throttle *k, int64_t now_ms)
{
    return k->last_sent_ms == 0 || now_ms - k->last_sent_ms >= k->interval_ms;
}

static void sent(struct keyframe_throttle *k, int layer, int64_t now_ms)
{
    k->pending &= (uint8_t) ~(1u << layer);
    k->last_sent_ms = now_ms;
    k->next = (uint8_t)((layer + 1) % KEYFRAME_MAX_LAYERS);
    k->sent++;
}

bool keyframe_throttle_request(struct keyframe_throttle *k, int layer, int64_t now_ms)
{
    if (layer < 0 || layer >= KEYFRAME_MAX_LAYERS)
        return false;
    if (due(k, now_ms)) {
        sent(k, layer, now_ms);
        return true;
    }
    k->pending |= (uint8_t)(1u << layer);
    k->suppressed++;
    return false;
}

int keyframe_throttle_poll(struct keyframe_throttle *k, int64_t now_ms)
{
    if (!k->pending || !due(k, now_ms))
        return -1;
    for (int i = 0; i < KEYFRAME_MAX_LAYERS; i++) {
        int layer = (k->next + i) % KEYFRAME_MAX_LAYERS;
        if (k->pending & (1u << layer)) {
            sent(k, layer, now_ms);
            return layer;
        }
    }
    return -1;
}

void keyframe_throttle_on_keyframe(struct keyframe_throttle *k, int layer)
{
    if (layer >= 0 && layer < KEYFRAME_MAX_LAYERS)
        k->pending &= (uint8_t) ~(1u << layer);
}
