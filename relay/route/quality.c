/* The quality loop of one subscribing peer: see quality.h. Transport-wide feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01) and REMB feed media/bwe; the layer
 * choice and probe pacing come out as data for the peer to apply. Time comes from the
 * tick; nothing here sends or calls a consumer. */
#include "route/quality.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "media/rewriter.h"

#define SELECT_INTERVAL_MS 200
#define MAX_FEEDBACK_STATUSES 1024
#define START_BPS 700000
#define RTX_SHARE_PERCENT 25
#define PACE_PERCENT 150             /* media leaves at 1.5 × the estimate (media/pacer.h), */
#define PACE_OVER_CHOICE_PERCENT 125 /* and never slower than 1.25 × what was chosen */
/* The least playout delay asked: a round trip and this, for what a repair waits besides
 * the round trip (a frame's lost last packet seen only at the next frame, ±20 ms of jitter
 * each way, the link's queue). At 100 ms the weak classroom froze once in 1 run of 4 (a
 * repair 250 ms late); at 160 ms, in none of 8. */
#define PLAYOUT_MARGIN_MS 160
#define PLAYOUT_MOST_MS 1000
#define PLAYOUT_LOSS_KNOWN_MS 5000 /* after the first report: the loss average means something */
#define SETTLE_MS 2000           /* after the first report, at most this long on the start layer */
#define FIRST_PROBE_MS 500       /* ... and the first probe this long after it */
#define PROBE_TICK_US 20000      /* padding is made a tick ahead (the worker's tick) */
#define PROBE_PACKET_OVERHEAD 40 /* a padding packet's header, extensions and SRTP tag */
#define PROBE_MAX_PER_TICK 64

struct quality *quality_new(void)
{
    struct quality *q = cr_calloc(1, sizeof *q);
    send_history_init(&q->hist);
    struct bwe_config bc = BWE_CONFIG_DEFAULT;
    /* A classroom's estimate starts at START_BPS, and its video on the lowest layer
     * (quality_start_layer), not at the top: the top layer's first keyframe into a
     * 250-600 kbit/s school link would flood its queue, audio included, for the second
     * or two the estimate takes to come down. The first probe goes at once, and the
     * first upgrade needs no long hold (media/layer_select.h), so a good link reaches the
     * top layer about a second after its first frame. */
    bc.start_bps = START_BPS;
    bwe_init(&q->bwe, &bc);
    struct ls_config lc = LS_CONFIG_DEFAULT;
    lc.start_lowest = true; /* quality_start_layer */
    layer_select_init(&q->ls, &lc);
    return q;
}

void quality_free(struct quality *q) { free(q); }

void quality_on_sent(struct quality *q, uint16_t twcc_seq, size_t size, enum send_kind kind,
                     uint8_t tag, int64_t now_us)
{
    send_history_on_sent(&q->hist, twcc_seq, size, kind, tag, now_us);
    if (q->probe_from_us && kind != SEND_PROBE && now_us >= q->probe_from_us)
        q->probe_bytes += (int64_t)size; /* padding is counted as it is made (pace_probe) */
}

void quality_on_feedback(struct quality *q, const struct rtcp_fb *fb, int64_t now_us)
{
    struct twcc_feedback tf;
    struct twcc_packet_status st[MAX_FEEDBACK_STATUSES];
    struct send_result res[MAX_FEEDBACK_STATUSES];
    int n = rtcp_parse_twcc(fb, &tf, st, MAX_FEEDBACK_STATUSES);
    if (n <= 0)
        return;
    size_t m = send_history_on_feedback(&q->hist, &tf, st, (size_t)n, res);
    bwe_on_feedback(&q->bwe, res, m, now_us);
    q->have_feedback = true;
}

void quality_on_remb(struct quality *q, uint64_t bps, bool covers_audio, int64_t now_us)
{
    bwe_on_remb(&q->bwe, bps, now_us);
    q->remb_video_only = !covers_audio;
    q->have_feedback = true;
}

int quality_start_layer(const struct quality *q, const struct producer *p, enum cr_kind kind,
                        bool twcc, int64_t now_ms)
{
    int best = producer_best_layer(p, now_ms);
    if (!twcc || kind != CR_KIND_VIDEO || p->n_layers < 2)
        return best; /* no estimate will come to choose: the best the teacher sends */
    /* before any feedback, the lowest layer: its keyframe is a few packets, the first frame
     * comes at once on any link, and the first probe (sent as soon as feedback comes)
     * takes a good link up within a second; with an estimate, the richest active layer
     * that fits in it beside audio */
    int64_t room = q->bwe.source != BWE_SRC_NONE ? bwe_estimate(&q->bwe) * 4 / 5 : 0;
    int fit = -1, lowest = -1;
    for (size_t i = 0; i < p->n_layers; i++) {
        if (!producer_layer_active(p, (int)i, now_ms))
            continue;
        uint32_t bps = p->layers[i].bitrate_bps;
        if (lowest < 0 || bps < p->layers[lowest].bitrate_bps)
            lowest = (int)i;
        if (bps <= room && (fit < 0 || bps > p->layers[fit].bitrate_bps))
            fit = (int)i;
    }
    return fit >= 0 ? fit : lowest >= 0 ? lowest : best;
}

void quality_on_switch(struct quality *q, uint64_t layer_bps, int64_t now_us)
{
    /* a switch keyframe is about four average frames at 30 fps */
    bwe_expect_burst(&q->bwe, (int64_t)(layer_bps * 4 / 30 / 8), now_us);
}

void quality_on_rtt(struct quality *q, uint32_t rtt_ms)
{
    bwe_on_rtt(&q->bwe, (int64_t)rtt_ms * 1000);
}

void quality_on_handshake_rtt(struct quality *q, int64_t rtt_us)
{
    bwe_start_window(&q->bwe, rtt_us);
}

void quality_forget(struct quality *q, const void *key)
{
    for (size_t i = 0; i < LS_MAX_TRACKS; i++) {
        if (q->slots[i] == key) {
            q->slots[i] = NULL;
            q->n_temporal[i] = 0;
            layer_select_reset_track(&q->ls, i);
        }
    }
}

/* The peer's description of the consumer in slot s; NULL for an empty slot. */
static const struct quality_track *slot_track(const struct quality *q, size_t s,
                                              const struct quality_track *tracks, size_t n)
{
    for (size_t i = 0; q->slots[s] && i < n; i++)
        if (tracks[i].key == q->slots[s])
            return &tracks[i];
    return NULL;
}

/* Gives every consumer of the peer a selector slot that keeps its index. */
static size_t assign_slots(struct quality *q, const struct quality_track *tracks, size_t n_tracks)
{
    for (size_t i = 0; i < n_tracks; i++) {
        const void *c = tracks[i].key;
        bool known = false;
        for (size_t s = 0; c && s < LS_MAX_TRACKS; s++)
            known |= q->slots[s] == c;
        for (size_t s = 0; c && !known && s < LS_MAX_TRACKS; s++) {
            if (!q->slots[s]) {
                q->slots[s] = c;
                q->n_temporal[s] = 0;
                layer_select_reset_track(&q->ls, s);
                known = true;
            }
        }
    }
    size_t n = 0;
    for (size_t s = 0; s < LS_MAX_TRACKS; s++)
        if (q->slots[s])
            n = s + 1;
    return n;
}

/* VP8 temporal layers (RFC 7741 §4.2): as many as the best active layer that has been
 * measured over a whole window carries, with its cumulative byte shares (producer.c). A
 * change in their number changes what the selector's temporal index means: that track
 * starts its choice afresh. */
static void describe_temporal(struct quality *q, size_t s, const struct producer *p,
                              const int8_t *order, int64_t now_ms, struct ls_track *t)
{
    const struct producer_layer *m = NULL;
    for (size_t i = 0; i < p->n_layers; i++) { /* lowest bitrate first: the last wins */
        const struct producer_layer *l = &p->layers[order[i]];
        if (producer_layer_active(p, order[i], now_ms) && l->n_temporal >= 2 &&
            l->temporal_permille[0])
            m = l;
    }
    uint8_t n = m ? m->n_temporal : 1;
    if (n > LS_MAX_TEMPORAL)
        n = LS_MAX_TEMPORAL;
    if (n != q->n_temporal[s]) {
        if (q->n_temporal[s])
            layer_select_reset_track(&q->ls, s);
        q->n_temporal[s] = n;
    }
    if (n < 2)
        return; /* one temporal layer: the caller's defaults stand */
    t->n_temporal = n;
    uint16_t below = 0;
    for (uint8_t i = 0; i < n; i++) { /* never below the share under it, never 0 */
        uint16_t v = m->temporal_permille[i];
        t->temporal_permille[i] = v > below ? v : (uint16_t)(below + 1);
        below = t->temporal_permille[i];
    }
    t->temporal_permille[n - 1] = 1000;
}

/* The selector's view of slot s (its consumer described by c; NULL: empty): layers
 * ordered by bitrate, lowest first. */
static void describe(struct quality *q, size_t s, const struct quality_track *c, int64_t now_ms,
                     struct ls_track *t)
{
    memset(t, 0, sizeof *t);
    t->n_spatial = 1;
    t->n_temporal = 1;
    t->temporal_permille[0] = 1000;
    const struct producer *p = c ? c->p : NULL;
    if (!p)
        return; /* an empty slot: an audio track of no cost */
    t->video = c->video;
    t->priority = !t->video                          ? LS_PRIO_AUDIO
                  : strcmp(p->source, "screen") == 0 ? LS_PRIO_SCREEN
                                                     : LS_PRIO_CAMERA;
    t->n_spatial = (uint8_t)p->n_layers;
    int8_t *order = q->order[s];
    for (size_t i = 0; i < p->n_layers; i++)
        order[i] = (int8_t)i;
    for (size_t i = 1; i < p->n_layers; i++) /* insertion sort by bitrate */
        for (size_t j = i;
             j > 0 && p->layers[order[j]].bitrate_bps < p->layers[order[j - 1]].bitrate_bps; j--) {
            int8_t tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    size_t allowed = c->max_layers ? c->max_layers : p->n_layers;
    for (size_t i = 0; i < p->n_layers; i++) { /* a capped line sees no layer above its cap */
        bool on = allowed > 0 && producer_layer_active(p, order[i], now_ms);
        t->spatial_bps[i] = on ? (int64_t)p->layers[order[i]].bitrate_bps : 0;
        allowed -= on;
    }
    describe_temporal(q, s, p, order, now_ms, t);
}

/* Logs a change of choice for one consumer, with the estimate that made it. */
static void log_choice(const struct quality *q, const struct quality_track *c,
                       const struct ls_choice *ch, const struct bwe_stats *bs)
{
    CR_DEBUG("quality",
             "%llu/%s: %s layer %d/%d at estimate %lld (delay %lld, loss bound %lld, acked %lld, "
             "loss %.1f%%, %s)",
             (unsigned long long)q->bwe.log_id, c->mid, ch->paused ? "paused," : "to", ch->spatial,
             ch->temporal, (long long)bs->estimate_bps, (long long)bs->delay_bps,
             (long long)bs->loss_bound_bps, (long long)bs->acked_bps, bs->loss * 100,
             bs->source == BWE_SRC_TWCC   ? "twcc"
             : bs->source == BWE_SRC_REMB ? "remb"
                                          : "no feedback yet");
}

/* Forward error correction where it pays (consumer_fec.c): a repair by NACK takes a round
 * trip, so on a path whose round trip is long against the frame interval and whose loss is
 * steady, one FEC packet per k media packets rebuilds a lost one before a retransmission
 * could; k by the loss. On at 2 % loss and 60 ms, off under 1 % or 40 ms. 0: off. */
static unsigned choose_fec(struct quality *q, const struct bwe_stats *bs)
{
    double loss = bs->avg_loss;
    int64_t rtt_ms = bs->rtt_us / 1000;
    bool on = !q->fec_allowed ? false
              : q->fec_k      ? loss >= 0.01 && rtt_ms >= 40
                              : loss >= 0.02 && rtt_ms >= 60;
    q->fec_k = !on ? 0 : loss >= 0.08 ? 4 : loss >= 0.04 ? 6 : 8;
    return q->fec_k;
}

/* A receiver holds a frame no longer than its jitter buffer thinks it must, and
 * Chromium's adds a round trip for repairs only up to a cap: on a long lossy path a
 * repaired frame then comes after its time and the picture freezes. There the receiver is
 * asked to hold frames a round trip and PLAYOUT_MARGIN_MS (the playout-delay extension;
 * at most PLAYOUT_MOST_MS): the picture comes that much later, and whole. On at 2 % loss
 * and 100 ms, off under 1 % or 70 ms; a new value only when it moves by 50 ms. */
static unsigned choose_playout(struct quality *q, const struct bwe_stats *bs, int64_t now_ms)
{
    double loss = bs->avg_loss;
    int64_t rtt_ms = bs->rtt_us / 1000;
    /* before the loss is known, a long path is taken as lossy: the first repairs on a weak
     * link came after their frames' time (the receiver learns its round trip from its first
     * NACKs), a freeze in the first seconds of 2 runs in 3 */
    bool unknown = q->feedback_ms && now_ms - q->feedback_ms < PLAYOUT_LOSS_KNOWN_MS;
    bool on = unknown         ? rtt_ms >= 100
              : q->playout_ms ? loss >= 0.01 && rtt_ms >= 70
                              : loss >= 0.02 && rtt_ms >= 100;
    int64_t ms = on ? rtt_ms + PLAYOUT_MARGIN_MS : 0;
    ms = ms > PLAYOUT_MOST_MS ? PLAYOUT_MOST_MS : ms;
    if (on && q->playout_ms && ms > (int64_t)q->playout_ms - 50 && ms < (int64_t)q->playout_ms + 50)
        ms = q->playout_ms;
    q->playout_ms = (unsigned)ms;
    return q->playout_ms;
}

static size_t select_layers(struct quality *q, const struct quality_track *in, size_t n_in,
                            int64_t now_ms, struct quality_choice *out)
{
    size_t n = assign_slots(q, in, n_in);
    if (n == 0)
        return 0;
    struct ls_track tracks[LS_MAX_TRACKS];
    struct ls_choice choices[LS_MAX_TRACKS];
    const struct quality_track *slot[LS_MAX_TRACKS];
    for (size_t s = 0; s < n; s++) {
        slot[s] = slot_track(q, s, in, n_in);
        describe(q, s, slot[s], now_ms, &tracks[s]);
    }
    struct bwe_stats bs;
    bwe_get_stats(&q->bwe, &bs);
    if (!q->feedback_ms)
        q->feedback_ms = now_ms;
    int64_t budget = (int64_t)((double)bs.estimate_bps * (1.0 - bs.inherent_loss));
    unsigned fec = choose_fec(q, &bs);
    unsigned playout = choose_playout(q, &bs, now_ms);
    if (fec) /* FEC's overhead comes out of the estimate too */
        budget = budget * fec / (fec + 1);
    if (bs.source == BWE_SRC_REMB && q->remb_video_only)
        for (size_t s = 0; s < n; s++) /* the REMB left audio out: it comes on top */
            if (!tracks[s].video)
                budget += tracks[s].spatial_bps[0];
    /* a probe got through and raised the estimate to what it read: the budget is measured
     * (one that read less than the estimate, a start guess say, measured nothing above) */
    if (bs.probes_ok != q->probes_ok_seen && bs.estimate_bps > q->estimate_seen)
        layer_select_measured(&q->ls, now_ms);
    q->probes_ok_seen = bs.probes_ok;
    q->estimate_seen = bs.estimate_bps;
    /* the start estimate is a guess until the first probe has measured the path (or it
     * could not be sent): video stays where it started, as the lowest layer's keyframe
     * costs a 250 kbit/s link little and a 720p one floods it. The selector keeps nothing
     * of the guess (asked on a copy, for the rate its next step would probe for): kept, its
     * choice of 720p at 15 fps on the start estimate went out the moment a probe into a
     * 600 kbit/s link had read 455k, a 720p keyframe into the link. */
    bool settled = bs.probes_done > 0 || now_ms - q->feedback_ms >= SETTLE_MS;
    struct layer_select guess, *ls = &q->ls;
    if (!settled) {
        guess = q->ls;
        ls = &guess;
    }
    int64_t want = layer_select_update(ls, budget, tracks, n, now_ms, choices);
    q->next_bps = want;
    q->chosen_bps = 0;
    for (size_t s = 0; s < n && settled; s++)
        q->chosen_bps += slot[s] ? choices[s].rate_bps : 0;
    size_t n_out = 0;
    for (size_t s = 0; s < n && settled; s++) {
        if (!slot[s] || !tracks[s].video)
            continue;
        if (choices[s].changed)
            log_choice(q, slot[s], &choices[s], &bs);
        if (!choices[s].paused && choices[s].spatial < 0)
            continue;
        struct quality_choice *o = &out[n_out++];
        o->key = slot[s]->key;
        o->paused = choices[s].paused;
        o->fec_k = (uint8_t)fec;
        o->playout_ms = (uint16_t)playout;
        o->layer = o->paused ? -1 : q->order[s][choices[s].spatial];
        /* the fine step: temporal layers 0..t; the top one leaves the cap off */
        o->temporal = choices[s].temporal + 1 >= tracks[s].n_temporal ? REWRITER_ALL_TIDS
                                                                      : choices[s].temporal;
    }
    /* the first probe goes as high as it may (twice the estimate; 1.5 × a start the round
     * trip bounded, media/bwe.h bwe_start_window), whatever the selector
     * wants: the teacher's layers are still ramping up when a lesson starts, and their
     * measured rates understate what the next layer will need. It waits FIRST_PROBE_MS
     * after the first report, for the first keyframe to arrive: on a 250 kbit/s link the
     * probe fills the queue for a second, and a keyframe caught in it is lost. */
    bool first_due = now_ms - q->feedback_ms >= FIRST_PROBE_MS;
    if (!q->initial_probed && bs.source == BWE_SRC_TWCC)
        want = first_due ? q->bwe.cfg.max_bps : 0;
    struct bwe_probe pr;
    if (want > 0 && !q->probe_from_us && bwe_probe_next(&q->bwe, want, 0, now_ms * 1000, &pr)) {
        q->initial_probed = true;
        q->probe = pr;
        q->probe_from_us = now_ms * 1000;
        q->probe_bytes = 0;
    }
    return n_out;
}

/* The probe's packets for this tick: padding on a video consumer's RTX stream, as much as
 * brings what left toward the client since the cluster began (media, repairs and padding)
 * up to its target rate by the next tick. Media is bursty (a frame, a keyframe, a burst of
 * repairs): padding made at a fixed rate on top of it sent 1.4-1.7 × the target, and the
 * excess overflowed a school router's small queue at every probe. */
static void pace_probe(struct quality *q, const struct quality_track *tracks, size_t n,
                       int64_t now_us, struct quality_probe *out)
{
    memset(out, 0, sizeof *out);
    if (!q->probe_from_us)
        return;
    const struct quality_track *via = NULL;
    for (size_t s = 0; s < LS_MAX_TRACKS && !via; s++) {
        const struct quality_track *t = slot_track(q, s, tracks, n);
        if (t && t->can_probe)
            via = t;
    }
    int64_t elapsed = now_us - q->probe_from_us;
    if (!via || elapsed >= q->probe.duration_us) {
        q->probe_from_us = 0; /* done (or nothing to carry it) */
        return;
    }
    int64_t until = elapsed + PROBE_TICK_US < q->probe.duration_us ? elapsed + PROBE_TICK_US
                                                                   : q->probe.duration_us;
    int64_t due = q->probe.target_bps * until / 8000000;
    int64_t each = QUALITY_PROBE_PADDING + PROBE_PACKET_OVERHEAD;
    int64_t count = due > q->probe_bytes ? (due - q->probe_bytes + each - 1) / each : 0;
    count = count > PROBE_MAX_PER_TICK ? PROBE_MAX_PER_TICK : count;
    out->via = via->key;
    out->id = q->probe.id;
    out->count = (int)count;
    q->probe_bytes += count * each;
}

int64_t quality_rtx_budget(const struct quality *q)
{
    /* without an estimate, nothing to share out; with one, a quarter for repairs per
     * video track (a 3 % lossy link needs a tenth of that) */
    return q->have_feedback ? bwe_estimate(&q->bwe) * RTX_SHARE_PERCENT / 100 : 0;
}

int quality_rtx_copies(const struct quality *q)
{
    double loss = q->bwe.loss.avg_loss;
    return q->have_feedback && loss >= QUALITY_RTX_TWICE_LOSS && loss < QUALITY_RTX_TWICE_MAX ? 2
                                                                                              : 1;
}

int64_t quality_pace_bps(const struct quality *q)
{
    if (!q->have_feedback)
        return 0;
    int64_t by_estimate = bwe_estimate(&q->bwe) * PACE_PERCENT / 100;
    int64_t by_choice = q->chosen_bps * PACE_OVER_CHOICE_PERCENT / 100;
    return by_estimate > by_choice ? by_estimate : by_choice;
}

bool quality_drives_layers(struct quality *q, bool twcc_negotiated)
{
    if (twcc_negotiated)
        q->have_feedback = true; /* negotiated: it comes with the first packets */
    return q->have_feedback;
}

size_t quality_tick(struct quality *q, const struct quality_track *tracks, size_t n, int64_t now_ms,
                    struct quality_choice *out, struct quality_probe *probe)
{
    int64_t now_us = now_ms * 1000;
    bwe_on_timer(&q->bwe, now_us);
    pace_probe(q, tracks, n, now_us, probe);
    if (!q->have_feedback || now_ms - q->last_select_ms < SELECT_INTERVAL_MS)
        return 0; /* without feedback, consumers follow the publisher's best layer */
    if (q->bwe.source == BWE_SRC_NONE)
        return 0; /* negotiated but not come yet: video stays where it started (the lowest
                   * layer, quality_start_layer); the start estimate is a guess, and a
                   * 360p keyframe sent on it floods a 250 kbit/s link for a second */
    q->last_select_ms = now_ms;
    return select_layers(q, tracks, n, now_ms, out);
}
