/* Stream rewriting with temporal-layer drops: see rewriter.h. Per packet: one look-up in
 * a ring of 8 frames (the newest first), a few additions, one slot of the sent map. A
 * dropped packet closes its sequence number only while no newer packet has been
 * numbered; the deltas a frame was numbered with stay with it for its late packets. */
#include "media/rewriter.h"

#include <string.h>

#include "base/seq.h"

void rewriter_forget_sent(struct rewriter *rw)
{
    for (size_t i = 0; i < rw->n_sent; i++)
        rw->sent[i].layer = -1;
}

void rewriter_init(struct rewriter *rw, uint16_t first_seq, uint32_t first_ts,
                   struct rewriter_sent *sent, uint16_t n_sent)
{
    memset(rw, 0, sizeof *rw);
    rw->sent = sent;
    rw->n_sent = n_sent;
    /* the first packet "follows" a last one just before it */
    rw->last_seq = (uint16_t)(first_seq - 1);
    rw->last_ts = first_ts - 1;
    rw->switching = true;
    rw->ts_advance = 1;
    rewriter_forget_sent(rw);
}

void rewriter_switch(struct rewriter *rw, uint32_t ts_advance)
{
    rw->switching = true;
    rw->ts_advance = rw->started && ts_advance ? ts_advance : 1;
}

static int8_t clamp_tid(int max_tid)
{
    return (int8_t)(max_tid < 0 ? 0 : max_tid > REWRITER_ALL_TIDS ? REWRITER_ALL_TIDS : max_tid);
}

/* The first packet of a source: its numbering follows what was sent last. */
static void begin_source(struct rewriter *rw, const struct rewriter_in *in, int max_tid)
{
    const struct vp8_desc *d = in->vp8;
    rw->seq_delta = (uint16_t)(rw->last_seq + 1 - in->seq);
    rw->ts_delta = rw->last_ts + rw->ts_advance - in->ts;
    rw->pid_delta =
        rw->have_pid && d && d->has_picture_id ? (uint16_t)(rw->last_pid + 1 - d->picture_id) : 0;
    rw->tl0_delta =
        rw->have_tl0 && d && d->has_tl0picidx ? (uint8_t)(rw->last_tl0 + 1 - d->tl0picidx) : 0;
    rw->have_in = rw->have_fwd = false;
    rw->floor_seq = (uint16_t)(in->seq - 1); /* older packets belong to what came before */
    rw->n_frames = rw->next_frame = 0;
    rw->cur_tid = clamp_tid(max_tid);
    rw->switching = false;
}

/* RFC 7741 §4.2: whether a new frame is forwarded. Down at any frame; up at a keyframe or
 * a TL0 frame (everything after it can be decoded), or one layer up at a layer-sync (Y)
 * frame of that layer (it refers to TL0 only). */
static bool admit(struct rewriter *rw, const struct vp8_desc *d, bool keyframe, int max_tid)
{
    if (!d || !d->has_tid)
        return true;
    int8_t want = clamp_tid(max_tid);
    if (want < rw->cur_tid)
        rw->cur_tid = want;
    else if (want > rw->cur_tid && (keyframe || d->tid == 0))
        rw->cur_tid = want;
    else if (want > rw->cur_tid && d->layer_sync && d->tid == rw->cur_tid + 1)
        rw->cur_tid = (int8_t)d->tid;
    return d->tid <= rw->cur_tid;
}

static struct rewriter_frame *find_frame(struct rewriter *rw, uint32_t ts)
{
    for (size_t k = 1; k <= rw->n_frames; k++) {
        struct rewriter_frame *f =
            &rw->frames[(rw->next_frame + REWRITER_FRAMES - k) % REWRITER_FRAMES];
        if (f->ts == ts)
            return f;
    }
    return NULL;
}

static struct rewriter_frame *add_frame(struct rewriter *rw, uint32_t ts, bool forward)
{
    struct rewriter_frame *f = &rw->frames[rw->next_frame];
    *f = (struct rewriter_frame){ts, rw->seq_delta, rw->pid_delta, forward};
    rw->next_frame = (uint8_t)((rw->next_frame + 1) % REWRITER_FRAMES);
    if (rw->n_frames < REWRITER_FRAMES)
        rw->n_frames++;
    return f;
}

/* The frame a packet belongs to, decided when its first packet arrives. */
static struct rewriter_frame *frame_of(struct rewriter *rw, const struct rewriter_in *in,
                                       int max_tid)
{
    struct rewriter_frame *f = find_frame(rw, in->ts);
    if (f)
        return f;
    const struct vp8_desc *d = in->vp8;
    if (!rw->have_in || ts32_newer(in->ts, rw->newest_ts)) {
        bool fwd = admit(rw, d, in->keyframe, max_tid);
        rw->newest_ts = in->ts;
        rw->have_in = true;
        f = add_frame(rw, in->ts, fwd);
        if (!fwd && d && d->has_picture_id)
            rw->pid_delta--; /* the next picture takes this one's id */
        return f;
    }
    /* a late frame never seen: today's deltas fit it only if nothing after it was dropped */
    bool fwd = seq16_newer(in->seq, rw->floor_seq) && (!d || !d->has_tid || d->tid <= rw->cur_tid);
    return add_frame(rw, in->ts, fwd);
}

/* Remembers what was sent last, to continue from at the next switch. */
static void note_sent(struct rewriter *rw, const struct rewriter_in *in,
                      const struct rewriter_out *out)
{
    const struct vp8_desc *d = in->vp8;
    if (!rw->started || ts32_diff(rw->last_ts, out->ts) >= 0) { /* the newest picture */
        rw->last_ts = out->ts;
        if (d && d->has_picture_id) {
            rw->have_pid = true;
            rw->last_pid = out->picture_id;
        }
        if (d && d->has_tl0picidx) {
            rw->have_tl0 = true;
            rw->last_tl0 = out->tl0picidx;
        }
    }
    if (!rw->started || seq16_newer(out->seq, rw->last_seq))
        rw->last_seq = out->seq;
    rw->started = true;
    rw->sent[out->seq & (rw->n_sent - 1)] = (struct rewriter_sent){*out, in->seq, in->layer};
}

bool rewriter_packet(struct rewriter *rw, const struct rewriter_in *in, int max_tid,
                     struct rewriter_out *out)
{
    if (rw->switching)
        begin_source(rw, in, max_tid);
    const struct rewriter_frame *f = frame_of(rw, in, max_tid);
    bool newer_than_fwd = !rw->have_fwd || seq16_newer(in->seq, rw->max_fwd_seq);
    if (!f->forward) {
        rw->dropped++;
        if (!newer_than_fwd) {
            rw->holes++; /* a newer packet is numbered already: this seq stays a hole */
            return false;
        }
        rw->seq_delta--; /* the next packet forwarded takes this one's number */
        if (seq16_newer(in->seq, rw->floor_seq))
            rw->floor_seq = in->seq;
        return false;
    }
    const struct vp8_desc *d = in->vp8;
    memset(out, 0, sizeof *out);
    out->seq = (uint16_t)(in->seq + f->seq_delta);
    out->ts = in->ts + rw->ts_delta;
    if (d && (d->has_picture_id || d->has_tl0picidx)) {
        uint16_t mask = d->picture_id_bits == 7 ? 0x7f : 0x7fff;
        out->vp8 = true;
        out->picture_id = (uint16_t)((d->picture_id + f->pid_delta) & mask);
        out->tl0picidx = (uint8_t)(d->tl0picidx + rw->tl0_delta);
    }
    if (newer_than_fwd)
        rw->max_fwd_seq = in->seq;
    rw->have_fwd = true;
    note_sent(rw, in, out);
    return true;
}

uint16_t rewriter_reserve(struct rewriter *rw)
{
    uint16_t seq = (uint16_t)(rw->last_seq + 1);
    rw->seq_delta++; /* frames to come; those already seen keep their numbering */
    rw->last_seq = seq;
    rw->sent[seq & (rw->n_sent - 1)].layer = -1;
    return seq;
}

const struct rewriter_sent *rewriter_lookup(const struct rewriter *rw, uint16_t out_seq)
{
    const struct rewriter_sent *s = &rw->sent[out_seq & (rw->n_sent - 1)];
    return s->layer >= 0 && s->out.seq == out_seq ? s : NULL;
}
