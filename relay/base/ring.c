/* The single-producer single-consumer ring: see ring.h. head counts slots committed by the
 * writer, tail slots released by the reader; both only grow (size_t does not wrap in the
 * life of a process), and head - tail is what the ring holds. Each side keeps a private
 * copy of the other's counter and reloads it only when it seems to be full (or empty), so
 * a steady stream costs one shared cache line transfer per side and batch. */
#include "base/ring.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/alloc.h"

#define LINE 64

struct cr_ring {
    _Alignas(LINE) atomic_size_t head; /* written by the writer */
    size_t tail_seen;                  /* the writer's copy of tail */
    _Alignas(LINE) atomic_size_t tail; /* written by the reader */
    size_t head_seen;                  /* the reader's copy of head */
    _Alignas(LINE) size_t mask;        /* slots - 1 */
    size_t slot_size;
    uint8_t *slots; /* owned */
};

struct cr_ring *cr_ring_new(size_t slots, size_t slot_size)
{
    if (slots == 0 || (slots & (slots - 1)) != 0)
        return NULL;
    struct cr_ring *r = aligned_alloc(LINE, sizeof *r);
    if (!r)
        abort();
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->tail_seen = r->head_seen = 0;
    r->mask = slots - 1;
    r->slot_size = (slot_size + 7) & ~(size_t)7;
    r->slots = cr_calloc(slots, r->slot_size); /* large: mapped, paged in as written */
    return r;
}

void cr_ring_free(struct cr_ring *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r);
}

size_t cr_ring_slot_size(const struct cr_ring *r) { return r->slot_size; }

void *cr_ring_reserve(struct cr_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head - r->tail_seen > r->mask) {
        r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head - r->tail_seen > r->mask)
            return NULL;
    }
    return r->slots + (head & r->mask) * r->slot_size;
}

void cr_ring_commit(struct cr_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

void *cr_ring_peek(struct cr_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail == r->head_seen) {
        r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail == r->head_seen)
            return NULL;
    }
    return r->slots + (tail & r->mask) * r->slot_size;
}

void cr_ring_release(struct cr_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}
