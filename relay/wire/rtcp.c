/* RTCP in place: walking a compound packet (RFC 3550 §6.1, §6.4), sender and receiver
 * reports with their report blocks (§6.4.1, §6.4.2), SDES CNAME (§6.5.1), the
 * feedback common format (RFC 4585 §6.1) with generic NACK (§6.2.1), PLI (§6.3.1),
 * FIR (RFC 5104 §4.3.1) and REMB (draft-alvestrand-rmcat-remb-03 §2.2), and writers for
 * each. Reduced-size RTCP (RFC 5506) is accepted: a compound need not open with SR/RR.
 * Transport-wide CC feedback lives in twcc.c. Interpreting reports (RTT, loss, bitrate)
 * is the media layer's work. */
#include "wire/rtcp.h"

#include <string.h>

#include "base/bytes.h"
#include "base/seq.h"

enum {
    HDR_LEN = 4,
    SR_INFO_LEN = 24, /* §6.4.1: SSRC + NTP + RTP ts + packet count + octet count */
    BLOCK_LEN = 24,
    FB_LEN = 8, /* RFC 4585 §6.1: sender SSRC + media SSRC */
    MAX_COUNT = 31,
};

/* RFC 3550 §6.4.1: V=2 | P | RC | PT | length in 32-bit words minus one */
static void wr_header(uint8_t *out, bool padding, uint8_t count, uint8_t type, size_t total)
{
    out[0] = (uint8_t)(2u << 6 | (padding ? 1u << 5 : 0) | (count & 0x1f));
    out[1] = type;
    wr_be16(out + 2, (uint16_t)(total / 4 - 1));
}

int rtcp_next(const uint8_t *buf, size_t len, size_t *pos, struct rtcp_view *out)
{
    if (*pos >= len)
        return *pos == len ? 0 : -1;
    const uint8_t *p = buf + *pos;
    size_t left = len - *pos;
    if (left < HDR_LEN)
        return -2;
    if (p[0] >> 6 != 2) /* §6.4.1: version 2 */
        return -3;
    size_t plen = 4u * ((size_t)rd_be16(p + 2) + 1);
    if (plen > left)
        return -4;
    size_t body_len = plen - HDR_LEN;
    if (p[0] & 0x20) {
        /* §6.4.1: the last octet counts padding octets, itself included. RFC 3550 puts
         * padding on the last packet only; libwebrtc pads any, so accept any. */
        uint8_t pad = p[plen - 1];
        if (pad == 0 || pad > body_len)
            return -5;
        body_len -= pad;
    }
    out->type = p[1];
    out->count = p[0] & 0x1f;
    out->body = p + HDR_LEN;
    out->body_len = body_len;
    out->raw = p;
    out->raw_len = plen;
    *pos += plen;
    return 1;
}

int rtcp_parse_sr(const struct rtcp_view *v, struct rtcp_sr *out)
{
    if (v->type != RTCP_SR || v->body_len < SR_INFO_LEN + (size_t)BLOCK_LEN * v->count)
        return -1;
    const uint8_t *b = v->body; /* §6.4.1 */
    out->ssrc = rd_be32(b);
    out->ntp = rd_be64(b + 4);
    out->rtp_ts = rd_be32(b + 12);
    out->packet_count = rd_be32(b + 16);
    out->octet_count = rd_be32(b + 20);
    out->n_reports = v->count;
    out->reports = b + SR_INFO_LEN;
    return 0;
}

int rtcp_parse_rr(const struct rtcp_view *v, struct rtcp_rr *out)
{
    if (v->type != RTCP_RR || v->body_len < 4 + (size_t)BLOCK_LEN * v->count)
        return -1;
    out->ssrc = rd_be32(v->body); /* §6.4.2 */
    out->n_reports = v->count;
    out->reports = v->body + 4;
    return 0;
}

void rtcp_report_block_at(const uint8_t *reports, int i, struct rtcp_report_block *out)
{
    const uint8_t *b = reports + (size_t)BLOCK_LEN * (size_t)i; /* §6.4.1 report block */
    out->ssrc = rd_be32(b);
    out->fraction_lost = b[4];
    uint32_t lost = rd_be24(b + 5);
    out->cumulative_lost = (int32_t)(lost ^ 0x800000) - 0x800000; /* 24-bit signed */
    out->ext_highest_seq = rd_be32(b + 8);
    out->jitter = rd_be32(b + 12);
    out->lsr = rd_be32(b + 16);
    out->dlsr = rd_be32(b + 20);
}

int rtcp_parse_fb(const struct rtcp_view *v, struct rtcp_fb *out)
{
    if ((v->type != RTCP_RTPFB && v->type != RTCP_PSFB) || v->body_len < FB_LEN)
        return -1;
    out->sender_ssrc = rd_be32(v->body); /* RFC 4585 §6.1 */
    out->media_ssrc = rd_be32(v->body + 4);
    out->fci = v->body + FB_LEN;
    out->fci_len = v->body_len - FB_LEN;
    return 0;
}

size_t rtcp_nack_seqs(const struct rtcp_fb *fb, uint16_t *seqs, size_t max)
{
    size_t n = 0;
    /* RFC 4585 §6.2.1: PID, then BLP bit i reports PID + i + 1 */
    for (size_t off = 0; off + 4 <= fb->fci_len; off += 4) {
        uint16_t pid = rd_be16(fb->fci + off);
        uint16_t blp = rd_be16(fb->fci + off + 2);
        if (n >= max)
            return n;
        seqs[n++] = pid;
        for (int i = 0; i < 16; i++) {
            if (!(blp & (1u << i)))
                continue;
            if (n >= max)
                return n;
            seqs[n++] = (uint16_t)(pid + i + 1);
        }
    }
    return n;
}

size_t rtcp_fir_entries(const struct rtcp_fb *fb, uint32_t *ssrcs, uint8_t *seqnrs, size_t max)
{
    size_t n = 0;
    /* RFC 5104 §4.3.1.1: SSRC, seq nr, 24 reserved bits */
    for (size_t off = 0; off + 8 <= fb->fci_len && n < max; off += 8, n++) {
        ssrcs[n] = rd_be32(fb->fci + off);
        seqnrs[n] = fb->fci[off + 4];
    }
    return n;
}

int rtcp_parse_remb(const struct rtcp_fb *fb, uint64_t *bitrate_bps, uint32_t *ssrcs,
                    size_t max_ssrcs, size_t *n_ssrcs)
{
    /* draft-alvestrand-rmcat-remb-03 §2.2: "REMB" | num SSRC | exp(6) mantissa(18) | SSRCs */
    const uint8_t *f = fb->fci;
    if (fb->fci_len < 8 || memcmp(f, "REMB", 4) != 0)
        return -1;
    size_t num = f[4];
    if (fb->fci_len < 8 + 4 * num)
        return -1;
    unsigned exp = f[5] >> 2;
    uint64_t mantissa = (uint64_t)(f[5] & 3) << 16 | rd_be16(f + 6);
    if (mantissa != 0 && exp > 0 && (mantissa << exp) >> exp != mantissa)
        return -1; /* does not fit 64 bits; libwebrtc refuses these too */
    *bitrate_bps = mantissa << exp;
    size_t n = 0;
    for (; n < num && n < max_ssrcs; n++)
        ssrcs[n] = rd_be32(f + 8 + 4 * n);
    *n_ssrcs = n;
    return 0;
}

static void wr_block(uint8_t *b, const struct rtcp_report_block *r)
{
    int32_t lost = r->cumulative_lost; /* §6.4.1: clamp to 24-bit signed */
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    wr_be32(b, r->ssrc);
    b[4] = r->fraction_lost;
    wr_be24(b + 5, (uint32_t)lost & 0xffffff);
    wr_be32(b + 8, r->ext_highest_seq);
    wr_be32(b + 12, r->jitter);
    wr_be32(b + 16, r->lsr);
    wr_be32(b + 20, r->dlsr);
}

size_t rtcp_write_sr(uint8_t *out, size_t cap, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts,
                     uint32_t packets, uint32_t octets, const struct rtcp_report_block *blocks,
                     int n_blocks)
{
    if (n_blocks < 0 || n_blocks > MAX_COUNT || (n_blocks > 0 && !blocks))
        return 0;
    size_t total = HDR_LEN + SR_INFO_LEN + (size_t)BLOCK_LEN * (size_t)n_blocks;
    if (total > cap)
        return 0;
    wr_header(out, false, (uint8_t)n_blocks, RTCP_SR, total); /* §6.4.1 */
    wr_be32(out + 4, ssrc);
    wr_be64(out + 8, ntp);
    wr_be32(out + 16, rtp_ts);
    wr_be32(out + 20, packets);
    wr_be32(out + 24, octets);
    for (int i = 0; i < n_blocks; i++)
        wr_block(out + HDR_LEN + SR_INFO_LEN + BLOCK_LEN * i, &blocks[i]);
    return total;
}

size_t rtcp_write_rr(uint8_t *out, size_t cap, uint32_t ssrc,
                     const struct rtcp_report_block *blocks, int n_blocks)
{
    if (n_blocks < 0 || n_blocks > MAX_COUNT || (n_blocks > 0 && !blocks))
        return 0;
    size_t total = HDR_LEN + 4 + (size_t)BLOCK_LEN * (size_t)n_blocks;
    if (total > cap)
        return 0;
    wr_header(out, false, (uint8_t)n_blocks, RTCP_RR, total); /* §6.4.2 */
    wr_be32(out + 4, ssrc);
    for (int i = 0; i < n_blocks; i++)
        wr_block(out + 8 + BLOCK_LEN * i, &blocks[i]);
    return total;
}

size_t rtcp_write_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname)
{
    if (!cname)
        return 0;
    size_t n = strlen(cname);
    if (n > 255) /* §6.5: 8-bit item length */
        return 0;
    /* §6.5: chunk = SSRC, items, then at least one null octet up to a 32-bit boundary */
    size_t chunk = (4 + 2 + n + 1 + 3) & ~(size_t)3;
    size_t total = HDR_LEN + chunk;
    if (total > cap)
        return 0;
    wr_header(out, false, 1, RTCP_SDES, total);
    wr_be32(out + 4, ssrc);
    out[8] = 1; /* §6.5.1: CNAME */
    out[9] = (uint8_t)n;
    memcpy(out + 10, cname, n);
    memset(out + 10 + n, 0, total - 10 - n);
    return total;
}

static size_t write_fb(uint8_t *out, size_t cap, uint8_t type, uint8_t fmt, uint32_t sender,
                       uint32_t media, size_t fci_len)
{
    size_t total = HDR_LEN + FB_LEN + fci_len;
    if (total > cap || total > 4u * 0x10000)
        return 0;
    wr_header(out, false, fmt, type, total); /* RFC 4585 §6.1 */
    wr_be32(out + 4, sender);
    wr_be32(out + 8, media);
    return total;
}

size_t rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    /* RFC 4585 §6.3.1: PLI has no FCI */
    return write_fb(out, cap, RTCP_PSFB, RTCP_FMT_PLI, sender_ssrc, media_ssrc, 0);
}

size_t rtcp_write_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                      uint8_t seqnr)
{
    /* RFC 5104 §4.3.1: the common header's media SSRC is 0; the FCI names the target */
    size_t n = write_fb(out, cap, RTCP_PSFB, RTCP_FMT_FIR, sender_ssrc, 0, 8);
    if (n) {
        wr_be32(out + 12, media_ssrc);
        out[16] = seqnr;
        wr_be24(out + 17, 0);
    }
    return n;
}

/* Finds the smallest key (wrap-aware distance from ref, seq.h) above `after`. */
static bool nack_next(const uint16_t *seqs, size_t n, uint16_t ref, int32_t after, int32_t *key)
{
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        int32_t k = seq16_diff(ref, seqs[i]);
        if (k > after && (!found || k < *key)) {
            *key = k;
            found = true;
        }
    }
    return found;
}

size_t rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       const uint16_t *seqs, size_t n)
{
    if (n == 0 || !seqs)
        return 0;
    /* Sequence numbers are ordered by their distance from the first one, so a list that
     * wraps through 65535 packs as one run. The list is the caller's and is not sorted in
     * place: each FCI entry takes one scan, O(n × entries), fine for the hundreds of
     * losses a NACK carries. */
    uint16_t ref = seqs[0];
    size_t off = HDR_LEN + FB_LEN;
    int32_t pid_k = INT32_MIN;
    while (nack_next(seqs, n, ref, pid_k, &pid_k)) {
        uint16_t blp = 0;
        for (size_t i = 0; i < n; i++) {
            int32_t d = seq16_diff(ref, seqs[i]) - pid_k;
            if (d >= 1 && d <= 16) /* RFC 4585 §6.2.1: bit i is PID + i + 1 */
                blp |= (uint16_t)(1u << (d - 1));
        }
        if (off + 4 > cap)
            return 0;
        wr_be16(out + off, (uint16_t)(ref + pid_k));
        wr_be16(out + off + 2, blp);
        off += 4;
        pid_k += 16; /* the next entry starts past this one's bitmask */
    }
    return write_fb(out, cap, RTCP_RTPFB, RTCP_FMT_NACK, sender_ssrc, media_ssrc,
                    off - HDR_LEN - FB_LEN);
}

size_t rtcp_write_remb(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps,
                       const uint32_t *ssrcs, size_t n_ssrcs)
{
    if (n_ssrcs > 255 || (n_ssrcs > 0 && !ssrcs))
        return 0;
    /* draft-alvestrand-rmcat-remb-03 §2.2: media SSRC 0, FCI "REMB", num SSRC,
     * BR Exp (6 bits), BR Mantissa (18 bits); the bitrate is rounded down */
    unsigned exp = 0;
    while ((bitrate_bps >> exp) >= (1u << 18))
        exp++;
    uint32_t mantissa = (uint32_t)(bitrate_bps >> exp);
    size_t n = write_fb(out, cap, RTCP_PSFB, RTCP_FMT_AFB, sender_ssrc, 0, 8 + 4 * n_ssrcs);
    if (!n)
        return 0;
    uint8_t *f = out + HDR_LEN + FB_LEN;
    memcpy(f, "REMB", 4);
    f[4] = (uint8_t)n_ssrcs;
    f[5] = (uint8_t)(exp << 2 | mantissa >> 16);
    wr_be16(f + 6, (uint16_t)mantissa);
    for (size_t i = 0; i < n_ssrcs; i++)
        wr_be32(f + 8 + 4 * i, ssrcs[i]);
    return n;
}

/* RFC 3611 §3: after the sender's SSRC, report blocks of BT, a type-specific byte and a
 * length in 32-bit words after the block's own header word. */
int rtcp_parse_xr_rrtr(const struct rtcp_view *v, uint32_t *ssrc, uint64_t *ntp)
{
    if (v->type != RTCP_XR || v->body_len < 4)
        return -1;
    size_t pos = 4;
    while (pos + 4 <= v->body_len) {
        const uint8_t *b = v->body + pos;
        size_t len = 4 + 4 * (size_t)rd_be16(b + 2);
        if (pos + len > v->body_len)
            return -1;
        if (b[0] == 4 && len == 12) { /* §4.4 RRTR */
            *ssrc = rd_be32(v->body);
            *ntp = (uint64_t)rd_be32(b + 4) << 32 | rd_be32(b + 8);
            return 0;
        }
        pos += len;
    }
    return -1;
}

size_t rtcp_write_xr_dlrr(uint8_t *out, size_t cap, uint32_t ssrc, uint32_t rr_ssrc, uint32_t lrr,
                          uint32_t dlrr)
{
    size_t total = HDR_LEN + 4 + 4 + 12;
    if (total > cap)
        return 0;
    wr_header(out, false, 0, RTCP_XR, total);
    wr_be32(out + 4, ssrc);
    out[8] = 5; /* §4.5 DLRR, one sub-block */
    out[9] = 0;
    wr_be16(out + 10, 3);
    wr_be32(out + 12, rr_ssrc);
    wr_be32(out + 16, lrr);
    wr_be32(out + 20, dlrr);
    return total;
}
