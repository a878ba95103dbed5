/* Layer choice: see layer_select.h. The step ladder of a track keeps the (spatial,
 * temporal) order and leaves out a temporal step of spatial layer s that costs no more
 * than all of layer s − 1 (it would be a worse picture for the same bits), so climbing
 * the ladder never lowers the resolution. Of the top spatial layer (of two or more) it
 * also leaves out the steps under half the frame rate (of three temporal layers, T0):
 * 720p at a quarter of the frame rate looks worse than 360p at the full rate it may
 * barely exceed, and a classroom left there sees a slide show. Lower layers keep theirs for
 * a classroom already on them (360p at 7.5 fps still shows a blackboard that 180p blurs),
 * but are no step up from a lower resolution: the bad link's classroom went from 180p at
 * 15-30 fps to 360p at 7.5 fps as soon as its estimate reached 210 kbit/s, under the 10 fps
 * a lesson needs. */
#include "media/layer_select.h"

#include <string.h>

#define NEVER (INT64_MIN / 2)
#define MAX_STEPS (LS_MAX_SPATIAL * LS_MAX_TEMPORAL)
#define WIDE 1.5 /* an upgrade affordable this many times over waits only the start hold */

struct step {
    int8_t s, t;
    int64_t rate;
};

void layer_select_reset_track(struct layer_select *ls, size_t i)
{
    if (i >= LS_MAX_TRACKS)
        return;
    ls->tracks[i] = (struct ls_track_state){.spatial = -1,
                                            .temporal = -1,
                                            .up_since_ms = -1,
                                            .below_since_ms = -1,
                                            .last_down_ms = NEVER,
                                            .last_up_ms = NEVER,
                                            .backoff_ms = ls->cfg.backoff_ms};
}

void layer_select_init(struct layer_select *ls, const struct ls_config *cfg)
{
    memset(ls, 0, sizeof *ls);
    ls->cfg = *cfg;
    for (size_t i = 0; i < LS_MAX_TRACKS; i++)
        layer_select_reset_track(ls, i);
}

static int build_ladder(const struct ls_track *tr, int cur_spatial, struct step *st)
{
    int n = 0;
    int nt = tr->n_temporal < 1                 ? 1
             : tr->n_temporal > LS_MAX_TEMPORAL ? LS_MAX_TEMPORAL
                                                : tr->n_temporal;
    int ns = tr->n_spatial > LS_MAX_SPATIAL ? LS_MAX_SPATIAL : tr->n_spatial;
    bool given = false;
    for (int t = 0; t < nt; t++)
        given = given || tr->temporal_permille[t] > 0;
    int64_t below = 0;        /* full rate of the spatial layer under this one */
    int min_t = (nt - 1) / 2; /* of 3 temporal layers, T1 and up */
    int top = -1, lowest = -1;
    for (int s = 0; s < ns; s++) {
        top = tr->spatial_bps[s] > 0 ? s : top;
        lowest = lowest < 0 && tr->spatial_bps[s] > 0 ? s : lowest;
    }
    for (int s = 0; s < ns; s++) {
        if (tr->spatial_bps[s] <= 0)
            continue;
        for (int t = 0; t < nt; t++) {
            int64_t share = given ? tr->temporal_permille[t] : (t + 1) * 1000 / nt;
            if (t == nt - 1 || share > 1000)
                share = 1000;
            int64_t rate = tr->spatial_bps[s] * share / 1000;
            bool slow = t < min_t && ((n > 0 && s == top) || (s != lowest && s > cur_spatial));
            if ((rate <= below || slow) && t < nt - 1)
                continue;
            st[n++] = (struct step){(int8_t)s, (int8_t)t, rate};
        }
        below = tr->spatial_bps[s];
    }
    return n;
}

/* The highest step whose rate × margin fits share, or -1. */
static int best_fit(const struct step *st, int n, int64_t share, double margin)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if ((double)st[i].rate * margin <= (double)share)
            best = i;
    return best;
}

/* The highest step that, with what was reserved before it, fits share + reserved at
 * margin, or -1. */
static int best_fit_total(const struct step *st, int n, int64_t share, int64_t reserved,
                          double margin)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if ((double)(st[i].rate + reserved) * margin <= (double)(share + reserved))
            best = i;
    return best;
}

/* The current step in this ladder. Measured rates move, and with them the ladder's shape
 * (a temporal step under the spatial layer below is left out): a step that is no longer
 * on it stands for the nearest one of its spatial layer, so a reshaped ladder is not
 * taken as a free choice, which would flap between spatial layers without hysteresis. */
static int find_step(const struct step *st, int n, const struct ls_track_state *ts)
{
    int near = -1;
    for (int i = 0; i < n; i++) {
        if (st[i].s != ts->spatial)
            continue;
        if (st[i].t == ts->temporal)
            return i;
        if (near < 0 || st[i].t <= ts->temporal)
            near = i;
    }
    return near;
}

/* A move down (or to pause): starts the backoff, and doubles it when it undoes a recent
 * upgrade. */
static void note_down(const struct ls_config *cfg, struct ls_track_state *ts, int64_t now_ms)
{
    if (now_ms - ts->last_up_ms < cfg->fail_window_ms) {
        ts->failed_ups++;
        ts->backoff_ms *= 2;
        if (ts->backoff_ms > cfg->max_backoff_ms)
            ts->backoff_ms = cfg->max_backoff_ms;
        ts->last_up_ms = NEVER;
    }
    ts->last_down_ms = now_ms;
    ts->up_since_ms = -1;
}

/* True when an upgrade to a step affordable at up_margin is due: affordable without a
 * break for up_hold_ms (the start hold when wide: affordable WIDE times over) and past the
 * backoff. */
static bool up_due(const struct ls_config *cfg, struct ls_track_state *ts, bool affordable,
                   bool wide, int64_t now_ms)
{
    if (!affordable) {
        ts->up_since_ms = -1;
        return false;
    }
    if (ts->up_since_ms < 0)
        ts->up_since_ms = now_ms;
    int64_t hold = ts->last_down_ms == NEVER || wide ? cfg->start_up_hold_ms : cfg->up_hold_ms;
    return now_ms - ts->up_since_ms >= hold && now_ms - ts->last_down_ms >= ts->backoff_ms;
}

/* Chooses the step index for one video track (-1: paused); reserved is what tracks of
 * higher priority took before it (share is what is left). */
static int choose(const struct ls_config *cfg, struct ls_track_state *ts, const struct step *st,
                  int n, int64_t share, int64_t reserved, bool measured, int64_t now_ms)
{
    if (n == 0)
        return -1;
    int fit = best_fit(st, n, share, 1.0);
    bool single = n == 1; /* nothing finer to fall back on: keep it unless far below */
    int up =
        best_fit_total(st, n, share, reserved, single ? cfg->single_resume_margin : cfg->up_margin);
    double pause_margin = single ? cfg->single_pause_margin : cfg->pause_margin;
    bool lowest_ok = (double)st[0].rate * pause_margin <= (double)share;
    int cur = ts->started && !ts->paused ? find_step(st, n, ts) : -1;
    if (!ts->started && cfg->start_lowest) /* the rest is an upgrade from there */
        return up > 0 ? up : lowest_ok ? 0 : -1;
    if (!ts->started || (!ts->paused && cur < 0)) /* first choice, or the layer is gone */
        return fit >= 0 ? fit : lowest_ok ? 0 : -1;
    if (ts->paused) {
        if (up_due(cfg, ts, up >= 0, false, now_ms))
            return up;
        return -1;
    }
    if (st[cur].rate > share) {
        /* the current step does not fit: down at once when everything sent down to this
         * track gets less than down_margin of what it needs (an AIMD cut scales all of it),
         * or when the step has not fitted for down_hold_ms (the lowest step stays until
         * pause_margin) */
        if (ts->below_since_ms < 0)
            ts->below_since_ms = now_ms;
        bool now_down =
            (double)(st[cur].rate + reserved) * cfg->down_margin > (double)(share + reserved) ||
            now_ms - ts->below_since_ms >= cfg->down_hold_ms;
        int to = fit >= 0 ? fit : lowest_ok ? 0 : -1;
        if (now_down && to != cur) {
            note_down(cfg, ts, now_ms);
            ts->below_since_ms = -1;
            return to;
        }
        ts->up_since_ms = -1;
        return cur;
    }
    ts->below_since_ms = -1;
    if (now_ms - ts->last_up_ms >= cfg->fail_window_ms && ts->last_up_ms != NEVER) {
        ts->backoff_ms = cfg->backoff_ms; /* the last upgrade held */
        ts->last_up_ms = NEVER;
    }
    int fine = best_fit_total(st, n, share, reserved, cfg->temporal_up_margin);
    while (fine > cur && st[fine].s != st[cur].s)
        fine--; /* the richest step of the current spatial layer at the finer margin */
    if (fine > up)
        up = fine;
    bool wide = up > cur && (measured || (double)(st[up].rate + reserved) * cfg->up_margin * WIDE <=
                                             (double)(share + reserved));
    if (up_due(cfg, ts, up > cur, wide, now_ms)) {
        ts->last_up_ms = now_ms;
        ts->up_since_ms = -1;
        return up;
    }
    return cur;
}

static void apply(struct ls_track_state *ts, const struct step *st, int i, struct ls_choice *out)
{
    int8_t s = i >= 0 ? st[i].s : -1, t = i >= 0 ? st[i].t : -1;
    bool paused = i < 0;
    out->changed = !ts->started || s != ts->spatial || t != ts->temporal || paused != ts->paused;
    out->keyframe = !paused && (!ts->started || ts->paused || s != ts->spatial);
    if (ts->started && out->changed)
        ts->switches++;
    ts->spatial = s;
    ts->temporal = t;
    ts->paused = paused;
    ts->started = true;
    out->spatial = s;
    out->temporal = t;
    out->paused = paused;
    out->rate_bps = i >= 0 ? st[i].rate : 0;
}

void layer_select_measured(struct layer_select *ls, int64_t now_ms)
{
    ls->measured_until_ms = now_ms + LS_MEASURED_MS;
}

int64_t layer_select_update(struct layer_select *ls, int64_t budget_bps,
                            const struct ls_track *tracks, size_t n, int64_t now_ms,
                            struct ls_choice *out)
{
    if (n > LS_MAX_TRACKS)
        n = LS_MAX_TRACKS;
    /* serve tracks by priority, ties in the caller's order */
    size_t order[LS_MAX_TRACKS];
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && tracks[order[j - 1]].priority > tracks[i].priority) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    int64_t left = budget_bps, need = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        const struct ls_track *tr = &tracks[i];
        struct ls_track_state *ts = &ls->tracks[i];
        struct ls_choice *o = &out[i];
        int64_t share = left > 0 ? left : 0;
        if (!tr->video) { /* audio: reserved first, never paused */
            *o = (struct ls_choice){.spatial = 0,
                                    .temporal = 0,
                                    .changed = !ts->started,
                                    .rate_bps = tr->spatial_bps[0],
                                    .share_bps = share};
            ts->started = true;
            ts->spatial = ts->temporal = 0;
            left -= tr->spatial_bps[0];
            continue;
        }
        struct step st[MAX_STEPS];
        int ns = build_ladder(tr, ts->spatial, st);
        int64_t reserved = budget_bps - left > 0 ? budget_bps - left : 0;
        int i_step =
            choose(&ls->cfg, ts, st, ns, share, reserved, now_ms < ls->measured_until_ms, now_ms);
        apply(ts, st, i_step, o);
        o->share_bps = share;
        left -= o->rate_bps;
        /* what the next step up would need in all, for the caller to probe */
        double margin = ns == 1 ? ls->cfg.single_resume_margin : ls->cfg.up_margin;
        int next = best_fit_total(st, ns, share, reserved, margin);
        next = (i_step > next ? i_step : next) + 1; /* above the chosen step, too */
        if (next < ns && i_step >= 0 && st[next].s == st[i_step].s)
            margin = ls->cfg.temporal_up_margin;
        if (next < ns) {
            int64_t total = (int64_t)((double)(st[next].rate + reserved) * margin);
            if (need == 0 || total < need)
                need = total;
        }
    }
    return need;
}
