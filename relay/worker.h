/* A worker: one thread running one GLib main loop that owns all media state of the
 * rooms pinned to it (relay/pool.h places them: rooms, peers, their libnice agents, DTLS, SRTP).
 * Its fast path takes no locks: other threads reach it only through api.c, which posts calls to its
 * context. A periodic tick drives timers that are per peer and per tap (RTCP reports, TWCC
 * feedback, DTLS retransmission, keyframe-request throttles, connect timeouts). What the
 * routing layer borrows from it is in its struct route_ctx (route/ctx.h). */
#ifndef CR_RELAY_WORKER_H
#define CR_RELAY_WORKER_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classrelay/relay.h"
#include "net/dtls.h"
#include "route/ctx.h"

#define WORKER_TICK_MS 20
#define WORKER_PACE_MS 5 /* the pacers' clock while any holds packets */

struct room;

struct cr_worker {
    GMainContext *ctx;               /* owned */
    GMainLoop *loop;                 /* owned */
    GThread *thread;                 /* owned; joined in worker_free */
    GSource *tick;                   /* owned */
    GSource *pace;                   /* owned */
    GSource *links;                  /* owned: wakes on records from other workers */
    struct cr_relay_config config;   /* strings owned (copies) */
    struct cr_dtls_cert *cert;       /* borrowed: one certificate for the process (pool.h) */
    struct cr_ice_mux *mux;          /* owned: the shared media port, or NULL (a port per peer) */
    GHashTable *rooms;               /* name → struct room *, owned */
    struct route_ctx route;          /* state: lent to every room (directory, counters, ids) */
    int64_t load_at_ms, load_cpu_us; /* state: the last CPU reading of this thread */
    unsigned trimmed_at;             /* state: route.dtls_retired when the heap was trimmed */
    int64_t trimmed_ms;              /* ... and when */
};

/* What every worker borrows from the pool. */
struct worker_shared {
    struct cr_dtls_cert *cert; /* one certificate for the process */
    gint *live_peers;          /* the peers of every worker (admission control) */
    struct shard_hub *hub;     /* the rings between the workers (route/shard.h) */
};

/* Worker number index of the pool: its ids carry the index (route/ctx.h) and, with a shared
 * media port, it serves port media_port + index. */
struct cr_worker *worker_new(const struct cr_relay_config *config, unsigned index,
                             const struct worker_shared *shared,
                             const struct cr_relay_events *events, void *user);
void worker_free(struct cr_worker *w);
/* Admission control: true, with the reason in why, when a new peer that is not a
 * priority one must be refused (config max_peers, max_load_pct). */
bool worker_full(const struct cr_worker *w, char *why, size_t why_len);
struct room *worker_room(struct cr_worker *w, const char *name);
struct peer *worker_peer(struct cr_worker *w, uint64_t id);
struct tap *worker_tap(struct cr_worker *w, uint64_t id);

#endif
