/* RTCP (RFC 3550 §6, RFC 4585, RFC 5104, draft-alvestrand-rmcat-remb,
 * draft-holmer-rmcat-transport-wide-cc-extensions-01). Parsers walk a compound packet
 * in place; writers fill a caller's buffer and return the bytes written (0 if it does
 * not fit). */
#ifndef CR_WIRE_RTCP_H
#define CR_WIRE_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    RTCP_SR = 200,
    RTCP_RR = 201,
    RTCP_SDES = 202,
    RTCP_BYE = 203,
    RTCP_APP = 204,
    RTCP_RTPFB = 205,
    RTCP_PSFB = 206,
    RTCP_XR = 207,
};
enum { RTCP_FMT_NACK = 1, RTCP_FMT_TWCC = 15 };                 /* RTPFB */
enum { RTCP_FMT_PLI = 1, RTCP_FMT_FIR = 4, RTCP_FMT_AFB = 15 }; /* PSFB; AFB = REMB */

/* One packet of a compound RTCP packet. */
struct rtcp_view {
    uint8_t type;        /* packet type (200..) */
    uint8_t count;       /* RC / SC / FMT field */
    const uint8_t *body; /* after the 4-byte common header */
    size_t body_len;
    const uint8_t *raw; /* the whole packet, header included */
    size_t raw_len;
};

/* Iterates a compound packet: start with *pos = 0; returns 1 with one packet, 0 at the
 * end, negative when the compound is malformed (stop there). */
int rtcp_next(const uint8_t *buf, size_t len, size_t *pos, struct rtcp_view *out);

/* RFC 3550 §6.4.1 report block. */
struct rtcp_report_block {
    uint32_t ssrc;
    uint8_t fraction_lost;
    int32_t cumulative_lost; /* 24-bit signed */
    uint32_t ext_highest_seq, jitter, lsr, dlsr;
};

struct rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp;
    uint32_t rtp_ts, packet_count, octet_count;
    uint8_t n_reports;
    const uint8_t *reports; /* n_reports × 24 bytes; read with rtcp_report_block_at */
};
struct rtcp_rr {
    uint32_t ssrc;
    uint8_t n_reports;
    const uint8_t *reports;
};
int rtcp_parse_sr(const struct rtcp_view *v, struct rtcp_sr *out);
int rtcp_parse_rr(const struct rtcp_view *v, struct rtcp_rr *out);
void rtcp_report_block_at(const uint8_t *reports, int i, struct rtcp_report_block *out);

/* Feedback (RFC 4585 §6.1): sender SSRC and media SSRC, then FCI. */
struct rtcp_fb {
    uint32_t sender_ssrc, media_ssrc;
    const uint8_t *fci;
    size_t fci_len;
};
int rtcp_parse_fb(const struct rtcp_view *v, struct rtcp_fb *out);

/* RFC 4585 §6.2.1 generic NACK: iterates FCI entries into lost sequence numbers.
 * Fills up to max seqs, returns how many (a malformed FCI yields what parsed). */
size_t rtcp_nack_seqs(const struct rtcp_fb *fb, uint16_t *seqs, size_t max);

/* RFC 5104 §4.3.1 FIR entries: ssrc + command sequence number. Returns entries found. */
size_t rtcp_fir_entries(const struct rtcp_fb *fb, uint32_t *ssrcs, uint8_t *seqnrs, size_t max);

/* REMB (draft-alvestrand-rmcat-remb-03): returns 0 and the bitrate in bits/s and the
 * SSRCs it applies to, or -1 if this AFB is not a REMB. */
int rtcp_parse_remb(const struct rtcp_fb *fb, uint64_t *bitrate_bps, uint32_t *ssrcs,
                    size_t max_ssrcs, size_t *n_ssrcs);

/* Transport-wide CC feedback (draft-holmer-...-01 §3.1). Parsed into arrival records:
 * for each reported sequence number whether it was received and its arrival time in
 * microseconds relative to the reference time (reference_time_ms = 64 ms units × 64). */
struct twcc_packet_status {
    uint16_t seq;
    bool received;
    int64_t arrival_us; /* valid when received: reference_us + accumulated deltas */
};
struct twcc_feedback {
    uint32_t sender_ssrc, media_ssrc;
    uint16_t base_seq, status_count;
    int64_t reference_us; /* 24-bit reference time × 64 ms, in microseconds */
    uint8_t fb_count;
};
/* Fills header into *out and up to max statuses; returns number of statuses or negative. */
int rtcp_parse_twcc(const struct rtcp_fb *fb, struct twcc_feedback *out,
                    struct twcc_packet_status *statuses, size_t max);

/* RFC 3611 §4.4: the receiver reference time (RRTR) block of an XR packet: the sender's
 * SSRC and its NTP time. Returns 0, or -1 when v is not XR or carries no such block. */
int rtcp_parse_xr_rrtr(const struct rtcp_view *v, uint32_t *ssrc, uint64_t *ntp);

/* Writers. Each returns bytes written or 0 if cap is too small. */
size_t rtcp_write_sr(uint8_t *out, size_t cap, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts,
                     uint32_t packets, uint32_t octets, const struct rtcp_report_block *blocks,
                     int n_blocks);
size_t rtcp_write_rr(uint8_t *out, size_t cap, uint32_t ssrc,
                     const struct rtcp_report_block *blocks, int n_blocks);
/* SDES with one CNAME chunk (RFC 3550 §6.5). */
size_t rtcp_write_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname);
size_t rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
size_t rtcp_write_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                      uint8_t seqnr);
/* Packs seqs (any order, duplicates allowed) into PID+BLP entries. */
size_t rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       const uint16_t *seqs, size_t n);
/* RFC 3611 §4.5: an XR packet with one DLRR sub-block answering rr_ssrc's RRTR: lrr the
 * middle 32 bits of its NTP time, dlrr the delay since it arrived (1/65536 s). */
size_t rtcp_write_xr_dlrr(uint8_t *out, size_t cap, uint32_t ssrc, uint32_t rr_ssrc, uint32_t lrr,
                          uint32_t dlrr);
size_t rtcp_write_remb(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps,
                       const uint32_t *ssrcs, size_t n_ssrcs);
/* Transport-wide feedback for `count` consecutive sequence numbers starting at base_seq.
 * arrival_us[i] < 0 means not received. Uses run-length and status-vector chunks and
 * small/large deltas (250 µs units) as the draft describes; returns 0 if it does not fit.
 * It also returns 0 when two consecutive received packets are more than ±8.19 s apart
 * (a delta the 16-bit field cannot carry): split the feedback there, as libwebrtc does. */
size_t rtcp_write_twcc(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       uint16_t base_seq, const int64_t *arrival_us, uint16_t count,
                       uint8_t fb_count);

#endif
