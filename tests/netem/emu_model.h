/* The model of one direction of an emulated link, for linkemu: a rate shaper (token bucket
 * on bytes, kept as a GCRA "theoretical arrival time"), a drop-tail queue bounded in
 * milliseconds or bytes, random per-packet loss, and a base delay with jitter. It decides
 * for each packet whether it is dropped and, if not, when it leaves; it holds no packets
 * and reads no clock (time is a parameter), so the delay line, the TUN devices and the
 * event loop stay with the caller. Order inside a direction: queue admission, shaper,
 * loss on the wire (a lost packet has used its share of the rate), delay and jitter.
 * Also: a small seeded random generator and the JSON form of a direction's state. */
#ifndef CR_NETEM_EMU_MODEL_H
#define CR_NETEM_EMU_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EMU_NS_PER_MS 1000000LL
#define EMU_NS_PER_S 1000000000LL

/* splitmix64: small, fast, seedable; good enough for loss and jitter rolls. */
struct emu_rng {
    uint64_t state;
};

void emu_rng_seed(struct emu_rng *r, uint64_t seed);
uint64_t emu_rng_next(struct emu_rng *r);
double emu_rng_unit(struct emu_rng *r);   /* uniform in [0, 1) */
double emu_rng_normal(struct emu_rng *r); /* standard normal (Box-Muller) */

enum emu_jitter_dist {
    EMU_JITTER_UNIFORM = 0, /* uniform in [-jitter, +jitter] */
    EMU_JITTER_NORMAL = 1,  /* normal, sigma = jitter, cut at +-3 sigma (netem's meaning) */
};

/* One direction's settings. Zero means "off" everywhere except queue_ms. */
struct emu_dir_cfg {
    uint32_t rate_kbps;   /* kbit/s (1000 bit/s); 0 = unlimited */
    uint32_t burst_bytes; /* extra token-bucket depth; 0 = a plain serializing link */
    uint32_t queue_ms;    /* drop-tail bound as sojourn time at the rate (default 100) */
    uint32_t queue_bytes; /* when nonzero, the bound in bytes instead of queue_ms */
    double loss_pct;      /* random loss per packet, 0..100 */
    double delay_ms;      /* one-way base delay */
    double jitter_ms;     /* see enum emu_jitter_dist */
    enum emu_jitter_dist dist;
    bool reorder; /* false: a packet never leaves before the one ahead of it */
};

#define EMU_DIR_CFG_DEFAULT ((struct emu_dir_cfg){.queue_ms = 100})

struct emu_dir_stats {
    uint64_t in_pkts, in_bytes;               /* everything read from the source TUN */
    uint64_t queue_drops, queue_drop_bytes;   /* drop-tail */
    uint64_t loss_drops, loss_drop_bytes;     /* random loss */
    uint64_t delivered_pkts, delivered_bytes; /* written to the far TUN */
    uint64_t write_errors;                    /* the far TUN refused the packet */
    int64_t max_backlog_ns;                   /* worst sojourn time in the queue */
};

struct emu_dir {
    struct emu_dir_cfg cfg;  /* state: changed at run time by emu_dir_configure */
    struct emu_dir_stats st; /* state: counters */
    int64_t tat_ns;          /* state: GCRA theoretical arrival time */
    int64_t last_due_ns;     /* state: latest departure handed out (no reordering) */
};

enum emu_verdict {
    EMU_PASS = 0,
    EMU_DROP_QUEUE = -1, /* the queue was full */
    EMU_DROP_LOSS = -2,  /* lost on the wire */
};

void emu_dir_init(struct emu_dir *d, const struct emu_dir_cfg *cfg);
/* New settings take effect for the next packet; packets already accepted keep their times. */
void emu_dir_configure(struct emu_dir *d, const struct emu_dir_cfg *cfg);
/* Decides the fate of a len-byte packet arriving at now_ns; on EMU_PASS *due_ns is when it
 * leaves the link. Counts in_*, *_drops and max_backlog_ns. */
enum emu_verdict emu_dir_admit(struct emu_dir *d, size_t len, int64_t now_ns, struct emu_rng *rng,
                               int64_t *due_ns);
/* The caller tells the outcome of the write at due time. */
void emu_dir_delivered(struct emu_dir *d, size_t len, bool ok);
void emu_dir_reset_stats(struct emu_dir *d);

/* {"rate_kbps":..,..., "in_pkts":..,...}: settings and counters in one object. */
void emu_dir_json(FILE *out, const struct emu_dir *d);

#endif
