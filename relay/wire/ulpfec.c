/* ULPFEC payloads (RFC 5109 §7): see ulpfec.h. */
#include "wire/ulpfec.h"

#include <string.h>

#include "base/bytes.h"

void ulpfec_begin(struct ulpfec_acc *a)
{
    a->n = 0;
    a->mask = 0;
    a->bits0 = a->bits1 = 0;
    a->ts = 0;
    a->len = 0;
    a->protect = 0;
}

static void xor_into(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (size_t k = 0; k < n; k++)
        dst[k] ^= src[k];
}

bool ulpfec_add(struct ulpfec_acc *a, const uint8_t hdr[12], const uint8_t *rest, size_t rest_len,
                const uint8_t *more, size_t more_len)
{
    uint16_t seq = rd_be16(hdr + 2);
    if (a->n == 0)
        a->base = seq;
    uint16_t i = (uint16_t)(seq - a->base);
    size_t len = rest_len + more_len;
    if (i >= ULPFEC_MAX_PACKETS || (a->mask >> i & 1) || len > ULPFEC_MAX_PROTECT)
        return false;
    a->mask |= (uint64_t)1 << i;
    a->n++;
    a->bits0 ^= hdr[0] & 0x3f; /* P, X, CC (§7.3: the version is not recovered) */
    a->bits1 ^= hdr[1];        /* M, PT */
    a->ts ^= rd_be32(hdr + 4);
    a->len ^= (uint16_t)len;
    if (len > a->protect) { /* zero-padded to the longest */
        memset(a->xor +a->protect, 0, len - a->protect);
        a->protect = len;
    }
    xor_into(a->xor, rest, rest_len);
    xor_into(a->xor +rest_len, more, more_len);
    return true;
}

static bool long_mask(const struct ulpfec_acc *a) { return (a->mask >> 16) != 0; }

size_t ulpfec_size(const struct ulpfec_acc *a)
{
    if (a->n == 0)
        return 0;
    return ULPFEC_HEADER_LEN + ULPFEC_LEVEL_LEN(long_mask(a)) + a->protect;
}

size_t ulpfec_finish(const struct ulpfec_acc *a, uint8_t *out, size_t cap)
{
    size_t size = ulpfec_size(a);
    if (size == 0 || size > cap)
        return 0;
    bool l = long_mask(a);
    out[0] = (uint8_t)((l ? 0x40 : 0) | a->bits0); /* E = 0 */
    out[1] = a->bits1;
    wr_be16(out + 2, a->base);
    wr_be32(out + 4, a->ts);
    wr_be16(out + 8, a->len);
    uint8_t *lv = out + ULPFEC_HEADER_LEN;
    wr_be16(lv, (uint16_t)a->protect);
    /* the mask: bit 0 (SN base) is the top bit of the first mask byte */
    int mask_bits = l ? 48 : 16;
    for (int b = 0; b < mask_bits / 8; b++) {
        uint8_t v = 0;
        for (int k = 0; k < 8; k++)
            if (a->mask >> (b * 8 + k) & 1)
                v |= (uint8_t)(0x80 >> k);
        lv[2 + b] = v;
    }
    memcpy(lv + ULPFEC_LEVEL_LEN(l), a->xor, a->protect);
    return size;
}
