/* One direction of an emulated link: see emu_model.h. The shaper is GCRA (the virtual
 * scheduling form of a token bucket): tat_ns is when the link would have sent everything
 * accepted so far; a packet of T ns of service is released at max(now, tat + T - tau), tau
 * being the bucket depth in time. The drop-tail queue holds what waits for release, so its
 * sojourn time is release - now, compared with queue_ms (or queue_bytes at the rate). */
#include "emu_model.h"

#include <inttypes.h>
#include <math.h>

void emu_rng_seed(struct emu_rng *r, uint64_t seed) { r->state = seed; }

uint64_t emu_rng_next(struct emu_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double emu_rng_unit(struct emu_rng *r) { return (double)(emu_rng_next(r) >> 11) * 0x1.0p-53; }

double emu_rng_normal(struct emu_rng *r)
{
    double u1 = 1.0 - emu_rng_unit(r); /* (0, 1]: log() stays finite */
    double u2 = emu_rng_unit(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void emu_dir_init(struct emu_dir *d, const struct emu_dir_cfg *cfg)
{
    *d = (struct emu_dir){.cfg = *cfg};
}

void emu_dir_configure(struct emu_dir *d, const struct emu_dir_cfg *cfg) { d->cfg = *cfg; }

void emu_dir_reset_stats(struct emu_dir *d) { d->st = (struct emu_dir_stats){0}; }

/* Nanoseconds that `bytes` take at rate_kbps (> 0). */
static int64_t bytes_to_ns(uint64_t bytes, uint32_t rate_kbps)
{
    return (int64_t)(bytes * 8u * 1000000u / rate_kbps);
}

static int64_t queue_limit_ns(const struct emu_dir_cfg *c)
{
    if (c->queue_bytes)
        return bytes_to_ns(c->queue_bytes, c->rate_kbps);
    return (int64_t)c->queue_ms * EMU_NS_PER_MS;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Shaper and drop-tail queue: the release time, or -1 when the queue is full. */
static int64_t shape(struct emu_dir *d, size_t len, int64_t now_ns)
{
    const struct emu_dir_cfg *c = &d->cfg;
    if (c->rate_kbps == 0) {
        d->tat_ns = now_ns;
        return now_ns;
    }
    int64_t tau = bytes_to_ns(c->burst_bytes, c->rate_kbps);
    int64_t start = max64(d->tat_ns, now_ns);
    int64_t tat = start + bytes_to_ns(len, c->rate_kbps);
    int64_t release = max64(now_ns, tat - tau);
    bool queue_empty = start - tau <= now_ns; /* an idle link takes any packet */
    if (!queue_empty && release - now_ns > queue_limit_ns(c))
        return -1;
    d->tat_ns = tat;
    d->st.max_backlog_ns = max64(d->st.max_backlog_ns, release - now_ns);
    return release;
}

static double jitter_ms(const struct emu_dir_cfg *c, struct emu_rng *rng)
{
    if (c->jitter_ms <= 0)
        return 0;
    if (c->dist == EMU_JITTER_NORMAL) {
        double z = emu_rng_normal(rng);
        z = z > 3 ? 3 : z < -3 ? -3 : z;
        return z * c->jitter_ms;
    }
    return (2.0 * emu_rng_unit(rng) - 1.0) * c->jitter_ms;
}

/* Delay line: base delay plus jitter, never negative, in order unless reorder is set. */
static int64_t delay(struct emu_dir *d, int64_t release_ns, struct emu_rng *rng)
{
    double ms = d->cfg.delay_ms + jitter_ms(&d->cfg, rng);
    int64_t due = release_ns + (ms > 0 ? (int64_t)(ms * EMU_NS_PER_MS) : 0);
    if (!d->cfg.reorder)
        due = max64(due, d->last_due_ns);
    d->last_due_ns = max64(d->last_due_ns, due);
    return due;
}

enum emu_verdict emu_dir_admit(struct emu_dir *d, size_t len, int64_t now_ns, struct emu_rng *rng,
                               int64_t *due_ns)
{
    d->st.in_pkts++;
    d->st.in_bytes += len;
    int64_t release = shape(d, len, now_ns);
    if (release < 0) {
        d->st.queue_drops++;
        d->st.queue_drop_bytes += len;
        return EMU_DROP_QUEUE;
    }
    if (d->cfg.loss_pct > 0 && emu_rng_unit(rng) * 100.0 < d->cfg.loss_pct) {
        d->st.loss_drops++;
        d->st.loss_drop_bytes += len;
        return EMU_DROP_LOSS;
    }
    *due_ns = delay(d, release, rng);
    return EMU_PASS;
}

void emu_dir_delivered(struct emu_dir *d, size_t len, bool ok)
{
    if (!ok) {
        d->st.write_errors++;
        return;
    }
    d->st.delivered_pkts++;
    d->st.delivered_bytes += len;
}

void emu_dir_json(FILE *out, const struct emu_dir *d)
{
    const struct emu_dir_cfg *c = &d->cfg;
    const struct emu_dir_stats *s = &d->st;
    fprintf(out,
            "{\"rate_kbps\":%" PRIu32 ",\"burst_bytes\":%" PRIu32 ",\"queue_ms\":%" PRIu32
            ",\"queue_bytes\":%" PRIu32 ",\"loss_pct\":%g,\"delay_ms\":%g,\"jitter_ms\":%g"
            ",\"dist\":\"%s\",\"reorder\":%s",
            c->rate_kbps, c->burst_bytes, c->queue_ms, c->queue_bytes, c->loss_pct, c->delay_ms,
            c->jitter_ms, c->dist == EMU_JITTER_NORMAL ? "normal" : "uniform",
            c->reorder ? "true" : "false");
    fprintf(out,
            ",\"in_pkts\":%" PRIu64 ",\"in_bytes\":%" PRIu64 ",\"queue_drops\":%" PRIu64
            ",\"queue_drop_bytes\":%" PRIu64 ",\"loss_drops\":%" PRIu64
            ",\"loss_drop_bytes\":%" PRIu64 ",\"delivered_pkts\":%" PRIu64
            ",\"delivered_bytes\":%" PRIu64 ",\"write_errors\":%" PRIu64
            ",\"max_backlog_ms\":%.3f}",
            s->in_pkts, s->in_bytes, s->queue_drops, s->queue_drop_bytes, s->loss_drops,
            s->loss_drop_bytes, s->delivered_pkts, s->delivered_bytes, s->write_errors,
            (double)s->max_backlog_ns / EMU_NS_PER_MS);
}
