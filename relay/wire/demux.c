/* First-byte demultiplexing of one ICE flow (RFC 7983 §7): STUN, ZRTP, DTLS, TURN
 * channel data and RTP/RTCP share a 5-tuple and are told apart by the value of their
 * first byte; RTP and RTCP on one port are then told apart by the second byte
 * (RFC 5761 §4). Only the classification lives here: each kind's parser checks the rest.
 * A packet shorter than the smallest header of its kind is DEMUX_UNKNOWN, so a caller
 * can drop it without handing a stub to a parser. */
#include "wire/demux.h"

/* Smallest well-formed packet of each kind. */
enum {
    MIN_STUN = 20, /* RFC 8489 §5: 20-byte header */
    MIN_ZRTP = 12, /* RFC 6189 §5: 12-byte header */
    MIN_DTLS = 13, /* RFC 6347 §4.1: 13-byte record header */
    MIN_TURN = 4,  /* RFC 8656 §12.4: channel number + length */
    MIN_RTP = 12,  /* RFC 3550 §5.1: fixed header */
    MIN_RTCP = 4,  /* RFC 3550 §6.4: common header */
};

enum demux_kind demux_classify(const uint8_t *buf, size_t len)
{
    if (!buf || len < 1)
        return DEMUX_UNKNOWN;
    uint8_t b = buf[0];
    /* RFC 7983 §7: the first-byte ranges */
    if (b <= 3)
        return len >= MIN_STUN ? DEMUX_STUN : DEMUX_UNKNOWN;
    if (b >= 16 && b <= 19)
        return len >= MIN_ZRTP ? DEMUX_ZRTP : DEMUX_UNKNOWN;
    if (b >= 20 && b <= 63)
        return len >= MIN_DTLS ? DEMUX_DTLS : DEMUX_UNKNOWN;
    if (b >= 64 && b <= 79)
        return len >= MIN_TURN ? DEMUX_TURN : DEMUX_UNKNOWN;
    if (b < 128 || b > 191 || len < 2)
        return DEMUX_UNKNOWN;
    /* RFC 5761 §4: RTCP packet types 192..223 fall where RTP would carry M=1 and
     * payload types 64..95, which RTP sessions on a shared port must not use. */
    if (buf[1] >= 192 && buf[1] <= 223)
        return len >= MIN_RTCP ? DEMUX_RTCP : DEMUX_UNKNOWN;
    return len >= MIN_RTP ? DEMUX_RTP : DEMUX_UNKNOWN;
}
