/* RED (RFC 2198 §3) parse and write: see red.h. */
#include "wire/red.h"

#include <stdbool.h>
#include <string.h>

#include "base/bytes.h"

int red_parse(const uint8_t *buf, size_t len, struct red_view *out)
{
    struct cr_reader r = {buf, len};
    size_t data_total = 0;
    out->n = 0;
    for (;;) {
        uint8_t first;
        if (rdr_u8(&r, &first) != 0)
            return RED_ERR_SHORT;
        if (out->n == RED_MAX_BLOCKS)
            return RED_ERR_LIMIT;
        struct red_block *b = &out->blocks[out->n++];
        b->pt = first & 0x7f;
        if (!(first & 0x80)) { /* F=0: the primary's 1-byte header ends the list */
            b->ts_offset = 0;
            break;
        }
        if (r.left < RED_HEADER_LEN - 1)
            return RED_ERR_SHORT;
        uint32_t word = rd_be24(r.p); /* 14-bit timestamp offset, 10-bit block length */
        rdr_skip(&r, RED_HEADER_LEN - 1);
        b->ts_offset = (uint16_t)(word >> 10);
        b->len = word & RED_MAX_BLOCK_LEN;
        data_total += b->len;
    }
    if (data_total > r.left)
        return RED_ERR_SHORT;
    const uint8_t *p = r.p;
    for (size_t i = 0; i + 1 < out->n; i++) {
        out->blocks[i].data = p;
        p += out->blocks[i].len;
    }
    struct red_block *primary = &out->blocks[out->n - 1];
    primary->data = p;
    primary->len = r.left - data_total;
    return RED_OK;
}

static bool describable(const struct red_block *b)
{
    return b->ts_offset > 0 && b->ts_offset <= RED_MAX_TS_OFFSET && b->len > 0 &&
           b->len <= RED_MAX_BLOCK_LEN && b->pt < 128;
}

size_t red_write(uint8_t *out, size_t cap, const struct red_block *blocks, size_t n)
{
    if (n == 0 || blocks[n - 1].pt >= 128)
        return 0;
    const struct red_block *primary = &blocks[n - 1];
    size_t need = 1 + primary->len;
    if (need > cap)
        return 0;
    /* from the newest redundant block back, take what is describable and fits */
    size_t first = n - 1;
    for (size_t i = n - 1; i-- > 0;) {
        if (!describable(&blocks[i]))
            continue;
        if (need + RED_HEADER_LEN + blocks[i].len > cap)
            break;
        need += RED_HEADER_LEN + blocks[i].len;
        first = i;
    }
    size_t pos = 0;
    for (size_t i = first; i + 1 < n; i++) {
        const struct red_block *b = &blocks[i];
        if (!describable(b))
            continue;
        out[pos] = (uint8_t)(0x80 | b->pt);
        wr_be24(out + pos + 1, (uint32_t)b->ts_offset << 10 | (uint32_t)b->len);
        pos += RED_HEADER_LEN;
    }
    out[pos++] = primary->pt;
    for (size_t i = first; i + 1 < n; i++) {
        if (!describable(&blocks[i]))
            continue;
        memcpy(out + pos, blocks[i].data, blocks[i].len);
        pos += blocks[i].len;
    }
    if (primary->len)
        memcpy(out + pos, primary->data, primary->len);
    return pos + primary->len;
}
