/* The framing fuzz inputs that are a sequence of datagrams share:
 *     flags (1 byte) | length (2 bytes, big-endian) | body
 * a length past the end of the input takes what is left. */
#ifndef CR_FUZZ_FRAMED_H
#define CR_FUZZ_FRAMED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The next frame at *pos (moved past it); false when fewer than 3 bytes are left. */
static inline bool fuzz_next_framed(const uint8_t *data, size_t size, size_t *pos, uint8_t *flags,
                                    const uint8_t **body, size_t *len)
{
    if (size - *pos < 3)
        return false;
    *flags = data[*pos];
    *len = (size_t)data[*pos + 1] << 8 | data[*pos + 2];
    *pos += 3;
    if (*len > size - *pos)
        *len = size - *pos;
    *body = data + *pos;
    *pos += *len;
    return true;
}

#endif
