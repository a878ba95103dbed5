/* DTLS record framing (RFC 6347 §4.1): see dtls_record.h. The record's content is
 * OpenSSL's business; here only the 13-byte headers and their lengths are read. */
#include "net/dtls_record.h"

#include <stdio.h>

#include "base/bytes.h"

size_t cr_dtls_record_len(const uint8_t *buf, size_t len)
{
    if (len < CR_DTLS_RECORD_HEADER)
        return 0;
    size_t n = CR_DTLS_RECORD_HEADER + rd_be16(buf + 11);
    return n <= len ? n : 0;
}

bool cr_dtls_record_check(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return false;
    for (size_t off = 0, rec; off < len; off += rec) {
        rec = cr_dtls_record_len(buf + off, len - off);
        /* RFC 6347 §4.1: content types 20..23; RFC 7983 §7: DTLS versions start 0xfe */
        if (rec == 0 || buf[off] < 20 || buf[off] > 23 || buf[off + 1] != 0xfe)
            return false;
    }
    return true;
}

/* One record's word: its handshake type in epoch 0, else what it is. */
static int describe_record(const uint8_t *rec, size_t n, char *out, size_t cap)
{
    uint16_t epoch = rd_be16(rec + 3);
    if (rec[0] == 20)
        return snprintf(out, cap, "ccs");
    if (rec[0] == 21)
        return snprintf(out, cap, "alert");
    if (rec[0] == 23)
        return snprintf(out, cap, "app");
    if (epoch != 0 || n <= CR_DTLS_RECORD_HEADER)
        return snprintf(out, cap, "e%u", (unsigned)epoch);
    return snprintf(out, cap, "%u", (unsigned)rec[CR_DTLS_RECORD_HEADER]);
}

void cr_dtls_describe(const uint8_t *buf, size_t len, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t off = 0, rec; off < len && used + 1 < cap; off += rec) {
        rec = cr_dtls_record_len(buf + off, len - off);
        if (rec == 0)
            return;
        int w = used ? snprintf(out + used, cap - used, " ") : 0;
        if (w > 0 && (size_t)w < cap - used)
            used += (size_t)w;
        w = describe_record(buf + off, rec, out + used, cap - used);
        if (w < 0 || (size_t)w >= cap - used)
            return;
        used += (size_t)w;
    }
}
