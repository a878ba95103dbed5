/* Layer choice for one subscriber: splits the bandwidth estimate (media/bwe.h) across the
 * tracks it receives, in priority order — audio first (always kept), then the courseware/
 * screen track, then the teacher's camera — and picks for each video track a spatial
 * (simulcast, RFC 8853) and temporal layer, with hysteresis so a classroom never
 * oscillates:
 *   - the steps of a track are its (spatial, temporal) pairs ordered by bitrate (a spatial
 *     layer's bitrate × the cumulative share of its temporal layers), so dropping temporal
 *     layers is the fine, keyframe-free step and a spatial layer the coarse one;
 *   - DOWN at once when the budget falls below down_margin (0.7) of what this track and
 *     the ones served before it need, and when the track's share stays below its step's
 *     rate for down_hold_ms (3 s): to the highest step whose rate fits the share.
 *     media/bwe.h cuts to 0.85 × the acknowledged (received) rate on overuse; on a path
 *     that was carrying the step, one such cut, less the retransmission share of a lossy
 *     path and the ±10 % noise of a 500 ms rate of bursty video, stays above 0.7 and
 *     recovers within the hold; a path that carries clearly less moves it at once;
 *   - UP only when the budget has exceeded up_margin (1.2) × what the next step and the
 *     tracks served before it need (temporal_up_margin, 1.1, for a step of the same spatial
 *     layer: it needs no keyframe and is undone at once, so it may ask for less room),
 *     continuously for up_hold_ms (2.5 s; start_up_hold_ms, 0.3 s, while the track has
 *     never gone down: a classroom starts below the top layer and climbs as soon as its
 *     first probe shows room; the same when the budget covers the step 1.5 times over: a
 *     link that cleared, measured by probes, is no noise), and not before a backoff after
 *     the last downgrade; the backoff doubles each time an upgrade is undone within
 *     fail_window_ms (up to max_backoff_ms) and returns to its base after an upgrade that
 *     holds;
 *   - video PAUSED (audio only) when even the lowest step gets less than pause_margin of
 *     its rate; it resumes through the same up rule at up_margin. A track of one step (one
 *     layer without temporal layers: a WHIP encoder, a camera, a classroom's uplink) has
 *     nothing finer to fall back on, and an estimate a little under its rate is no reason
 *     to stop it (the pacer and the link carry a stream a little over the estimate): it
 *     pauses only below single_pause_margin and resumes at single_resume_margin.
 * The output says when a spatial change needs a keyframe (the caller asks the publisher
 * for one and switches when it arrives; meanwhile it forwards the old spatial layer with no
 * more temporal layers than either choice has) and what rate the next step would need,
 * for the caller to probe (bwe_probe_next). Time is passed in (ms). */
#ifndef CR_MEDIA_LAYER_SELECT_H
#define CR_MEDIA_LAYER_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LS_MAX_TRACKS 40 /* every line of a peer (wire/sdp.h SDP_MAX_MEDIA) */
#define LS_MAX_SPATIAL 3
#define LS_MAX_TEMPORAL 4

struct ls_config {
    double down_margin;          /* go down at once below need × this; default 0.7 */
    int64_t down_hold_ms;        /* ...and below rate × 1.0 held this long; default 3000 */
    double up_margin;            /* go up above rate × this; default 1.2 */
    double temporal_up_margin;   /* ... within the spatial layer; default 1.1 */
    double pause_margin;         /* pause below the lowest step × this; default 0.8 */
    double single_pause_margin;  /* ... a track of one step; default 0.5 */
    double single_resume_margin; /* ... which resumes above its rate × this; default 0.7 */
    int64_t up_hold_ms;          /* default 2500 */
    int64_t start_up_hold_ms;    /* before the first move down; default 300 */
    int64_t backoff_ms;          /* after a downgrade, base; default 4000 */
    int64_t max_backoff_ms;      /* default 120000 */
    int64_t fail_window_ms;      /* an upgrade undone within this failed; default 30000 */
    /* the caller starts every video track on its lowest step: the first choice above it is
     * an upgrade, at up_margin; default false (the first choice is what fits) */
    bool start_lowest;
};
#define LS_CONFIG_DEFAULT                                                                          \
    ((struct ls_config){.down_margin = 0.7,                                                        \
                        .down_hold_ms = 3000,                                                      \
                        .up_margin = 1.2,                                                          \
                        .temporal_up_margin = 1.1,                                                 \
                        .pause_margin = 0.8,                                                       \
                        .single_pause_margin = 0.5,                                                \
                        .single_resume_margin = 0.7,                                               \
                        .up_hold_ms = 2500,                                                        \
                        .start_up_hold_ms = 300,                                                   \
                        .backoff_ms = 4000,                                                        \
                        .max_backoff_ms = 120000,                                                  \
                        .fail_window_ms = 30000})

/* Track priorities: lower is served first. */
enum ls_priority { LS_PRIO_AUDIO = 0, LS_PRIO_SCREEN = 1, LS_PRIO_CAMERA = 2 };

/* One track as it is now (the caller measures the incoming layers, averaged over a few
 * seconds so a keyframe does not look like a new bitrate). */
struct ls_track {
    uint8_t priority;                    /* enum ls_priority, or any order of the caller's */
    bool video;                          /* false: audio, always given its rate, never paused */
    uint8_t n_spatial;                   /* 1 without simulcast */
    uint8_t n_temporal;                  /* 1 when the codec has no temporal layers */
    int64_t spatial_bps[LS_MAX_SPATIAL]; /* measured; 0 = not received now (skipped) */
    /* cumulative share of temporal layers 0..t in ‰, e.g. VP8 L1T3 {450, 700, 1000};
     * all zero means equal steps */
    uint16_t temporal_permille[LS_MAX_TEMPORAL];
};

struct ls_choice {
    int8_t spatial, temporal; /* -1, -1 while paused or before any choice */
    bool paused;
    bool changed;      /* differs from the previous call's choice */
    bool keyframe;     /* the spatial layer changed (or video resumed): ask for a keyframe */
    int64_t rate_bps;  /* the chosen step's rate */
    int64_t share_bps; /* the part of the estimate this track was offered */
};

struct ls_track_state {
    int8_t spatial, temporal; /* -1 before the first choice */
    bool paused, started;
    int64_t up_since_ms;    /* -1: the next step is not (yet) continuously affordable */
    int64_t below_since_ms; /* -1: the current step is affordable at 1.0 */
    int64_t last_down_ms;   /* INT64_MIN/2 never */
    int64_t last_up_ms;
    int64_t backoff_ms;
    uint32_t switches, failed_ups;
};

struct layer_select {
    struct ls_config cfg;
    struct ls_track_state tracks[LS_MAX_TRACKS]; /* state, by the caller's track index */
    /* Until then the budget is a measurement, not a guess: a probe cluster just got
     * through at it (layer_select_measured), and an upgrade it affords waits only the
     * start hold, as a wide one does. */
    int64_t measured_until_ms;
};

void layer_select_init(struct layer_select *ls, const struct ls_config *cfg);
/* A probe cluster got through at the budget now given: upgrades it affords over the next
 * LS_MEASURED_MS wait only the start hold (a cap lifted is found in one probe series, not
 * in a probe series and 2.5 s more). */
void layer_select_measured(struct layer_select *ls, int64_t now_ms);
#define LS_MEASURED_MS 1000
/* Forgets track i's history (a new track in that slot). */
void layer_select_reset_track(struct layer_select *ls, size_t i);
/* Chooses layers for n ≤ LS_MAX_TRACKS tracks (index i keeps meaning the same track
 * between calls) from budget_bps: the estimate less what retransmissions take (with RTX,
 * bwe estimate × (1 − the path's random loss)). Fills out[0..n) and returns the budget the
 * cheapest next upgrade would need (0 when every track is at its top): the caller probes
 * toward it. Call on every estimate change and on a timer (~every 100-200 ms). */
int64_t layer_select_update(struct layer_select *ls, int64_t budget_bps,
                            const struct ls_track *tracks, size_t n, int64_t now_ms,
                            struct ls_choice *out);

#endif
