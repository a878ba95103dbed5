/* Receive statistics of one incoming RTP stream, as RFC 3550 §6.4.1 and Appendix A.1, A.3
 * and A.8 define them: extended highest sequence number, cumulative and interval loss,
 * interarrival jitter. Produces the report block we send back in RTCP RR.
 * Time is passed in; nothing here reads a clock. */
#ifndef CR_MEDIA_RECV_STATS_H
#define CR_MEDIA_RECV_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/seq.h"
#include "wire/rtcp.h"

struct recv_stats {
    uint32_t ssrc;
    uint32_t clock_rate;
    struct seq16_unwrap unwrap;
    int64_t base_seq;  /* first extended seq, -1 before any packet */
    int64_t max_seq;   /* highest extended seq */
    uint64_t received; /* packets, duplicates and retransmissions included */
    uint64_t bytes;
    int64_t expected_prior; /* at the last report */
    uint64_t received_prior;
    double jitter;        /* RFC 3550 §A.8, in timestamp units */
    int64_t last_transit; /* arrival (ts units) − rtp ts of the previous packet */
    bool have_transit;
    uint64_t last_sr_ntp; /* middle 32 bits are LSR; 0 before the first SR */
    int64_t last_sr_ms;   /* arrival of the last SR */
};

void recv_stats_init(struct recv_stats *s, uint32_t ssrc, uint32_t clock_rate);
void recv_stats_on_rtp(struct recv_stats *s, uint16_t seq, uint32_t rtp_ts, uint32_t bytes,
                       int64_t now_ms);
void recv_stats_on_sr(struct recv_stats *s, uint64_t ntp, int64_t now_ms);
/* Fills an RR report block and starts a new reporting interval. */
void recv_stats_report(struct recv_stats *s, int64_t now_ms, struct rtcp_report_block *out);
/* Packets lost so far (expected − received, never negative). */
int64_t recv_stats_lost(const struct recv_stats *s);

#endif
