/* Tests relay/wire/red.c: RED payloads (RFC 2198 §3) as Chromium sends them for Opus,
 * primary-only and empty-primary packets, truncation and the block limit, and the
 * writer: round trip, the 14-bit offset and 10-bit length bounds, dropping the oldest
 * redundancy that does not fit. */
#include <string.h>

#include "test.h"
#include "wire/red.h"

/* One redundant Opus block (pt 111, 960 ticks = 20 ms back, 3 bytes) and the primary. */
static const uint8_t chrome_red[] = {
    0xef, 0x0f, 0x00, 0x03, /* F=1 pt 111, offset 960 << 10 | length 3 */
    0x6f,                   /* F=0 pt 111: the primary */
    'a',  'b',  'c',        /* redundant data */
    'd',  'e',  'f',  'g',  /* primary data */
};

static void test_parse_chrome(void)
{
    struct red_view v;
    CHECK_EQ(red_parse(chrome_red, sizeof chrome_red, &v), RED_OK);
    CHECK_EQ(v.n, 2);
    CHECK_EQ(v.blocks[0].pt, 111);
    CHECK_EQ(v.blocks[0].ts_offset, 960);
    CHECK_EQ(v.blocks[0].len, 3);
    CHECK(v.blocks[0].data == chrome_red + 5);
    CHECK_EQ(v.blocks[1].pt, 111);
    CHECK_EQ(v.blocks[1].ts_offset, 0);
    CHECK_EQ(v.blocks[1].len, 4);
    CHECK(v.blocks[1].data == chrome_red + 8);
}

static void test_parse_primary_only_and_empty(void)
{
    const uint8_t only[] = {0x6f, 1, 2, 3};
    struct red_view v;
    CHECK_EQ(red_parse(only, sizeof only, &v), RED_OK);
    CHECK_EQ(v.n, 1);
    CHECK_EQ(v.blocks[0].len, 3);
    CHECK(v.blocks[0].data == only + 1);
    const uint8_t empty[] = {0x6f};
    CHECK_EQ(red_parse(empty, sizeof empty, &v), RED_OK);
    CHECK_EQ(v.n, 1);
    CHECK_EQ(v.blocks[0].len, 0);
}

static void test_parse_bad(void)
{
    struct red_view v;
    CHECK_EQ(red_parse(NULL, 0, &v), RED_ERR_SHORT);
    CHECK_EQ(red_parse(chrome_red, 2, &v), RED_ERR_SHORT); /* inside the first header */
    CHECK_EQ(red_parse(chrome_red, 4, &v), RED_ERR_SHORT); /* no primary header */
    CHECK_EQ(red_parse(chrome_red, 7, &v), RED_ERR_SHORT); /* redundant data cut short */
    CHECK_EQ(red_parse(chrome_red, 8, &v), RED_OK);        /* primary empty: taken */
    CHECK_EQ(v.blocks[1].len, 0);
    /* only redundant headers, never an F=0 */
    const uint8_t no_primary[] = {0xef, 0x00, 0x04, 0x00, 0xef, 0x00, 0x04, 0x00};
    CHECK_EQ(red_parse(no_primary, sizeof no_primary, &v), RED_ERR_SHORT);
    /* RED_MAX_BLOCKS - 1 redundant blocks of 0 bytes plus a primary: the limit, taken */
    uint8_t many[4 * RED_MAX_BLOCKS + 1];
    for (size_t i = 0; i < RED_MAX_BLOCKS; i++)
        memcpy(many + 4 * i, (const uint8_t[]){0xef, 0x00, 0x04, 0x00}, 4);
    many[4 * (RED_MAX_BLOCKS - 1)] = 0x6f;
    CHECK_EQ(red_parse(many, 4 * (RED_MAX_BLOCKS - 1) + 1, &v), RED_OK);
    CHECK_EQ(v.n, RED_MAX_BLOCKS);
    many[4 * (RED_MAX_BLOCKS - 1)] = 0xef;
    many[4 * RED_MAX_BLOCKS] = 0x6f; /* one more block */
    CHECK_EQ(red_parse(many, sizeof many, &v), RED_ERR_LIMIT);
}

static void test_write_roundtrip(void)
{
    const uint8_t r1[] = "abc", r2[] = "defgh", prim[] = "primary";
    struct red_block in[] = {
        {111, 1920, r1, 3},
        {111, 960, r2, 5},
        {111, 0, prim, 7},
    };
    uint8_t out[64];
    size_t n = red_write(out, sizeof out, in, 3);
    CHECK_EQ(n, 4 + 4 + 1 + 3 + 5 + 7);
    struct red_view v;
    CHECK_EQ(red_parse(out, n, &v), RED_OK);
    CHECK_EQ(v.n, 3);
    for (size_t i = 0; i < 3 && v.n == 3; i++) {
        CHECK_EQ(v.blocks[i].pt, in[i].pt);
        CHECK_EQ(v.blocks[i].ts_offset, in[i].ts_offset);
        CHECK_EQ(v.blocks[i].len, in[i].len);
        CHECK(memcmp(v.blocks[i].data, in[i].data, in[i].len) == 0);
    }
    /* the same as Chromium's bytes */
    struct red_block chrome[] = {{111, 960, (const uint8_t *)"abc", 3},
                                 {111, 0, (const uint8_t *)"defg", 4}};
    n = red_write(out, sizeof out, chrome, 2);
    CHECK_EQ(n, sizeof chrome_red);
    CHECK(memcmp(out, chrome_red, sizeof chrome_red) == 0);
    CHECK_EQ(red_write(out, sizeof out, in, 0), 0);
}

static void test_write_bounds(void)
{
    static uint8_t big[RED_MAX_BLOCK_LEN + 1];
    static uint8_t out[4096];
    const uint8_t p[] = {9};
    struct red_view v;
    /* the largest offset and length RED can carry */
    struct red_block edge[] = {{111, RED_MAX_TS_OFFSET, big, RED_MAX_BLOCK_LEN}, {111, 0, p, 1}};
    size_t n = red_write(out, sizeof out, edge, 2);
    CHECK_EQ(n, 4 + 1 + RED_MAX_BLOCK_LEN + 1);
    CHECK_EQ(red_parse(out, n, &v), RED_OK);
    CHECK_EQ(v.n, 2);
    CHECK_EQ(v.blocks[0].ts_offset, RED_MAX_TS_OFFSET);
    CHECK_EQ(v.blocks[0].len, RED_MAX_BLOCK_LEN);
    /* one past either bound, or offset 0, or empty: skipped, the primary still goes */
    struct red_block over[] = {{111, RED_MAX_TS_OFFSET + 1, big, 10},
                               {111, 100, big, RED_MAX_BLOCK_LEN + 1},
                               {111, 0, big, 10},
                               {111, 50, big, 0},
                               {111, 0, p, 1}};
    n = red_write(out, sizeof out, over, 5);
    CHECK_EQ(n, 2);
    CHECK_EQ(red_parse(out, n, &v), RED_OK);
    CHECK_EQ(v.n, 1);
    /* too little room: the oldest redundancy goes first, then all, then nothing */
    struct red_block three[] = {{111, 1920, big, 10}, {111, 960, big, 10}, {111, 0, p, 1}};
    CHECK_EQ(red_write(out, 30, three, 3), 30);
    CHECK_EQ(red_write(out, 29, three, 3), 16);
    CHECK_EQ(red_parse(out, 16, &v), RED_OK);
    CHECK_EQ(v.n, 2);
    CHECK_EQ(v.blocks[0].ts_offset, 960);
    CHECK_EQ(red_write(out, 15, three, 3), 2);
    CHECK_EQ(red_write(out, 1, three, 3), 0);
    /* a payload type that does not fit in 7 bits is refused */
    struct red_block badpt[] = {{200, 0, p, 1}};
    CHECK_EQ(red_write(out, sizeof out, badpt, 1), 0);
}

int main(void)
{
    test_parse_chrome();
    test_parse_primary_only_and_empty();
    test_parse_bad();
    test_write_roundtrip();
    test_write_bounds();
    return test_report();
}
