/* Fuzz entry point for relay/wire/rtcp.c and twcc.c: walks the compound packet and
 * parses each packet by type; wherever a writer exists (SR, RR, NACK, FIR, REMB,
 * transport-wide CC) it writes what parsed, parses that again and requires the same
 * content back. A crash or an abort() here is a bug in a parser or a writer. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "wire/rtcp.h"
#include "require.h"

static uint8_t out[1 << 18];

/* Parses the single packet that a writer produced. */
static void reparse(size_t n, struct rtcp_view *v)
{
    size_t pos = 0;
    REQUIRE(n > 0 && n % 4 == 0);
    REQUIRE(rtcp_next(out, n, &pos, v) == 1 && pos == n);
}

static void blocks_equal(const uint8_t *a, const uint8_t *b, int n)
{
    for (int i = 0; i < n; i++) {
        struct rtcp_report_block x, y;
        rtcp_report_block_at(a, i, &x);
        rtcp_report_block_at(b, i, &y);
        REQUIRE(x.ssrc == y.ssrc && x.fraction_lost == y.fraction_lost &&
                x.cumulative_lost == y.cumulative_lost && x.ext_highest_seq == y.ext_highest_seq &&
                x.jitter == y.jitter && x.lsr == y.lsr && x.dlsr == y.dlsr);
    }
}

static void do_reports(const struct rtcp_view *v)
{
    struct rtcp_report_block blocks[31];
    struct rtcp_view r;
    struct rtcp_sr sr, sr2;
    struct rtcp_rr rr, rr2;
    if (rtcp_parse_sr(v, &sr) == 0) {
        for (int i = 0; i < sr.n_reports; i++)
            rtcp_report_block_at(sr.reports, i, &blocks[i]);
        reparse(rtcp_write_sr(out, sizeof out, sr.ssrc, sr.ntp, sr.rtp_ts, sr.packet_count,
                              sr.octet_count, blocks, sr.n_reports),
                &r);
        REQUIRE(rtcp_parse_sr(&r, &sr2) == 0 && sr2.ssrc == sr.ssrc && sr2.ntp == sr.ntp &&
                sr2.n_reports == sr.n_reports && sr2.octet_count == sr.octet_count);
        blocks_equal(sr.reports, sr2.reports, sr.n_reports);
    }
    if (rtcp_parse_rr(v, &rr) == 0) {
        for (int i = 0; i < rr.n_reports; i++)
            rtcp_report_block_at(rr.reports, i, &blocks[i]);
        reparse(rtcp_write_rr(out, sizeof out, rr.ssrc, blocks, rr.n_reports), &r);
        REQUIRE(rtcp_parse_rr(&r, &rr2) == 0 && rr2.ssrc == rr.ssrc &&
                rr2.n_reports == rr.n_reports);
        blocks_equal(rr.reports, rr2.reports, rr.n_reports);
    }
}

static void do_nack(const struct rtcp_fb *fb)
{
    static uint16_t seqs[1024], back[1024 * 17];
    static uint8_t seen[8192], seen2[8192];
    size_t n = rtcp_nack_seqs(fb, seqs, 1024);
    if (n == 0)
        return;
    struct rtcp_view r;
    struct rtcp_fb f2;
    reparse(rtcp_write_nack(out, sizeof out, fb->sender_ssrc, fb->media_ssrc, seqs, n), &r);
    REQUIRE(rtcp_parse_fb(&r, &f2) == 0 && f2.media_ssrc == fb->media_ssrc);
    size_t m = rtcp_nack_seqs(&f2, back, sizeof back / sizeof back[0]);
    memset(seen, 0, sizeof seen);
    memset(seen2, 0, sizeof seen2);
    for (size_t i = 0; i < n; i++)
        seen[seqs[i] >> 3] |= (uint8_t)(1u << (seqs[i] & 7));
    for (size_t i = 0; i < m; i++)
        seen2[back[i] >> 3] |= (uint8_t)(1u << (back[i] & 7));
    REQUIRE(memcmp(seen, seen2, sizeof seen) == 0); /* the same set of sequence numbers */
}

static void do_twcc(const struct rtcp_fb *fb)
{
    static struct twcc_packet_status st[65536], st2[65536];
    static int64_t arrival[65536];
    struct twcc_feedback h, h2;
    int n = rtcp_parse_twcc(fb, &h, st, 65536);
    if (n <= 0)
        return;
    REQUIRE(n == h.status_count);
    /* shift arrival times to be non-negative (the writer reads < 0 as "lost") */
    int64_t min = 0;
    int first = -1;
    for (int i = 0; i < n; i++) {
        REQUIRE(st[i].seq == (uint16_t)(h.base_seq + i));
        if (st[i].received && st[i].arrival_us < min)
            min = st[i].arrival_us;
        if (st[i].received && first < 0)
            first = i;
    }
    for (int i = 0; i < n; i++)
        arrival[i] = st[i].received ? st[i].arrival_us - min : -1;
    struct rtcp_view r;
    struct rtcp_fb f2;
    size_t len = rtcp_write_twcc(out, sizeof out, fb->sender_ssrc, fb->media_ssrc, h.base_seq,
                                 arrival, (uint16_t)n, h.fb_count);
    reparse(len, &r);
    REQUIRE(r.type == RTCP_RTPFB && r.count == RTCP_FMT_TWCC);
    REQUIRE(rtcp_parse_fb(&r, &f2) == 0);
    REQUIRE(rtcp_parse_twcc(&f2, &h2, st2, 65536) == n);
    REQUIRE(h2.base_seq == h.base_seq && h2.fb_count == h.fb_count);
    for (int i = 0; i < n; i++) {
        REQUIRE(st2[i].received == st[i].received);
        if (st[i].received)
            REQUIRE(st2[i].arrival_us - st2[first].arrival_us ==
                    st[i].arrival_us - st[first].arrival_us);
    }
}

static void do_psfb(const struct rtcp_view *v, const struct rtcp_fb *fb)
{
    struct rtcp_view r;
    struct rtcp_fb f2;
    if (v->count == RTCP_FMT_FIR) {
        uint32_t ssrcs[64], s2;
        uint8_t seqnrs[64], q2;
        size_t n = rtcp_fir_entries(fb, ssrcs, seqnrs, 64);
        if (n == 0)
            return;
        reparse(rtcp_write_fir(out, sizeof out, fb->sender_ssrc, ssrcs[0], seqnrs[0]), &r);
        REQUIRE(rtcp_parse_fb(&r, &f2) == 0 && rtcp_fir_entries(&f2, &s2, &q2, 1) == 1);
        REQUIRE(s2 == ssrcs[0] && q2 == seqnrs[0]);
    } else if (v->count == RTCP_FMT_AFB) {
        uint64_t bps, bps2;
        uint32_t ssrcs[255], ssrcs2[255];
        size_t n, n2;
        if (rtcp_parse_remb(fb, &bps, ssrcs, 255, &n) < 0)
            return;
        reparse(rtcp_write_remb(out, sizeof out, fb->sender_ssrc, bps, ssrcs, n), &r);
        REQUIRE(rtcp_parse_fb(&r, &f2) == 0);
        REQUIRE(rtcp_parse_remb(&f2, &bps2, ssrcs2, 255, &n2) == 0);
        REQUIRE(bps2 == bps && n2 == n && memcmp(ssrcs, ssrcs2, 4 * n) == 0);
    }
}

/* An RRTR found is answered with a DLRR that reads back as RFC 3611 §4.5 lays it out. */
static void do_xr(const struct rtcp_view *v)
{
    uint32_t ssrc;
    uint64_t ntp;
    if (rtcp_parse_xr_rrtr(v, &ssrc, &ntp) != 0)
        return;
    REQUIRE(v->type == RTCP_XR);
    struct rtcp_view r;
    reparse(rtcp_write_xr_dlrr(out, sizeof out, 1, ssrc, (uint32_t)(ntp >> 16), 7), &r);
    REQUIRE(r.type == RTCP_XR && r.body_len == 20 && r.body[4] == 5);
    REQUIRE(rd_be32(r.body + 8) == ssrc && rd_be32(r.body + 12) == (uint32_t)(ntp >> 16));
    REQUIRE(rtcp_parse_xr_rrtr(&r, &ssrc, &ntp) == -1); /* a DLRR is no RRTR */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = calloc(size ? size : 1, 1); /* exact size: overreads are caught */
    if (size)
        memcpy(buf, data, size);
    size_t pos = 0;
    struct rtcp_view v;
    struct rtcp_fb fb;
    while (rtcp_next(buf, size, &pos, &v) == 1) {
        REQUIRE(v.raw >= buf && v.raw + v.raw_len <= buf + size);
        REQUIRE(v.body == v.raw + 4 && v.body_len + 4 <= v.raw_len);
        do_reports(&v);
        do_xr(&v);
        if (rtcp_parse_fb(&v, &fb) < 0)
            continue;
        REQUIRE(fb.fci + fb.fci_len <= v.body + v.body_len);
        if (v.type == RTCP_RTPFB && v.count == RTCP_FMT_NACK)
            do_nack(&fb);
        else if (v.type == RTCP_RTPFB && v.count == RTCP_FMT_TWCC)
            do_twcc(&fb);
        else if (v.type == RTCP_PSFB)
            do_psfb(&v, &fb);
    }
    free(buf);
    return 0;
}
