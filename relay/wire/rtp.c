/* RTP packets in place: the fixed header, CSRC list, header extension block and padding
 * (RFC 3550 §5.1, §5.3.1), the elements of RFC 8285 header extensions in both forms
 * (one-byte §4.2, two-byte §4.3), a writer for the fixed header and for one-byte
 * extension blocks, and the original sequence number of RTX payloads (RFC 4588 §4).
 * Nothing here knows what an extension id means: ids are negotiated per peer in SDP
 * (sdp.h) and looked up by the caller. SRTP is removed (or added) before and after. */
#include "wire/rtp.h"

#include <string.h>

#include "base/bytes.h"

enum {
    RTP_FIXED_LEN = 12,
    EXT_ONE_BYTE = 0xBEDE,
    EXT_TWO_BYTE_MASK = 0xFFF0, /* RFC 8285 §4.3: 0x100 + 4 "appbits" */
    EXT_TWO_BYTE = 0x1000,
};

int rtp_parse(const uint8_t *buf, size_t len, struct rtp_view *out)
{
    if (!buf || len < RTP_FIXED_LEN)
        return -1;
    memset(out, 0, sizeof *out);
    /* RFC 3550 §5.1: V=2 | P | X | CC | M | PT | seq | timestamp | SSRC | CSRC... */
    out->version = buf[0] >> 6;
    if (out->version != 2)
        return -2;
    out->padding = (buf[0] >> 5) & 1;
    out->extension = (buf[0] >> 4) & 1;
    out->csrc_count = buf[0] & 0x0f;
    out->marker = buf[1] >> 7;
    out->payload_type = buf[1] & 0x7f;
    out->seq = rd_be16(buf + 2);
    out->timestamp = rd_be32(buf + 4);
    out->ssrc = rd_be32(buf + 8);

    size_t off = RTP_FIXED_LEN + 4u * out->csrc_count;
    if (off > len)
        return -3;
    if (out->extension) {
        /* RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words */
        if (len - off < 4)
            return -4;
        out->ext_profile = rd_be16(buf + off);
        size_t ext_len = 4u * rd_be16(buf + off + 2);
        off += 4;
        if (ext_len > len - off)
            return -5;
        out->ext = buf + off;
        out->ext_len = ext_len;
        off += ext_len;
    }
    out->header_len = off;
    size_t body = len - off;
    if (out->padding) {
        /* RFC 3550 §5.1: the last octet counts the padding octets, itself included */
        uint8_t pad = buf[len - 1];
        if (pad == 0 || pad > body)
            return -6;
        out->padding_len = pad;
        body -= pad;
    }
    out->payload = buf + off;
    out->payload_len = body;
    return 0;
}

/* Reads the element at *pos of a one-byte (RFC 8285 §4.2) or two-byte (§4.3) block. */
static int ext_element(const struct rtp_view *v, bool one_byte, size_t *pos, uint8_t *id,
                       const uint8_t **data, size_t *len)
{
    const uint8_t *p = v->ext;
    size_t n = v->ext_len;
    while (*pos < n) {
        /* §4.2, §4.3: id 0 is padding, one byte at a time; like libwebrtc, a one-byte
         * header with id 0 is skipped as padding whatever its length nibble says */
        if ((one_byte ? p[*pos] >> 4 : p[*pos]) == 0) {
            (*pos)++;
            continue;
        }
        size_t elen, hdr;
        if (one_byte) {
            *id = p[*pos] >> 4;
            if (*id == 15) /* §4.2: id 15 ends processing of the whole block */
                return 0;
            elen = (size_t)(p[*pos] & 0x0f) + 1; /* §4.2: L is length - 1 */
            hdr = 1;
        } else {
            if (n - *pos < 2)
                return -1;
            *id = p[*pos];
            elen = p[*pos + 1]; /* §4.3: length may be 0 */
            hdr = 2;
        }
        if (elen > n - *pos - hdr)
            return -1;
        *data = p + *pos + hdr;
        *len = elen;
        *pos += hdr + elen;
        return 1;
    }
    return 0;
}

int rtp_ext_next(const struct rtp_view *v, size_t *pos, uint8_t *id, const uint8_t **data,
                 size_t *len)
{
    if (!v->extension || !v->ext)
        return 0;
    if (v->ext_profile == EXT_ONE_BYTE)
        return ext_element(v, true, pos, id, data, len);
    if ((v->ext_profile & EXT_TWO_BYTE_MASK) == EXT_TWO_BYTE)
        return ext_element(v, false, pos, id, data, len);
    return 0; /* another profile's extension: opaque to us */
}

int rtp_ext_find(const struct rtp_view *v, uint8_t id, const uint8_t **data, size_t *len)
{
    if (id == 0)
        return -1;
    size_t pos = 0;
    uint8_t eid;
    const uint8_t *d;
    size_t l;
    int rc;
    while ((rc = rtp_ext_next(v, &pos, &eid, &d, &l)) == 1) {
        if (eid == id) {
            *data = d;
            *len = l;
            return 0;
        }
    }
    return -1;
}

size_t rtp_write_header(uint8_t *out, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
                        uint32_t ssrc, bool has_ext)
{
    out[0] = (uint8_t)(2u << 6 | (has_ext ? 1u << 4 : 0));
    out[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
    wr_be16(out + 2, seq);
    wr_be32(out + 4, ts);
    wr_be32(out + 8, ssrc);
    return RTP_FIXED_LEN;
}

static size_t round4(size_t n) { return (n + 3) & ~(size_t)3; }

void rtp_ext_begin(struct rtp_ext_writer *w, uint8_t *out, size_t cap)
{
    w->start = out;
    w->len = 0;
    w->cap = cap >= 4 ? cap - 4 : 0;
    if (w->cap > 4u * 0xffff) /* RFC 3550 §5.3.1: length is 16 bits of 32-bit words */
        w->cap = 4u * 0xffff;
}

int rtp_ext_add(struct rtp_ext_writer *w, uint8_t id, const uint8_t *data, size_t len)
{
    /* RFC 8285 §4.2: ids 1..14, 1..16 bytes of data */
    if (id < 1 || id > 14 || len < 1 || len > 16)
        return -1;
    /* keep room to pad the block to 32 bits at the end */
    if (round4(w->len + 1 + len) > w->cap)
        return -2;
    uint8_t *p = w->start + 4 + w->len;
    p[0] = (uint8_t)(id << 4 | (len - 1));
    memcpy(p + 1, data, len);
    w->len += 1 + len;
    return 0;
}

size_t rtp_ext_end(struct rtp_ext_writer *w)
{
    if (w->len == 0)
        return 0;
    size_t padded = round4(w->len);
    memset(w->start + 4 + w->len, 0, padded - w->len); /* §4.2: padding bytes are 0 */
    wr_be16(w->start, EXT_ONE_BYTE);
    wr_be16(w->start + 2, (uint16_t)(padded / 4));
    return 4 + padded;
}

int rtp_rtx_osn(const struct rtp_view *v, uint16_t *osn)
{
    /* RFC 4588 §4: the RTX payload opens with the 2-byte original sequence number */
    if (!v->payload || v->payload_len < 2)
        return -1;
    *osn = rd_be16(v->payload);
    return 0;
}

int rtp_rtx_unwrap(uint8_t *buf, size_t *len, const struct rtp_view *v, uint8_t pt, uint32_t ssrc)
{
    uint16_t osn;
    if (rtp_rtx_osn(v, &osn) != 0 || v->payload != buf + v->header_len)
        return -1;
    buf[1] = (uint8_t)((buf[1] & 0x80) | (pt & 0x7f));
    wr_be16(buf + 2, osn);
    wr_be32(buf + 8, ssrc);
    uint8_t *payload = buf + v->header_len;
    memmove(payload, payload + 2, *len - v->header_len - 2); /* the padding moves with it */
    *len -= 2;
    return 0;
}
