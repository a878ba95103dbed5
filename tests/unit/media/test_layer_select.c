/* Tests relay/media/layer_select.c with time passed in: the step ladder, the initial choice,
 * down at once or after the hold, up only after the hold and the backoff, a backoff that
 * doubles when upgrades fail and resets when one holds, pause and resume with their own
 * hysteresis, the split between audio, screen and camera, keyframe flags, a layer that
 * vanishes, and the rate the next step needs (for probing). The closed loop with the
 * estimator is in test_bwe.c. */
#include "media/layer_select.h"
#include "test.h"

static struct layer_select ls;
static struct ls_choice out[LS_MAX_TRACKS];

/* audio 40k + a VP8 camera 150k/500k/1.5M with L1T3 shares 45/70/100 % */
static struct ls_track tracks[3] = {
    {.priority = LS_PRIO_AUDIO, .video = false, .n_spatial = 1, .spatial_bps = {40000}},
    {.priority = LS_PRIO_CAMERA,
     .video = true,
     .n_spatial = 3,
     .n_temporal = 3,
     .spatial_bps = {150000, 500000, 1500000},
     .temporal_permille = {450, 700, 1000}},
};

static int64_t need;

/* runs the selector every 100 ms over [from, to) at a constant budget; returns the camera
 * switches seen */
static int run(int64_t budget, int64_t from_ms, int64_t to_ms)
{
    int sw = 0;
    for (int64_t t = from_ms; t < to_ms; t += 100) {
        need = layer_select_update(&ls, budget, tracks, 2, t, out);
        sw += out[1].changed;
    }
    return sw;
}

static void init(void)
{
    struct ls_config cfg = LS_CONFIG_DEFAULT;
    cfg.start_up_hold_ms = cfg.up_hold_ms; /* the steady-state rules; test_start has its own */
    layer_select_init(&ls, &cfg);
}

#define CAM(s, t) (out[1].spatial == (s) && out[1].temporal == (t) && !out[1].paused)

static void test_initial_and_ladder(void)
{
    init();
    need = layer_select_update(&ls, 2000000, tracks, 2, 0, out);
    CHECK(CAM(2, 2)); /* 1.96M left after audio: 720p, all temporal layers */
    CHECK(out[1].changed && out[1].keyframe);
    CHECK_EQ(out[1].rate_bps, 1500000);
    CHECK_EQ(out[0].rate_bps, 40000);
    CHECK_EQ(need, 0); /* at the top: nothing to probe for */
    init();
    layer_select_update(&ls, 500000, tracks, 2, 0, out);
    CHECK(CAM(1, 1)); /* 460k left: 360p at 15 fps (350k) */
    /* a temporal step that costs no more than the spatial layer below is left out */
    struct ls_track steep = tracks[1];
    steep.temporal_permille[0] = 200; /* 360p T0 = 100k < all of 180p */
    struct ls_track two[2] = {tracks[0], steep};
    init();
    layer_select_update(&ls, 40000 + 140000, two, 2, 0, out);
    CHECK(out[1].spatial == 0 && out[1].temporal == 1); /* not 360p T0 */
    /* 360p T0 (225k, 7.5 fps) fits, but is no step up from 180p: 180p at the full rate; a
     * classroom already on 360p keeps it (test_up_hold_and_backoff) */
    init();
    layer_select_update(&ls, 40000 + 300000, tracks, 2, 0, out);
    CHECK(CAM(0, 2));
    CHECK_EQ(run(40000 + 300000, 0, 20000), 0);
}

/* A caller that starts every track on its lowest step (route/quality.c): the first choice
 * above it is an upgrade, at the up margin. */
static void test_start_lowest(void)
{
    struct ls_config cfg = LS_CONFIG_DEFAULT;
    cfg.start_lowest = true;
    layer_select_init(&ls, &cfg);
    layer_select_update(&ls, 40000 + 400000, tracks, 2, 0, out);
    CHECK(CAM(0, 2)); /* 360p at 15 fps (350k) fits at 1.0, not at 1.2 */
    layer_select_init(&ls, &cfg);
    layer_select_update(&ls, 1700000, tracks, 2, 0, out);
    CHECK(CAM(2, 1)); /* all of 720p needs 1.2 × 1.54M: 720p at 15 fps (1.05M) */
    layer_select_init(&ls, &cfg);
    layer_select_update(&ls, 40000 + 100000, tracks, 2, 0, out);
    CHECK(CAM(0, 0)); /* 180p at 7.5 fps: what fits, the margin or not */
}

static void test_down(void)
{
    init();
    run(2000000, 0, 1000);
    CHECK(CAM(2, 2));
    /* far below: at once, to the highest step that fits, within the spatial layer */
    CHECK_EQ(run(1000000, 1000, 1100), 1);
    /* 960k left: 720p T0 (675k, 7.5 fps) is not on the ladder, 360p T2 (500k) is */
    CHECK(CAM(1, 2));
    CHECK(out[1].keyframe);
    /* a little below (the share is 95 % of the step): held for 3 s, then down */
    init();
    run(40000 + 500000, 0, 1000);
    CHECK(CAM(1, 2));
    CHECK_EQ(run(40000 + 475000, 1000, 3900), 0);
    CHECK_EQ(run(40000 + 475000, 3900, 4200), 1);
    CHECK(CAM(1, 1));
    /* a dip that recovers within the hold changes nothing */
    init();
    run(540000, 0, 1000);
    CHECK_EQ(run(520000, 1000, 3000), 0);
    CHECK_EQ(run(540000, 3000, 10000), 0);
    CHECK(CAM(1, 2));
}

static void test_up_hold_and_backoff(void)
{
    init();
    run(40000 + 350000, 0, 1000); /* 360p T1 */
    CHECK(CAM(1, 1));
    /* 360p T2 needs 1.1 × 540k = 594k; 2 Mbit/s allows 720p: after 2.5 s, straight there */
    CHECK_EQ(need, 594000);
    CHECK_EQ(run(2000000, 1000, 3400), 0);
    CHECK_EQ(run(2000000, 3400, 3600), 1);
    CHECK(CAM(2, 2) && out[1].keyframe);
    /* an interruption restarts the hold */
    init();
    run(390000, 0, 1000);
    run(700000, 1000, 3000);
    run(580000, 3000, 3100); /* below 594k for a moment */
    CHECK_EQ(run(700000, 3100, 5500), 0);
    CHECK_EQ(run(700000, 5500, 5700), 1);
    CHECK(CAM(1, 2));
    /* upgrades that fail double the backoff: 4 s, then 8 s, then 16 s */
    init();
    run(390000, 0, 1000);    /* 360p T1 */
    run(700000, 1000, 3600); /* up to T2 at 3.5 s */
    CHECK(CAM(1, 2));
    run(350000, 3600, 3700); /* undone at once (350k < 0.7 × 540k): failed */
    CHECK(CAM(1, 0));
    CHECK_EQ(ls.tracks[1].backoff_ms, 8000);
    CHECK_EQ(run(700000, 3700, 11600), 0); /* held for 2.5 s, but the backoff runs to 11.6 s */
    CHECK_EQ(run(700000, 11600, 11800), 1);
    CHECK(CAM(1, 2));
    run(350000, 11800, 11900); /* fails again */
    CHECK_EQ(ls.tracks[1].backoff_ms, 16000);
    CHECK_EQ(run(700000, 11900, 27800), 0);
    CHECK_EQ(run(700000, 27800, 28000), 1);
    /* this one holds for 30 s: back to the base backoff */
    run(700000, 28000, 58100);
    CHECK_EQ(ls.tracks[1].backoff_ms, 4000);
    CHECK_EQ(ls.tracks[1].failed_ups, 2);
}

/* A temporal step up needs less room than a spatial one: a budget a little over the middle
 * layer and audio (580k for 540k) runs it at its full frame rate, not at T1. */
static void test_temporal_margin(void)
{
    struct ls_config cfg = LS_CONFIG_DEFAULT;
    cfg.start_up_hold_ms = cfg.up_hold_ms;
    cfg.temporal_up_margin = 1.05;
    layer_select_init(&ls, &cfg);
    run(40000 + 350000, 0, 1000); /* 360p T1 */
    CHECK(CAM(1, 1));
    CHECK_EQ(run(580000, 1000, 4000), 1); /* 580k ≥ 1.05 × 540k, < 1.2 × */
    CHECK(CAM(1, 2));
    CHECK_EQ(run(580000, 4000, 20000), 0); /* and stays */
    /* a spatial step still wants its fifth: 720p T1 (1.09M + 40k) at 1.2 is 1.36M */
    CHECK_EQ(run(1300000, 20000, 30000), 0);
    CHECK(CAM(1, 2));
}

static void test_pause(void)
{
    init();
    /* 180p T0 is 67.5k: below 0.8 of it after audio, video pauses */
    need = layer_select_update(&ls, 40000 + 50000, tracks, 2, 0, out);
    CHECK(out[1].paused && out[1].rate_bps == 0 && !out[1].keyframe);
    CHECK_EQ(out[1].spatial, -1);
    CHECK_EQ(need, (int64_t)((40000 + 67500) * 1.2));
    /* between 0.8 and 1.2 of it: stays paused... */
    CHECK_EQ(run(40000 + 70000, 100, 10000), 0);
    CHECK(out[1].paused);
    /* ...and resumes above 1.2 × (audio + 180p T0) held for 2.5 s, with a keyframe */
    CHECK_EQ(run(130000, 10000, 12500), 0);
    layer_select_update(&ls, 130000, tracks, 2, 12500, out);
    CHECK(CAM(0, 0) && out[1].changed && out[1].keyframe);
    run(130000, 12600, 12700);
    /* the lowest step stays down to 0.8 of its rate, then pauses */
    CHECK_EQ(run(40000 + 56000, 12700, 20000), 0);
    CHECK(CAM(0, 0));
    CHECK_EQ(run(40000 + 50000, 20000, 20100), 1);
    CHECK(out[1].paused);
    /* audio is kept whatever the estimate */
    run(10000, 20100, 20200);
    CHECK(!out[0].paused && out[0].rate_bps == 40000);
}

/* One layer without temporal layers (a WHIP encoder at 1.47 Mbit/s): kept while the
 * estimate is a little under it, paused only far below, resumed at 0.7 of it. */
static void test_single_layer(void)
{
    struct ls_track one[2] = {
        tracks[0],
        {.priority = LS_PRIO_CAMERA, .video = true, .n_spatial = 1, .spatial_bps = {1470000}},
    };
    init();
    int sw = 0;
    for (int64_t t = 0; t < 20000; t += 100) { /* an aiortc receiver's 1.41 Mbit/s */
        layer_select_update(&ls, 1410000, one, 2, t, out);
        sw += out[1].changed;
    }
    CHECK(CAM(0, 0));
    CHECK_EQ(sw, 1);                             /* the first choice, no pause */
    for (int64_t t = 20000; t < 30000; t += 100) /* 0.6 of it: still sent */
        layer_select_update(&ls, 40000 + 882000, one, 2, t, out);
    CHECK(CAM(0, 0));
    for (int64_t t = 30000; t < 34000; t += 100) /* far below: paused, says so */
        need = layer_select_update(&ls, 40000 + 600000, one, 2, t, out);
    CHECK(out[1].paused);
    CHECK_EQ(need, (int64_t)((40000 + 1470000) * 0.7)); /* what a probe must show */
    for (int64_t t = 34000; t < 44000; t += 100)        /* 0.75 of it, held past the backoff */
        layer_select_update(&ls, 40000 + 1110000, one, 2, t, out);
    CHECK(CAM(0, 0));
}

static void test_priorities(void)
{
    /* audio, then a courseware screen share (one layer, two temporal: 150k/300k), then the
     * camera; the caller lists them in any order */
    struct ls_track three[3] = {
        tracks[1],
        {.priority = LS_PRIO_SCREEN,
         .video = true,
         .n_spatial = 1,
         .n_temporal = 2,
         .spatial_bps = {300000},
         .temporal_permille = {500, 1000}},
        tracks[0],
    };
    init();
    layer_select_update(&ls, 500000, three, 3, 0, out);
    CHECK(out[2].rate_bps == 40000 && out[1].rate_bps == 300000);
    CHECK(out[0].spatial == 0 && out[0].temporal == 2); /* the camera gets the 160k left */
    CHECK_EQ(out[0].share_bps, 160000);
    init();
    layer_select_update(&ls, 350000, three, 3, 0, out);
    CHECK(out[1].rate_bps == 300000 && out[0].paused); /* screen first, camera paused */
    init();
    layer_select_update(&ls, 250000, three, 3, 0, out);
    CHECK_EQ(out[1].rate_bps, 150000);                  /* screen at half its frame rate... */
    CHECK(out[0].spatial == 0 && out[0].temporal == 0); /* ...camera at its lowest */
}

static void test_layer_vanishes(void)
{
    init();
    run(2000000, 0, 1000);
    CHECK(CAM(2, 2));
    tracks[1].spatial_bps[2] = 0; /* the teacher's uplink dropped 720p */
    run(2000000, 1000, 1100);
    CHECK(CAM(1, 2) && out[1].keyframe);
    tracks[1].spatial_bps[2] = 1500000;
    /* it comes back: an ordinary upgrade, after the hold */
    CHECK_EQ(run(2000000, 1100, 3500), 0);
    CHECK_EQ(run(2000000, 3500, 3700), 1);
    CHECK(CAM(2, 2));
    /* no layer at all: paused */
    struct ls_track none = tracks[1];
    none.spatial_bps[0] = none.spatial_bps[1] = none.spatial_bps[2] = 0;
    struct ls_track two[2] = {tracks[0], none};
    layer_select_update(&ls, 2000000, two, 2, 4000, out);
    CHECK(out[1].paused);
}

/* A classroom starts low and climbs as soon as the budget allows, after a short hold;
 * once it has gone down, upgrades wait the full hold again. */
static void test_start(void)
{
    struct ls_config cfg = LS_CONFIG_DEFAULT;
    layer_select_init(&ls, &cfg);
    run(40000 + 350000, 0, 1000); /* 360p T1 */
    CHECK(CAM(1, 1));
    CHECK_EQ(run(2000000, 1000, 1200), 0);
    CHECK_EQ(run(2000000, 1200, 1400), 1); /* 0.3 s */
    CHECK(CAM(2, 2) && out[1].keyframe);
    CHECK_EQ(run(300000, 1400, 1500), 1); /* down, undoing the upgrade: the backoff doubles */
    CHECK_EQ(run(2000000, 1500, 1400 + 2 * cfg.backoff_ms - 100), 0);
    CHECK_EQ(run(2000000, 1400 + 2 * cfg.backoff_ms - 100, 1400 + 2 * cfg.backoff_ms + 200), 1);
}

/* A budget a probe just measured (layer_select_measured) is no guess: an upgrade it
 * affords waits the start hold (0.3 s), not up_hold (2.5 s), though not affordable WIDE
 * times over; LS_MEASURED_MS later the usual hold is back. */
static void test_measured(void)
{
    struct ls_config cfg = LS_CONFIG_DEFAULT;
    for (int measured = 0; measured < 2; measured++) {
        layer_select_init(&ls, &cfg);
        run(2000000, 0, 1000);
        CHECK_EQ(run(40000 + 520000, 1000, 1100), 1); /* capped: down to 360p */
        CHECK(CAM(1, 2));
        if (measured)
            layer_select_measured(&ls, 9000);
        /* 1.9M affords 720p at 1.2 (1.85M), not at 1.8 */
        int early = run(1900000, 9000, 9400), late = run(1900000, 9400, 11700);
        CHECK_EQ(early, measured ? 1 : 0);
        CHECK_EQ(late, measured ? 0 : 1);
        CHECK(CAM(2, 2));
    }
    layer_select_init(&ls, &cfg);
    run(2000000, 0, 1000);
    run(40000 + 520000, 1000, 1100);
    layer_select_measured(&ls, 5000);
    CHECK_EQ(run(1900000, 6000, 8400), 0); /* the measurement is a second old */
}

/* Up into 720p enters at T1, not at T0 (a keyframe for 5 fps of a bigger picture); the
 * probe asks for what T1 needs. Down within 720p still takes T0. */
static void test_spatial_entry(void)
{
    init();
    run(40000 + 520000, 0, 1000); /* 360p T2 (500k) */
    CHECK(CAM(1, 2));
    /* 720p T0 (675k) fits at 1.2 with 900k; T1 (1050k) does not: stay, probe for T1 */
    CHECK_EQ(run(900000, 1000, 5000), 0);
    CHECK(CAM(1, 2));
    CHECK(need > 1050000);
    CHECK_EQ(run(40000 + 1300000, 5000, 8000), 1);
    CHECK(CAM(2, 1));
}

/* The rates move so that 360p T1 falls under all of 180p and leaves the ladder: the
 * track stays on 360p (its nearest step), it does not jump to a fresh choice. */
static void test_reshaped_ladder(void)
{
    init();
    run(40000 + 380000, 0, 1000);
    CHECK(CAM(1, 1)); /* 350k */
    struct ls_track saved = tracks[1];
    tracks[1].spatial_bps[0] = 400000; /* 180p now above 360p T1 (350k) */
    CHECK(run(40000 + 380000, 1000, 1200) <= 1);
    CHECK(out[1].spatial == 1 && !out[1].paused);
    tracks[1] = saved;
}

int main(void)
{
    test_reshaped_ladder();
    test_spatial_entry();
    test_start();
    test_measured();
    test_initial_and_ladder();
    test_start_lowest();
    test_down();
    test_up_hold_and_backoff();
    test_pause();
    test_temporal_margin();
    test_single_layer();
    test_priorities();
    test_layer_vanishes();
    printf("sizeof(struct layer_select) = %zu bytes\n", sizeof(struct layer_select));
    return test_report();
}
