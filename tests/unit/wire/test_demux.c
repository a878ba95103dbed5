/* Tests relay/wire/demux.c: every RFC 7983 §7 first-byte range at its edges, the RFC 5761
 * §4 RTP/RTCP split, and packets too short for their kind. */
#include "test.h"
#include "wire/demux.h"

static enum demux_kind first(uint8_t b0, uint8_t b1, size_t len)
{
    uint8_t buf[64] = {b0, b1};
    return demux_classify(buf, len);
}

static void test_ranges(void)
{
    CHECK_EQ(first(0, 1, 20), DEMUX_STUN);
    CHECK_EQ(first(3, 1, 20), DEMUX_STUN);
    CHECK_EQ(first(4, 1, 20), DEMUX_UNKNOWN);
    CHECK_EQ(first(15, 1, 20), DEMUX_UNKNOWN);
    CHECK_EQ(first(16, 0, 20), DEMUX_ZRTP);
    CHECK_EQ(first(19, 0, 20), DEMUX_ZRTP);
    CHECK_EQ(first(20, 0xfe, 20), DEMUX_DTLS); /* change_cipher_spec */
    CHECK_EQ(first(22, 0xfe, 20), DEMUX_DTLS); /* handshake */
    CHECK_EQ(first(23, 0xfe, 20), DEMUX_DTLS); /* application data */
    CHECK_EQ(first(63, 0, 20), DEMUX_DTLS);
    CHECK_EQ(first(64, 0, 20), DEMUX_TURN);
    CHECK_EQ(first(79, 0xff, 20), DEMUX_TURN);
    CHECK_EQ(first(80, 0, 20), DEMUX_UNKNOWN);
    CHECK_EQ(first(127, 0, 20), DEMUX_UNKNOWN);
    CHECK_EQ(first(128, 96, 20), DEMUX_RTP);
    CHECK_EQ(first(0x90, 0xe0, 20), DEMUX_RTP); /* M=1, PT 96 */
    CHECK_EQ(first(191, 0, 20), DEMUX_RTP);
    CHECK_EQ(first(192, 96, 20), DEMUX_UNKNOWN);
    CHECK_EQ(first(255, 96, 20), DEMUX_UNKNOWN);
}

static void test_rtcp_split(void)
{
    CHECK_EQ(first(0x80, 200, 8), DEMUX_RTCP); /* SR */
    CHECK_EQ(first(0x81, 201, 8), DEMUX_RTCP); /* RR */
    CHECK_EQ(first(0x8f, 205, 8), DEMUX_RTCP); /* TWCC */
    CHECK_EQ(first(0x81, 206, 8), DEMUX_RTCP); /* PLI */
    CHECK_EQ(first(0x80, 192, 8), DEMUX_RTCP);
    CHECK_EQ(first(0x80, 223, 8), DEMUX_RTCP);
    CHECK_EQ(first(0x80, 191, 12), DEMUX_RTP); /* M=1, PT 63 */
    CHECK_EQ(first(0x80, 224, 12), DEMUX_RTP); /* M=1, PT 96 */
}

static void test_short(void)
{
    CHECK_EQ(demux_classify(NULL, 0), DEMUX_UNKNOWN);
    CHECK_EQ(first(0, 1, 0), DEMUX_UNKNOWN);
    CHECK_EQ(first(0, 1, 19), DEMUX_UNKNOWN);
    CHECK_EQ(first(22, 0xfe, 12), DEMUX_UNKNOWN);
    CHECK_EQ(first(22, 0xfe, 13), DEMUX_DTLS);
    CHECK_EQ(first(64, 0, 3), DEMUX_UNKNOWN);
    CHECK_EQ(first(0x80, 96, 1), DEMUX_UNKNOWN);
    CHECK_EQ(first(0x80, 96, 11), DEMUX_UNKNOWN);
    CHECK_EQ(first(0x80, 96, 12), DEMUX_RTP);
    CHECK_EQ(first(0x80, 200, 3), DEMUX_UNKNOWN);
    CHECK_EQ(first(0x80, 200, 4), DEMUX_RTCP);
    CHECK_EQ(first(16, 0, 11), DEMUX_UNKNOWN);
}

int main(void)
{
    test_ranges();
    test_rtcp_split();
    test_short();
    return test_report();
}
