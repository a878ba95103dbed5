/* Tests relay/wire/ulpfec.c: the FEC header and level 0 header laid out as RFC 5109 §7.3 and
 * §7.4 draw them (checked field by field on a hand-made group), and any one lost packet of
 * a group rebuilt bit-exact by the receiver's procedure of §8.2, written here from the RFC
 * as Chromium's receiver does it: packets of different lengths, extensions, markers, a
 * sequence-number wrap, short and long masks. */
#include "base/bytes.h"
#include "test.h"
#include "ulpfec_recover.h"
#include "wire/ulpfec.h"

/* A media packet: V=2, X when ext, marker m, PT 96, seq, ts, SSRC 0x11223344; ext: a
 * one-byte-header block of 8 bytes; then len bytes of payload derived from seq. */
static void make(struct pkt *p, uint16_t seq, uint32_t ts, bool m, bool ext, size_t payload)
{
    size_t pos = 12;
    p->b[0] = (uint8_t)(0x80 | (ext ? 0x10 : 0));
    p->b[1] = (uint8_t)((m ? 0x80 : 0) | 96);
    wr_be16(p->b + 2, seq);
    wr_be32(p->b + 4, ts);
    wr_be32(p->b + 8, 0x11223344);
    if (ext) {
        static const uint8_t block[8] = {0xbe, 0xde, 0x00, 0x01, 0x32, 0xab, 0xcd, 0xef};
        memcpy(p->b + pos, block, 8);
        pos += 8;
    }
    for (size_t i = 0; i < payload; i++)
        p->b[pos + i] = (uint8_t)(seq * 31 + i * 7);
    p->len = pos + payload;
}

static void add(struct ulpfec_acc *a, const struct pkt *p)
{
    size_t half = (p->len - 12) / 3; /* in two pieces, as a RED sender adds them */
    CHECK(ulpfec_add(a, p->b, p->b + 12, half, p->b + 12 + half, p->len - 12 - half));
}

static void test_layout(void)
{
    struct pkt a, b;
    make(&a, 1000, 90000, false, true, 100);
    make(&b, 1002, 93000, true, false, 40);
    struct ulpfec_acc acc;
    ulpfec_begin(&acc);
    CHECK_EQ(ulpfec_size(&acc), 0);
    add(&acc, &a);
    add(&acc, &b);
    uint8_t fec[MAXPKT];
    size_t n = ulpfec_finish(&acc, fec, sizeof fec);
    CHECK_EQ(n, 10 + 4 + 108);
    CHECK_EQ(fec[0] & 0x80, 0);       /* E */
    CHECK_EQ(fec[0] & 0x40, 0);       /* L: a 16-bit mask */
    CHECK_EQ(fec[0] & 0x3f, 0x10);    /* P, X, CC: one of the two had X */
    CHECK_EQ(fec[1], 0x80);           /* M: one marker; PT 96 ^ 96 */
    CHECK_EQ(rd_be16(fec + 2), 1000); /* SN base */
    CHECK_EQ(rd_be32(fec + 4), 90000 ^ 93000);
    CHECK_EQ(rd_be16(fec + 8), 108 ^ 40); /* length recovery */
    CHECK_EQ(rd_be16(fec + 10), 108);     /* protection length: the longest */
    CHECK_EQ(rd_be16(fec + 12), 0xa000);  /* mask: base and base + 2 */
    CHECK_EQ(fec[14], a.b[12] ^ b.b[12]);
    CHECK_EQ(fec[14 + 107], a.b[12 + 107]); /* past the shorter one: as if zero */
    CHECK_EQ(ulpfec_finish(&acc, fec, n - 1), 0);
    /* out of range and duplicates are refused */
    struct pkt far, again;
    make(&far, 1048, 0, false, false, 10);
    CHECK(!ulpfec_add(&acc, far.b, far.b + 12, far.len - 12, NULL, 0));
    make(&again, 1002, 0, false, false, 10);
    CHECK(!ulpfec_add(&acc, again.b, again.b + 12, again.len - 12, NULL, 0));
    CHECK_EQ(acc.n, 2);
}

/* A group of n packets from seq first, protected by one FEC: each one lost in turn comes
 * back bit-exact. */
static void check_group(uint16_t first, size_t n, size_t stride)
{
    static struct pkt p[ULPFEC_MAX_PACKETS];
    struct pkt *have[ULPFEC_MAX_PACKETS] = {0};
    struct ulpfec_acc acc;
    ulpfec_begin(&acc);
    size_t slots = (n - 1) * stride + 1;
    for (size_t i = 0; i < n; i++) {
        uint16_t seq = (uint16_t)(first + i * stride);
        make(&p[i], seq, 3000u * (uint32_t)(i / 3), i % 3 == 2, i % 2 == 0, 200 + (i * 137) % 1000);
        add(&acc, &p[i]);
    }
    uint8_t fec[ULPFEC_HEADER_LEN + 8 + ULPFEC_MAX_PROTECT];
    size_t fec_len = ulpfec_finish(&acc, fec, sizeof fec);
    CHECK(fec_len > 0);
    CHECK_EQ((fec[0] & 0x40) != 0, slots > 16);
    for (size_t lost = 0; lost < n; lost++) {
        for (size_t i = 0; i < n; i++)
            have[i * stride] = i == lost ? NULL : &p[i];
        uint8_t out[MAXPKT];
        size_t len = ulpfec_recover(fec, fec_len, 0x11223344, have, slots, out);
        CHECK_EQ(len, p[lost].len);
        CHECK(len == p[lost].len && memcmp(out, p[lost].b, len) == 0);
    }
    /* two lost: nothing */
    if (n >= 2) {
        for (size_t i = 0; i < n; i++)
            have[i * stride] = i < 2 ? NULL : &p[i];
        uint8_t out[MAXPKT];
        CHECK_EQ(ulpfec_recover(fec, fec_len, 0x11223344, have, slots, out), 0);
    }
}

int main(void)
{
    test_layout();
    check_group(500, 1, 1);
    check_group(500, 5, 1);
    check_group(65533, 6, 1); /* the sequence number wraps */
    check_group(7, 16, 1);
    check_group(7, 12, 2); /* every other one: 23 slots, the long mask */
    check_group(9000, 48, 1);
    return test_report();
}
