/* Tests signaling/sdpscan.c: sdpscan_offer on real offers (Chromium with and without
 * simulcast, aiortc, a Firefox-style LF offer with session-level ICE credentials; read
 * from tests/fuzz/corpus/sdp/ next to this file), rejected and bundle-only m-lines
 * (RFC 8843 §6), missing mids, direction attributes, LF vs CRLF, the m-line limit and
 * every fixed-size field's limit, text that is not SDP; and sdpscan_next_line and
 * sdpscan_has_prefix on application/trickle-ice-sdpfrag bodies (RFC 8840 §9). */
#include <stdlib.h>

#include "front/sdpscan.h"
#include "test.h"

static struct sdpscan S;

static int scan(const char *text, const char **why)
{
    *why = NULL;
    return sdpscan_offer(text, strlen(text), &S, why);
}

static void test_chrome(void)
{
    size_t len;
    const char *why = NULL;
    char *t = test_sdp_fixture("chrome_offer.sdp", &len);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_EQ(sdpscan_offer(t, len, &S, &why), 0);
    CHECK_EQ(S.n, 2);
    CHECK_STR(S.m[0].kind, "audio");
    CHECK_STR(S.m[0].mid, "0");
    CHECK_EQ(S.m[0].dir, SDPSCAN_SENDRECV);
    CHECK(!S.m[0].rejected);
    CHECK(sdpscan_client_sends(&S.m[0]));
    CHECK_STR(S.m[1].kind, "video");
    CHECK_STR(S.m[1].mid, "1");
    CHECK_EQ(S.m[1].dir, SDPSCAN_SENDRECV);
    CHECK(!S.m[1].rejected);
    CHECK_STR(S.ice_ufrag, "E4fU");
    free(t);

    t = test_sdp_fixture("chrome_simulcast_offer.sdp", &len);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_EQ(sdpscan_offer(t, len, &S, &why), 0);
    CHECK_EQ(S.n, 2);
    CHECK_EQ(S.m[0].dir, SDPSCAN_SENDRECV);
    CHECK_EQ(S.m[1].dir, SDPSCAN_SENDONLY);
    CHECK(sdpscan_client_sends(&S.m[1]));
    CHECK_STR(S.ice_ufrag, "GfWB");

    /* the same text with LF line endings scans the same */
    char *lf = malloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] != '\r')
            lf[n++] = t[i];
    }
    struct sdpscan crlf_scan = S;
    CHECK_EQ(sdpscan_offer(lf, n, &S, &why), 0);
    CHECK_EQ(memcmp(&S, &crlf_scan, sizeof S), 0);
    free(lf);
    free(t);
}

static void test_aiortc(void)
{
    size_t len;
    const char *why;
    char *t = test_sdp_fixture("aiortc_offer.sdp", &len);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_EQ(sdpscan_offer(t, len, &S, &why), 0);
    CHECK_EQ(S.n, 2);
    CHECK_STR(S.m[0].kind, "audio");
    CHECK_STR(S.m[0].mid, "0");
    CHECK_STR(S.m[1].kind, "video");
    CHECK_STR(S.m[1].mid, "1");
    CHECK_STR(S.ice_ufrag, "CEnj"); /* the first one seen; the video line has its own */
    free(t);
}

static void test_session_level_lf(void)
{
    size_t len;
    const char *why;
    char *t = test_sdp_fixture("session_level_lf.sdp", &len);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(memchr(t, '\r', len) == NULL);
    CHECK_EQ(sdpscan_offer(t, len, &S, &why), 0);
    CHECK_EQ(S.n, 2);
    CHECK_STR(S.ice_ufrag, "sessufrag");
    CHECK_EQ(S.m[0].dir, SDPSCAN_SENDRECV);
    CHECK_STR(S.m[0].mid, "0");
    CHECK_EQ(S.m[1].dir, SDPSCAN_RECVONLY);
    CHECK_STR(S.m[1].mid, "1");
    CHECK(!sdpscan_client_sends(&S.m[1]));
    free(t);

    /* small fixtures: no mids, odd ports */
    t = test_sdp_fixture("errors_small.sdp", &len);
    if (t) {
        CHECK_EQ(sdpscan_offer(t, len, &S, &why), 0);
        CHECK_EQ(S.n, 1);
        CHECK_STR(S.m[0].kind, "video");
        CHECK_STR(S.m[0].mid, "");
        free(t);
    }
    t = test_sdp_fixture("extmap_dir.sdp", &len);
    if (t) {
        CHECK_EQ(sdpscan_offer(t, len, &S, &why), 0);
        CHECK_EQ(S.n, 1);
        CHECK_STR(S.m[0].kind, "audio");
        CHECK(!S.m[0].rejected);
        CHECK_EQ(S.m[0].dir, SDPSCAN_SENDRECV); /* a=extmap:3/recvonly is not a direction */
        free(t);
    }
}

static void test_not_sdp(void)
{
    const char *why;
    static const char *const bad[] = {
        "",
        "v=1\r\nm=audio 9 RTP/AVP 0\r\n",
        "v=0 \r\nm=audio 9 RTP/AVP 0\r\n",
        " v=0\r\nm=audio 9 RTP/AVP 0\r\n",
        "\xef\xbb\xbfv=0\r\nm=audio 9 RTP/AVP 0\r\n", /* a byte-order mark */
        "\r\nv=0\r\nm=audio 9 RTP/AVP 0\r\n",
        "o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n",
        "v=",
        "v=00\r\n",
        "{\"type\":\"offer\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(scan(bad[i], &why), -1);
        CHECK(why && strstr(why, "v=0") != NULL);
    }
    CHECK_EQ(scan("v=0", &why), -1); /* no m-lines */
    CHECK(why && strstr(why, "no m-lines") != NULL);
    CHECK_EQ(scan("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", &why), -1);
    CHECK(why && strstr(why, "no m-lines") != NULL);
    CHECK_EQ(scan("v=0\r\nM=audio 9 RTP/AVP 0\r\n", &why), -1);

    /* v=0 without a line ending is the whole first line */
    CHECK_EQ(scan("v=0\nm=audio 9 RTP/AVP 0", &why), 0);
    CHECK_EQ(S.n, 1);
}

static void test_mlines(void)
{
    const char *why;
    CHECK_EQ(scan("v=0\r\n"
                  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                  "a=mid:a\r\n"
                  "a=sendonly\r\n"
                  "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n" /* rejected */
                  "a=mid:v\r\n"
                  "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n" /* bundle-only: not rejected */
                  "a=bundle-only\r\n"
                  "a=mid:v2\r\n"
                  "a=sendonly\r\n"
                  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                  "a=mid:d\r\n"
                  "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" /* no mid */
                  "a=recvonly\r\n"
                  "m=audio 09 RTP/AVP 0\r\n"
                  "a=inactive\r\n",
                  &why),
             0);
    CHECK_EQ(S.n, 6);
    CHECK_STR(S.m[0].kind, "audio");
    CHECK_STR(S.m[0].mid, "a");
    CHECK_EQ(S.m[0].dir, SDPSCAN_SENDONLY);
    CHECK(sdpscan_client_sends(&S.m[0]));
    CHECK(S.m[1].rejected);
    CHECK_STR(S.m[1].mid, "v");
    CHECK(!sdpscan_client_sends(&S.m[1])); /* sendrecv by default, but rejected */
    CHECK(!S.m[2].rejected); /* RFC 8843 §6: port 0 with a=bundle-only is in the bundle */
    CHECK_STR(S.m[2].mid, "v2");
    CHECK(sdpscan_client_sends(&S.m[2]));
    CHECK_STR(S.m[3].kind, "application");
    CHECK_STR(S.m[3].mid, "d");
    CHECK_STR(S.m[4].mid, "");
    CHECK_EQ(S.m[4].dir, SDPSCAN_RECVONLY);
    CHECK(!sdpscan_client_sends(&S.m[4]));
    CHECK(!S.m[5].rejected); /* "09" is not port 0's spelling */
    CHECK_EQ(S.m[5].dir, SDPSCAN_INACTIVE);
    CHECK(!sdpscan_client_sends(&S.m[5]));
    CHECK_STR(S.ice_ufrag, "");

    /* a=bundle-only on a line with a port is just a flag; before any m-line it is ignored */
    CHECK_EQ(scan("v=0\r\na=bundle-only\r\nm=audio 0 RTP/AVP 0\r\nm=audio 9 RTP/AVP 0\r\n"
                  "a=bundle-only\r\n",
                  &why),
             0);
    CHECK(S.m[0].rejected);
    CHECK(!S.m[1].rejected);

    /* session-level a=mid and directions belong to no m-line */
    CHECK_EQ(scan("v=0\r\na=mid:x\r\na=recvonly\r\nm=audio 9 RTP/AVP 0\r\n", &why), 0);
    CHECK_STR(S.m[0].mid, "");
    CHECK_EQ(S.m[0].dir, SDPSCAN_SENDRECV);

    /* the last direction attribute wins, as in the relay's parser (relay/wire/sdp.c) */
    CHECK_EQ(scan("v=0\r\nm=audio 9 RTP/AVP 0\r\na=recvonly\r\na=sendrecv\r\n"
                  "m=audio 9 RTP/AVP 0\r\na=sendonly\r\na=inactive\r\n",
                  &why),
             0);
    CHECK_EQ(S.m[0].dir, SDPSCAN_SENDRECV);
    CHECK_EQ(S.m[1].dir, SDPSCAN_INACTIVE);

    /* direction attribute names are matched whole */
    CHECK_EQ(
        scan("v=0\r\nm=audio 9 RTP/AVP 0\r\na=sendonlyx\r\na=recvonly \r\na=inactiv\r\n", &why), 0);
    CHECK_EQ(S.m[0].dir, SDPSCAN_SENDRECV);

    /* the last a=mid of an m-line wins */
    CHECK_EQ(scan("v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:1\r\na=mid:2\r\n", &why), 0);
    CHECK_STR(S.m[0].mid, "2");

    /* an empty a=ice-ufrag does not count as the first one */
    CHECK_EQ(scan("v=0\r\na=ice-ufrag:\r\nm=audio 9 RTP/AVP 0\r\na=ice-ufrag:abcd\r\n"
                  "a=ice-ufrag:efgh\r\n",
                  &why),
             0);
    CHECK_STR(S.ice_ufrag, "abcd");

    /* malformed m-lines */
    static const char *const bad[] = {"v=0\r\nm=audio\r\n", "v=0\r\nm=\r\n", "v=0\r\nm=audio",
                                      "v=0\r\nm=0123456789abcdef 9 RTP/AVP 0\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(scan(bad[i], &why), -1);
        CHECK(why && strstr(why, "malformed m-line") != NULL);
    }
    CHECK_EQ(scan("v=0\r\nm=0123456789abcde 9 RTP/AVP 0\r\n", &why), 0); /* 15 characters fit */
    CHECK_STR(S.m[0].kind, "0123456789abcde");
    CHECK_EQ(scan("v=0\r\nm= 9 RTP/AVP 0\r\n", &why), 0); /* empty media: the relay's call */
    CHECK_STR(S.m[0].kind, "");
    CHECK_EQ(scan("v=0\r\nm=audio 0", &why), 0); /* port 0 and nothing after it */
    CHECK_EQ(S.n, 1);
}

static void test_limits(void)
{
    const char *why;
    static char text[SDPSCAN_MAX_MLINES * 40 + 4096];
    size_t n = (size_t)snprintf(text, sizeof text, "v=0\r\n");
    for (int i = 0; i < SDPSCAN_MAX_MLINES; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "m=audio 9 RTP/AVP 0\r\na=mid:%d\r\n", i);
    CHECK_EQ(sdpscan_offer(text, n, &S, &why), 0);
    CHECK_EQ(S.n, SDPSCAN_MAX_MLINES);
    CHECK_STR(S.m[SDPSCAN_MAX_MLINES - 1].mid, "127");
    n += (size_t)snprintf(text + n, sizeof text - n, "m=video 9 RTP/AVP 96\r\n");
    CHECK_EQ(sdpscan_offer(text, n, &S, &why), -1);
    CHECK(strstr(why, "too many m-lines") != NULL);

    /* a=mid: CR_MID_MAX - 1 characters fit */
    char mid[CR_MID_MAX + 8];
    memset(mid, 'm', CR_MID_MAX - 1);
    mid[CR_MID_MAX - 1] = '\0';
    snprintf(text, sizeof text, "v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:%s\r\n", mid);
    CHECK_EQ(scan(text, &why), 0);
    CHECK_EQ(strlen(S.m[0].mid), CR_MID_MAX - 1);
    snprintf(text, sizeof text, "v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:%sm\r\n", mid);
    CHECK_EQ(scan(text, &why), -1);
    CHECK(strstr(why, "a=mid value too long") != NULL);

    /* a=ice-ufrag: 63 characters fit */
    char ufrag[80];
    memset(ufrag, 'u', 63);
    ufrag[63] = '\0';
    snprintf(text, sizeof text, "v=0\r\na=ice-ufrag:%s\r\nm=audio 9 RTP/AVP 0\r\n", ufrag);
    CHECK_EQ(scan(text, &why), 0);
    CHECK_EQ(strlen(S.ice_ufrag), 63);
    snprintf(text, sizeof text, "v=0\r\na=ice-ufrag:%su\r\nm=audio 9 RTP/AVP 0\r\n", ufrag);
    CHECK_EQ(scan(text, &why), -1);
    CHECK(strstr(why, "a=ice-ufrag value too long") != NULL);
    /* a second, over-long ufrag is not read at all */
    snprintf(text, sizeof text,
             "v=0\r\na=ice-ufrag:ab\r\nm=audio 9 RTP/AVP 0\r\na=ice-ufrag:%su\r\n", ufrag);
    CHECK_EQ(scan(text, &why), 0);
    CHECK_STR(S.ice_ufrag, "ab");

    /* a huge attribute line is no problem for a line the scan does not keep */
    static char big[70000];
    n = (size_t)snprintf(big, sizeof big, "v=0\r\nm=audio 9 RTP/AVP 0\r\na=x:");
    memset(big + n, 'x', 60000);
    n += 60000;
    n += (size_t)snprintf(big + n, sizeof big - n, "\r\na=mid:0\r\n");
    CHECK_EQ(sdpscan_offer(big, n, &S, &why), 0);
    CHECK_STR(S.m[0].mid, "0");
}

static void test_bytes(void)
{
    const char *why;
    /* the length bounds the scan: nothing past len is read, no NUL terminator needed */
    static const char text[] = "v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\nm=video 9 RTP/AVP 96\r\n";
    char *exact = malloc(sizeof text - 1);
    memcpy(exact, text, sizeof text - 1);
    CHECK_EQ(sdpscan_offer(exact, sizeof text - 1, &S, &why), 0);
    CHECK_EQ(S.n, 2);
    size_t cut = (size_t)(strstr(text, "m=video") - text);
    CHECK_EQ(sdpscan_offer(exact, cut, &S, &why), 0);
    CHECK_EQ(S.n, 1);
    CHECK_EQ(sdpscan_offer(exact, cut + 2, &S, &why), -1); /* "m=" alone */
    CHECK_EQ(sdpscan_offer(exact, 2, &S, &why), -1);       /* "v=" */
    free(exact);

    /* NUL bytes inside lines */
    static const char nul[] = "v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\0x\r\na=sendonly\0\r\n";
    CHECK_EQ(sdpscan_offer(nul, sizeof nul - 1, &S, &why), 0);
    CHECK_EQ(S.n, 1);
    CHECK_STR(S.m[0].mid, "0"); /* the copy keeps the NUL: a C string stops there */
    CHECK_EQ(S.m[0].dir, SDPSCAN_SENDRECV);

    /* mixed and bare line endings */
    CHECK_EQ(scan("v=0\nm=audio 9 RTP/AVP 0\r\na=mid:0\n\n\r\na=recvonly\r\n", &why), 0);
    CHECK_STR(S.m[0].mid, "0");
    CHECK_EQ(S.m[0].dir, SDPSCAN_RECVONLY);
    CHECK_EQ(scan("v=0\r\r\nm=audio 9 RTP/AVP 0\r\n", &why), -1); /* "v=0\r" */
}

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

static void test_client_sends(void)
{
    struct sdpscan_mline m = {.dir = SDPSCAN_SENDRECV};
    CHECK(sdpscan_client_sends(&m));
    m.dir = SDPSCAN_SENDONLY;
    CHECK(sdpscan_client_sends(&m));
    m.dir = SDPSCAN_RECVONLY;
    CHECK(!sdpscan_client_sends(&m));
    m.dir = SDPSCAN_INACTIVE;
    CHECK(!sdpscan_client_sends(&m));
    m.dir = SDPSCAN_SENDONLY;
    m.rejected = true;
    CHECK(!sdpscan_client_sends(&m));
}

int main(void)
{
    test_chrome();
    test_aiortc();
    test_session_level_lf();
    test_not_sdp();
    test_mlines();
    test_limits();
    test_bytes();
    test_next_line();
    test_client_sends();
    return test_report();
}
