/* The numbering of one outgoing stream for one subscriber: sequence numbers, timestamps
 * and, for VP8, picture ids and TL0PICIDX, rewritten so the subscriber sees one continuous
 * stream while the SFU drops temporal layers and switches sources (simulcast layers,
 * producers, pause and resume).
 *   - Temporal layers (RFC 7741 §4.2, TID and Y): a frame whose TID is above the wanted
 *     layer is dropped. Going down happens at the next frame; going up only where the
 *     decoder can follow: at a keyframe, at a TL0 frame, or at a layer-sync (Y) frame of
 *     the next layer up.
 *   - Dropped packets leave no hole in the outgoing sequence numbers (a hole would be
 *     NACKed) and dropped frames none in the picture ids (RFC 7741 §4.2: the receiver
 *     sees a missing picture id as a lost frame). TL0 frames are never dropped, so
 *     TL0PICIDX needs no renumbering within a source.
 *   - A new source continues the numbering: seq = last + 1, picture id = last + 1,
 *     TL0PICIDX = last + 1, timestamp advanced by the caller's wall-clock gap.
 *   - Reordering: the deltas are remembered per frame (by RTP timestamp, for the last
 *     REWRITER_FRAMES frames), so a late packet of a forwarded frame gets its frame's
 *     numbering. A late packet of a dropped frame that arrives after newer packets were
 *     numbered leaves a hole (counted); so does a late unknown frame older than a drop.
 *   - What each outgoing seq was made from (source layer, incoming seq, outgoing ts and
 *     VP8 ids) is kept for the last packets, to answer NACKs (RFC 4585 §6.2.1), in a map
 *     the owner gives: REWRITER_SENT slots for video, REWRITER_SENT_AUDIO for audio.
 * The caller parses the VP8 descriptor once per incoming packet and writes the returned
 * ids into its copy of the payload (vp8_write_ids). No allocation, no clock. */
#ifndef CR_MEDIA_REWRITER_H
#define CR_MEDIA_REWRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/codec.h"

#define REWRITER_FRAMES 8      /* frames remembered for late packets */
#define REWRITER_SENT 256      /* outgoing packets remembered for NACK: ≈ 1–2 s of video */
#define REWRITER_SENT_AUDIO 32 /* 0.64 s of 20 ms audio frames: a later repair is not heard */
#define REWRITER_ALL_TIDS 7    /* max_tid that forwards every temporal layer */

struct rewriter_in {
    uint16_t seq;
    uint32_t ts;
    int8_t layer;               /* the source layer, remembered for NACKs */
    bool keyframe;              /* this packet starts a keyframe */
    const struct vp8_desc *vp8; /* borrowed; NULL: not VP8 (nothing dropped or renumbered) */
};

struct rewriter_out {
    uint32_t ts;
    uint16_t seq;
    uint16_t picture_id; /* when vp8: write these into the payload descriptor */
    uint8_t tl0picidx;
    bool vp8;
};

/* What an outgoing sequence number was made from. */
struct rewriter_sent {
    struct rewriter_out out;
    uint16_t in_seq;
    int8_t layer; /* -1: slot empty */
};

struct rewriter_frame {
    uint32_t ts;
    uint16_t seq_delta, pid_delta; /* in effect for this frame */
    bool forward;
};

struct rewriter {
    /* numbering of the current source: out = in + delta */
    uint16_t seq_delta, pid_delta; /* for the next new frame */
    uint32_t ts_delta;
    uint8_t tl0_delta;
    bool switching;       /* the next packet starts a source */
    uint32_t ts_advance;  /* its timestamp follows the last by this much */
    bool have_in;         /* a packet of this source was seen */
    uint32_t newest_ts;   /* newest frame of this source */
    bool have_fwd;        /* a packet of this source was forwarded */
    uint16_t max_fwd_seq; /* newest incoming seq forwarded: older drops cannot be closed */
    uint16_t floor_seq;   /* an unknown late frame at or before this is not forwarded */
    int8_t cur_tid;       /* highest temporal layer being forwarded */
    /* what was sent, to continue from at a switch */
    bool started;
    uint16_t last_seq;
    uint32_t last_ts;
    bool have_pid, have_tl0;
    uint16_t last_pid;
    uint8_t last_tl0;
    struct rewriter_frame frames[REWRITER_FRAMES]; /* ring, state */
    uint8_t n_frames, next_frame;
    struct rewriter_sent *sent; /* borrowed: n_sent slots, by out seq mod n_sent */
    uint16_t n_sent;            /* a power of two */
    uint64_t dropped, holes;    /* counters: packets dropped; holes left */
};

/* first_seq, first_ts: the numbering of the very first packet (random, RFC 3550 §5.1).
 * sent: the NACK map, n_sent slots (a power of two), kept by the caller while rw lives. */
void rewriter_init(struct rewriter *rw, uint16_t first_seq, uint32_t first_ts,
                   struct rewriter_sent *sent, uint16_t n_sent);
/* The next packet starts a new source (the caller makes it a keyframe for video): its
 * timestamp follows the last one sent by ts_advance (≥ 1). */
void rewriter_switch(struct rewriter *rw, uint32_t ts_advance);
/* Decides one packet of the current source: false to drop it, true to send it numbered
 * as *out. max_tid: the highest temporal layer wanted (REWRITER_ALL_TIDS: all). */
bool rewriter_packet(struct rewriter *rw, const struct rewriter_in *in, int max_tid,
                     struct rewriter_out *out);
/* Takes the next outgoing sequence number for a packet of the caller's own (a FEC packet,
 * RFC 5109 in RED, which shares the stream's numbering), right after the last packet of a
 * frame: the frames after it are numbered one further on. A NACK for it finds nothing. */
uint16_t rewriter_reserve(struct rewriter *rw);
/* What out_seq was made from, or NULL if it is not one sent lately. */
const struct rewriter_sent *rewriter_lookup(const struct rewriter *rw, uint16_t out_seq);
/* Forgets what was sent (the packets came from a store that is going away). */
void rewriter_forget_sent(struct rewriter *rw);
/* Maps an incoming timestamp of the current source to the outgoing one (for SRs). */
static inline uint32_t rewriter_ts(const struct rewriter *rw, uint32_t in_ts)
{
    return in_ts + rw->ts_delta;
}

#endif
