/* Send history: see send_history.h. Each packet is reported once (twice when first lost,
 * then received); a status for a number we never sent, sent too long ago, or already
 * reported is counted and skipped, so lost, duplicated or reordered feedback packets
 * cannot corrupt the estimate. */
#include "media/send_history.h"

#include <string.h>

enum { SLOT_EMPTY = 0, SLOT_SENT = 1, SLOT_LOST = 2, SLOT_RECEIVED = 3 };

/* draft-holmer-...-01 §3.1: the reference time is a 24-bit count of 64 ms units */
#define REF_PERIOD_US ((int64_t)(1 << 24) * 64000)

void send_history_init(struct send_history *h)
{
    memset(h, 0, sizeof *h);
    seq16_unwrap_init(&h->sent_unwrap);
}

void send_history_on_sent(struct send_history *h, uint16_t twcc_seq, size_t size,
                          enum send_kind kind, uint8_t tag, int64_t now_us)
{
    int64_t prev = h->sent_unwrap.last;
    int64_t ext = seq16_unwrap(&h->sent_unwrap, twcc_seq);
    if (prev >= 0 && ext > prev + 1) {
        /* numbers skipped: forget what their slots held so a stale entry can never be
         * mistaken for them */
        int64_t gap = ext - prev - 1;
        if (gap > SEND_HISTORY_SLOTS)
            gap = SEND_HISTORY_SLOTS;
        for (int64_t s = ext - gap; s < ext; s++)
            h->ring[s & (SEND_HISTORY_SLOTS - 1)].state = SLOT_EMPTY;
    }
    struct send_history_entry *e = &h->ring[ext & (SEND_HISTORY_SLOTS - 1)];
    e->send_lo = (uint32_t)now_us;
    if (now_us > h->newest_us)
        h->newest_us = now_us;
    e->size = size > UINT16_MAX ? UINT16_MAX : (uint16_t)size;
    e->kind = (uint8_t)kind;
    e->tag = tag;
    e->state = SLOT_SENT;
    h->sent++;
}

/* The feedback's reference time, unwrapped against the previous one. */
static int64_t unwrap_reference(struct send_history *h, int64_t reference_us)
{
    int64_t ref = reference_us + h->ref_offset_us;
    if (h->have_ref) {
        int64_t d = ref - h->last_ref_us;
        if (d > REF_PERIOD_US / 2) {
            h->ref_offset_us -= REF_PERIOD_US;
            ref -= REF_PERIOD_US;
        } else if (d < -REF_PERIOD_US / 2) {
            h->ref_offset_us += REF_PERIOD_US;
            ref += REF_PERIOD_US;
        }
    }
    h->last_ref_us = ref;
    h->have_ref = true;
    return ref - reference_us;
}

size_t send_history_on_feedback(struct send_history *h, const struct twcc_feedback *fb,
                                const struct twcc_packet_status *st, size_t n,
                                struct send_result *out)
{
    int64_t last = h->sent_unwrap.last;
    if (last < 0 || n == 0)
        return 0;
    h->feedbacks++;
    int64_t offset = unwrap_reference(h, fb->reference_us);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* unwrap against the newest number sent: feedback can only name the past */
        int64_t ext = last + seq16_diff((uint16_t)last, st[i].seq);
        struct send_history_entry *e = &h->ring[ext & (SEND_HISTORY_SLOTS - 1)];
        /* every number of the window was written or emptied when sent: the slot is ext's */
        if (ext > last || ext <= last - SEND_HISTORY_SLOTS || e->state == SLOT_EMPTY) {
            h->unknown++;
            continue;
        }
        bool late = e->state == SLOT_LOST && st[i].received;
        if (e->state == SLOT_RECEIVED || (e->state == SLOT_LOST && !late)) {
            h->duplicates++;
            continue;
        }
        e->state = st[i].received ? SLOT_RECEIVED : SLOT_LOST;
        h->reported++;
        out[k++] = (struct send_result){
            .seq = ext,
            .send_us = h->newest_us - (int64_t)(uint32_t)((uint32_t)h->newest_us - e->send_lo),
            .arrival_us = st[i].received ? st[i].arrival_us + offset : 0,
            .size = e->size,
            .kind = e->kind,
            .tag = e->tag,
            .received = st[i].received,
            .late = late,
        };
    }
    return k;
}
