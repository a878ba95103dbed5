/* RFC 4571 framing: see tcp_frame.h. The reassembler copies each packet whole into its
 * buffer (header included) before handing it out, so a packet split across reads is
 * handed out exactly like one that came in one piece. */
#include "net/tcp_frame.h"

#include <string.h>

int cr_tcp_frames_feed(struct cr_tcp_frames *f, const uint8_t *in, size_t n, cr_tcp_frame_fn fn,
                       void *user)
{
    while (n > 0) {
        if (f->have < 2) { /* the length */
            f->buf[f->have++] = *in++;
            n--;
            continue;
        }
        size_t want = (size_t)f->buf[0] << 8 | f->buf[1];
        if (want > CR_TCP_FRAME_MAX)
            return -1;
        size_t take = want + 2 - f->have;
        if (take > n)
            take = n;
        memcpy(f->buf + f->have, in, take);
        f->have += take;
        in += take;
        n -= take;
        if (f->have < want + 2)
            break;
        f->have = 0;
        if (want && fn(user, f->buf + 2, want))
            return 1;
    }
    if (f->have >= 2 && ((size_t)f->buf[0] << 8 | f->buf[1]) > CR_TCP_FRAME_MAX)
        return -1;
    if (f->have == 2 && f->buf[0] == 0 && f->buf[1] == 0)
        f->have = 0; /* an empty packet: nothing to hand out */
    return 0;
}

void cr_tcp_frame_header(uint8_t out[2], size_t len)
{
    out[0] = (uint8_t)(len >> 8);
    out[1] = (uint8_t)len;
}
