/* The delay line's min-heap: see emu_heap.h. Array form, children of i at 2i+1 and 2i+2. */
#include "emu_heap.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "linkemu: out of memory\n");
        abort();
    }
    return p;
}

struct emu_pkt *emu_pkt_new(const uint8_t *buf, size_t len)
{
    struct emu_pkt *p = xrealloc(NULL, sizeof(*p) + len);
    *p = (struct emu_pkt){.len = len, .out_fd = -1};
    memcpy(p->data, buf, len);
    return p;
}

void emu_heap_init(struct emu_heap *h) { *h = (struct emu_heap){0}; }

void emu_heap_free(struct emu_heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    free(h->v);
    emu_heap_init(h);
}

static bool before(const struct emu_pkt *a, const struct emu_pkt *b)
{
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void swap(struct emu_heap *h, size_t i, size_t j)
{
    struct emu_pkt *t = h->v[i];
    h->v[i] = h->v[j];
    h->v[j] = t;
}

static void sift_up(struct emu_heap *h, size_t i)
{
    while (i > 0 && before(h->v[i], h->v[(i - 1) / 2])) {
        swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void sift_down(struct emu_heap *h, size_t i)
{
    for (;;) {
        size_t m = i, l = 2 * i + 1, r = 2 * i + 2;
        if (l < h->n && before(h->v[l], h->v[m]))
            m = l;
        if (r < h->n && before(h->v[r], h->v[m]))
            m = r;
        if (m == i)
            return;
        swap(h, i, m);
        i = m;
    }
}

void emu_heap_push(struct emu_heap *h, struct emu_pkt *p)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 256;
        h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
    }
    p->seq = h->next_seq++;
    h->v[h->n++] = p;
    sift_up(h, h->n - 1);
}

struct emu_pkt *emu_heap_peek(const struct emu_heap *h) { return h->n ? h->v[0] : NULL; }

struct emu_pkt *emu_heap_pop(struct emu_heap *h)
{
    if (!h->n)
        return NULL;
    struct emu_pkt *top = h->v[0];
    h->v[0] = h->v[--h->n];
    sift_down(h, 0);
    return top;
}
