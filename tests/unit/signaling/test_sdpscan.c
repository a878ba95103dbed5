/* Tests signaling/front/sdpscan.c: sdpscan_next_line and sdpscan_has_prefix on
 * application/trickle-ice-sdpfrag bodies (RFC 8840 §9). Offers are the relay's to read:
 * tests/unit/wire/test_sdp.c and tests/unit/relay/test_negotiate.c. */
#include <stdlib.h>

#include "front/sdpscan.h"
#include "test.h"

/* RFC 8840 §9 fragment, as a WHIP client sends it in a PATCH (RFC 9725 §4.3.1). */
static const char sdpfrag[] = "a=ice-ufrag:EsAw\r\n"
                              "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
                              "m=audio 9 RTP/AVP 0\r\n"
                              "a=mid:0\r\n"
                              "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host "
                              "generation 0 ufrag EsAw network-id 1\r\n"
                              "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ "
                              "host generation 0 ufrag EsAw network-id 2\r\n"
                              "a=end-of-candidates\r\n";

static void test_next_line(void)
{
    size_t pos = 0, n, count = 0;
    const char *line;
    const char *expect[] = {"a=ice-ufrag:EsAw", "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1",
                            "m=audio 9 RTP/AVP 0", "a=mid:0"};
    int candidates = 0, ends = 0;
    while (sdpscan_next_line(sdpfrag, sizeof sdpfrag - 1, &pos, &line, &n)) {
        if (count < 4)
            CHECK(n == strlen(expect[count]) && memcmp(line, expect[count], n) == 0);
        CHECK(memchr(line, '\r', n) == NULL);
        CHECK(memchr(line, '\n', n) == NULL);
        candidates += sdpscan_has_prefix(line, n, "a=candidate:");
        ends += sdpscan_has_prefix(line, n, "a=end-of-candidates");
        count++;
    }
    CHECK_EQ(count, 7);
    CHECK_EQ(candidates, 2);
    CHECK_EQ(ends, 1);
    CHECK_EQ(pos, sizeof sdpfrag - 1);
    CHECK(!sdpscan_next_line(sdpfrag, sizeof sdpfrag - 1, &pos, &line, &n)); /* stays at end */
    CHECK_EQ(pos, sizeof sdpfrag - 1);

    /* empty body, empty lines, a last line without an ending, a bare CR at the end */
    pos = 0;
    CHECK(!sdpscan_next_line("", 0, &pos, &line, &n));
    static const char empties[] = "\n\r\n\nabc\r";
    pos = 0;
    count = 0;
    size_t lens[8];
    while (count < 8 && sdpscan_next_line(empties, sizeof empties - 1, &pos, &line, &n))
        lens[count++] = n;
    CHECK_EQ(count, 4);
    CHECK_EQ(lens[0], 0);
    CHECK_EQ(lens[1], 0);
    CHECK_EQ(lens[2], 0);
    CHECK_EQ(lens[3], 3);
    CHECK_EQ(pos, sizeof empties - 1);

    /* a line ending split across the length bound: only len bytes are looked at */
    pos = 0;
    CHECK(sdpscan_next_line("ab\r\ncd", 3, &pos, &line, &n));
    CHECK_EQ(n, 2);
    CHECK_EQ(pos, 3);
    CHECK(!sdpscan_next_line("ab\r\ncd", 3, &pos, &line, &n));

    /* pos past the end (a caller's mistake) ends the walk */
    pos = 100;
    CHECK(!sdpscan_next_line("abc", 3, &pos, &line, &n));

    /* has_prefix */
    CHECK(sdpscan_has_prefix("a=mid:0", 7, "a=mid:"));
    CHECK(sdpscan_has_prefix("a=mid:", 6, "a=mid:"));
    CHECK(!sdpscan_has_prefix("a=mid:0", 5, "a=mid:")); /* the length bounds it */
    CHECK(!sdpscan_has_prefix("a=mi", 4, "a=mid:"));
    CHECK(sdpscan_has_prefix("x", 0, ""));
    CHECK(!sdpscan_has_prefix("A=MID:0", 7, "a=mid:"));
}

int main(void)
{
    test_next_line();
    return test_report();
}
