/* Paced sending toward one receiver: see pacer.h. */
#include "media/pacer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

void pacer_init(struct pacer *p, int64_t pace_bps, size_t room)
{
    memset(p, 0, sizeof *p);
    p->pace_bps = pace_bps < PACER_MIN_BPS ? PACER_MIN_BPS : pace_bps;
    p->max_delay_us = PACER_MAX_DELAY_US;
    p->room = room;
    p->st.pace_bps = p->pace_bps;
}

static struct pacer_item *pop(struct pacer *p, struct pacer_queue *q)
{
    struct pacer_item *it = q->head;
    q->head = it->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    p->bytes -= it->len;
    return it;
}

void pacer_clear(struct pacer *p)
{
    for (int c = 0; c < PACER_CLASSES; c++)
        while (p->q[c].head)
            free(pop(p, &p->q[c]));
}

static double window_bytes(const struct pacer *p)
{
    return (double)p->pace_bps * PACER_WINDOW_US / 8e6;
}

/* The rate that empties the queue PACER_DRAIN_US after its oldest packet came (libwebrtc's
 * queue time limit): what is queued over the time left. */
static double drain_rate(const struct pacer *p, int64_t now_us)
{
    if (!p->bytes)
        return 0;
    int64_t oldest = INT64_MAX;
    for (int c = PACER_RTX; c <= PACER_VIDEO; c++)
        if (p->q[c].head && p->q[c].head->queued_us < oldest)
            oldest = p->q[c].head->queued_us;
    int64_t left = PACER_DRAIN_US - (now_us - oldest);
    if (left < 5000)
        left = 5000;
    return (double)p->bytes * 8e6 / (double)left;
}

static void refill(struct pacer *p, int64_t now_us)
{
    if (!p->primed) {
        p->budget = window_bytes(p);
        p->at_us = now_us;
        p->primed = true;
        return;
    }
    if (now_us <= p->at_us)
        return;
    double rate = (double)p->pace_bps, drain = drain_rate(p, now_us);
    p->budget += (drain > rate ? drain : rate) * (double)(now_us - p->at_us) / 8e6;
    if (p->budget > window_bytes(p))
        p->budget = window_bytes(p);
    p->at_us = now_us;
}

void pacer_set_rate(struct pacer *p, int64_t pace_bps, int64_t now_us)
{
    refill(p, now_us); /* what was earned so far, at the old rate */
    p->pace_bps = pace_bps < PACER_MIN_BPS ? PACER_MIN_BPS : pace_bps;
    p->st.pace_bps = p->pace_bps;
}

/* Whether a packet of cls must wait behind one of its class or above. */
static bool waits(const struct pacer *p, enum pacer_class cls)
{
    for (int c = PACER_RTX; c <= (int)cls; c++)
        if (p->q[c].head)
            return true;
    return p->budget <= 0;
}

static void push(struct pacer *p, enum pacer_class cls, const uint8_t *buf, size_t len,
                 const struct pacer_meta *meta, int64_t now_us)
{
    if (p->bytes + (int64_t)len > PACER_MAX_BYTES) {
        p->st.dropped++;
        return;
    }
    struct pacer_item *it = cr_malloc(sizeof *it + len + p->room);
    it->next = NULL;
    it->queued_us = now_us;
    it->meta = *meta;
    it->len = (uint32_t)len;
    memcpy(it->buf, buf, len);
    struct pacer_queue *q = &p->q[cls];
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->n++;
    p->bytes += (int64_t)len;
}

bool pacer_offer(struct pacer *p, enum pacer_class cls, const uint8_t *buf, size_t len,
                 const struct pacer_meta *meta, int64_t now_us)
{
    if (cls == PACER_PADDING) { /* a probe: its own rate, not the media's budget */
        p->st.sent_now++;
        return true;
    }
    refill(p, now_us);
    if (cls != PACER_AUDIO && waits(p, cls)) {
        push(p, cls, buf, len, meta, now_us);
        return false;
    }
    p->budget -= (double)len;
    p->st.sent_now++;
    return true;
}

/* Drops the packets at the head of q that waited longer than the bound. */
static void drop_stale(struct pacer *p, struct pacer_queue *q, int64_t now_us)
{
    while (q->head && now_us - q->head->queued_us > p->max_delay_us) {
        free(pop(p, q));
        p->st.dropped++;
    }
}

size_t pacer_process(struct pacer *p, int64_t now_us, pacer_send_fn send, void *ud)
{
    if (!p->bytes)
        return 0;
    refill(p, now_us);
    drop_stale(p, &p->q[PACER_RTX], now_us);
    drop_stale(p, &p->q[PACER_VIDEO], now_us);
    size_t sent = 0;
    while (p->budget > 0) {
        struct pacer_queue *q = p->q[PACER_RTX].head ? &p->q[PACER_RTX] : &p->q[PACER_VIDEO];
        if (!q->head)
            break;
        struct pacer_item *it = pop(p, q);
        p->budget -= it->len;
        if (now_us - it->queued_us > p->st.max_wait_us)
            p->st.max_wait_us = now_us - it->queued_us;
        send(ud, it->buf, it->len, &it->meta);
        free(it);
        p->st.sent_queued++;
        sent++;
    }
    return sent;
}

void pacer_read_stats(struct pacer *p, struct pacer_stats *out)
{
    p->st.queue_bytes = p->bytes;
    *out = p->st;
    p->st.max_wait_us = 0;
}
