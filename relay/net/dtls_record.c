/* DTLS record framing (RFC 6347 §4.1): see dtls_record.h. The record's content is
 * OpenSSL's business; here only the 13-byte headers and their lengths are read. */
#include "net/dtls_record.h"

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
