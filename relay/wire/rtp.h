/* RTP packets (RFC 3550 §5.1) and header extensions (RFC 8285: one-byte and two-byte).
 * Parsing is in place: the view borrows the buffer. */
#ifndef CR_WIRE_RTP_H
#define CR_WIRE_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_MAX_CSRC 15

struct rtp_view {
    uint8_t version, padding, extension, csrc_count, marker, payload_type;
    uint16_t seq;
    uint32_t timestamp, ssrc;
    uint16_t ext_profile; /* 0xBEDE one-byte, 0x100x two-byte, other: opaque */
    const uint8_t *ext;   /* extension data (after the 4-byte ext header), or NULL */
    size_t ext_len;
    const uint8_t *payload; /* after header, CSRCs and extension, before padding */
    size_t payload_len;
    size_t header_len; /* bytes before payload */
    uint8_t padding_len;
};

/* 0 or negative: too short, version != 2, bad lengths, padding larger than the payload. */
int rtp_parse(const uint8_t *buf, size_t len, struct rtp_view *out);

/* Finds header extension element `id` (1..14 one-byte, 1..255 two-byte).
 * Returns 0 and sets *data and *len, or -1 if absent or malformed. */
int rtp_ext_find(const struct rtp_view *v, uint8_t id, const uint8_t **data, size_t *len);

/* Iterates extension elements: call with *pos = 0; returns 1 with id/data/len per element,
 * 0 at the end, -1 on a malformed block. */
int rtp_ext_next(const struct rtp_view *v, size_t *pos, uint8_t *id, const uint8_t **data,
                 size_t *len);

/* Writes a fixed 12-byte RTP header (no CSRC) into out; returns 12. */
size_t rtp_write_header(uint8_t *out, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
                        uint32_t ssrc, bool has_ext);

/* One-byte header extension writer (RFC 8285 §4.2). Begin at `out` (right after the fixed
 * header), add elements, then end: end pads to 4 bytes and returns the block length
 * (including the 4-byte 0xBEDE header), or 0 if no element was added (then write no block
 * and clear the X bit). */
struct rtp_ext_writer {
    uint8_t *start; /* the 0xBEDE header */
    size_t len;     /* bytes of elements written after the header */
    size_t cap;     /* room for elements */
};
void rtp_ext_begin(struct rtp_ext_writer *w, uint8_t *out, size_t cap);
int rtp_ext_add(struct rtp_ext_writer *w, uint8_t id, const uint8_t *data, size_t len);
size_t rtp_ext_end(struct rtp_ext_writer *w);

/* abs-send-time (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time): the send
 * time in 6.18 fixed-point seconds, 24 bits, from a clock in µs. */
static inline uint32_t rtp_abs_send_time(int64_t us)
{
    return (uint32_t)(((uint64_t)us << 18) / 1000000) & 0xffffff;
}

/* RFC 4588 §4: an RTX payload starts with the original sequence number (OSN). */
int rtp_rtx_osn(const struct rtp_view *v, uint16_t *osn);
/* RFC 4588 §4: turns the RTX packet in buf (*len bytes, parsed as v) back into the original
 * in place: the OSN becomes its sequence number, pt and ssrc those of the media stream (the
 * marker bit and the extensions stay as they came), the payload moves over the OSN.
 * Returns 0 (buf is then *len bytes, to parse again), or -1 when v carries no OSN. */
int rtp_rtx_unwrap(uint8_t *buf, size_t *len, const struct rtp_view *v, uint8_t pt, uint32_t ssrc);

/* Well-known extension URIs (negotiated ids are per peer). */
#define RTP_EXT_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define RTP_EXT_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define RTP_EXT_RRID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#define RTP_EXT_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define RTP_EXT_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define RTP_EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define RTP_EXT_PLAYOUT_DELAY "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

#endif
