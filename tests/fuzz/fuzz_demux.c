/* Fuzz entry point for relay/wire/demux.c: classifies the input, then hands it to the
 * parser of its kind the way the transport does (RTP to rtp_parse, RTCP through the
 * compound walk), so a classification never leads a parser out of bounds. */
#include <stdlib.h>
#include <string.h>

#include "wire/demux.h"
#include "wire/rtcp.h"
#include "wire/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = calloc(size ? size : 1, 1); /* exact size: overreads are caught */
    if (size)
        memcpy(buf, data, size);
    enum demux_kind k = demux_classify(buf, size);
    if (k != DEMUX_UNKNOWN && size == 0)
        abort();
    if (k == DEMUX_RTP) {
        struct rtp_view v;
        rtp_parse(buf, size, &v);
    } else if (k == DEMUX_RTCP) {
        size_t pos = 0;
        struct rtcp_view v;
        struct rtcp_fb fb;
        while (rtcp_next(buf, size, &pos, &v) == 1) {
            if (v.raw < buf || v.raw + v.raw_len > buf + size || v.body_len > v.raw_len)
                abort();
            rtcp_parse_fb(&v, &fb);
        }
    }
    free(buf);
    return 0;
}
