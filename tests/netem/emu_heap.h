/* The delay line of linkemu: a binary min-heap of packets ordered by departure time, ties
 * broken by arrival order, so equal times leave first-in first-out. It owns the packets it
 * holds; emu_heap_pop hands one back to the caller, who frees it with free(). */
#ifndef CR_NETEM_EMU_HEAP_H
#define CR_NETEM_EMU_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct emu_pkt {
    int64_t due_ns; /* when the packet leaves the link */
    uint64_t seq;   /* arrival order, the tie-break */
    void *dir;      /* borrowed: the direction that admitted it */
    int out_fd;     /* borrowed: the TUN it is written to */
    size_t len;
    uint8_t data[];
};

struct emu_heap {
    struct emu_pkt **v; /* owned, with the packets it points to */
    size_t n, cap;
    uint64_t next_seq;
};

/* A packet with a copy of buf; aborts when out of memory. */
struct emu_pkt *emu_pkt_new(const uint8_t *buf, size_t len);
void emu_heap_init(struct emu_heap *h);
void emu_heap_free(struct emu_heap *h);                    /* frees the packets still inside */
void emu_heap_push(struct emu_heap *h, struct emu_pkt *p); /* stamps p->seq */
struct emu_pkt *emu_heap_peek(const struct emu_heap *h);   /* NULL when empty */
struct emu_pkt *emu_heap_pop(struct emu_heap *h);          /* NULL when empty */

#endif
