/* RTP payload for redundant audio data, RED (RFC 2198 §3), as WebRTC uses it for Opus:
 * one RTP packet carries the current (primary) payload and copies of one or more earlier
 * payloads, so a receiver that lost a packet finds its audio in the next one.
 *
 * Each redundant block has a 4-byte header: F=1, block payload type (7 bits), timestamp
 * offset below the packet's timestamp (14 bits), block length (10 bits). The primary
 * block's header is 1 byte, F=0 and its payload type; its length is the rest of the
 * packet. Data blocks follow the headers in the same order, the primary last.
 *
 * Parsing borrows the buffer and allocates nothing; writing goes into the caller's
 * buffer. Which payloads to repeat is left to the caller (media/red_encoder.h). */
#ifndef CR_WIRE_RED_H
#define CR_WIRE_RED_H

#include <stddef.h>
#include <stdint.h>

#define RED_MAX_BLOCKS 8         /* blocks of one packet we take, the primary included */
#define RED_MAX_TS_OFFSET 0x3fff /* 14-bit timestamp offset: 341 ms at 48 kHz */
#define RED_MAX_BLOCK_LEN 0x3ff  /* 10-bit block length */
#define RED_HEADER_LEN 4         /* of a redundant block; the primary's is 1 */

enum red_err { RED_OK = 0, RED_ERR_SHORT = -1, RED_ERR_LIMIT = -2 };

struct red_block {
    uint8_t pt;         /* the block's payload type */
    uint16_t ts_offset; /* below the packet's timestamp; 0 for the primary */
    const uint8_t *data;
    size_t len;
};

struct red_view {
    struct red_block blocks[RED_MAX_BLOCKS]; /* oldest first; the primary is the last */
    size_t n;                                /* ≥ 1 after a successful parse */
};

/* Splits a RED payload into its blocks. RED_ERR_SHORT: headers or block lengths run past
 * the end (a packet whose primary block is empty is taken); RED_ERR_LIMIT: more than
 * RED_MAX_BLOCKS blocks. */
int red_parse(const uint8_t *buf, size_t len, struct red_view *out);

/* Writes a RED payload of blocks[0..n-1], the last being the primary. Redundant blocks
 * that RED cannot describe (ts_offset 0 or above RED_MAX_TS_OFFSET, len 0 or above
 * RED_MAX_BLOCK_LEN) are skipped, and the oldest are dropped while the whole does not
 * fit in cap. Returns the bytes written, or 0 when not even the primary fits (or n is
 * 0). */
size_t red_write(uint8_t *out, size_t cap, const struct red_block *blocks, size_t n);

#endif
