/* RED encoder state for one outgoing audio stream (RFC 2198): a ring of the last Opus
 * payloads sent, so each new packet can carry copies of the one or two before it.
 * Positions are the subscriber's own sequence numbers and timestamps, so a payload is
 * repeated only in the packet 1 or 2 sequence numbers after it, with a timestamp offset
 * RED can carry (≤ 16383, about 341 ms at 48 kHz: a DTX pause ends redundancy).
 *
 * How much redundancy: one earlier payload always, two once the subscriber reports 2 %
 * loss or more (red_enc_depth). Always one, not only after loss is seen, because a
 * receiver report arrives seconds after the first losses of a weak link, and because the
 * cost is small: a copy of a 20 ms Opus frame (≈ 80–160 bytes) in a packet that is sent
 * anyway — no extra packet, header or SRTP tag — about 32–64 kbit/s with the default
 * Opus rate, 5–10 % of a 600 kbit/s classroom link whose video adapts around it through
 * the bandwidth estimate. Audio is protected before video. Two copies cover a burst of
 * two lost packets, the usual shape of loss on a congested school link.
 *
 * No allocation and no clock: the caller owns the struct and passes positions in. */
#ifndef CR_MEDIA_RED_ENCODER_H
#define CR_MEDIA_RED_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/red.h"

#define RED_ENC_MAX_DEPTH 2

struct red_enc_entry {
    bool used;
    uint16_t seq; /* out sequence number and timestamp it was sent with */
    uint32_t ts;
    uint16_t len;
    uint8_t data[RED_MAX_BLOCK_LEN];
};

struct red_encoder {
    struct red_enc_entry ring[RED_ENC_MAX_DEPTH]; /* state */
    size_t next;                                  /* the slot the next push overwrites */
};

/* Forgets every payload: after a gap in numbering or a switch of source. */
void red_enc_reset(struct red_encoder *e);
/* Remembers a payload sent at (seq, ts). Payloads above RED_MAX_BLOCK_LEN bytes, and ones
 * older than the newest remembered (reordered), are not kept. */
void red_enc_push(struct red_encoder *e, uint16_t seq, uint32_t ts, const uint8_t *data,
                  size_t len);
/* Fills out[] (room for RED_ENC_MAX_DEPTH) with the remembered payloads that packet
 * (seq, ts) can carry, oldest first, each at most `depth` sequence numbers back and with
 * a timestamp offset in 1..RED_MAX_TS_OFFSET; the blocks borrow the ring and get payload
 * type pt. Returns how many. */
size_t red_enc_redundancy(const struct red_encoder *e, uint16_t seq, uint32_t ts, size_t depth,
                          uint8_t pt, struct red_block *out);
/* Writes the RED payload for a primary payload sent at (seq, ts) with payload type pt
 * (redundancy per red_enc_redundancy, primary last), then remembers the primary.
 * Returns the bytes written to out, 0 if the primary does not fit in cap. */
size_t red_enc_encode(struct red_encoder *e, size_t depth, uint8_t pt, uint16_t seq, uint32_t ts,
                      const uint8_t *payload, size_t len, uint8_t *out, size_t cap);
/* Redundant payloads per packet for a subscriber whose last receiver report gave
 * fraction_lost (RFC 3550 §6.4.1, in 1/256): 1, or 2 from 2 % up. */
size_t red_enc_depth(uint8_t fraction_lost);

#endif
