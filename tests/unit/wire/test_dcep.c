/* Tests relay/wire/dcep.c: the DATA_CHANNEL_OPEN Chromium sends, ACK, round trips of every
 * channel type, a UTF-8 label, the longest label and protocol, every refusal of the
 * parser (truncation, lengths past the end or overflowing, unknown message and channel
 * types, trailing bytes) and the writers' refusals (too small a buffer, what the format
 * cannot carry). */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "wire/dcep.h"

/* new RTCDataChannel("events") in Chromium: reliable, ordered, no protocol. */
static const uint8_t chrome_open[] = {
    0x03, 0x00, 0x00, 0x00,           /* OPEN, RELIABLE, priority 0 */
    0x00, 0x00, 0x00, 0x00,           /* reliability parameter */
    0x00, 0x06, 0x00, 0x00,           /* label length 6, protocol length 0 */
    'e',  'v',  'e',  'n',  't', 's', /* label */
};

static void test_parse_chrome(void)
{
    struct dcep_msg m;
    CHECK_EQ(dcep_parse(chrome_open, sizeof chrome_open, &m), 0);
    CHECK_EQ(m.type, DCEP_MSG_OPEN);
    CHECK_EQ(m.open.channel_type, DCEP_CHANNEL_RELIABLE);
    CHECK_EQ(m.open.priority, 0);
    CHECK_EQ(m.open.reliability_param, 0);
    CHECK(m.open.label == (const char *)chrome_open + 12);
    CHECK_EQ(m.open.label_len, 6);
    CHECK(memcmp(m.open.label, "events", 6) == 0);
    CHECK(m.open.protocol == (const char *)chrome_open + sizeof chrome_open); /* empty */
    CHECK_EQ(m.open.protocol_len, 0);
    CHECK(dcep_channel_ordered(m.open.channel_type));
    CHECK(dcep_channel_reliable(m.open.channel_type));

    /* and the writer gives the same bytes back */
    uint8_t out[64];
    CHECK_EQ(dcep_write_open(out, sizeof out, &m.open), sizeof chrome_open);
    CHECK(memcmp(out, chrome_open, sizeof chrome_open) == 0);
}

static void test_ack(void)
{
    uint8_t out[4] = {0xAA, 0xAA, 0xAA, 0xAA};
    CHECK_EQ(dcep_write_ack(out, 0), 0);
    CHECK_EQ(out[0], 0xAA);
    CHECK_EQ(dcep_write_ack(out, sizeof out), DCEP_ACK_LEN);
    CHECK_EQ(out[0], 0x02);
    CHECK_EQ(out[1], 0xAA);
    struct dcep_msg m;
    CHECK_EQ(dcep_parse(out, 1, &m), 0);
    CHECK_EQ(m.type, DCEP_MSG_ACK);
    CHECK(m.open.label == NULL && m.open.label_len == 0 && m.open.protocol == NULL);
}

static void test_roundtrip_types(void)
{
    static const uint8_t types[] = {
        DCEP_CHANNEL_RELIABLE,
        DCEP_CHANNEL_RELIABLE_UNORDERED,
        DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT,
        DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED,
        DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED,
        DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED,
    };
    for (size_t i = 0; i < sizeof types; i++) {
        struct dcep_open o = {
            .channel_type = types[i],
            .priority = 512,
            .reliability_param = 0x01020304,
            .label = "whiteboard",
            .label_len = 10,
            .protocol = "x-classrelay",
            .protocol_len = 12,
        };
        uint8_t out[64];
        size_t n = dcep_write_open(out, sizeof out, &o);
        CHECK_EQ(n, 12 + 10 + 12);
        CHECK_EQ(out[1], types[i]);
        struct dcep_msg m;
        CHECK_EQ(dcep_parse(out, n, &m), 0);
        CHECK_EQ(m.type, DCEP_MSG_OPEN);
        CHECK_EQ(m.open.channel_type, types[i]);
        CHECK_EQ(m.open.priority, 512);
        bool reliable = (types[i] & 0x7f) == 0;
        /* §5.1: written as 0 for the reliable types, and ignored when read */
        CHECK_EQ(m.open.reliability_param, reliable ? 0 : 0x01020304);
        CHECK(memcmp(out + 4, reliable ? "\0\0\0\0" : "\x01\x02\x03\x04", 4) == 0);
        CHECK_EQ(m.open.label_len, 10);
        CHECK(memcmp(m.open.label, "whiteboard", 10) == 0);
        CHECK_EQ(m.open.protocol_len, 12);
        CHECK(memcmp(m.open.protocol, "x-classrelay", 12) == 0);
        CHECK(m.open.protocol == (const char *)out + 22);
        CHECK_EQ(dcep_channel_reliable(types[i]), reliable);
        CHECK_EQ(dcep_channel_ordered(types[i]), types[i] < 0x80);
        CHECK(dcep_channel_type_known(types[i]));
    }
}

/* A sender that breaks §5.1's MUST: the receiver ignores the parameter. */
static void test_reliable_param_ignored(void)
{
    uint8_t msg[sizeof chrome_open];
    memcpy(msg, chrome_open, sizeof msg);
    msg[1] = DCEP_CHANNEL_RELIABLE_UNORDERED;
    msg[7] = 5;
    struct dcep_msg m;
    CHECK_EQ(dcep_parse(msg, sizeof msg, &m), 0);
    CHECK_EQ(m.open.reliability_param, 0);
    msg[1] = DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED;
    CHECK_EQ(dcep_parse(msg, sizeof msg, &m), 0);
    CHECK_EQ(m.open.reliability_param, 5);
    CHECK(!dcep_channel_ordered(m.open.channel_type));
    CHECK(!dcep_channel_reliable(m.open.channel_type));
}

static void test_utf8_label(void)
{
    /* "Klasse 7b – Gruß 日本 🎓": 2-, 3- and 4-byte sequences, 31 bytes */
    const char label[] = "Klasse 7b \xe2\x80\x93 Gru\xc3\x9f \xe6\x97\xa5\xe6\x9c\xac "
                         "\xf0\x9f\x8e\x93";
    const char proto[] = "chat\xc2\xb7v1";
    struct dcep_open o = {.channel_type = DCEP_CHANNEL_RELIABLE,
                          .label = label,
                          .label_len = sizeof label - 1,
                          .protocol = proto,
                          .protocol_len = sizeof proto - 1};
    uint8_t out[128];
    size_t n = dcep_write_open(out, sizeof out, &o);
    CHECK_EQ(n, 12 + 31 + 8);
    CHECK_EQ(out[9], 31); /* a length in bytes, not characters */
    struct dcep_msg m;
    CHECK_EQ(dcep_parse(out, n, &m), 0);
    CHECK_EQ(m.open.label_len, 31);
    CHECK(memcmp(m.open.label, label, 31) == 0);
    CHECK_EQ(m.open.protocol_len, 8);
    CHECK(memcmp(m.open.protocol, proto, 8) == 0);
}

static void test_max_lengths(void)
{
    size_t max = DCEP_MAX_STRING, n = 12 + 2 * max;
    char *label = malloc(max + 1), *proto = malloc(max + 1);
    uint8_t *out = malloc(n + 1);
    memset(label, 'L', max + 1);
    memset(proto, 'P', max + 1);
    label[max - 1] = 'e';
    proto[max - 1] = 'p';
    struct dcep_open o = {.channel_type = DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED,
                          .reliability_param = 3000,
                          .label = label,
                          .label_len = max,
                          .protocol = proto,
                          .protocol_len = max};
    CHECK_EQ(dcep_write_open(out, n + 1, &o), n);
    CHECK_EQ(dcep_write_open(out, n - 1, &o), 0);
    struct dcep_msg m;
    CHECK_EQ(dcep_parse(out, n, &m), 0);
    CHECK_EQ(m.open.label_len, max);
    CHECK_EQ(m.open.protocol_len, max);
    CHECK(memcmp(m.open.label, label, max) == 0);
    CHECK(memcmp(m.open.protocol, proto, max) == 0);
    CHECK_EQ(m.open.reliability_param, 3000);
    /* one byte more than 16 bits can say: refused, not truncated */
    o.label_len = max + 1;
    CHECK_EQ(dcep_write_open(out, n + 1, &o), 0);
    o.label_len = max;
    o.protocol_len = max + 1;
    CHECK_EQ(dcep_write_open(out, n + 1, &o), 0);
    o.protocol_len = (size_t)-1; /* 12 + label + protocol would wrap */
    CHECK_EQ(dcep_write_open(out, n + 1, &o), 0);
    free(label);
    free(proto);
    free(out);
}

static void test_write_small_buffer(void)
{
    struct dcep_open o = {.channel_type = DCEP_CHANNEL_RELIABLE,
                          .label = "events",
                          .label_len = 6,
                          .protocol = "",
                          .protocol_len = 0};
    uint8_t out[sizeof chrome_open], untouched[sizeof chrome_open];
    memset(untouched, 0xAA, sizeof untouched);
    for (size_t cap = 0; cap < sizeof chrome_open; cap++) {
        memcpy(out, untouched, sizeof out);
        CHECK_EQ(dcep_write_open(out, cap, &o), 0);
        CHECK(memcmp(out, untouched, sizeof out) == 0);
    }
    CHECK_EQ(dcep_write_open(out, sizeof out, &o), sizeof chrome_open);
    o.channel_type = 0x03; /* not a channel type of §5.1 */
    CHECK_EQ(dcep_write_open(out, sizeof out, &o), 0);
}

/* Every refusal, and *out zeroed after each. */
static void expect_refused(const uint8_t *buf, size_t len, int want)
{
    struct dcep_msg m;
    memset(&m, 0x5A, sizeof m);
    CHECK_EQ(dcep_parse(buf, len, &m), want);
    CHECK(m.type == 0 && m.open.label == NULL && m.open.label_len == 0);
}

static void test_refusals(void)
{
    expect_refused(NULL, 0, DCEP_ERR_SHORT);
    for (size_t n = 1; n < DCEP_OPEN_HEADER_LEN; n++) /* inside the header */
        expect_refused(chrome_open, n, DCEP_ERR_SHORT);
    for (size_t n = DCEP_OPEN_HEADER_LEN; n < sizeof chrome_open; n++) /* label cut */
        expect_refused(chrome_open, n, DCEP_ERR_LENGTH);

    uint8_t msg[sizeof chrome_open + 1];
    memcpy(msg, chrome_open, sizeof chrome_open);
    msg[sizeof chrome_open] = 0;
    expect_refused(msg, sizeof msg, DCEP_ERR_TRAILING);
    const uint8_t ack_and_more[] = {0x02, 0x00};
    expect_refused(ack_and_more, sizeof ack_and_more, DCEP_ERR_TRAILING);

    /* the label fits, the protocol runs past the end */
    msg[11] = 2;
    expect_refused(msg, sizeof msg, DCEP_ERR_LENGTH);
    msg[11] = 1;
    struct dcep_msg m;
    CHECK_EQ(dcep_parse(msg, sizeof msg, &m), 0); /* the trailing byte was the protocol */
    CHECK_EQ(m.open.protocol_len, 1);

    /* lengths whose sum overflows 16 bits, and the largest both can say */
    memcpy(msg, chrome_open, sizeof chrome_open);
    memcpy(msg + 8, (const uint8_t[]){0xFF, 0xFF, 0x00, 0x02}, 4);
    expect_refused(msg, sizeof chrome_open, DCEP_ERR_LENGTH);
    memcpy(msg + 8, (const uint8_t[]){0xFF, 0xFF, 0xFF, 0xFF}, 4);
    expect_refused(msg, sizeof chrome_open, DCEP_ERR_LENGTH);
    memcpy(msg + 8, (const uint8_t[]){0x00, 0x06, 0xFF, 0xFF}, 4);
    expect_refused(msg, sizeof chrome_open, DCEP_ERR_LENGTH);

    /* message types: reserved 0x00, 0x01, 0xFF, unassigned 0x04..0xFE */
    static const uint8_t bad_types[] = {0x00, 0x01, 0x04, 0x7F, 0x80, 0xFE, 0xFF};
    for (size_t i = 0; i < sizeof bad_types; i++) {
        memcpy(msg, chrome_open, sizeof chrome_open);
        msg[0] = bad_types[i];
        expect_refused(msg, sizeof chrome_open, DCEP_ERR_TYPE);
        expect_refused(msg, 1, DCEP_ERR_TYPE);
    }

    /* channel types: unassigned, reserved 0x7F and 0xFF; checked after the structure */
    static const uint8_t bad_channels[] = {0x03, 0x10, 0x7F, 0x83, 0xC0, 0xFF};
    for (size_t i = 0; i < sizeof bad_channels; i++) {
        memcpy(msg, chrome_open, sizeof chrome_open);
        msg[1] = bad_channels[i];
        expect_refused(msg, sizeof chrome_open, DCEP_ERR_CHANNEL_TYPE);
        expect_refused(msg, sizeof chrome_open - 1, DCEP_ERR_LENGTH);
        CHECK(!dcep_channel_type_known(bad_channels[i]));
    }
}

int main(void)
{
    test_parse_chrome();
    test_ack();
    test_roundtrip_types();
    test_reliable_param_ignored();
    test_utf8_label();
    test_max_lengths();
    test_write_small_buffer();
    test_refusals();
    return test_report();
}
