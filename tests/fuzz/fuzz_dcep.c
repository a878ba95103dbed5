/* Fuzz entry point for relay/wire/dcep.c: parses an SCTP user message as DCEP (RFC 8832
 * §5), checks the view stays inside the buffer and describes all of it, writes what
 * parsed back into an exact-size buffer, requires the same bytes (but a reliable
 * channel's reliability parameter, which is written as 0) and, parsed again, the same
 * content. */
#include <stdlib.h>
#include <string.h>

#include "wire/dcep.h"
#include "require.h"

static bool same_open(const struct dcep_open *a, const struct dcep_open *b)
{
    return a->channel_type == b->channel_type && a->priority == b->priority &&
           a->reliability_param == b->reliability_param && a->label_len == b->label_len &&
           a->protocol_len == b->protocol_len && memcmp(a->label, b->label, a->label_len) == 0 &&
           memcmp(a->protocol, b->protocol, a->protocol_len) == 0;
}

static void check_open(const uint8_t *buf, size_t size, const struct dcep_open *o)
{
    REQUIRE(size >= DCEP_OPEN_HEADER_LEN && buf[0] == DCEP_MSG_OPEN);
    REQUIRE(o->label == (const char *)buf + DCEP_OPEN_HEADER_LEN);
    REQUIRE(o->protocol == o->label + o->label_len);
    REQUIRE(DCEP_OPEN_HEADER_LEN + o->label_len + o->protocol_len == size); /* no trailing */
    REQUIRE(dcep_channel_type_known(o->channel_type));
    REQUIRE(dcep_channel_ordered(o->channel_type) == !(buf[1] & 0x80));
    REQUIRE(!dcep_channel_reliable(o->channel_type) || o->reliability_param == 0);

    uint8_t *out = malloc(size); /* exact size: a write past cap is caught */
    REQUIRE(dcep_write_open(out, size - 1, o) == 0);
    REQUIRE(dcep_write_open(out, size, o) == size);
    bool reliable = dcep_channel_reliable(o->channel_type);
    REQUIRE(memcmp(out, buf, 4) == 0);
    REQUIRE(memcmp(out + 4, reliable ? (const uint8_t *)"\0\0\0\0" : buf + 4, 4) == 0);
    REQUIRE(memcmp(out + 8, buf + 8, size - 8) == 0);
    struct dcep_msg again;
    REQUIRE(dcep_parse(out, size, &again) == 0);
    REQUIRE(again.type == DCEP_MSG_OPEN && same_open(&again.open, o));
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1); /* exact size: overreads are caught */
    if (size)
        memcpy(buf, data, size);
    struct dcep_msg m;
    int rc = dcep_parse(buf, size, &m);
    REQUIRE(rc <= 0 && rc >= DCEP_ERR_CHANNEL_TYPE);
    if (rc < 0) {
        REQUIRE(m.type == 0 && m.open.label == NULL && m.open.protocol == NULL);
    } else if (m.type == DCEP_MSG_ACK) {
        REQUIRE(size == DCEP_ACK_LEN && buf[0] == DCEP_MSG_ACK && m.open.label == NULL);
        uint8_t *out = malloc(1);
        REQUIRE(dcep_write_ack(out, 0) == 0 && dcep_write_ack(out, 1) == DCEP_ACK_LEN);
        REQUIRE(out[0] == buf[0] && dcep_parse(out, 1, &m) == 0 && m.type == DCEP_MSG_ACK);
        free(out);
    } else {
        REQUIRE(m.type == DCEP_MSG_OPEN);
        check_open(buf, size, &m.open);
    }
    free(buf);
    return 0;
}
