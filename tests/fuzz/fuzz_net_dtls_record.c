/* Fuzz entry point for relay/net/dtls_record.c, the DTLS record framing (RFC 6347 §4.1)
 * that dtls.c checks before OpenSSL sees a datagram. Checks cr_dtls_record_check against a
 * plain restatement of the rule, that cr_dtls_record_len stays inside the datagram, that a
 * datagram it accepts splits at every record boundary into datagrams it also accepts, and
 * that the demultiplexer in front of it (RFC 7983 §7, wire/demux.c) sends such a datagram
 * to DTLS; and that the trace's account of a datagram (cr_dtls_describe) stays in its
 * buffer. */
#include <stdlib.h>
#include <string.h>

#include "net/dtls_record.h"
#include "wire/demux.h"
#include "require.h"

/* The rule in other words: records of type 20..23, version 0xfe??, 13-byte header whose
 * last two bytes are the length of what follows, back to back to the datagram's end. */
static bool restated(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    while (n > 0) {
        if (n < 13 || p[0] < 20 || p[0] > 23 || p[1] != 0xfe)
            return false;
        size_t body = (size_t)p[11] << 8 | p[12];
        if (body > n - 13)
            return false;
        p += 13 + body;
        n -= 13 + body;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = calloc(size ? size : 1, 1); /* exact size: overreads are caught */
    if (size)
        memcpy(buf, data, size);
    size_t first = cr_dtls_record_len(buf, size);
    REQUIRE(first == 0 || (first >= CR_DTLS_RECORD_HEADER && first <= size));
    bool ok = cr_dtls_record_check(buf, size);
    REQUIRE(ok == restated(buf, size));
    if (ok) {
        REQUIRE(demux_classify(buf, size) == DEMUX_DTLS);
        size_t off = 0, records = 0;
        while (off < size) {
            size_t rec = cr_dtls_record_len(buf + off, size - off);
            REQUIRE(rec >= CR_DTLS_RECORD_HEADER && rec <= size - off);
            REQUIRE(cr_dtls_record_check(buf + off, rec)); /* one record alone */
            REQUIRE(cr_dtls_record_check(buf, off + rec)); /* the records so far */
            off += rec;
            records++;
        }
        REQUIRE(off == size && records >= 1);
    }
    char small[8], big[256]; /* the trace's account stays inside its buffer, terminated */
    cr_dtls_describe(buf, size, small, sizeof small);
    cr_dtls_describe(buf, size, big, sizeof big);
    REQUIRE(strlen(small) < sizeof small && strlen(big) < sizeof big);
    free(buf);
    return 0;
}
