/* Tests relay/wire/rtcp.c and twcc.c: compound walking with padding and every malformed
 * header, SR/RR and report blocks, SDES, generic feedback, NACK (incl. wrap), FIR, PLI,
 * REMB, and transport-wide CC parse of hand-built packets plus write→parse round trips
 * with random losses, negative and large deltas and wrapping sequence numbers. */
#include <stdlib.h>

#include "base/seq.h"
#include "test.h"
#include "wire/rtcp.h"

static uint32_t rng_state = 0x12345678;
static uint32_t rnd(void) /* xorshift32: reproducible */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int one_packet(const uint8_t *buf, size_t len, struct rtcp_view *v)
{
    size_t pos = 0;
    int rc = rtcp_next(buf, len, &pos, v);
    if (rc == 1 && rtcp_next(buf, len, &pos, &(struct rtcp_view){0}) != 0)
        return -100;
    return rc;
}

static void test_compound(void)
{
    /* RR (no blocks) + SDES CNAME "ab" + PLI with padding (P=1, 4 pad bytes) */
    const uint8_t c[] = {
        0x80, 201, 0,    1,   0, 0, 0, 7, 0x81, 202, 0, 2, 0, 0, 0, 7, 1, 2,
        'a',  'b', 0xa1, 206, 0, 3, 0, 0, 0,    7,   0, 0, 0, 9, 0, 0, 0, 4,
    };
    struct rtcp_view v;
    size_t pos = 0;
    CHECK_EQ(rtcp_next(c, sizeof c, &pos, &v), 1);
    CHECK_EQ(v.type, RTCP_RR);
    CHECK_EQ(v.count, 0);
    CHECK_EQ(v.body_len, 4);
    CHECK_EQ(v.raw_len, 8);
    CHECK_EQ(rtcp_next(c, sizeof c, &pos, &v), 1);
    CHECK_EQ(v.type, RTCP_SDES);
    CHECK_EQ(v.count, 1);
    CHECK_EQ(v.body_len, 8);
    CHECK_EQ(rtcp_next(c, sizeof c, &pos, &v), 1);
    CHECK_EQ(v.type, RTCP_PSFB);
    CHECK_EQ(v.count, RTCP_FMT_PLI);
    CHECK_EQ(v.body_len, 8);
    CHECK_EQ(v.raw_len, 16);
    CHECK(v.raw == c + 20);
    CHECK_EQ(rtcp_next(c, sizeof c, &pos, &v), 0);
    CHECK_EQ(rtcp_next(c, sizeof c, &pos, &v), 0);
    pos = sizeof c + 1;
    CHECK(rtcp_next(c, sizeof c, &pos, &v) < 0);
    pos = 0;
    CHECK_EQ(rtcp_next(c, 0, &pos, &v), 0);

    uint8_t b[sizeof c];
    for (size_t n = 1; n < 8; n++) { /* truncated first packet */
        pos = 0;
        CHECK(rtcp_next(c, n, &pos, &v) < 0);
    }
    pos = 8; /* trailing 3 bytes after a good packet */
    CHECK(rtcp_next(c, 11, &pos, &v) < 0);
    memcpy(b, c, sizeof c);
    b[0] = 0x40; /* version 1 */
    pos = 0;
    CHECK(rtcp_next(b, sizeof b, &pos, &v) < 0);
    memcpy(b, c, sizeof c);
    b[3] = 9; /* length past the end */
    pos = 0;
    CHECK(rtcp_next(b, sizeof b, &pos, &v) < 0);
    memcpy(b, c, sizeof c);
    b[35] = 0; /* zero padding count */
    pos = 20;
    CHECK(rtcp_next(b, sizeof b, &pos, &v) < 0);
    b[35] = 13; /* padding larger than the body */
    pos = 20;
    CHECK(rtcp_next(b, sizeof b, &pos, &v) < 0);
    b[35] = 12; /* all of the body: legal, empty body */
    pos = 20;
    CHECK_EQ(rtcp_next(b, sizeof b, &pos, &v), 1);
    CHECK_EQ(v.body_len, 0);
    struct rtcp_fb fb;
    CHECK(rtcp_parse_fb(&v, &fb) < 0);
}

static void test_sr_rr(void)
{
    struct rtcp_report_block blocks[2] = {
        {.ssrc = 0xaabbccdd,
         .fraction_lost = 25,
         .cumulative_lost = -1,
         .ext_highest_seq = 0x0001ffff,
         .jitter = 77,
         .lsr = 0x12345678,
         .dlsr = 65536},
        {.ssrc = 2, .fraction_lost = 255, .cumulative_lost = 0x7fffff, .ext_highest_seq = 9},
    };
    uint8_t buf[128];
    size_t n = rtcp_write_sr(buf, sizeof buf, 0x01020304, 0xe8f1a2b3c4d5e6f7ull, 90000, 10, 12000,
                             blocks, 2);
    CHECK_EQ(n, 28 + 48);
    CHECK_EQ(buf[0], 0x82);
    CHECK_EQ(buf[1], 200);
    CHECK_EQ(buf[3], 18);
    struct rtcp_view v;
    CHECK_EQ(one_packet(buf, n, &v), 1);
    struct rtcp_sr sr;
    CHECK_EQ(rtcp_parse_sr(&v, &sr), 0);
    CHECK_EQ(sr.ssrc, 0x01020304);
    CHECK(sr.ntp == 0xe8f1a2b3c4d5e6f7ull);
    CHECK_EQ(sr.rtp_ts, 90000);
    CHECK_EQ(sr.packet_count, 10);
    CHECK_EQ(sr.octet_count, 12000);
    CHECK_EQ(sr.n_reports, 2);
    struct rtcp_report_block rb;
    rtcp_report_block_at(sr.reports, 0, &rb);
    CHECK_EQ(rb.ssrc, 0xaabbccdd);
    CHECK_EQ(rb.fraction_lost, 25);
    CHECK_EQ(rb.cumulative_lost, -1);
    CHECK_EQ(rb.ext_highest_seq, 0x0001ffff);
    CHECK_EQ(rb.jitter, 77);
    CHECK_EQ(rb.lsr, 0x12345678);
    CHECK_EQ(rb.dlsr, 65536);
    rtcp_report_block_at(sr.reports, 1, &rb);
    CHECK_EQ(rb.cumulative_lost, 0x7fffff);
    CHECK_EQ(rb.fraction_lost, 255);
    struct rtcp_rr rr;
    CHECK(rtcp_parse_rr(&v, &rr) < 0); /* wrong type */

    /* clamping of cumulative lost, RR */
    blocks[0].cumulative_lost = -10000000;
    blocks[1].cumulative_lost = 10000000;
    n = rtcp_write_rr(buf, sizeof buf, 5, blocks, 2);
    CHECK_EQ(n, 8 + 48);
    CHECK_EQ(one_packet(buf, n, &v), 1);
    CHECK_EQ(rtcp_parse_rr(&v, &rr), 0);
    CHECK_EQ(rr.ssrc, 5);
    CHECK_EQ(rr.n_reports, 2);
    rtcp_report_block_at(rr.reports, 0, &rb);
    CHECK_EQ(rb.cumulative_lost, -0x800000);
    rtcp_report_block_at(rr.reports, 1, &rb);
    CHECK_EQ(rb.cumulative_lost, 0x7fffff);
    CHECK(rtcp_parse_sr(&v, &sr) < 0);

    /* count larger than the body */
    buf[0] = 0x83;
    CHECK_EQ(one_packet(buf, n, &v), 1);
    CHECK(rtcp_parse_rr(&v, &rr) < 0);
    /* writer limits */
    CHECK_EQ(rtcp_write_rr(buf, 8 + 47, 5, blocks, 2), 0);
    CHECK_EQ(rtcp_write_rr(buf, sizeof buf, 5, blocks, -1), 0);
    CHECK_EQ(rtcp_write_rr(buf, sizeof buf, 5, NULL, 1), 0);
    CHECK_EQ(rtcp_write_rr(buf, sizeof buf, 5, NULL, 0), 8);
    CHECK_EQ(rtcp_write_sr(buf, 27, 1, 0, 0, 0, 0, NULL, 0), 0);
    CHECK_EQ(rtcp_write_sr(buf, 28, 1, 0, 0, 0, 0, NULL, 0), 28);
    CHECK_EQ(rtcp_write_sr(buf, sizeof buf, 1, 0, 0, 0, 0, blocks, 32), 0);
}

static void test_sdes(void)
{
    uint8_t buf[300];
    size_t n = rtcp_write_sdes_cname(buf, sizeof buf, 0x11, "abc");
    CHECK_EQ(n, 16);
    const uint8_t want[] = {0x81, 202, 0, 3, 0, 0, 0, 0x11, 1, 3, 'a', 'b', 'c', 0, 0, 0};
    CHECK(memcmp(buf, want, 16) == 0);
    n = rtcp_write_sdes_cname(buf, sizeof buf, 0x11, "abcdef"); /* 4+2+6 = 12: +4 nulls */
    CHECK_EQ(n, 20);
    CHECK_EQ(buf[19], 0);
    struct rtcp_view v;
    CHECK_EQ(one_packet(buf, n, &v), 1);
    CHECK_EQ(v.type, RTCP_SDES);
    CHECK_EQ(rtcp_write_sdes_cname(buf, 15, 0x11, "abc"), 0);
    char big[257];
    memset(big, 'x', 256);
    big[256] = 0;
    CHECK_EQ(rtcp_write_sdes_cname(buf, sizeof buf, 1, big), 0);
    big[255] = 0;
    CHECK_EQ(rtcp_write_sdes_cname(buf, sizeof buf, 1, big), 4 + 264);
    CHECK_EQ(rtcp_write_sdes_cname(buf, sizeof buf, 1, NULL), 0);
}

static void test_pli_fir(void)
{
    uint8_t buf[32];
    CHECK_EQ(rtcp_write_pli(buf, sizeof buf, 1, 2), 12);
    const uint8_t pli[] = {0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2};
    CHECK(memcmp(buf, pli, 12) == 0);
    CHECK_EQ(rtcp_write_pli(buf, 11, 1, 2), 0);
    struct rtcp_view v;
    struct rtcp_fb fb;
    CHECK_EQ(one_packet(buf, 12, &v), 1);
    CHECK_EQ(rtcp_parse_fb(&v, &fb), 0);
    CHECK_EQ(fb.sender_ssrc, 1);
    CHECK_EQ(fb.media_ssrc, 2);
    CHECK_EQ(fb.fci_len, 0);

    CHECK_EQ(rtcp_write_fir(buf, sizeof buf, 7, 0xabcdef01, 42), 20);
    CHECK_EQ(buf[0], 0x84);
    CHECK_EQ(buf[11], 0); /* RFC 5104 §4.3.1.2: media SSRC field 0 */
    CHECK_EQ(one_packet(buf, 20, &v), 1);
    CHECK_EQ(rtcp_parse_fb(&v, &fb), 0);
    uint32_t ssrcs[4];
    uint8_t seqnrs[4];
    CHECK_EQ(rtcp_fir_entries(&fb, ssrcs, seqnrs, 4), 1);
    CHECK_EQ(ssrcs[0], 0xabcdef01);
    CHECK_EQ(seqnrs[0], 42);
    CHECK_EQ(rtcp_fir_entries(&fb, ssrcs, seqnrs, 0), 0);
    fb.fci_len = 7; /* truncated entry */
    CHECK_EQ(rtcp_fir_entries(&fb, ssrcs, seqnrs, 4), 0);
    CHECK_EQ(rtcp_write_fir(buf, 19, 7, 1, 1), 0);
    /* two entries */
    const uint8_t two[] = {1, 2, 3, 4, 9, 0, 0, 0, 5, 6, 7, 8, 10, 0, 0, 0};
    struct rtcp_fb f2 = {.fci = two, .fci_len = sizeof two};
    CHECK_EQ(rtcp_fir_entries(&f2, ssrcs, seqnrs, 4), 2);
    CHECK_EQ(ssrcs[1], 0x05060708);
    CHECK_EQ(seqnrs[1], 10);
    CHECK_EQ(rtcp_fir_entries(&f2, ssrcs, seqnrs, 1), 1);

    v.type = RTCP_RR;
    CHECK(rtcp_parse_fb(&v, &fb) < 0);
}

static int cmp_key(uint16_t base, uint16_t a, uint16_t b)
{
    return seq16_diff(base, a) - seq16_diff(base, b);
}

static void sort_seqs(uint16_t *s, size_t n, uint16_t base)
{
    for (size_t i = 1; i < n; i++) { /* insertion sort by distance from base */
        uint16_t x = s[i];
        size_t j = i;
        for (; j > 0 && cmp_key(base, s[j - 1], x) > 0; j--)
            s[j] = s[j - 1];
        s[j] = x;
    }
}

static size_t uniq(uint16_t *s, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || s[m - 1] != s[i])
            s[m++] = s[i];
    }
    return m;
}

static void test_nack(void)
{
    /* unordered, duplicated, across the wrap */
    const uint16_t seqs[] = {1, 65534, 17, 0, 65535, 1, 100};
    uint8_t buf[64];
    size_t n = rtcp_write_nack(buf, sizeof buf, 1, 2, seqs, 7);
    CHECK_EQ(n, 12 + 12);
    CHECK_EQ(buf[0], 0x81);
    CHECK_EQ(buf[1], 205);
    /* 65534 + bits for 65535, 0, 1 */
    const uint8_t fci[] = {0xff, 0xfe, 0x00, 0x07, 0x00, 0x11, 0x00, 0x00, 0x00, 0x64, 0, 0};
    CHECK(memcmp(buf + 12, fci, 12) == 0);
    struct rtcp_view v;
    struct rtcp_fb fb;
    CHECK_EQ(one_packet(buf, n, &v), 1);
    CHECK_EQ(rtcp_parse_fb(&v, &fb), 0);
    uint16_t out[64];
    CHECK_EQ(rtcp_nack_seqs(&fb, out, 64), 6);
    CHECK_EQ(out[0], 65534);
    CHECK_EQ(out[1], 65535);
    CHECK_EQ(out[2], 0);
    CHECK_EQ(out[3], 1);
    CHECK_EQ(out[4], 17);
    CHECK_EQ(out[5], 100);
    CHECK_EQ(rtcp_nack_seqs(&fb, out, 3), 3);
    CHECK_EQ(rtcp_nack_seqs(&fb, out, 0), 0);
    fb.fci_len = 6; /* a torn entry yields what parsed */
    CHECK_EQ(rtcp_nack_seqs(&fb, out, 64), 4);
    /* PID + full BLP: 17 sequence numbers in one entry */
    uint16_t run[17];
    for (int i = 0; i < 17; i++)
        run[i] = (uint16_t)(65530 + i);
    CHECK_EQ(rtcp_write_nack(buf, sizeof buf, 1, 2, run, 17), 16);
    CHECK_EQ(buf[14], 0xff);
    CHECK_EQ(buf[15], 0xff);
    CHECK_EQ(rtcp_write_nack(buf, sizeof buf, 1, 2, run, 0), 0);
    CHECK_EQ(rtcp_write_nack(buf, 15, 1, 2, run, 17), 0);
    CHECK_EQ(rtcp_write_nack(buf, 23, 1, 2, seqs, 7), 0);

    /* random sets around random bases: write → parse gives the same set */
    for (int t = 0; t < 300; t++) {
        uint16_t base = (uint16_t)rnd(), in[200], back[1000];
        size_t k = 1 + rnd() % 200;
        for (size_t i = 0; i < k; i++)
            in[i] = (uint16_t)(base + rnd() % (t % 2 ? 40 : 3000));
        uint8_t pkt[12 + 4 * 200];
        size_t len = rtcp_write_nack(pkt, sizeof pkt, 1, 2, in, k);
        CHECK(len > 12);
        CHECK_EQ(one_packet(pkt, len, &v), 1);
        CHECK_EQ(rtcp_parse_fb(&v, &fb), 0);
        size_t m = rtcp_nack_seqs(&fb, back, 1000);
        sort_seqs(in, k, base);
        k = uniq(in, k);
        CHECK_EQ(m, k);
        for (size_t i = 0; i < k && i < m; i++)
            CHECK_EQ(back[i], in[i]);
    }
}

static void test_remb(void)
{
    uint8_t buf[64];
    const uint32_t ssrcs[2] = {0x11111111, 0x22222222};
    size_t n = rtcp_write_remb(buf, sizeof buf, 9, 1000000, ssrcs, 2);
    CHECK_EQ(n, 12 + 8 + 8);
    const uint8_t want[] = {0x8f, 206,  0,    6,    0,    0,    0,    9,    0,    0,
                            0,    0,    'R',  'E',  'M',  'B',  2,    0x0b, 0xd0, 0x90,
                            0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22};
    CHECK(memcmp(buf, want, sizeof want) == 0);
    struct rtcp_view v;
    struct rtcp_fb fb;
    CHECK_EQ(one_packet(buf, n, &v), 1);
    CHECK_EQ(rtcp_parse_fb(&v, &fb), 0);
    uint64_t bps = 0;
    uint32_t got[4];
    size_t ng = 0;
    CHECK_EQ(rtcp_parse_remb(&fb, &bps, got, 4, &ng), 0);
    CHECK(bps == 1000000);
    CHECK_EQ(ng, 2);
    CHECK_EQ(got[1], 0x22222222);
    CHECK_EQ(rtcp_parse_remb(&fb, &bps, got, 1, &ng), 0);
    CHECK_EQ(ng, 1);
    /* not REMB, torn SSRC list */
    uint8_t bad[32];
    memcpy(bad, buf + 12, 16);
    struct rtcp_fb bf = {.fci = bad, .fci_len = 16};
    bad[3] = 'X';
    CHECK(rtcp_parse_remb(&bf, &bps, got, 4, &ng) < 0);
    bad[3] = 'B';
    bf.fci_len = 15;
    CHECK(rtcp_parse_remb(&bf, &bps, got, 4, &ng) < 0);
    bf.fci_len = 7;
    CHECK(rtcp_parse_remb(&bf, &bps, got, 4, &ng) < 0);
    /* exponent overflowing 64 bits */
    bad[4] = 0;
    bad[5] = 0xff;
    bad[6] = 0xff;
    bad[7] = 0xff;
    bf.fci_len = 8;
    CHECK(rtcp_parse_remb(&bf, &bps, got, 4, &ng) < 0);
    bad[5] = 0xb7; /* exp 45, mantissa 0x3ffff: 2^63 - 2^45, fits */
    CHECK_EQ(rtcp_parse_remb(&bf, &bps, got, 4, &ng), 0);
    CHECK(bps == (0x3ffffull << 45));
    /* round trips, rounding down to 18 significant bits */
    const uint64_t rates[] = {0, 1, 262143, 262144, 262145, 30000000, 123456789012ull, UINT64_MAX};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        n = rtcp_write_remb(buf, sizeof buf, 1, rates[i], NULL, 0);
        CHECK_EQ(n, 20);
        CHECK_EQ(one_packet(buf, n, &v), 1);
        CHECK_EQ(rtcp_parse_fb(&v, &fb), 0);
        CHECK_EQ(rtcp_parse_remb(&fb, &bps, got, 4, &ng), 0);
        CHECK(bps <= rates[i]);
        CHECK(rates[i] - bps <= rates[i] / (1u << 17));
    }
    CHECK_EQ(rtcp_write_remb(buf, 19, 1, 5, NULL, 0), 0);
    CHECK_EQ(rtcp_write_remb(buf, sizeof buf, 1, 5, NULL, 1), 0);
}

/* ---- transport-wide CC ---- */

static void test_twcc_parse_vectors(void)
{
    /* 2-bit vector [small, lost, large, small, small], base seq 65534, reference -1
     * (-64 ms), deltas +1 ms, -0.5 ms, +63.75 ms, 0; one byte of padding with P=1 */
    const uint8_t p1[] = {
        0xaf, 205, 0,    6,    0,    0, 0,    1,    0,    0,    0,    2,    0xff, 0xfe,
        0,    5,   0xff, 0xff, 0xff, 7, 0xd2, 0x50, 0x04, 0xff, 0xfe, 0xff, 0x00, 0x01,
    };
    struct rtcp_view v;
    struct rtcp_fb fb;
    struct twcc_feedback h;
    struct twcc_packet_status st[64];
    CHECK_EQ(one_packet(p1, sizeof p1, &v), 1);
    CHECK_EQ(v.count, RTCP_FMT_TWCC);
    CHECK_EQ(rtcp_parse_fb(&v, &fb), 0);
    CHECK_EQ(rtcp_parse_twcc(&fb, &h, st, 64), 5);
    CHECK_EQ(h.sender_ssrc, 1);
    CHECK_EQ(h.media_ssrc, 2);
    CHECK_EQ(h.base_seq, 65534);
    CHECK_EQ(h.status_count, 5);
    CHECK_EQ(h.reference_us, -64000);
    CHECK_EQ(h.fb_count, 7);
    const uint16_t seq[] = {65534, 65535, 0, 1, 2};
    const bool rec[] = {true, false, true, true, true};
    const int64_t at[] = {-63000, 0, -63500, 250, 250};
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(st[i].seq, seq[i]);
        CHECK_EQ(st[i].received, rec[i]);
        if (rec[i])
            CHECK_EQ(st[i].arrival_us, at[i]);
    }
    CHECK_EQ(rtcp_parse_twcc(&fb, &h, st, 2), 2); /* fewer slots than statuses */
    CHECK_EQ(st[0].arrival_us, -63000);
    CHECK_EQ(rtcp_parse_twcc(&fb, &h, NULL, 0), 0);

    /* run-length chunk (20 × small) + 1-bit vector (14: 10101010101010) with old-style
     * zero padding and no P bit */
    uint8_t p2[4 + 8 + 8 + 4 + 27 + 1];
    memset(p2, 0, sizeof p2);
    p2[0] = 0x8f;
    p2[1] = 205;
    p2[3] = (uint8_t)(sizeof p2 / 4 - 1);
    uint8_t *f = p2 + 12;
    f[0] = 0;
    f[1] = 100;
    f[3] = 34;
    f[6] = 1; /* reference 64 ms */
    f[8] = 0x20;
    f[9] = 20;
    f[10] = 0xaa;
    f[11] = 0xaa; /* 1 0 1 0 ... over 14 bits: 7 received */
    for (int i = 0; i < 27; i++)
        f[12 + i] = 4; /* 1 ms each */
    CHECK_EQ(one_packet(p2, sizeof p2, &v), 1);
    CHECK_EQ(rtcp_parse_fb(&v, &fb), 0);
    CHECK_EQ(rtcp_parse_twcc(&fb, &h, st, 64), 34);
    CHECK_EQ(st[0].seq, 100);
    CHECK_EQ(st[0].arrival_us, 65000);
    CHECK_EQ(st[19].arrival_us, 84000);
    CHECK(st[20].received);
    CHECK(!st[21].received);
    CHECK_EQ(st[22].arrival_us, 86000);
    CHECK(!st[33].received);
    CHECK_EQ(st[32].arrival_us, 91000);

    /* malformed: short FCI, no statuses, chunks or deltas missing, reserved symbols */
    struct rtcp_fb m = fb;
    m.fci_len = 7;
    CHECK(rtcp_parse_twcc(&m, &h, st, 64) < 0);
    m.fci_len = 9;
    CHECK(rtcp_parse_twcc(&m, &h, st, 64) < 0);
    m.fci_len = 12 + 26; /* one delta short */
    CHECK(rtcp_parse_twcc(&m, &h, st, 64) < 0);
    m.fci_len = 12 + 27;
    CHECK_EQ(rtcp_parse_twcc(&m, &h, st, 64), 34);
    uint8_t g[64];
    memcpy(g, f, 40);
    m.fci = g;
    g[2] = g[3] = 0;
    CHECK(rtcp_parse_twcc(&m, &h, st, 64) < 0);
    memcpy(g, f, 40);
    g[8] = 0x60; /* run-length of symbol 3 */
    CHECK(rtcp_parse_twcc(&m, &h, st, 64) < 0);
    memcpy(g, f, 40);
    g[10] = 0xf0; /* 2-bit vector with symbol 3 in use */
    CHECK(rtcp_parse_twcc(&m, &h, st, 64) < 0);
    memcpy(g, f, 40);
    g[3] = 21; /* 2-bit vector whose unused slots hold 3: fine */
    g[10] = 0xc0;
    g[11] = 0x03;
    CHECK_EQ(rtcp_parse_twcc(&m, &h, st, 64), 21);
    CHECK(!st[20].received);
    memcpy(g, f, 40);
    g[3] = 0xff; /* more statuses than chunks */
    CHECK(rtcp_parse_twcc(&m, &h, st, 64) < 0);
}

/* Writes arrival[] as feedback, parses it back and compares exactly (to 250 µs). */
static void twcc_roundtrip(uint16_t base, const int64_t *arrival, uint16_t count)
{
    static uint8_t pkt[1 << 18];
    static struct twcc_packet_status st[65536];
    size_t n = rtcp_write_twcc(pkt, sizeof pkt, 11, 22, base, arrival, count, 200);
    CHECK(n > 0);
    if (!n)
        return;
    CHECK_EQ(n % 4, 0);
    struct rtcp_view v;
    struct rtcp_fb fb;
    struct twcc_feedback h;
    CHECK_EQ(one_packet(pkt, n, &v), 1);
    CHECK_EQ(v.type, RTCP_RTPFB);
    CHECK_EQ(v.count, RTCP_FMT_TWCC);
    CHECK_EQ(rtcp_parse_fb(&v, &fb), 0);
    CHECK_EQ(rtcp_parse_twcc(&fb, &h, st, 65536), count);
    CHECK_EQ(h.base_seq, base);
    CHECK_EQ(h.status_count, count);
    CHECK_EQ(h.fb_count, 200);
    CHECK_EQ(h.sender_ssrc, 11);
    CHECK_EQ(h.media_ssrc, 22);
    int bad = 0;
    for (size_t i = 0; i < count; i++) {
        bad += st[i].seq != (uint16_t)(base + i);
        bad += st[i].received != (arrival[i] >= 0);
        if (arrival[i] >= 0)
            bad += st[i].arrival_us != arrival[i] / 250 * 250;
    }
    CHECK_EQ(bad, 0);
    /* every smaller buffer is refused */
    for (size_t cap = n > 64 ? n - 64 : 0; cap < n; cap++)
        CHECK_EQ(rtcp_write_twcc(pkt, cap, 11, 22, base, arrival, count, 200), 0);
}

static void test_twcc_write_shapes(void)
{
    static int64_t a[20000];
    uint8_t pkt[2048];
    /* 100 packets 1 ms apart: one run-length chunk, 100 one-byte deltas, 2 bytes pad */
    for (int i = 0; i < 100; i++)
        a[i] = 1000000 + 1000 * i;
    size_t n = rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 7, a, 100, 0);
    CHECK_EQ(n, 20 + 2 + 100 + 2);
    CHECK_EQ(pkt[0], 0xaf); /* P bit set */
    CHECK_EQ(pkt[n - 1], 2);
    CHECK_EQ(pkt[20], 0x20);
    CHECK_EQ(pkt[21], 100);
    twcc_roundtrip(7, a, 100);
    /* alternating loss without large deltas: 1-bit vectors */
    for (int i = 0; i < 28; i++)
        a[i] = i % 2 ? -1 : 1000000 + 1000 * i;
    n = rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 7, a, 28, 0);
    CHECK_EQ(n, 20 + 4 + 14 + 2);
    CHECK_EQ(pkt[20], 0xaa);
    CHECK_EQ(pkt[21], 0xaa);
    twcc_roundtrip(65530, a, 28);
    /* a large delta: 2-bit vector */
    a[0] = 1000000;
    a[1] = 1100000; /* +100 ms */
    a[2] = -1;
    a[3] = 1099000; /* -1 ms */
    n = rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 7, a, 4, 0);
    CHECK_EQ(n, 20 + 2 + 1 + 2 + 2 + 1); /* chunk, deltas 1 + 2 + 2, one pad byte */
    CHECK_EQ(pkt[20], 0xd8);             /* 11 01 10 00 10 ... */
    CHECK_EQ(pkt[21], 0x80);
    CHECK_EQ(pkt[0], 0xaf);
    CHECK_EQ(pkt[27], 1);
    a[4] = 1099000; /* + 0 ms: 28 bytes exactly, no padding */
    n = rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 7, a, 5, 0);
    CHECK_EQ(n, 28);
    CHECK_EQ(pkt[0], 0x8f);
    twcc_roundtrip(65535, a, 4);
    /* nothing received */
    for (int i = 0; i < 10; i++)
        a[i] = -1;
    n = rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 7, a, 10, 0);
    CHECK_EQ(n, 24);
    twcc_roundtrip(0, a, 10);
    /* a run longer than 8191 splits into two run-length chunks */
    for (int i = 0; i < 10000; i++)
        a[i] = 5000000 + 250 * i;
    twcc_roundtrip(60000, a, 10000);
    /* deltas that do not fit 16 bits, refused arguments */
    a[0] = 0;
    a[1] = 8192000; /* 32768 ticks */
    CHECK_EQ(rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 0, a, 2, 0), 0);
    a[1] = 8191750;
    CHECK(rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 0, a, 2, 0) > 0);
    a[0] = 9000000;
    a[1] = 9000000 - 8192000; /* -32768 ticks from the first */
    CHECK(rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 0, a, 2, 0) > 0);
    twcc_roundtrip(0, a, 2);
    a[1] -= 250;
    CHECK_EQ(rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 0, a, 2, 0), 0);
    CHECK_EQ(rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 0, a, 0, 0), 0);
    CHECK_EQ(rtcp_write_twcc(pkt, sizeof pkt, 1, 2, 0, NULL, 3, 0), 0);
}

static void test_twcc_random(void)
{
    static int64_t a[4000];
    for (int t = 0; t < 400; t++) {
        uint16_t count = (uint16_t)(1 + rnd() % (t % 10 == 0 ? 4000 : 60));
        uint16_t base = (uint16_t)rnd();
        int64_t now = (int64_t)(rnd() % 100000) * 1000000 + rnd() % 1000000;
        unsigned loss = rnd() % 4; /* 0, 1/8, 1/4, 3/8 of packets lost */
        int64_t last = -1;
        for (size_t i = 0; i < count; i++) {
            unsigned r = rnd() % 100;
            int64_t d = r < 70   ? (int64_t)(rnd() % 20000)           /* 0..20 ms */
                        : r < 85 ? -(int64_t)(rnd() % 30000)          /* reordered */
                        : r < 97 ? 63750 + (int64_t)(rnd() % 2000000) /* > 63.75 ms */
                                 : (int64_t)(rnd() % 8000000);        /* up to 8 s */
            now += d;
            if (now < 0)
                now = 0;
            /* keep each delta within the 16-bit field (±8.19 s from the last received) */
            if (last >= 0 && now > last + 8000000)
                now = last + 8000000;
            if (last >= 0 && now < last - 8000000)
                now = last - 8000000;
            a[i] = rnd() % 8 < loss ? -1 : now;
            if (a[i] >= 0)
                last = now;
            if (rnd() % 50 == 0) /* a burst of losses */
                for (size_t k = 0; k < 40 && i + 1 < count; k++)
                    a[++i] = -1;
        }
        twcc_roundtrip(base, a, count);
    }
}

/* RFC 3611 §4.4 and §4.5: Chromium's RRTR in an XR packet, and the DLRR answering it. */
static void test_xr(void)
{
    const uint8_t xr[] = {0x80, 207, 0, 6, 0x11, 0x22, 0x33, 0x44, /* V=2, XR, 7 words, SSRC */
                          9,    0,   0, 1, 0xaa, 0xbb, 0xcc, 0xdd, /* an unknown block */
                          4,    0,   0, 2, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    struct rtcp_view v;
    size_t pos = 0;
    uint32_t ssrc = 0;
    uint64_t ntp = 0;
    CHECK_EQ(rtcp_next(xr, sizeof xr, &pos, &v), 1);
    CHECK_EQ(rtcp_parse_xr_rrtr(&v, &ssrc, &ntp), 0);
    CHECK_EQ(ssrc, 0x11223344);
    CHECK(ntp == 0x0102030405060708ull);
    uint8_t out[64];
    size_t n = rtcp_write_xr_dlrr(out, sizeof out, 0x55667788, ssrc, (uint32_t)(ntp >> 16), 0x10);
    const uint8_t want[] = {0x80, 207,  0,    5,    0x55, 0x66, 0x77, 0x88, 5, 0, 0, 3,
                            0x11, 0x22, 0x33, 0x44, 0x03, 0x04, 0x05, 0x06, 0, 0, 0, 0x10};
    CHECK_EQ(n, sizeof want);
    CHECK(memcmp(out, want, sizeof want) == 0);
    CHECK_EQ(rtcp_write_xr_dlrr(out, 20, 1, 2, 3, 4), 0);
    pos = 0;
    CHECK_EQ(rtcp_next(out, n, &pos, &v), 1);
    CHECK_EQ(rtcp_parse_xr_rrtr(&v, &ssrc, &ntp), -1); /* a DLRR only */
}

int main(void)
{
    test_xr();
    test_compound();
    test_sr_rr();
    test_sdes();
    test_pli_fir();
    test_nack();
    test_remb();
    test_twcc_parse_vectors();
    test_twcc_write_shapes();
    test_twcc_random();
    return test_report();
}
