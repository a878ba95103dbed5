/* RED encoder ring: see red_encoder.h. */
#include "media/red_encoder.h"

#include <string.h>

#include "base/seq.h"

#define DEPTH2_FRACTION_LOST 5 /* 5/256 ≈ 2 % */

void red_enc_reset(struct red_encoder *e)
{
    for (size_t i = 0; i < RED_ENC_MAX_DEPTH; i++)
        e->ring[i].used = false;
    e->next = 0;
}

void red_enc_push(struct red_encoder *e, uint16_t seq, uint32_t ts, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < RED_ENC_MAX_DEPTH; i++)
        if (e->ring[i].used && !seq16_newer(seq, e->ring[i].seq))
            return; /* reordered or repeated: the newer ones are worth more */
    struct red_enc_entry *s = &e->ring[e->next];
    e->next = (e->next + 1) % RED_ENC_MAX_DEPTH;
    s->used = len > 0 && len <= RED_MAX_BLOCK_LEN;
    if (!s->used)
        return; /* the slot is freed: an old payload must not outlive a newer one */
    s->seq = seq;
    s->ts = ts;
    s->len = (uint16_t)len;
    memcpy(s->data, data, len);
}

size_t red_enc_redundancy(const struct red_encoder *e, uint16_t seq, uint32_t ts, size_t depth,
                          uint8_t pt, struct red_block *out)
{
    size_t n = 0;
    if (depth > RED_ENC_MAX_DEPTH)
        depth = RED_ENC_MAX_DEPTH;
    for (size_t back = depth; back >= 1; back--) { /* oldest first */
        for (size_t i = 0; i < RED_ENC_MAX_DEPTH; i++) {
            const struct red_enc_entry *s = &e->ring[i];
            int32_t offset = ts32_diff(s->ts, ts);
            if (!s->used || seq16_diff(s->seq, seq) != (int16_t)back || offset <= 0 ||
                offset > RED_MAX_TS_OFFSET)
                continue;
            out[n++] = (struct red_block){pt, (uint16_t)offset, s->data, s->len};
            break;
        }
    }
    return n;
}

size_t red_enc_encode(struct red_encoder *e, size_t depth, uint8_t pt, uint16_t seq, uint32_t ts,
                      const uint8_t *payload, size_t len, uint8_t *out, size_t cap)
{
    struct red_block blocks[RED_ENC_MAX_DEPTH + 1];
    size_t n = red_enc_redundancy(e, seq, ts, depth, pt, blocks);
    blocks[n++] = (struct red_block){pt, 0, payload, len};
    size_t written = red_write(out, cap, blocks, n);
    red_enc_push(e, seq, ts, payload, len);
    return written;
}

size_t red_enc_depth(uint8_t fraction_lost)
{
    return fraction_lost >= DEPTH2_FRACTION_LOST ? 2 : 1;
}
