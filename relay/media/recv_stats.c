/* Receive statistics: see recv_stats.h. RFC 3550 §A.3 (loss), §A.8 (jitter), §6.4.1 (the
 * report block fields and LSR/DLSR). */
#include "media/recv_stats.h"

#include <string.h>

void recv_stats_init(struct recv_stats *s, uint32_t ssrc, uint32_t clock_rate)
{
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
    s->clock_rate = clock_rate ? clock_rate : 90000;
    seq16_unwrap_init(&s->unwrap);
    s->base_seq = -1;
}

void recv_stats_on_rtp(struct recv_stats *s, uint16_t seq, uint32_t rtp_ts, uint32_t bytes,
                       int64_t now_ms)
{
    int64_t ext = seq16_unwrap(&s->unwrap, seq);
    if (s->base_seq < 0) {
        s->base_seq = ext;
        s->max_seq = ext;
        s->expected_prior = 0;
    } else if (ext > s->max_seq) {
        s->max_seq = ext;
    } else if (ext < s->base_seq) {
        s->base_seq = ext; /* reordered before the first packet we saw */
    }
    s->received++;
    s->bytes += bytes;
    /* RFC 3550 §A.8: J += (|D| − J) / 16, D from transit-time differences */
    int64_t arrival = now_ms * (int64_t)s->clock_rate / 1000;
    int64_t transit = arrival - (int64_t)rtp_ts;
    if (s->have_transit) {
        int64_t d = (int32_t)(uint32_t)(transit - s->last_transit); /* wrap-safe */
        if (d < 0)
            d = -d;
        s->jitter += ((double)d - s->jitter) / 16.0;
    }
    s->last_transit = transit;
    s->have_transit = true;
}

void recv_stats_on_sr(struct recv_stats *s, uint64_t ntp, int64_t now_ms)
{
    s->last_sr_ntp = ntp;
    s->last_sr_ms = now_ms;
}

int64_t recv_stats_lost(const struct recv_stats *s)
{
    if (s->base_seq < 0)
        return 0;
    int64_t expected = s->max_seq - s->base_seq + 1;
    int64_t lost = expected - (int64_t)s->received;
    return lost > 0 ? lost : 0;
}

void recv_stats_report(struct recv_stats *s, int64_t now_ms, struct rtcp_report_block *out)
{
    memset(out, 0, sizeof *out);
    out->ssrc = s->ssrc;
    if (s->base_seq < 0)
        return;
    int64_t expected = s->max_seq - s->base_seq + 1;
    int64_t lost = expected - (int64_t)s->received;
    /* RFC 3550 §A.3: fraction over the interval, cumulative clamped to 24 bits signed */
    int64_t exp_int = expected - s->expected_prior;
    int64_t rcv_int = (int64_t)(s->received - s->received_prior);
    int64_t lost_int = exp_int - rcv_int;
    s->expected_prior = expected;
    s->received_prior = s->received;
    out->fraction_lost = (exp_int <= 0 || lost_int <= 0) ? 0 : (uint8_t)((lost_int << 8) / exp_int);
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    out->cumulative_lost = (int32_t)lost;
    out->ext_highest_seq = (uint32_t)(s->max_seq - 65536); /* unwrap starts at +65536 */
    out->jitter = (uint32_t)s->jitter;
    if (s->last_sr_ntp) {
        out->lsr = (uint32_t)(s->last_sr_ntp >> 16);
        out->dlsr = (uint32_t)((now_ms - s->last_sr_ms) * 65536 / 1000); /* 1/65536 s */
    }
}
