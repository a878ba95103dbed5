/* Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01 §3.1), an RTPFB packet with FMT 15. Parsing turns the packet chunks
 * and receive deltas into one record per reported sequence number; writing turns
 * arrival times into the same, encoding chunks the way libwebrtc does (so Chromium's
 * parser reads what we send): run-length chunks for runs, 1-bit status vectors while no
 * large delta appears, 2-bit vectors otherwise. Which packets to report, and when, is the
 * media layer's choice; this file only owns the format.
 *
 * §3.1 FCI: base sequence number (16) | packet status count (16) | reference time (24,
 * signed, 64 ms units) | feedback packet count (8) | packet chunks (16 each) | receive
 * deltas (8 or 16 bits each, 250 µs units) | zero padding to 32 bits. */
#include "wire/rtcp.h"

#include <string.h>

#include "base/bytes.h"

enum {
    FCI_HDR = 8,
    REF_UNIT_US = 64000,
    DELTA_UNIT_US = 250,
    TICKS_PER_REF = REF_UNIT_US / DELTA_UNIT_US,
    /* §3.1.1 status symbols */
    SYM_NOT_RECEIVED = 0,
    SYM_SMALL = 1, /* received, delta 0..255 ticks in one byte */
    SYM_LARGE = 2, /* received, delta -32768..32767 ticks in two bytes */
    SYM_RESERVED = 3,
    MAX_RUN = 0x1fff, /* §3.1.3: 13-bit run length */
};

/* ---- parsing ---- */

/* Records status i (the delta is read later). A status past `max` only counts bytes. */
static void note_status(const struct twcc_feedback *h, struct twcc_packet_status *st, size_t max,
                        size_t i, unsigned sym, size_t *delta_bytes)
{
    *delta_bytes += sym; /* §3.1.5: symbol 1 → 1 byte, symbol 2 → 2 bytes */
    if (i < max) {
        st[i].seq = (uint16_t)(h->base_seq + i);
        st[i].received = sym != SYM_NOT_RECEIVED;
        st[i].arrival_us = sym; /* the delta size until pass two */
    }
}

/* Walks the packet chunks; returns the offset of the first receive delta, or -1. */
static long parse_chunks(const uint8_t *f, size_t n, const struct twcc_feedback *h,
                         struct twcc_packet_status *st, size_t max, size_t *delta_bytes)
{
    size_t off = FCI_HDR, i = 0;
    while (i < h->status_count) {
        if (n - off < 2)
            return -1;
        uint16_t c = rd_be16(f + off);
        off += 2;
        if (!(c & 0x8000)) { /* §3.1.3 run length chunk: T=0 | S(2) | run(13) */
            unsigned sym = c >> 13 & 3;
            if (sym == SYM_RESERVED)
                return -1;
            for (unsigned k = 0; k < (c & MAX_RUN) && i < h->status_count; k++, i++)
                note_status(h, st, max, i, sym, delta_bytes);
        } else if (!(c & 0x4000)) { /* §3.1.4 status vector, S=0: 14 one-bit symbols */
            for (int k = 0; k < 14 && i < h->status_count; k++, i++)
                note_status(h, st, max, i, c >> (13 - k) & 1, delta_bytes);
        } else { /* §3.1.4 status vector, S=1: 7 two-bit symbols */
            for (int k = 0; k < 7 && i < h->status_count; k++, i++) {
                unsigned sym = c >> (12 - 2 * k) & 3;
                if (sym == SYM_RESERVED)
                    return -1;
                note_status(h, st, max, i, sym, delta_bytes);
            }
        }
    }
    return (long)off;
}

int rtcp_parse_twcc(const struct rtcp_fb *fb, struct twcc_feedback *out,
                    struct twcc_packet_status *statuses, size_t max)
{
    const uint8_t *f = fb->fci;
    size_t n = fb->fci_len;
    if (n < FCI_HDR)
        return -1;
    out->sender_ssrc = fb->sender_ssrc;
    out->media_ssrc = fb->media_ssrc;
    out->base_seq = rd_be16(f);
    out->status_count = rd_be16(f + 2);
    int32_t ref = (int32_t)(rd_be24(f + 4) ^ 0x800000) - 0x800000; /* 24-bit signed */
    out->reference_us = (int64_t)ref * REF_UNIT_US;
    out->fb_count = f[7];
    if (out->status_count == 0) /* libwebrtc refuses empty feedback too */
        return -2;

    size_t delta_bytes = 0;
    long off = parse_chunks(f, n, out, statuses, max, &delta_bytes);
    if (off < 0)
        return -3;
    if (delta_bytes > n - (size_t)off)
        return -4;
    /* §3.1.5: deltas follow in status order, each relative to the previous received
     * packet (the first to the reference time). Bytes past them are padding. */
    size_t used = out->status_count < max ? out->status_count : max;
    int64_t t = out->reference_us;
    for (size_t i = 0; i < used; i++) {
        if (statuses[i].arrival_us == SYM_SMALL) {
            t += (int64_t)f[off] * DELTA_UNIT_US;
            off += 1;
        } else if (statuses[i].arrival_us == SYM_LARGE) {
            t += (int64_t)(int16_t)rd_be16(f + off) * DELTA_UNIT_US;
            off += 2;
        } else {
            statuses[i].arrival_us = 0;
            continue;
        }
        statuses[i].arrival_us = t;
    }
    return (int)used;
}

/* ---- writing ---- */

/* The symbol for one arrival time, advancing *prev (in ticks); -1 if the delta does not
 * fit 16 bits (the caller must then split its feedback). */
static int symbol_of(int64_t arrival_us, int64_t *prev, int64_t *delta)
{
    if (arrival_us < 0)
        return SYM_NOT_RECEIVED;
    int64_t ticks = arrival_us / DELTA_UNIT_US;
    *delta = ticks - *prev;
    *prev = ticks;
    if (*delta >= 0 && *delta <= 255)
        return SYM_SMALL;
    if (*delta >= INT16_MIN && *delta <= INT16_MAX)
        return SYM_LARGE;
    return -1;
}

/* libwebrtc's chunk encoder (transport_feedback.cc, LastChunk): collect up to 14
 * symbols; a chunk is written when the next symbol no longer fits the best encoding. */
struct chunk_enc {
    uint8_t syms[14]; /* pending symbols (only syms[0] matters past 14: a run) */
    size_t size;
    bool all_same, has_large;
    uint8_t *out;
    size_t off, cap;
};

static bool enc_can_add(const struct chunk_enc *e, unsigned sym)
{
    if (e->size < 7)
        return true;
    if (e->size < 14 && !e->has_large && sym != SYM_LARGE)
        return true;
    return e->size < MAX_RUN && e->all_same && e->syms[0] == sym;
}

static int enc_put_vector(struct chunk_enc *e, size_t n, bool two_bit)
{
    if (e->cap - e->off < 2)
        return -1;
    uint16_t c = two_bit ? 0xc000 : 0x8000; /* §3.1.4: T=1, S */
    for (size_t k = 0; k < n; k++)
        c |= (uint16_t)(two_bit ? e->syms[k] << (12 - 2 * k) : e->syms[k] << (13 - k));
    wr_be16(e->out + e->off, c);
    e->off += 2;
    return 0;
}

static int enc_put_run(struct chunk_enc *e)
{
    if (e->cap - e->off < 2)
        return -1;
    wr_be16(e->out + e->off, (uint16_t)(e->syms[0] << 13 | e->size)); /* §3.1.3 */
    e->off += 2;
    return 0;
}

/* Writes a chunk so that at least one more symbol fits. */
static int enc_emit(struct chunk_enc *e)
{
    if (e->all_same || e->size == 14) {
        int rc = e->all_same ? enc_put_run(e) : enc_put_vector(e, 14, false);
        e->size = 0;
        return rc;
    }
    /* 7..13 symbols with a large delta among them: 7 go out, the rest stay */
    if (enc_put_vector(e, 7, true) < 0)
        return -1;
    e->size -= 7;
    memmove(e->syms, e->syms + 7, e->size);
    e->all_same = true;
    e->has_large = false;
    for (size_t k = 0; k < e->size; k++) {
        e->all_same = e->all_same && e->syms[k] == e->syms[0];
        e->has_large = e->has_large || e->syms[k] == SYM_LARGE;
    }
    return 0;
}

static int enc_add(struct chunk_enc *e, unsigned sym)
{
    if (!enc_can_add(e, sym) && enc_emit(e) < 0)
        return -1;
    if (e->size < 14)
        e->syms[e->size] = (uint8_t)sym;
    e->all_same = e->size == 0 || (e->all_same && e->syms[0] == sym);
    e->has_large = (e->size > 0 && e->has_large) || sym == SYM_LARGE;
    e->size++;
    return 0;
}

static int enc_finish(struct chunk_enc *e)
{
    if (e->size == 0)
        return 0;
    if (e->all_same)
        return enc_put_run(e);
    return enc_put_vector(e, e->size, e->size <= 7);
}

/* Pass one: the chunks. Returns the end offset, or 0 on a delta that does not fit. */
static size_t write_chunks(uint8_t *out, size_t off, size_t cap, const int64_t *arrival_us,
                           uint16_t count, int64_t ref_ticks)
{
    struct chunk_enc e = {.out = out, .off = off, .cap = cap};
    int64_t prev = ref_ticks, delta;
    for (size_t i = 0; i < count; i++) {
        int sym = symbol_of(arrival_us[i], &prev, &delta);
        if (sym < 0 || enc_add(&e, (unsigned)sym) < 0)
            return 0;
    }
    return enc_finish(&e) < 0 ? 0 : e.off;
}

/* Pass two: the receive deltas (§3.1.5). Returns the end offset or 0. */
static size_t write_deltas(uint8_t *out, size_t off, size_t cap, const int64_t *arrival_us,
                           uint16_t count, int64_t ref_ticks)
{
    int64_t prev = ref_ticks, delta;
    for (size_t i = 0; i < count; i++) {
        int sym = symbol_of(arrival_us[i], &prev, &delta);
        if (sym == SYM_NOT_RECEIVED)
            continue;
        if ((size_t)sym > cap - off)
            return 0;
        if (sym == SYM_SMALL)
            out[off] = (uint8_t)delta;
        else
            wr_be16(out + off, (uint16_t)(int16_t)delta);
        off += (size_t)sym;
    }
    return off;
}

size_t rtcp_write_twcc(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       uint16_t base_seq, const int64_t *arrival_us, uint16_t count,
                       uint8_t fb_count)
{
    enum { START = 4 + 8 + FCI_HDR }; /* common header, SSRCs, FCI header */
    if (count == 0 || !arrival_us || cap < START)
        return 0;
    /* The reference time is the first arrival rounded down to 64 ms, so the first delta
     * is small; it is sent modulo 2^24 and read back sign-extended. */
    int64_t ref = 0;
    for (size_t i = 0; i < count; i++) {
        if (arrival_us[i] >= 0) {
            ref = arrival_us[i] / REF_UNIT_US;
            break;
        }
    }
    size_t off = write_chunks(out, START, cap, arrival_us, count, ref * TICKS_PER_REF);
    if (off)
        off = write_deltas(out, off, cap, arrival_us, count, ref * TICKS_PER_REF);
    if (!off)
        return 0;
    /* RFC 3550 §6.4.1: pad to 32 bits, last octet = pad count, P bit set; Chromium reads
     * it so (libwebrtc pads its own feedback the same way) */
    size_t pad = (4 - off % 4) % 4;
    if (pad > cap - off || off + pad > 4u * 0x10000)
        return 0;
    memset(out + off, 0, pad);
    if (pad)
        out[off + pad - 1] = (uint8_t)pad;
    off += pad;
    out[0] = (uint8_t)(2u << 6 | (pad ? 1u << 5 : 0) | RTCP_FMT_TWCC);
    out[1] = RTCP_RTPFB;
    wr_be16(out + 2, (uint16_t)(off / 4 - 1));
    wr_be32(out + 4, sender_ssrc);
    wr_be32(out + 8, media_ssrc);
    wr_be16(out + 12, base_seq);
    wr_be16(out + 14, count);
    wr_be24(out + 16, (uint32_t)ref & 0xffffff);
    out[19] = fb_count;
    return off;
}
