/* Fuzz entry point for relay/wire/rtp.c (and the codec inspection it feeds): parses a
 * packet, checks the view stays inside the buffer, walks every header extension
 * element, then rebuilds the packet with rtp_write_header and the one-byte extension
 * writer and checks the re-parse gives back the same fields and elements. */
#include <stdlib.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/rtp.h"
#include "require.h"

struct elem {
    uint8_t id;
    const uint8_t *data;
    size_t len;
};

/* Collects the elements the one-byte writer can carry; false if any it cannot. */
static bool collect(const struct rtp_view *v, struct elem *e, size_t *n, size_t max)
{
    size_t pos = 0;
    uint8_t id;
    const uint8_t *d;
    size_t len;
    int rc;
    bool all = true;
    *n = 0;
    while ((rc = rtp_ext_next(v, &pos, &id, &d, &len)) == 1) {
        REQUIRE(d >= v->ext && d + len <= v->ext + v->ext_len);
        const uint8_t *f;
        size_t flen;
        REQUIRE(rtp_ext_find(v, id, &f, &flen) == 0); /* find sees the first of an id */
        if (id < 1 || id > 14 || len < 1 || len > 16 || *n == max) {
            all = false;
            continue;
        }
        e[(*n)++] = (struct elem){id, d, len};
    }
    return all && rc == 0;
}

static void roundtrip(const struct rtp_view *v, const struct elem *e, size_t n)
{
    static uint8_t out[12 + 4 + 32 * 17 + 65536 + 16];
    size_t off =
        rtp_write_header(out, v->marker, v->payload_type, v->seq, v->timestamp, v->ssrc, n > 0);
    struct rtp_ext_writer w;
    rtp_ext_begin(&w, out + off, 4 + 32 * 17);
    for (size_t i = 0; i < n; i++)
        REQUIRE(rtp_ext_add(&w, e[i].id, e[i].data, e[i].len) == 0);
    size_t ext = rtp_ext_end(&w);
    REQUIRE((ext == 0) == (n == 0));
    off += ext;
    if (v->payload_len > sizeof out - off)
        return;
    memcpy(out + off, v->payload, v->payload_len);
    off += v->payload_len;

    struct rtp_view r;
    REQUIRE(rtp_parse(out, off, &r) == 0);
    REQUIRE(r.marker == v->marker && r.payload_type == v->payload_type && r.seq == v->seq &&
            r.timestamp == v->timestamp && r.ssrc == v->ssrc);
    REQUIRE(r.payload_len == v->payload_len);
    REQUIRE(v->payload_len == 0 || memcmp(r.payload, v->payload, v->payload_len) == 0);
    size_t pos = 0, i = 0, len;
    uint8_t id;
    const uint8_t *d;
    while (rtp_ext_next(&r, &pos, &id, &d, &len) == 1) {
        REQUIRE(i < n && id == e[i].id && len == e[i].len && memcmp(d, e[i].data, len) == 0);
        i++;
    }
    REQUIRE(i == n);
}

/* An RTX packet made the original again: the header as asked, the payload after the OSN. */
static void rtx_roundtrip(const uint8_t *buf, size_t size, const struct rtp_view *v, uint16_t osn)
{
    uint8_t *copy = malloc(size);
    memcpy(copy, buf, size);
    struct rtp_view cv, r;
    size_t len = size;
    REQUIRE(rtp_parse(copy, len, &cv) == 0);
    REQUIRE(rtp_rtx_unwrap(copy, &len, &cv, 96, 0x01020304) == 0);
    REQUIRE(len == size - 2);
    REQUIRE(rtp_parse(copy, len, &r) == 0);
    REQUIRE(r.seq == osn && r.payload_type == 96 && r.ssrc == 0x01020304 && r.marker == v->marker);
    REQUIRE(r.payload_len == v->payload_len - 2 && r.padding_len == v->padding_len);
    REQUIRE(memcmp(r.payload, v->payload + 2, r.payload_len) == 0);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so the sanitizers see any read past the end in replay too */
    uint8_t *buf = calloc(size ? size : 1, 1);
    if (size)
        memcpy(buf, data, size);
    struct rtp_view v;
    if (rtp_parse(buf, size, &v) == 0) {
        REQUIRE(v.header_len + v.payload_len + v.padding_len == size);
        REQUIRE(v.payload == buf + v.header_len);
        REQUIRE(!v.ext || (v.ext >= buf && v.ext + v.ext_len <= buf + v.header_len));
        struct elem e[64];
        size_t n;
        uint16_t osn;
        if (collect(&v, e, &n, 64))
            roundtrip(&v, e, n);
        if (rtp_rtx_osn(&v, &osn) == 0)
            REQUIRE(v.payload_len >= 2);
        const enum codec_id codecs[] = {CODEC_VP8, CODEC_VP9, CODEC_H264};
        for (size_t i = 0; i < 3; i++)
            codec_is_keyframe_start(codecs[i], v.payload, v.payload_len);
        if (rtp_rtx_osn(&v, &osn) == 0)
            rtx_roundtrip(buf, size, &v, osn);
    }
    free(buf);
    return 0;
}
