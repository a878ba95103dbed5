/* Codec payload inspection for routing: codec names as SDP spells them, the VP8 payload
 * descriptor (RFC 7741 §4.2), the VP9 payload descriptor (draft-ietf-payload-vp9-16
 * §4.2, with the scalability structure of §4.2.1 skipped over), and whether a payload
 * starts a keyframe for VP8 (RFC 7741 §4.3, RFC 6386 §9.1), H.264 (RFC 6184 §5.6 single
 * NAL unit, §5.7.1 STAP-A, §5.8 FU-A) and VP9. Only descriptors and the first bytes of a
 * frame are read; depacketizing whole frames is the recorder's job. */
#include "wire/codec.h"

#include <string.h>
#include <strings.h>

#include "base/bytes.h"

static const char *const names[] = {
    [CODEC_UNKNOWN] = "unknown", [CODEC_OPUS] = "opus",     [CODEC_VP8] = "VP8",
    [CODEC_VP9] = "VP9",         [CODEC_H264] = "H264",     [CODEC_RTX] = "rtx",
    [CODEC_RED] = "red",         [CODEC_ULPFEC] = "ulpfec",
};

enum codec_id codec_from_name(const char *name, size_t len)
{
    if (!name)
        return CODEC_UNKNOWN;
    for (size_t i = 1; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
            return (enum codec_id)i;
    }
    return CODEC_UNKNOWN;
}

const char *codec_name(enum codec_id id)
{
    if ((size_t)id >= sizeof names / sizeof names[0])
        return names[CODEC_UNKNOWN];
    return names[id];
}

/* RFC 7741 §4.2:
 *   |X|R|N|S|R| PID |  then if X: |I|L|T|K| RSV |, I: |M| PictureID (7 or 15) |,
 *   L: |TL0PICIDX|, T or K: |TID|Y| KEYIDX| */
int vp8_parse(const uint8_t *payload, size_t len, struct vp8_desc *out)
{
    struct cr_reader r = {payload, payload ? len : 0};
    uint8_t b0, x = 0, b;
    memset(out, 0, sizeof *out);
    if (rdr_u8(&r, &b0) < 0)
        return -1;
    if (b0 & 0x80 && rdr_u8(&r, &x) < 0)
        return -1;
    if (x & 0x80) { /* I: picture id, M selects 15 bits */
        if (rdr_u8(&r, &b) < 0)
            return -1;
        out->has_picture_id = true;
        out->picture_id = b & 0x7f;
        out->picture_id_bits = 7;
        if (b & 0x80) {
            uint8_t lo;
            if (rdr_u8(&r, &lo) < 0)
                return -1;
            out->picture_id = (uint16_t)((b & 0x7f) << 8 | lo);
            out->picture_id_bits = 15;
        }
    }
    if (x & 0x40) { /* L */
        if (rdr_u8(&r, &out->tl0picidx) < 0)
            return -1;
        out->has_tl0picidx = true;
    }
    if (x & 0x30) { /* T or K share one byte */
        if (rdr_u8(&r, &b) < 0)
            return -1;
        if (x & 0x20) {
            out->has_tid = true;
            out->tid = b >> 6;
            out->layer_sync = b >> 5 & 1;
        }
    }
    if (r.left == 0) /* a descriptor with no VP8 payload after it */
        return -2;
    out->desc_len = len - r.left;
    out->start_of_partition = (b0 & 0x10) && (b0 & 0x07) == 0; /* S=1, PID=0 */
    /* RFC 7741 §4.3 / RFC 6386 §9.1: frame tag bit 0 (P) is 0 for a key frame */
    out->keyframe = out->start_of_partition && (r.p[0] & 0x01) == 0;
    return 0;
}

/* RFC 7741 §4.2: the fields sit at fixed places after |X| and |I|L|T|K|: picture id at
 * byte 2 (one or two bytes by M), then TL0PICIDX. */
int vp8_write_ids(uint8_t *payload, size_t len, uint16_t picture_id, uint8_t tl0picidx)
{
    if (!payload || len < 1)
        return -1;
    if (!(payload[0] & 0x80))
        return 0; /* no extension: nothing to renumber */
    if (len < 2)
        return -1;
    uint8_t x = payload[1];
    size_t pid_len = 0;
    if (x & 0x80) {
        if (len < 3)
            return -1;
        pid_len = payload[2] & 0x80 ? 2 : 1; /* M: 15 bits */
    }
    size_t tl0_at = 2 + pid_len;
    if (len < tl0_at + (x & 0x40 ? 1 : 0))
        return -1; /* checked whole before anything is written */
    if (pid_len == 2)
        wr_be16(payload + 2, (uint16_t)(0x8000 | (picture_id & 0x7fff)));
    else if (pid_len == 1)
        payload[2] = (uint8_t)(picture_id & 0x7f);
    if (x & 0x40)
        payload[tl0_at] = tl0picidx;
    return 0;
}

/* Skips the scalability structure (draft-ietf-payload-vp9-16 §4.2.1). */
static int vp9_skip_ss(struct cr_reader *r)
{
    uint8_t b, ng = 0;
    if (rdr_u8(r, &b) < 0) /* N_S(3) Y G - - - */
        return -1;
    size_t n_s = (size_t)(b >> 5) + 1;
    if ((b & 0x10) && rdr_skip(r, 4 * n_s) < 0) /* Y: width, height per layer */
        return -1;
    if ((b & 0x08) && rdr_u8(r, &ng) < 0) /* G: N_G, then N_G picture groups */
        return -1;
    for (unsigned g = 0; g < ng; g++) {
        uint8_t gb; /* TID(3) U R(2) - - */
        if (rdr_u8(r, &gb) < 0 || rdr_skip(r, gb >> 2 & 3) < 0)
            return -1;
    }
    return 0;
}

/* draft-ietf-payload-vp9-16 §4.2:
 *   |I|P|L|F|B|E|V|Z|, I: |M| PID (7 or 15) |, L: |TID|U|SID|D| (+ TL0PICIDX if F=0),
 *   F and P: up to 3 |P_DIFF|N|, V: scalability structure */
int vp9_parse(const uint8_t *payload, size_t len, struct vp9_desc *out)
{
    struct cr_reader r = {payload, payload ? len : 0};
    uint8_t b0, b;
    memset(out, 0, sizeof *out);
    if (rdr_u8(&r, &b0) < 0)
        return -1;
    out->inter_picture = b0 >> 6 & 1;
    out->flexible = b0 >> 4 & 1;
    out->begin_frame = b0 >> 3 & 1;
    out->end_frame = b0 >> 2 & 1;
    if (b0 & 0x80) {
        if (rdr_u8(&r, &b) < 0)
            return -1;
        out->has_picture_id = true;
        out->picture_id = b & 0x7f;
        if (b & 0x80) {
            uint8_t lo;
            if (rdr_u8(&r, &lo) < 0)
                return -1;
            out->picture_id = (uint16_t)((b & 0x7f) << 8 | lo);
        }
    }
    if (b0 & 0x20) { /* L: layer indices */
        if (rdr_u8(&r, &b) < 0)
            return -1;
        out->has_layer = true;
        out->tid = b >> 5;
        out->switching_up = b >> 4 & 1;
        out->sid = b >> 1 & 7;
        out->inter_layer = b & 1;
        if (!out->flexible && rdr_u8(&r, &out->tl0picidx) < 0)
            return -1;
    }
    if (out->flexible && out->inter_picture) { /* reference indices, N bit chains them */
        int k = 0;
        do {
            if (++k > 3 || rdr_u8(&r, &b) < 0)
                return -1;
        } while (b & 1);
    }
    if ((b0 & 0x02) && vp9_skip_ss(&r) < 0)
        return -1;
    if (r.left == 0)
        return -2;
    out->desc_len = len - r.left;
    return 0;
}

static bool h264_nal_is_key(uint8_t nal_header)
{
    uint8_t type = nal_header & 0x1f;
    return type == 5 || type == 7; /* IDR slice, SPS (H.264 Table 7-1) */
}

/* RFC 6184 §5.7.1: STAP-A = header byte, then (16-bit size, NAL unit)... */
static bool h264_stap_a_is_key(const uint8_t *p, size_t len)
{
    struct cr_reader r = {p + 1, len - 1};
    bool key = false;
    while (r.left > 0) {
        uint16_t size;
        if (rdr_u16(&r, &size) < 0 || size == 0 || size > r.left)
            return false; /* malformed aggregate: not a keyframe */
        key = key || h264_nal_is_key(r.p[0]);
        rdr_skip(&r, size);
    }
    return key;
}

static bool h264_is_keyframe_start(const uint8_t *p, size_t len)
{
    if (len < 1 || (p[0] & 0x80)) /* forbidden_zero_bit (RFC 6184 §5.3) */
        return false;
    uint8_t type = p[0] & 0x1f;
    if (type >= 1 && type <= 23) /* §5.6 single NAL unit */
        return h264_nal_is_key(p[0]);
    if (type == 24)
        return len > 1 && h264_stap_a_is_key(p, len);
    if (type == 28) /* §5.8 FU-A: FU indicator, FU header |S|E|R|type| */
        return len > 2 && (p[1] & 0x80) && h264_nal_is_key(p[1]);
    return false; /* STAP-B, MTAP, FU-B: not used by WebRTC */
}

bool codec_is_keyframe_start(enum codec_id codec, const uint8_t *payload, size_t len)
{
    if (!payload || len == 0)
        return false;
    switch (codec) {
    case CODEC_VP8: {
        struct vp8_desc d;
        return vp8_parse(payload, len, &d) == 0 && d.keyframe;
    }
    case CODEC_VP9: {
        /* start of a frame that is not inter-picture predicted, in the base spatial
         * layer when layer indices are present */
        struct vp9_desc d;
        return vp9_parse(payload, len, &d) == 0 && d.begin_frame && !d.inter_picture &&
               (!d.has_layer || d.sid == 0);
    }
    case CODEC_H264:
        return h264_is_keyframe_start(payload, len);
    default:
        return false;
    }
}
