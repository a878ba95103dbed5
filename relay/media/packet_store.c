/* Packet store: a ring indexed by seq mod size. A slot remembers its seq so a stale slot
 * (from 65536/size wraps ago) is never mistaken for the wanted packet. */
#include "media/packet_store.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

struct slot {
    int64_t stored_ms;
    uint16_t seq;
    uint16_t len; /* 0: empty */
    uint8_t data[PACKET_STORE_MTU];
};

struct packet_store {
    size_t mask;
    int64_t max_age_ms;
    struct slot *slots; /* owned */
};

struct packet_store *packet_store_new(size_t slots, int64_t max_age_ms)
{
    size_t n = 1;
    while (n < slots)
        n <<= 1;
    struct packet_store *ps = CR_NEW(struct packet_store);
    ps->mask = n - 1;
    ps->max_age_ms = max_age_ms;
    ps->slots = cr_calloc(n, sizeof(struct slot));
    return ps;
}

void packet_store_free(struct packet_store *ps)
{
    if (!ps)
        return;
    free(ps->slots);
    free(ps);
}

void packet_store_put(struct packet_store *ps, uint16_t seq, const uint8_t *pkt, size_t len,
                      int64_t now_ms)
{
    if (len == 0 || len > PACKET_STORE_MTU)
        return;
    struct slot *s = &ps->slots[seq & ps->mask];
    memcpy(s->data, pkt, len);
    s->len = (uint16_t)len;
    s->seq = seq;
    s->stored_ms = now_ms;
}

const uint8_t *packet_store_get(const struct packet_store *ps, uint16_t seq, int64_t now_ms,
                                size_t *len)
{
    const struct slot *s = &ps->slots[seq & ps->mask];
    if (s->len == 0 || s->seq != seq || now_ms - s->stored_ms > ps->max_age_ms)
        return NULL;
    *len = s->len;
    return s->data;
}

int packet_store_has(const struct packet_store *ps, uint16_t seq)
{
    const struct slot *s = &ps->slots[seq & ps->mask];
    return s->len != 0 && s->seq == seq;
}
