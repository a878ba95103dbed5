/* A bounded queue of fixed-size slots between exactly two threads: one writes, one reads,
 * and neither takes a lock or makes a system call (a single-producer single-consumer ring,
 * its head and tail on cache lines of their own, published with release stores and read
 * with acquire loads). The writer reserves a slot, fills it and commits it; the reader
 * peeks at the oldest committed slot, uses it and releases it. Waking the reader is left to
 * the caller. */
#ifndef CR_BASE_RING_H
#define CR_BASE_RING_H

#include <stddef.h>

struct cr_ring;

/* slots: a power of two; slot_size: bytes each slot holds (aligned to 8 here). The memory
 * is taken from the system as it is first written. */
struct cr_ring *cr_ring_new(size_t slots, size_t slot_size);
void cr_ring_free(struct cr_ring *r); /* cr_ring_free(NULL) does nothing */
size_t cr_ring_slot_size(const struct cr_ring *r);

/* Writer: the next free slot, or NULL when the ring is full; committed slots become
 * visible to the reader in order. */
void *cr_ring_reserve(struct cr_ring *r);
void cr_ring_commit(struct cr_ring *r);

/* Reader: the oldest committed slot, or NULL when there is none; release hands it back. */
void *cr_ring_peek(struct cr_ring *r);
void cr_ring_release(struct cr_ring *r);

#endif
