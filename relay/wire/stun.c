/* STUN message parser and writer (RFC 8489) for ICE checks (RFC 8445 §7) and consent
 * freshness (RFC 7675). The parser walks the attributes once with bounds checks and keeps
 * the ones ICE needs: USERNAME (§14.3), MESSAGE-INTEGRITY (§14.5), FINGERPRINT (§14.7),
 * XOR-MAPPED-ADDRESS (§14.2), ERROR-CODE (§14.8), PRIORITY, USE-CANDIDATE and
 * ICE-CONTROLLED/ICE-CONTROLLING (RFC 8445 §16.1). It accepts exactly one message filling
 * the datagram (STUN over UDP, §6.2.1), so the length field must match.
 *
 * FINGERPRINT's CRC-32 is computed here; MESSAGE-INTEGRITY's HMAC-SHA1 is the caller's
 * (relay/net links the crypto library, this layer does not). Deciding what a message means
 * — credentials, answering, consent — is relay/net/stun_responder.c's job. */
#include "wire/stun.h"

#include <string.h>

#include "base/bytes.h"

#define ATTR_HEADER 4
#define FINGERPRINT_XOR 0x5354554eu /* RFC 8489 §14.7: "STUN" */

/* CRC-32 (reflected polynomial 0xEDB88320), four bits at a time. */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
    0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C};

uint32_t stun_crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
    }
    return ~crc;
}

/* RFC 8489 §5: the method's twelve bits interleaved with the two class bits
 * (M11..M7 C1 M6..M4 C0 M3..M0). */
static uint16_t encode_type(uint16_t method, enum stun_class cls)
{
    unsigned c = (unsigned)cls;
    return (uint16_t)((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                      ((c & 1) << 4) | ((c & 2) << 7));
}

static void decode_type(uint16_t t, uint16_t *method, enum stun_class *cls)
{
    *method = (uint16_t)((t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2));
    *cls = (enum stun_class)(((t >> 4) & 1) | ((t >> 7) & 2));
}

bool stun_is_message(const uint8_t *buf, size_t len)
{
    return len >= STUN_HEADER_LEN && (buf[0] & 0xC0) == 0 &&
           rd_be32(buf + 4) == STUN_MAGIC_COOKIE && (rd_be16(buf + 2) & 3) == 0 &&
           (size_t)rd_be16(buf + 2) + STUN_HEADER_LEN == len;
}

/* Attributes of RFC 8489 and RFC 8445 in the comprehension-required range (< 0x8000) that
 * we recognise even where we do not use them. */
static bool known_required(uint16_t type)
{
    switch (type) {
    case 0x0001: /* MAPPED-ADDRESS */
    case 0x0006: /* USERNAME */
    case 0x0008: /* MESSAGE-INTEGRITY */
    case 0x0009: /* ERROR-CODE */
    case 0x000A: /* UNKNOWN-ATTRIBUTES */
    case 0x0014: /* REALM */
    case 0x0015: /* NONCE */
    case 0x001C: /* MESSAGE-INTEGRITY-SHA256 */
    case 0x001D: /* PASSWORD-ALGORITHM */
    case 0x001E: /* USERHASH */
    case 0x0020: /* XOR-MAPPED-ADDRESS */
    case 0x0024: /* PRIORITY */
    case 0x0025: /* USE-CANDIDATE */
        return true;
    default:
        return false;
    }
}

/* RFC 8489 §14.2: family, port XORed with the cookie's top half, address XORed with the
 * cookie (IPv4) or the cookie and the transaction id (IPv6). */
static int parse_xor_addr(const uint8_t *val, size_t len, const uint8_t *header,
                          struct stun_addr *a)
{
    uint8_t mask[16];
    memcpy(mask, header + 4, 16); /* cookie, then transaction id */
    if (len < 4)
        return STUN_ERR_MALFORMED;
    size_t n = val[1] == 0x01 ? 4 : val[1] == 0x02 ? 16 : 0;
    if (n == 0 || len != 4 + n)
        return STUN_ERR_MALFORMED;
    a->family = n == 4 ? 4 : 6;
    a->port = (uint16_t)(rd_be16(val + 2) ^ (STUN_MAGIC_COOKIE >> 16));
    for (size_t i = 0; i < n; i++)
        a->ip[i] = val[4 + i] ^ mask[i];
    return 0;
}

/* One attribute before MESSAGE-INTEGRITY; the first of a repeated type wins. */
static int parse_attr(uint16_t type, const uint8_t *val, size_t len, const uint8_t *header,
                      struct stun_view *out)
{
    switch (type) {
    case STUN_ATTR_USERNAME:
        if (len > STUN_MAX_USERNAME)
            return STUN_ERR_MALFORMED;
        if (!out->username) {
            out->username = val;
            out->username_len = len;
        }
        return 0;
    case STUN_ATTR_PRIORITY:
        if (len != 4)
            return STUN_ERR_MALFORMED;
        if (!out->has_priority)
            out->priority = rd_be32(val);
        out->has_priority = true;
        return 0;
    case STUN_ATTR_USE_CANDIDATE:
        if (len != 0)
            return STUN_ERR_MALFORMED;
        out->use_candidate = true;
        return 0;
    case STUN_ATTR_ICE_CONTROLLED:
    case STUN_ATTR_ICE_CONTROLLING:
        if (len != 8)
            return STUN_ERR_MALFORMED;
        if (!out->controlled && !out->controlling)
            out->tie_breaker = rd_be64(val);
        if (type == STUN_ATTR_ICE_CONTROLLED)
            out->controlled = true;
        else
            out->controlling = true;
        return 0;
    case STUN_ATTR_XOR_MAPPED_ADDRESS:
        if (out->xor_mapped.family)
            return 0;
        return parse_xor_addr(val, len, header, &out->xor_mapped);
    case STUN_ATTR_ERROR_CODE: /* §14.8: 21 reserved bits, class (3..6), number (0..99) */
        if (len < 4 || (val[2] & 7) < 3 || (val[2] & 7) > 6 || val[3] > 99)
            return STUN_ERR_MALFORMED;
        if (!out->error_code)
            out->error_code = (uint16_t)((val[2] & 7) * 100 + val[3]);
        return 0;
    default:
        if (type < 0x8000 && !known_required(type))
            out->unknown_required++;
        return 0;
    }
}

int stun_parse(const uint8_t *buf, size_t len, struct stun_view *out)
{
    memset(out, 0, sizeof(*out));
    if (len < STUN_HEADER_LEN || (buf[0] & 0xC0) != 0 || rd_be32(buf + 4) != STUN_MAGIC_COOKIE)
        return STUN_ERR_NOT_STUN;
    if (!stun_is_message(buf, len))
        return STUN_ERR_MALFORMED; /* a STUN header with a wrong length */
    out->raw = buf;
    out->len = len;
    out->txid = buf + 8;
    decode_type(rd_be16(buf), &out->method, &out->cls);
    size_t off = STUN_HEADER_LEN;
    while (off < len) {
        if (len - off < ATTR_HEADER || out->fingerprint_off) /* §14.7: FINGERPRINT is last */
            return STUN_ERR_MALFORMED;
        uint16_t type = rd_be16(buf + off), alen = rd_be16(buf + off + 2);
        size_t padded = ((size_t)alen + 3) & ~(size_t)3;
        if (padded > len - off - ATTR_HEADER)
            return STUN_ERR_MALFORMED;
        const uint8_t *val = buf + off + ATTR_HEADER;
        if (type == STUN_ATTR_FINGERPRINT) {
            if (alen != 4)
                return STUN_ERR_MALFORMED;
            out->fingerprint_off = off;
        } else if (out->integrity_off) {
            /* §14.5: everything else after MESSAGE-INTEGRITY is ignored */
        } else if (type == STUN_ATTR_MESSAGE_INTEGRITY) {
            if (alen != STUN_HMAC_LEN)
                return STUN_ERR_MALFORMED;
            out->integrity_off = off;
        } else {
            int rc = parse_attr(type, val, alen, buf, out);
            if (rc < 0)
                return rc;
        }
        off += ATTR_HEADER + padded;
    }
    return 0;
}

static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

/* §14.5: the HMAC covers the message up to MESSAGE-INTEGRITY, with the header's length
 * counting up to the end of MESSAGE-INTEGRITY (as if it were the last attribute). */
int stun_check_integrity(const struct stun_view *v, const uint8_t *key, size_t key_len,
                         stun_hmac_fn hmac)
{
    if (!v->integrity_off)
        return STUN_ERR_INTEGRITY;
    uint8_t head[STUN_HEADER_LEN], mac[STUN_HMAC_LEN];
    memcpy(head, v->raw, sizeof(head));
    wr_be16(head + 2, (uint16_t)(v->integrity_off + ATTR_HEADER + STUN_HMAC_LEN - STUN_HEADER_LEN));
    hmac(key, key_len, head, sizeof(head), v->raw + STUN_HEADER_LEN,
         v->integrity_off - STUN_HEADER_LEN, mac);
    return equal_ct(mac, v->raw + v->integrity_off + ATTR_HEADER, STUN_HMAC_LEN)
               ? 0
               : STUN_ERR_INTEGRITY;
}

/* §14.7: FINGERPRINT is last, so the header's length already counts it. */
int stun_check_fingerprint(const struct stun_view *v)
{
    if (!v->fingerprint_off)
        return STUN_ERR_FINGERPRINT;
    uint32_t want = stun_crc32(v->raw, v->fingerprint_off) ^ FINGERPRINT_XOR;
    return rd_be32(v->raw + v->fingerprint_off + ATTR_HEADER) == want ? 0 : STUN_ERR_FINGERPRINT;
}

/* ---- writer ---- */

void stun_writer_init(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t method,
                      enum stun_class cls, const uint8_t *txid)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = cap < STUN_HEADER_LEN;
    if (w->overflow)
        return;
    wr_be16(buf, encode_type(method, cls));
    wr_be16(buf + 2, 0);
    wr_be32(buf + 4, STUN_MAGIC_COOKIE);
    memcpy(buf + 8, txid, STUN_TXID_LEN);
    w->len = STUN_HEADER_LEN;
}

/* Reserves an attribute of value length len, keeping the header's length current; NULL
 * (and overflow) when it does not fit. */
static uint8_t *reserve(struct stun_writer *w, uint16_t type, size_t len)
{
    size_t padded = (len + 3) & ~(size_t)3;
    if (w->overflow || len > 0xFFFF || w->cap - w->len < ATTR_HEADER + padded ||
        w->len - STUN_HEADER_LEN + ATTR_HEADER + padded > 0xFFFC) {
        w->overflow = true;
        return NULL;
    }
    uint8_t *p = w->buf + w->len;
    wr_be16(p, type);
    wr_be16(p + 2, (uint16_t)len);
    memset(p + ATTR_HEADER + len, 0, padded - len);
    w->len += ATTR_HEADER + padded;
    wr_be16(w->buf + 2, (uint16_t)(w->len - STUN_HEADER_LEN));
    return p + ATTR_HEADER;
}

void stun_put_attr(struct stun_writer *w, uint16_t type, const void *value, size_t len)
{
    uint8_t *p = reserve(w, type, len);
    if (p && len)
        memcpy(p, value, len);
}

void stun_put_u32(struct stun_writer *w, uint16_t type, uint32_t v)
{
    uint8_t *p = reserve(w, type, 4);
    if (p)
        wr_be32(p, v);
}

void stun_put_u64(struct stun_writer *w, uint16_t type, uint64_t v)
{
    uint8_t *p = reserve(w, type, 8);
    if (p)
        wr_be64(p, v);
}

void stun_put_xor_addr(struct stun_writer *w, uint16_t type, const struct stun_addr *a)
{
    size_t n = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
    if (n == 0) {
        w->overflow = true; /* a caller's bug: report it through stun_finish */
        return;
    }
    uint8_t *p = reserve(w, type, 4 + n);
    if (!p)
        return;
    p[0] = 0;
    p[1] = n == 4 ? 0x01 : 0x02;
    wr_be16(p + 2, (uint16_t)(a->port ^ (STUN_MAGIC_COOKIE >> 16)));
    const uint8_t *mask = w->buf + 4; /* cookie, then transaction id */
    for (size_t i = 0; i < n; i++)
        p[4 + i] = a->ip[i] ^ mask[i];
}

void stun_put_integrity(struct stun_writer *w, const uint8_t *key, size_t key_len,
                        stun_hmac_fn hmac)
{
    uint8_t *p = reserve(w, STUN_ATTR_MESSAGE_INTEGRITY, STUN_HMAC_LEN);
    if (p) /* the header already counts this attribute, as §14.5 wants */
        hmac(key, key_len, w->buf, STUN_HEADER_LEN, w->buf + STUN_HEADER_LEN,
             (size_t)(p - ATTR_HEADER - w->buf) - STUN_HEADER_LEN, p);
}

void stun_put_fingerprint(struct stun_writer *w)
{
    uint8_t *p = reserve(w, STUN_ATTR_FINGERPRINT, 4);
    if (p)
        wr_be32(p, stun_crc32(w->buf, (size_t)(p - ATTR_HEADER - w->buf)) ^ FINGERPRINT_XOR);
}

int stun_finish(const struct stun_writer *w) { return w->overflow ? STUN_ERR_SPACE : (int)w->len; }
