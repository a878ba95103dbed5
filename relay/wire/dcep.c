/* DCEP (RFC 8832 §5) parse and write: see dcep.h. The parser reads the fixed header with
 * the bounds-checked reader of base/bytes.h, then takes label and protocol one at a time
 * against what is left, so two 16-bit lengths are never summed before they are checked. */
#include "wire/dcep.h"

#include <string.h>

#include "base/bytes.h"

#define UNORDERED_BIT 0x80

bool dcep_channel_type_known(uint8_t channel_type)
{
    return (channel_type & ~UNORDERED_BIT) <= DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED;
}

bool dcep_channel_ordered(uint8_t channel_type) { return !(channel_type & UNORDERED_BIT); }

bool dcep_channel_reliable(uint8_t channel_type)
{
    return (channel_type & ~UNORDERED_BIT) == DCEP_CHANNEL_RELIABLE;
}

/* Takes n bytes of r as a string, or -1 when fewer are left. */
static int take_string(struct cr_reader *r, uint16_t n, const char **s, size_t *len)
{
    *s = (const char *)r->p;
    *len = n;
    return rdr_skip(r, n);
}

/* RFC 8832 §5.1, after the message type. */
static int parse_open(struct cr_reader *r, struct dcep_open *o)
{
    uint16_t label_len, protocol_len;
    if (rdr_u8(r, &o->channel_type) != 0 || rdr_u16(r, &o->priority) != 0 ||
        rdr_u32(r, &o->reliability_param) != 0 || rdr_u16(r, &label_len) != 0 ||
        rdr_u16(r, &protocol_len) != 0)
        return DCEP_ERR_SHORT;
    if (take_string(r, label_len, &o->label, &o->label_len) != 0 ||
        take_string(r, protocol_len, &o->protocol, &o->protocol_len) != 0)
        return DCEP_ERR_LENGTH;
    if (r->left != 0)
        return DCEP_ERR_TRAILING;
    if (!dcep_channel_type_known(o->channel_type))
        return DCEP_ERR_CHANNEL_TYPE;
    if (dcep_channel_reliable(o->channel_type))
        o->reliability_param = 0; /* §5.1: MUST be ignored on the receiving side */
    return 0;
}

int dcep_parse(const uint8_t *buf, size_t len, struct dcep_msg *out)
{
    memset(out, 0, sizeof(*out));
    struct cr_reader r = {buf, len};
    uint8_t type;
    if (rdr_u8(&r, &type) != 0)
        return DCEP_ERR_SHORT;
    struct dcep_open o = {0};
    if (type == DCEP_MSG_ACK) {
        if (r.left != 0) /* §5.2: the message type is the whole message */
            return DCEP_ERR_TRAILING;
    } else if (type == DCEP_MSG_OPEN) {
        int rc = parse_open(&r, &o);
        if (rc < 0)
            return rc;
    } else {
        return DCEP_ERR_TYPE;
    }
    out->type = type;
    out->open = o;
    return 0;
}

size_t dcep_write_open(uint8_t *out, size_t cap, const struct dcep_open *o)
{
    if (!dcep_channel_type_known(o->channel_type) || o->label_len > DCEP_MAX_STRING ||
        o->protocol_len > DCEP_MAX_STRING)
        return 0;
    size_t n = DCEP_OPEN_HEADER_LEN + o->label_len + o->protocol_len; /* ≤ 131,082 */
    if (n > cap)
        return 0;
    out[0] = DCEP_MSG_OPEN;
    out[1] = o->channel_type;
    wr_be16(out + 2, o->priority);
    wr_be32(out + 4, dcep_channel_reliable(o->channel_type) ? 0 : o->reliability_param);
    wr_be16(out + 8, (uint16_t)o->label_len);
    wr_be16(out + 10, (uint16_t)o->protocol_len);
    if (o->label_len)
        memcpy(out + DCEP_OPEN_HEADER_LEN, o->label, o->label_len);
    if (o->protocol_len)
        memcpy(out + DCEP_OPEN_HEADER_LEN + o->label_len, o->protocol, o->protocol_len);
    return n;
}

size_t dcep_write_ack(uint8_t *out, size_t cap)
{
    if (cap < DCEP_ACK_LEN)
        return 0;
    out[0] = DCEP_MSG_ACK;
    return DCEP_ACK_LEN;
}
