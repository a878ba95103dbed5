/* Bounds-checked big-endian byte access (STYLE.md habit 3). Callers check lengths once
 * with the parser's own length test; these helpers do the shifting so no packet is ever
 * overlaid with a struct. */
#ifndef CR_BASE_BYTES_H
#define CR_BASE_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t rd_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd_be24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t rd_be64(const uint8_t *p)
{
    return (uint64_t)rd_be32(p) << 32 | rd_be32(p + 4);
}
static inline void wr_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void wr_be24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}
static inline void wr_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void wr_be64(uint8_t *p, uint64_t v)
{
    wr_be32(p, (uint32_t)(v >> 32));
    wr_be32(p + 4, (uint32_t)v);
}

/* A cursor over a byte buffer. rd_* calls on it fail (return -1) past the end. */
struct cr_reader {
    const uint8_t *p;
    size_t left;
};
static inline int rdr_skip(struct cr_reader *r, size_t n)
{
    if (r->left < n)
        return -1;
    r->p += n;
    r->left -= n;
    return 0;
}
static inline int rdr_u8(struct cr_reader *r, uint8_t *v)
{
    if (r->left < 1)
        return -1;
    *v = r->p[0];
    return rdr_skip(r, 1);
}
static inline int rdr_u16(struct cr_reader *r, uint16_t *v)
{
    if (r->left < 2)
        return -1;
    *v = rd_be16(r->p);
    return rdr_skip(r, 2);
}
static inline int rdr_u32(struct cr_reader *r, uint32_t *v)
{
    if (r->left < 4)
        return -1;
    *v = rd_be32(r->p);
    return rdr_skip(r, 4);
}

#endif
