/* The receiving side of ULPFEC (RFC 5109 §8.2), written from the RFC for the tests of the
 * relay's FEC (tests/unit/wire/test_ulpfec.c, tests/unit/route/test_consumer.c): what
 * Chromium's decoder does with a FEC payload and the packets it has. */
#ifndef CR_TEST_ULPFEC_RECOVER_H
#define CR_TEST_ULPFEC_RECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/bytes.h"
#include "wire/ulpfec.h"

#define MAXPKT 1500

struct pkt {
    uint8_t b[MAXPKT];
    size_t len;
};

/* RFC 5109 §8.2: rebuilds the one packet of fec's mask missing from have[] (have[i]: the
 * packet SN base + i, NULL where lost), on stream ssrc, into out; returns its length or 0. */
static inline size_t ulpfec_recover(const uint8_t *fec, size_t fec_len, uint32_t ssrc,
                                    struct pkt **have, size_t n, uint8_t *out)
{
    bool l = fec[0] & 0x40;
    size_t lvl = ULPFEC_HEADER_LEN, data = lvl + ULPFEC_LEVEL_LEN(l);
    uint16_t base = rd_be16(fec + 2), protect = rd_be16(fec + lvl);
    uint8_t b0 = fec[0] & 0x3f, b1 = fec[1];
    uint32_t ts = rd_be32(fec + 4);
    uint16_t len = rd_be16(fec + 8);
    uint8_t x[MAXPKT] = {0};
    memcpy(x, fec + data, protect);
    int missing = -1;
    for (size_t i = 0; i < (l ? 48u : 16u); i++) {
        if (!(fec[lvl + 2 + i / 8] & (0x80 >> (i % 8))))
            continue;
        if (i >= n || !have[i]) {
            if (missing >= 0)
                return 0; /* two lost: not this FEC's to rebuild */
            missing = (int)i;
            continue;
        }
        const struct pkt *p = have[i];
        b0 ^= p->b[0] & 0x3f;
        b1 ^= p->b[1];
        ts ^= rd_be32(p->b + 4);
        len ^= (uint16_t)(p->len - 12);
        for (size_t k = 0; k < p->len - 12; k++)
            x[k] ^= p->b[12 + k];
    }
    if (missing < 0 || fec_len != data + protect)
        return 0;
    out[0] = (uint8_t)(0x80 | b0);
    out[1] = b1;
    wr_be16(out + 2, (uint16_t)(base + missing));
    wr_be32(out + 4, ts);
    wr_be32(out + 8, ssrc); /* the FEC packet's SSRC: the stream's */
    memcpy(out + 12, x, len);
    return 12 + (size_t)len;
}

#endif
