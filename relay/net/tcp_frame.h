/* RFC 4571 framing, as ICE-TCP carries STUN, DTLS and SRTP (RFC 6544 §3): each packet is
 * preceded by its length in two bytes, big-endian. A reassembler takes the bytes of a
 * stream as they come, in pieces of any size, and hands out whole packets; a packet longer
 * than it accepts (ours are far below a datagram's size) makes the stream unusable, which
 * the caller answers by closing it. No allocation beyond the reassembler itself. */
#ifndef CR_NET_TCP_FRAME_H
#define CR_NET_TCP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define CR_TCP_FRAME_MAX 2048 /* the longest packet taken: DTLS and RTP stay under 1500 */

struct cr_tcp_frames {
    uint8_t buf[2 + CR_TCP_FRAME_MAX]; /* state: the packet being assembled, with its length */
    size_t have;                       /* state: bytes of it so far */
};

/* Called with each whole packet; buf is writable and valid during the call. Returning
 * nonzero stops the feeding (the caller closed the stream). */
typedef int (*cr_tcp_frame_fn)(void *user, uint8_t *buf, size_t len);

/* Feeds n bytes. Returns 0, 1 when fn stopped it, or -1 when a packet is longer than
 * CR_TCP_FRAME_MAX (the stream is out of step: close it). Empty packets are skipped. */
int cr_tcp_frames_feed(struct cr_tcp_frames *f, const uint8_t *in, size_t n, cr_tcp_frame_fn fn,
                       void *user);
/* Writes the 2-byte header of a packet of len bytes (≤ 65535) into out. */
void cr_tcp_frame_header(uint8_t out[2], size_t len);

#endif
