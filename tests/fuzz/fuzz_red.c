/* Fuzz entry point for relay/wire/red.c: parses a RED payload (RFC 2198), checks every
 * block stays inside the buffer and the blocks add up to it, then writes the blocks back
 * and checks the re-parse gives the describable ones again, in order, with the primary. */
#include <stdlib.h>
#include <string.h>

#include "wire/red.h"
#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = calloc(size ? size : 1, 1); /* exact size: overreads are caught */
    if (size)
        memcpy(buf, data, size);
    struct red_view v;
    if (red_parse(buf, size, &v) == RED_OK) {
        REQUIRE(v.n >= 1 && v.n <= RED_MAX_BLOCKS);
        size_t total = 4 * (v.n - 1) + 1;
        for (size_t i = 0; i < v.n; i++) {
            const struct red_block *b = &v.blocks[i];
            REQUIRE(b->data >= buf && b->data + b->len <= buf + size && b->pt < 128);
            REQUIRE(i + 1 < v.n ? b->len <= RED_MAX_BLOCK_LEN && b->ts_offset <= RED_MAX_TS_OFFSET
                                : b->ts_offset == 0);
            total += b->len;
        }
        REQUIRE(total == size);
        static uint8_t out[4 * RED_MAX_BLOCKS + RED_MAX_BLOCKS * RED_MAX_BLOCK_LEN + 65536];
        size_t n = red_write(out, sizeof out, v.blocks, v.n);
        REQUIRE(n > 0 && n <= size);
        struct red_view w;
        REQUIRE(red_parse(out, n, &w) == RED_OK);
        size_t j = 0;
        for (size_t i = 0; i + 1 < v.n; i++) {
            const struct red_block *b = &v.blocks[i];
            if (b->ts_offset == 0 || b->len == 0)
                continue; /* not describable: the writer leaves it out */
            REQUIRE(j + 1 < w.n && w.blocks[j].pt == b->pt && w.blocks[j].len == b->len &&
                    w.blocks[j].ts_offset == b->ts_offset &&
                    memcmp(w.blocks[j].data, b->data, b->len) == 0);
            j++;
        }
        REQUIRE(j + 1 == w.n);
        const struct red_block *p = &v.blocks[v.n - 1], *q = &w.blocks[j];
        REQUIRE(q->pt == p->pt && q->len == p->len &&
                (!p->len || !memcmp(q->data, p->data, p->len)));
    }
    free(buf);
    return 0;
}
