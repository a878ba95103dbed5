/* Codec payload inspection: is this RTP payload the start of a keyframe, and where do
 * frames begin. VP8 (RFC 7741 §4), H.264 (RFC 6184 §5: single NAL, STAP-A, FU-A),
 * VP9 (draft-ietf-payload-vp9 §4.2). Reads only the payload descriptor and the first
 * bytes of the frame. */
#ifndef CR_WIRE_CODEC_H
#define CR_WIRE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum codec_id {
    CODEC_UNKNOWN = 0,
    CODEC_OPUS,
    CODEC_VP8,
    CODEC_VP9,
    CODEC_H264,
    CODEC_RTX,
    CODEC_RED,
    CODEC_ULPFEC
};

/* Maps an SDP encoding name ("VP8", "opus", case-insensitive) to a codec id. */
enum codec_id codec_from_name(const char *name, size_t len);
const char *codec_name(enum codec_id id);

struct vp8_desc {
    bool start_of_partition; /* S bit with partition id 0: first packet of a frame */
    bool keyframe;           /* valid only when start_of_partition */
    bool has_picture_id, has_tl0picidx, has_tid;
    uint16_t picture_id;     /* 7 or 15 bits */
    uint8_t picture_id_bits; /* 7 or 15 (the M bit); 0 without a picture id */
    uint8_t tl0picidx, tid, layer_sync;
    size_t desc_len; /* bytes of the payload descriptor */
};
int vp8_parse(const uint8_t *payload, size_t len, struct vp8_desc *out);
/* Overwrites, in place, the picture id and TL0PICIDX fields the descriptor already has
 * (a 7-bit picture id gets the low 7 bits); fields it lacks are left out. For an SFU that
 * renumbers pictures (RFC 7741 §4.2). 0, or -1 on a truncated descriptor. */
int vp8_write_ids(uint8_t *payload, size_t len, uint16_t picture_id, uint8_t tl0picidx);

/* VP9 payload descriptor (draft-ietf-payload-vp9-16 §4.2); the scalability structure
 * (V bit) is skipped, not returned. */
struct vp9_desc {
    bool inter_picture;          /* P: predicted from an earlier picture */
    bool flexible;               /* F */
    bool begin_frame, end_frame; /* B, E */
    bool has_picture_id, has_layer;
    uint16_t picture_id;            /* 7 or 15 bits */
    uint8_t tid, sid, tl0picidx;    /* valid when has_layer (tl0picidx: and not flexible) */
    bool switching_up, inter_layer; /* U, D */
    size_t desc_len;                /* bytes of the payload descriptor */
};
int vp9_parse(const uint8_t *payload, size_t len, struct vp9_desc *out);

/* True when this payload begins a keyframe (VP8: S=1, PID=0, P=0; H.264: an IDR or SPS
 * NAL unit, alone, in a STAP-A or the start of an FU-A; VP9: start of frame, not
 * inter-predicted). Malformed payloads are not keyframes. */
bool codec_is_keyframe_start(enum codec_id codec, const uint8_t *payload, size_t len);

#endif
