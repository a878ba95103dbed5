/* Tests relay/route/quality.c alone: the quality loop only decides. Given the peer's
 * consumers as data (opaque keys and their producers), it returns no choice before the
 * estimate drives the layers, then, every 200 ms, a choice for each video consumer (never
 * audio): the top simulcast layer on a rich link, a pause on one too thin for the lowest
 * layer (REMB, draft-alvestrand-rmcat-remb). A line capped to its lowest layers (a tile,
 * cr_relay_peer_layers) never gets more on the rich link, and the lowest layer the
 * publisher really sends when the lowest by rank is not coming. A consumer starts on the
 * lowest layer before any feedback and on the richest that fits once there is an estimate;
 * the pacer's rate follows the estimate, and never falls under what the choice sends. */
#include "fixture.h"
#include "test.h"

#include "route/quality.h"

static const uint32_t rates[3] = {150000, 500000, 1500000};

/* Keeps the producer's layers measured and active at now. */
static void keep_alive(struct producer *p, int64_t now_ms)
{
    for (size_t l = 0; l < 3; l++) {
        p->layers[l].bitrate_bps = rates[l];
        p->layers[l].last_packet_ms = now_ms;
    }
}

/* Runs the loop for a few seconds under a REMB of bps, the video line capped to max_layers
 * (0: none), the producer's layer `silent` not arriving (-1: all do); returns the last
 * choice of video. */
static struct quality_choice run_capped(uint64_t bps, uint8_t max_layers, int silent,
                                        int *audio_choices, int *video_choices)
{
    struct quality *q = quality_new();
    struct producer *cam = vp8_producer(1, 3), *mic = opus_producer(2);
    int video_key, audio_key;
    struct quality_track tracks[2] = {
        {.key = &audio_key, .p = mic, .mid = "a"},
        {.key = &video_key, .p = cam, .mid = "v", .video = true, .max_layers = max_layers},
    };
    struct quality_choice out[LS_MAX_TRACKS], last = {.layer = -2};
    struct quality_probe probe;
    keep_alive(cam, 0);
    CHECK_EQ(quality_tick(q, tracks, 2, 0, out, &probe), 0); /* no feedback: no choice */
    CHECK(!quality_drives_layers(q, false));
    *audio_choices = *video_choices = 0;
    for (int64_t t = 20; t <= 6000; t += 20) {
        quality_on_remb(q, bps, true, t * 1000);
        keep_alive(cam, t);
        if (silent >= 0)
            cam->layers[silent].last_packet_ms = 0;
        size_t n = quality_tick(q, tracks, 2, t, out, &probe);
        for (size_t i = 0; i < n; i++) {
            *audio_choices += out[i].key == &audio_key;
            *video_choices += out[i].key == &video_key;
            if (out[i].key == &video_key)
                last = out[i];
        }
    }
    CHECK(quality_drives_layers(q, false));
    quality_forget(q, &video_key);
    quality_free(q);
    producer_free(cam);
    producer_free(mic);
    return last;
}

static struct quality_choice run(uint64_t bps, int *audio_choices, int *video_choices)
{
    return run_capped(bps, 0, -1, audio_choices, video_choices);
}

static void test_choices(void)
{
    int audio, video;
    struct quality_choice rich = run(20000000, &audio, &video);
    CHECK_EQ(audio, 0);
    CHECK(video >= 25); /* every 200 ms over 6 s, less the start */
    CHECK(!rich.paused);
    CHECK_EQ(rich.layer, 2);
    struct quality_choice thin = run(60000, &audio, &video);
    CHECK_EQ(audio, 0);
    CHECK(thin.paused);
}

static void test_cap(void)
{
    int audio, video;
    struct quality_choice tile = run_capped(20000000, 1, -1, &audio, &video);
    CHECK(!tile.paused);
    CHECK_EQ(tile.layer, 0);
    struct quality_choice two = run_capped(20000000, 2, -1, &audio, &video);
    CHECK_EQ(two.layer, 1);
    struct quality_choice no_low = run_capped(20000000, 1, 0, &audio, &video);
    CHECK(!no_low.paused);
    CHECK_EQ(no_low.layer, 1); /* the lowest that arrives */
}

static void test_start_and_pace(void)
{
    struct quality *q = quality_new();
    struct producer *cam = vp8_producer(1, 3), *mic = opus_producer(2);
    keep_alive(cam, 10);
    CHECK_EQ(quality_pace_bps(q), 0);                                   /* no estimate: not paced */
    CHECK_EQ(quality_start_layer(q, cam, CR_KIND_VIDEO, true, 10), 0);  /* lowest first */
    CHECK_EQ(quality_start_layer(q, cam, CR_KIND_VIDEO, false, 10), 2); /* no estimate to come */
    int video_key, audio_key;
    struct quality_track tracks[2] = {
        {.key = &audio_key, .p = mic, .mid = "a"},
        {.key = &video_key, .p = cam, .mid = "v", .video = true},
    };
    struct quality_choice out[LS_MAX_TRACKS];
    struct quality_probe probe;
    for (int64_t t = 20; t <= 3000; t += 20) {
        quality_on_remb(q, 1000000, true, t * 1000);
        keep_alive(cam, t);
        quality_tick(q, tracks, 2, t, out, &probe);
    }
    int64_t est = bwe_estimate(&q->bwe);
    CHECK(est >= 700000 && est <= 1000000);
    CHECK_EQ(quality_start_layer(q, cam, CR_KIND_VIDEO, true, 3000), 1); /* 500k fits */
    CHECK_EQ(quality_pace_bps(q), est * 3 / 2);                          /* 1.5 × the estimate */
    producer_free(cam);
    producer_free(mic);
    quality_free(q);
}

/* With transport-wide feedback negotiated but none come yet, nothing is chosen: video
 * stays on the layer it started on (the lowest), whatever the start estimate says. */
static void test_wait_for_feedback(void)
{
    struct quality *q = quality_new();
    struct producer *cam = vp8_producer(1, 3);
    int video_key;
    struct quality_track tracks[1] = {{.key = &video_key, .p = cam, .mid = "v", .video = true}};
    struct quality_choice out[LS_MAX_TRACKS];
    struct quality_probe probe;
    CHECK(quality_drives_layers(q, true));
    size_t chosen = 0;
    for (int64_t t = 0; t <= 2000; t += 20) {
        keep_alive(cam, t);
        chosen += quality_tick(q, tracks, 1, t, out, &probe);
    }
    CHECK_EQ(chosen, 0);
    quality_forget(q, &video_key);
    quality_free(q);
    producer_free(cam);
}

int main(void)
{
    test_wait_for_feedback();
    test_choices();
    test_cap();
    test_start_and_pace();
    return test_report();
}
