/* First-byte demultiplexing of one UDP/TCP flow carrying STUN, DTLS, RTP and RTCP
 * (RFC 7983 §7, RFC 5761 §4 for RTP vs RTCP on one port). */
#ifndef CR_WIRE_DEMUX_H
#define CR_WIRE_DEMUX_H

#include <stddef.h>
#include <stdint.h>

enum demux_kind {
    DEMUX_UNKNOWN = 0,
    DEMUX_STUN,
    DEMUX_DTLS,
    DEMUX_RTP,
    DEMUX_RTCP,
    DEMUX_ZRTP,
    DEMUX_TURN
};

/* Classifies a packet by its first bytes; DEMUX_UNKNOWN for anything else or too short. */
enum demux_kind demux_classify(const uint8_t *buf, size_t len);

#endif
