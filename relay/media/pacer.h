/* Paced sending toward one receiver (the idea of libwebrtc's paced sender, and of the
 * pacing that draft-ietf-rmcat-gcc-02 §4 assumes, written for this relay). What the relay
 * forwards arrives in bursts: a keyframe is 10–30 packets within a few milliseconds, and a
 * 600 kbit/s school link queues fewer than that before it drops, audio included. So media
 * leaves at pace_bps, a little above the bandwidth estimate:
 *   - four classes, served in this order: audio (never waits behind video: it leaves at
 *     once, and counts against the budget), retransmissions, video, padding. A probe
 *     cluster has a rate of its own (media/bwe.h): probe packets leave at once and are not
 *     counted, so the media keeps its pace beside them;
 *   - a byte budget refills at pace_bps and holds at most PACER_WINDOW_US of it; a packet
 *     leaves while the budget is positive and nothing of its class or above waits (it may
 *     take the budget below zero: a packet is never split);
 *   - with nothing waiting and budget left, a packet leaves at once, from the caller's
 *     buffer (no copy, no delay: the common case on a link that is not full); otherwise it
 *     is copied into its class's queue and pacer_process sends it when its turn comes;
 *   - the queue is bounded in time: the budget refills fast enough to empty it
 *     PACER_DRAIN_US after its oldest packet came (a keyframe much bigger than the link's
 *     share goes a little faster rather than late, as libwebrtc's queue time limit does),
 *     and a retransmission or video packet that still waited max_delay_us is dropped (a
 *     stale burst is worth less than the next frame; the receiver asks again for what it
 *     misses); and in bytes (PACER_MAX_BYTES).
 * Time is passed in (µs). The pacer owns the copies it queues (malloc'd one by one: an
 * idle pacer holds nothing). */
#ifndef CR_MEDIA_PACER_H
#define CR_MEDIA_PACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pacer_class { PACER_AUDIO = 0, PACER_RTX = 1, PACER_VIDEO = 2, PACER_PADDING = 3 };
#define PACER_CLASSES 4

#define PACER_WINDOW_US 20000        /* the budget held when idle: one tick of the worker */
#define PACER_DRAIN_US 250000        /* a longer queue is sent faster than the pace */
#define PACER_MAX_DELAY_US 400000    /* default bound on a queued packet's wait */
#define PACER_MAX_BYTES (512 * 1024) /* whatever the rate: drops beyond */
#define PACER_MIN_BPS 50000
#define PACER_UNPACED_BPS 1000000000 /* no estimate yet: nothing waits */

/* What the caller needs to finish a queued packet when it leaves (copied with it). */
struct pacer_meta {
    uint16_t twcc_at; /* offset of the transport-wide sequence number to stamp; 0: none */
    uint16_t abs_at;  /* offset of the abs-send-time to restamp; 0: none */
    uint8_t kind;     /* the caller's (enum send_kind) */
    uint8_t tag;
    int64_t built_us; /* when the caller built it */
};

struct pacer_item { /* one queued packet */
    struct pacer_item *next;
    int64_t queued_us;
    struct pacer_meta meta;
    uint32_t len;
    uint8_t buf[]; /* len bytes, then the room the caller asked for (an SRTP trailer) */
};

struct pacer_queue {
    struct pacer_item *head, *tail;
    size_t n;
};

struct pacer_stats {
    uint64_t sent_now;    /* packets that left at once */
    uint64_t sent_queued; /* ... that waited in a queue */
    uint64_t dropped;     /* ... that waited too long, or found the queue full */
    int64_t max_wait_us;  /* the longest wait of a packet sent since the last read */
    int64_t queue_bytes;  /* queued now */
    int64_t pace_bps;
};

struct pacer {
    int64_t pace_bps;
    int64_t max_delay_us;
    size_t room;   /* bytes kept free after each copy (the caller's trailer) */
    double budget; /* state: bytes that may leave now (negative: owed) */
    int64_t at_us; /* state: when the budget was last refilled */
    bool primed;   /* state: the budget was filled once */
    struct pacer_queue q[PACER_CLASSES];
    int64_t bytes; /* queued */
    struct pacer_stats st;
};

/* The packets a pacer lets go: the callee sends buf[0..len) (it may write into the room
 * after it) now, finishing it with meta. */
typedef void (*pacer_send_fn)(void *ud, uint8_t *buf, size_t len, const struct pacer_meta *meta);

/* room: bytes the caller needs after a packet when it sends it. */
void pacer_init(struct pacer *p, int64_t pace_bps, size_t room);
/* Frees what is queued. */
void pacer_clear(struct pacer *p);
/* The rate media leaves at from now on (at least PACER_MIN_BPS). */
void pacer_set_rate(struct pacer *p, int64_t pace_bps, int64_t now_us);

/* One packet of class cls, built in buf (with the pacer's room after len): returns true
 * if it may leave now (the caller sends it from buf, and the budget is charged), false if
 * the pacer copied it into its queue (or dropped it, the queue being full). */
bool pacer_offer(struct pacer *p, enum pacer_class cls, const uint8_t *buf, size_t len,
                 const struct pacer_meta *meta, int64_t now_us);
/* Sends (through send) the queued packets whose turn has come, drops the stale ones;
 * returns how many it sent. */
size_t pacer_process(struct pacer *p, int64_t now_us, pacer_send_fn send, void *ud);
/* Whether anything waits (the caller runs pacer_process every few ms while so). */
static inline bool pacer_busy(const struct pacer *p) { return p->bytes > 0; }
/* Counters and gauges; resets max_wait_us. */
void pacer_read_stats(struct pacer *p, struct pacer_stats *out);

#endif
