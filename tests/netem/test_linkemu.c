/* Unit tests of linkemu's pure parts, with time as a parameter: the direction model
 * (shaper, drop-tail queue, loss, delay and jitter, live reconfiguration), the delay-line
 * heap and the control-line parser. The TUN and namespace plumbing is exercised by
 * selftest.py, which needs root. */
#include <stdlib.h>

#include "../unit/test.h"
#include "emu_cmd.h"
#include "emu_heap.h"
#include "emu_model.h"

#define MS EMU_NS_PER_MS

static struct emu_dir make_dir(struct emu_dir_cfg cfg)
{
    struct emu_dir d;
    emu_dir_init(&d, &cfg);
    return d;
}

static int64_t admit_at(struct emu_dir *d, struct emu_rng *r, size_t len, int64_t now)
{
    int64_t due = -1;
    return emu_dir_admit(d, len, now, r, &due) == EMU_PASS ? due : -1;
}

static void test_rate(void)
{
    struct emu_rng r;
    emu_rng_seed(&r, 1);
    struct emu_dir d = make_dir((struct emu_dir_cfg){.rate_kbps = 1000, .queue_ms = 100});
    for (int i = 1; i <= 5; i++) /* 1000 bytes at 1 Mbit/s: 8 ms each, back to back */
        CHECK_EQ(admit_at(&d, &r, 1000, 0), i * 8 * MS);
    CHECK_EQ(admit_at(&d, &r, 1000, 100 * MS), 108 * MS); /* idle again: no backlog */
    CHECK_EQ(d.st.in_pkts, 6);
    CHECK_EQ(d.st.max_backlog_ns, 40 * MS);
}

static void test_queue(void)
{
    struct emu_rng r;
    emu_rng_seed(&r, 1);
    struct emu_dir d = make_dir((struct emu_dir_cfg){.rate_kbps = 800, .queue_ms = 30});
    for (int i = 0; i < 5; i++) /* 10 ms each: 10, 20, 30 fit; 40 and 50 do not */
        admit_at(&d, &r, 1000, 0);
    CHECK_EQ(d.st.queue_drops, 2);
    CHECK_EQ(d.st.queue_drop_bytes, 2000);
    CHECK_EQ(admit_at(&d, &r, 1000, 10 * MS), 40 * MS); /* room again after 10 ms */

    d = make_dir((struct emu_dir_cfg){.rate_kbps = 800, .queue_ms = 500, .queue_bytes = 2000});
    for (int i = 0; i < 4; i++) /* qbytes wins over queue_ms */
        admit_at(&d, &r, 1000, 0);
    CHECK_EQ(d.st.queue_drops, 2);

    d = make_dir((struct emu_dir_cfg){.rate_kbps = 8, .queue_ms = 1});
    CHECK_EQ(admit_at(&d, &r, 1500, 0), 1500 * MS); /* an idle link takes any packet */
}

static void test_burst(void)
{
    struct emu_rng r;
    emu_rng_seed(&r, 1);
    struct emu_dir d =
        make_dir((struct emu_dir_cfg){.rate_kbps = 800, .burst_bytes = 3000, .queue_ms = 100});
    CHECK_EQ(admit_at(&d, &r, 1000, 0), 0); /* three packets of bucket go at once */
    CHECK_EQ(admit_at(&d, &r, 1000, 0), 0);
    CHECK_EQ(admit_at(&d, &r, 1000, 0), 0);
    CHECK_EQ(admit_at(&d, &r, 1000, 0), 10 * MS); /* then the rate */
    CHECK_EQ(admit_at(&d, &r, 1000, 0), 20 * MS);
}

static void test_loss(void)
{
    struct emu_rng r;
    emu_rng_seed(&r, 42);
    struct emu_dir d = make_dir((struct emu_dir_cfg){.loss_pct = 10, .queue_ms = 100});
    for (int i = 0; i < 100000; i++)
        admit_at(&d, &r, 100, i);
    CHECK(d.st.loss_drops > 9500 && d.st.loss_drops < 10500);
    CHECK_EQ(d.st.queue_drops, 0);

    d = make_dir((struct emu_dir_cfg){.loss_pct = 100});
    CHECK_EQ(admit_at(&d, &r, 100, 0), -1);
    d = make_dir((struct emu_dir_cfg){.rate_kbps = 800, .loss_pct = 100, .queue_ms = 100});
    admit_at(&d, &r, 1000, 0); /* a lost packet has used its share of the rate */
    d.cfg.loss_pct = 0;
    CHECK_EQ(admit_at(&d, &r, 1000, 0), 20 * MS);
}

/* 1000 packets 1 ms apart through delay 50 +- 20 ms; the number of overtakings. */
static int jitter_run(struct emu_dir_cfg cfg, int64_t *lo, int64_t *hi)
{
    struct emu_rng r;
    emu_rng_seed(&r, 7);
    struct emu_dir d = make_dir(cfg);
    int64_t prev = 0;
    int inversions = 0;
    *lo = INT64_MAX, *hi = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t due = admit_at(&d, &r, 100, i * MS) - i * MS;
        inversions += due + i * MS < prev;
        prev = due + i * MS;
        *lo = due < *lo ? due : *lo;
        *hi = due > *hi ? due : *hi;
    }
    return inversions;
}

static void test_delay_jitter(void)
{
    struct emu_dir_cfg c = {.delay_ms = 50, .jitter_ms = 20, .queue_ms = 100};
    int64_t lo, hi;
    CHECK_EQ(jitter_run(c, &lo, &hi), 0); /* no reordering by default */
    CHECK(lo >= 30 * MS && hi <= 71 * MS);
    c.reorder = true;
    CHECK(jitter_run(c, &lo, &hi) > 100);
    CHECK(lo >= 30 * MS && lo < 32 * MS && hi <= 70 * MS && hi > 68 * MS);
    c.dist = EMU_JITTER_NORMAL;
    c.jitter_ms = 5; /* sigma 5, cut at 3 sigma */
    jitter_run(c, &lo, &hi);
    CHECK(lo >= 35 * MS && hi <= 65 * MS);
    c = (struct emu_dir_cfg){.delay_ms = 1, .jitter_ms = 30, .reorder = true};
    jitter_run(c, &lo, &hi);
    CHECK(lo >= 0); /* never before it arrived */
}

static void test_reconfigure(void)
{
    struct emu_rng r;
    emu_rng_seed(&r, 1);
    struct emu_dir d = make_dir((struct emu_dir_cfg){.rate_kbps = 80, .queue_ms = 1000});
    CHECK_EQ(admit_at(&d, &r, 1000, 0), 100 * MS);
    CHECK_EQ(admit_at(&d, &r, 1000, 0), 200 * MS);
    struct emu_dir_cfg open = {.queue_ms = 100};
    emu_dir_configure(&d, &open); /* cap lifted: no wait, but no overtaking either */
    CHECK_EQ(admit_at(&d, &r, 1000, 10 * MS), 200 * MS);
    CHECK_EQ(admit_at(&d, &r, 1000, 300 * MS), 300 * MS);
    CHECK_EQ(d.st.in_pkts, 4);
}

static void test_heap(void)
{
    struct emu_heap h;
    emu_heap_init(&h);
    uint8_t byte = 0;
    srand(3);
    for (int i = 0; i < 1000; i++) {
        struct emu_pkt *p = emu_pkt_new(&byte, 1);
        p->due_ns = rand() % 100;
        emu_heap_push(&h, p);
    }
    struct emu_pkt *prev = NULL, *p;
    int n = 0, ordered = 1;
    while ((p = emu_heap_pop(&h))) {
        if (prev && (p->due_ns < prev->due_ns || (p->due_ns == prev->due_ns && p->seq < prev->seq)))
            ordered = 0;
        free(prev);
        prev = p;
        n++;
    }
    free(prev);
    CHECK_EQ(n, 1000);
    CHECK(ordered);
    CHECK(emu_heap_peek(&h) == NULL);
    emu_heap_push(&h, emu_pkt_new(&byte, 1));
    emu_heap_free(&h); /* frees what is left */
}

static int parse(const char *line, struct emu_cmd *c)
{
    char err[160];
    return emu_cmd_parse(line, c, err, sizeof(err));
}

static void test_cmd(void)
{
    struct emu_cmd c;
    CHECK_EQ(parse("set leaf1 down rate=600 delay=80 jitter=20 loss=3 queue=100\n", &c), 0);
    CHECK_EQ(c.kind, EMU_CMD_SET);
    CHECK_STR(c.link, "leaf1");
    CHECK_EQ(c.dirs, EMU_DOWN);
    struct emu_dir_cfg cfg = {.burst_bytes = 5, .loss_pct = 1};
    emu_patch_apply(&c.patch, &cfg);
    CHECK_EQ(cfg.rate_kbps, 600);
    CHECK_EQ(cfg.delay_ms, 80);
    CHECK_EQ(cfg.jitter_ms, 20);
    CHECK_EQ(cfg.loss_pct, 3);
    CHECK_EQ(cfg.burst_bytes, 5); /* untouched */

    CHECK_EQ(parse("set all both clear loss=0.5 dist=normal reorder=1", &c), 0);
    CHECK_EQ(c.dirs, EMU_DOWN | EMU_UP);
    emu_patch_apply(&c.patch, &cfg);
    CHECK_EQ(cfg.rate_kbps, 0);
    CHECK_EQ(cfg.queue_ms, 100);
    CHECK(cfg.loss_pct == 0.5 && cfg.dist == EMU_JITTER_NORMAL && cfg.reorder);

    CHECK_EQ(parse("stats", &c), 0);
    CHECK_EQ(c.kind, EMU_CMD_STATS);
    CHECK_EQ(parse("  quit  ", &c), 0);
    CHECK_EQ(c.kind, EMU_CMD_QUIT);
    const char *bad[] = {"",
                         "bogus",
                         "set",
                         "set leaf1",
                         "set leaf1 sideways rate=1",
                         "set leaf1 up rate=-1",
                         "set leaf1 up rate=1.5",
                         "set leaf1 up loss=101",
                         "set leaf1 up delay=abc",
                         "set leaf1 up foo=1",
                         "set leaf1 up rate",
                         "set leaf1 up dist=gamma",
                         "set leaf1 up reorder=2",
                         "set leaf1 up rate=1e12",
                         "set aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa up rate=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(parse(bad[i], &c), -1);
}

int main(void)
{
    test_rate();
    test_queue();
    test_burst();
    test_loss();
    test_delay_jitter();
    test_reconfigure();
    test_heap();
    test_cmd();
    return test_report();
}
