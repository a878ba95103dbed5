/* A lesson across workers. A room that outgrows its worker opens parts of itself on other
 * workers (the pool decides where each new peer goes, relay/pool.h); every part is a
 * struct room of the same name with its own peers, and every part holds every track of the
 * lesson: its own peers' producers, and a mirror of each producer of the other parts. The
 * worker that receives a packet forwards it to its own subscribers and hands it once to
 * each other part, through a ring between the two workers (base/ring.h: no lock, no system
 * call); that part's mirror takes it like a producer (stored for its subscribers' NACKs,
 * inspected for keyframes and VP8 layers) and fans it out to its own subscribers. Sender
 * reports go the same way. A mirror's keyframe requests go back to the worker of the
 * producer it mirrors (ids name their worker, route/ctx.h), whose throttle has the last
 * word, and so does the loss a mirror's subscribers report, once a second. Tracks are announced to
 * a part when it links and again whenever the room's tracks change, before the control plane hears
 * of it, and withdrawn when they close; a packet for a track a part does not know (yet, or any
 * more) is dropped.
 *
 * Each worker's rings are read when its wakeup (an eventfd) fires and before every API
 * call it runs (relay/api.c), so a part always knows what the calls before it announced.
 * Media wakes the other parts at once, before its own fan-out, so they forward in
 * parallel; announcements wake them when the worker is about to sleep. A full
 * ring drops media (counted: handoff_dropped) but never a track's announcement or
 * withdrawal, which wait in order until there is room. */
#ifndef CR_ROUTE_SHARD_H
#define CR_ROUTE_SHARD_H

#include <glib.h>
#include <stdint.h>

#include "classrelay/types.h"

struct cr_ring;
struct room;
struct producer;
struct producer_packet;
struct route_ctx;

#define SHARD_RING_SLOTS 512 /* per pair of workers and direction: ≈ 0.1 s of ten lessons */

/* The rings between the workers and their wakeups: one for the process (the pool's). */
struct shard_hub {
    unsigned n;                                           /* workers */
    struct cr_ring *ring[CR_WORKERS_MAX][CR_WORKERS_MAX]; /* owned: [from][to], made by
                                                             shard_hub_pair (atomic) */
    int wake[CR_WORKERS_MAX];                             /* owned: each worker's eventfd */
    gint order;                                           /* the next track's place (atomic) */
};

/* 0, or -1 when an eventfd cannot be made (nothing left open). */
int shard_hub_init(struct shard_hub *hub, unsigned n);
void shard_hub_clear(struct shard_hub *hub);
/* Makes the rings between workers a and b (both ways) if they are not made yet; called by
 * the pool's caller before a room links a and b. */
void shard_hub_pair(struct shard_hub *hub, unsigned a, unsigned b);

/* One worker's end of the hub, in its route_ctx. */
struct shard_port {
    struct shard_hub *hub;       /* borrowed; NULL: no other workers */
    uint32_t wake;               /* state: workers with new records, woken before this one sleeps */
    GQueue held[CR_WORKERS_MAX]; /* state: announcements a full ring had no room for */
    unsigned n_held;
    GPtrArray *mirrors; /* struct mirror *, borrowed (their rooms own them) */
    int64_t loss_ms;    /* state: when the mirrors' subscriber loss was last reported */
};

void shard_port_init(struct shard_port *sp, struct shard_hub *hub);
void shard_port_clear(struct shard_port *sp);

/* The place of a new local track among the lesson's tracks, the same on every part. */
uint32_t shard_next_order(struct route_ctx *rc);

/* What a room does (room.c). A part of the room opened on worker: it is sent the room's own
 * tracks, and gets its packets from now on. */
void shard_link(struct room *room, unsigned worker);
/* The room's own tracks, announced (again) to every other part. */
void shard_publish(struct room *room);
/* One of the room's own tracks closed. */
void shard_withdraw(struct room *room, const struct producer *p);
/* A packet (or sender report) of one of the room's own tracks, for the other parts. */
void shard_forward_rtp(struct room *room, const struct producer *p,
                       const struct producer_packet *pkt, int64_t now_us);
void shard_forward_sr(struct room *room, const struct producer *p, int layer, uint64_t ntp,
                      uint32_t rtp_ts);
/* Frees the room's mirrors (room_free, after its peers and taps). */
void shard_room_free(struct room *room);

/* What the worker does. Reads every record waiting for it. */
void shard_drain(struct route_ctx *rc, int64_t now_ms);
/* Moves held announcements into their rings and wakes the workers that have records; before
 * the worker sleeps. */
void shard_flush(struct route_ctx *rc);
/* Periodic: the mirrors' bit rates, loudness and keyframe throttles (producer_tick); once a
 * second, the loss their plain Opus subscribers report, to the tracks' own parts (for the
 * publisher's Opus FEC, room_subscriber_loss). */
void shard_tick(struct route_ctx *rc, int64_t now_ms);

#endif
