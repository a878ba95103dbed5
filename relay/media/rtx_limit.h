/* Retransmission limiter for one outgoing video stream: which NACKed packets to resend by
 * RTX (RFC 4588). On a link that is already full, answering every NACK makes it worse:
 * each retransmission is lost again, NACKed again and sent again, and the link carries
 * more repairs than media. So, as libwebrtc's sender does:
 *   - a packet is resent at most once per round trip (the receiver NACKs again each RTT);
 *   - retransmissions draw on a token bucket filled at a share of the bandwidth estimate
 *     (the caller passes the bit rate it allows, 0 for no limit), holding up to half a
 *     second of it, so a burst of NACKs after a loss burst is answered but a storm is not;
 *   - a second copy of a repair (on a path that loses repairs too) draws on the same bucket.
 * Time is passed in (ms). */
#ifndef CR_MEDIA_RTX_LIMIT_H
#define CR_MEDIA_RTX_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTX_LIMIT_SLOTS 256 /* packets remembered: as many as the consumer can answer */

struct rtx_limit {
    int64_t tokens_bits; /* state: the bucket */
    int64_t last_ms;     /* state: when it was last filled; INT64_MIN/2 before */
    uint16_t seq[RTX_LIMIT_SLOTS];
    int64_t at_ms[RTX_LIMIT_SLOTS]; /* when seq was last resent; INT64_MIN/2: never */
    uint64_t allowed, copies, refused_rate, refused_recent; /* counters */
};

void rtx_limit_init(struct rtx_limit *r);
/* Whether to resend out_seq (bytes on the wire) now. budget_bps: the rate retransmissions
 * may take (0: unlimited); rtt_ms: the round trip (0: unknown, 100 ms assumed). */
bool rtx_limit_allow(struct rtx_limit *r, uint16_t out_seq, size_t bytes, int64_t budget_bps,
                     int64_t rtt_ms, int64_t now_ms);
/* Whether one more copy of a repair just allowed may go (the bucket only). */
bool rtx_limit_copy(struct rtx_limit *r, size_t bytes, int64_t budget_bps, int64_t now_ms);

#endif
