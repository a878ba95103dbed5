/* Generic forward error correction for RTP, ULPFEC (RFC 5109), level 0 only, as Chromium's
 * receiver takes it inside RED (RFC 2198, RFC 5109 §10.1): one FEC payload is the XOR of up
 * to 48 media packets of one stream, from which a receiver rebuilds any one of them that
 * was lost. The packets protected are the media packets as the receiver sees them once RED
 * is taken off: the RTP header with the media payload type, its extensions, the payload.
 *
 * The FEC payload (what goes after the RED header's block of payload type ulpfec):
 *   FEC header, 10 bytes (§7.3): E=0, L (48-bit mask), the XOR of P, X, CC, M and PT, the
 *     lowest sequence number protected (SN base), the XOR of the timestamps, the XOR of the
 *     lengths after the 12-byte fixed header;
 *   level 0 header, 4 or 8 bytes (§7.4): the protection length, the mask (bit i, from the
 *     top: SN base + i is protected), 16 bits or (L) 48;
 *   the XOR of everything after each packet's fixed header, zero-padded to the longest.
 *
 * A sender adds packets one by one as they leave (so the bytes protected are the bytes
 * sent) and finishes the payload when it sends the FEC packet. Writing goes into the
 * caller's buffer; nothing is allocated. */
#ifndef CR_WIRE_ULPFEC_H
#define CR_WIRE_ULPFEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ULPFEC_MAX_PACKETS 48   /* the long mask */
#define ULPFEC_MAX_PROTECT 1500 /* bytes after the fixed header of one protected packet */
#define ULPFEC_HEADER_LEN 10
#define ULPFEC_LEVEL_LEN(l) ((l) ? 8 : 4)

struct ulpfec_acc {
    uint16_t base;        /* SN base: the first packet's sequence number */
    size_t n;             /* packets added */
    uint64_t mask;        /* bit i: base + i was added */
    uint8_t bits0, bits1; /* XOR of byte 0 (P, X, CC) and byte 1 (M, PT) */
    uint32_t ts;          /* XOR of the timestamps */
    uint16_t len;         /* XOR of the lengths after the fixed header */
    size_t protect;       /* the longest of them */
    uint8_t xor [ULPFEC_MAX_PROTECT];
};

void ulpfec_begin(struct ulpfec_acc *a);
/* Adds one media packet: its 12-byte fixed header hdr (as the receiver will see it: the
 * media payload type, not RED's) and what follows the fixed header, in two pieces (a RED
 * sender's extensions and payload, with the RED header between them left out):
 * rest[0..len) then more[0..more_len). False (nothing added) if its sequence number is
 * not within the 48 after the first packet's, or it is longer than ULPFEC_MAX_PROTECT. */
bool ulpfec_add(struct ulpfec_acc *a, const uint8_t hdr[12], const uint8_t *rest, size_t len,
                const uint8_t *more, size_t more_len);
/* The FEC payload's length for what was added; 0 if nothing was. */
size_t ulpfec_size(const struct ulpfec_acc *a);
/* Writes the FEC payload into out (room for ulpfec_size); returns its length, 0 if it
 * does not fit or nothing was added. */
size_t ulpfec_finish(const struct ulpfec_acc *a, uint8_t *out, size_t cap);

#endif
