/* Tests relay/base/ring.c: empty and full, slots handed back in order, and one writer
 * thread and one reader thread passing a million numbered slots through a small ring
 * without losing, repeating or reordering one. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "base/ring.h"
#include "test.h"

#define COUNT 1000000u

static void *writer(void *data)
{
    struct cr_ring *r = data;
    for (uint64_t i = 0; i < COUNT;) {
        uint64_t *slot = cr_ring_reserve(r);
        if (!slot) {
            sched_yield();
            continue;
        }
        slot[0] = i;
        slot[1] = ~i;
        cr_ring_commit(r);
        i++;
    }
    return NULL;
}

static void test_threads(void)
{
    struct cr_ring *r = cr_ring_new(64, 16);
    pthread_t t;
    pthread_create(&t, NULL, writer, r);
    uint64_t next = 0, bad = 0;
    while (next < COUNT) {
        const uint64_t *slot = cr_ring_peek(r);
        if (!slot) {
            sched_yield();
            continue;
        }
        bad += slot[0] != next || slot[1] != ~next;
        next++;
        cr_ring_release(r);
    }
    pthread_join(t, NULL);
    CHECK_EQ(bad, 0);
    CHECK(cr_ring_peek(r) == NULL);
    cr_ring_free(r);
}

int main(void)
{
    CHECK(cr_ring_new(3, 8) == NULL); /* not a power of two */
    struct cr_ring *r = cr_ring_new(4, 5);
    CHECK_EQ(cr_ring_slot_size(r), 8);
    CHECK(cr_ring_peek(r) == NULL);
    for (int i = 0; i < 4; i++) {
        char *s = cr_ring_reserve(r);
        CHECK(s != NULL);
        if (s)
            s[0] = (char)('a' + i);
        cr_ring_commit(r);
    }
    CHECK(cr_ring_reserve(r) == NULL); /* full */
    CHECK_EQ(*(char *)cr_ring_peek(r), 'a');
    cr_ring_release(r);
    char *s = cr_ring_reserve(r); /* the slot handed back */
    CHECK(s != NULL);
    if (s)
        s[0] = 'e';
    cr_ring_commit(r);
    for (int i = 1; i < 5; i++) {
        CHECK_EQ(*(char *)cr_ring_peek(r), 'a' + i);
        cr_ring_release(r);
    }
    CHECK(cr_ring_peek(r) == NULL);
    cr_ring_free(r);
    cr_ring_free(NULL);
    test_threads();
    return test_report();
}
