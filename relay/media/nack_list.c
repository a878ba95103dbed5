/* The receiver's NACK list: see nack_list.h. Entries stay in sequence order (gaps are found
 * in order), so the oldest leave from the front; a repaired one is removed where it sits. */
#include "media/nack_list.h"

#include <string.h>

#include "base/seq.h"

#define DEFAULT_RTT_MS 100

void nack_list_init(struct nack_list *l) { memset(l, 0, sizeof *l); }

static void remove_at(struct nack_list *l, size_t i)
{
    memmove(&l->e[i], &l->e[i + 1], (l->n - i - 1) * sizeof l->e[0]);
    l->n--;
}

static int find(const struct nack_list *l, uint16_t seq)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].seq == seq)
            return (int)i;
    return -1;
}

/* Adds the sequence numbers between highest and seq (both excluded) as missing. */
static void add_gap(struct nack_list *l, uint16_t seq, int64_t now_ms)
{
    uint16_t gap = (uint16_t)(seq - l->highest - 1);
    if (gap > NACK_LIST_MAX) { /* an outage or a new numbering: start again after it */
        l->n = 0;
        l->reset++;
        return;
    }
    for (uint16_t s = (uint16_t)(l->highest + 1); s != seq; s++) {
        if (l->n == NACK_LIST_MAX) { /* the oldest is the least likely to help */
            remove_at(l, 0);
            l->given_up++;
        }
        l->e[l->n++] = (struct nack_entry){s, 0, now_ms, 0};
        l->missed++;
    }
}

bool nack_list_on_packet(struct nack_list *l, uint16_t seq, int64_t now_ms)
{
    if (!l->started) {
        l->started = true;
        l->highest = seq;
        return false;
    }
    if (seq16_newer(seq, l->highest)) {
        add_gap(l, seq, now_ms);
        l->highest = seq;
        return false;
    }
    int i = find(l, seq);
    if (i < 0)
        return false; /* a duplicate, or late and no longer wanted */
    remove_at(l, (size_t)i);
    l->repaired++;
    return true;
}

bool nack_list_wants(const struct nack_list *l, uint16_t seq) { return find(l, seq) >= 0; }

size_t nack_list_due(struct nack_list *l, int64_t now_ms, uint32_t rtt_ms, uint16_t *out,
                     size_t max)
{
    int64_t retry = rtt_ms ? rtt_ms : DEFAULT_RTT_MS;
    if (retry < NACK_LIST_MIN_RETRY_MS)
        retry = NACK_LIST_MIN_RETRY_MS;
    size_t n = 0;
    for (size_t i = 0; i < l->n;) {
        struct nack_entry *e = &l->e[i];
        if (now_ms - e->first_ms > NACK_LIST_MAX_AGE_MS || e->tries >= NACK_LIST_MAX_TRIES) {
            remove_at(l, i);
            l->given_up++;
            continue;
        }
        if (n < max && (e->tries == 0 || now_ms - e->last_ms >= retry)) {
            out[n++] = e->seq;
            e->tries++;
            e->last_ms = now_ms;
        }
        i++;
    }
    return n;
}
