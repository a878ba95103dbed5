/* What the worker lends the routing objects: the loop their ICE agents attach to, the
 * configuration and certificate, the event callbacks toward the control plane, the
 * directory of rooms by name and of peers and taps by id, its rings to the other workers, the id
 * counter, the relay's counters and the scratch buffer outgoing packets are built in. One per
 * worker; the worker owns it and everything in route/ borrows it, so route/ needs nothing from the
 * worker (worker.h) or the API (api.c): the worker fills this at start and reads the counters back.
 * No protocol of its own. */
#ifndef CR_ROUTE_CTX_H
#define CR_ROUTE_CTX_H

#include <glib.h>
#include <stdint.h>

#include "classrelay/types.h"
#include "base/hist.h"
#include "net/dtls.h"
#include "net/ice_mux.h"
#include "route/consumer.h"
#include "route/shard.h"

struct route_ctx {
    GMainContext *main;                   /* borrowed: the worker's loop (libnice agents) */
    struct cr_ice_mux *mux;               /* borrowed: the shared media port, or NULL */
    const struct cr_relay_config *config; /* borrowed */
    struct cr_dtls_cert *cert;            /* borrowed: one certificate for the process */
    struct cr_relay_events events;        /* called on the worker thread */
    void *events_user;                    /* borrowed */
    GHashTable *peers;                    /* id → struct peer *, borrowed (rooms own peers) */
    GHashTable *taps;                     /* id → struct tap *, borrowed (rooms own taps) */
    GHashTable *rooms;                    /* name → struct room *, borrowed (the worker's) */
    struct shard_port shards;             /* state: this worker's rings to the others */
    uint64_t next_id;                     /* ids of peers, taps and tracks, never reused */
    unsigned worker_index;                /* this worker's, in every id (route_next_id) */
    gint *live_peers;                     /* borrowed: peers of every worker (atomic) */
    unsigned dtls_retired;                /* state: DTLS states given back (the worker trims
                                             the heap after them) */
    struct cr_relay_stats stats;          /* state: counters, read by cr_relay_get_stats */
    struct cr_hist forward_delay;         /* state: arrival → send of media packets */
    struct cr_hist estimate;              /* state: subscribers' estimates (cr_hist_bounds_bps) */
    struct cr_hist loss;                  /* state: subscribers' reported loss (‰) */
    struct cr_hist join[CR_JOIN_STAGES];  /* state: peers' start stages (ms) */
    unsigned pacing;                      /* state: peers whose pacer holds packets (the
                                             worker runs peer_pace every few ms while any) */
    uint8_t scratch[CONSUMER_SCRATCH];    /* state: where each outgoing packet is built */
};

/* Ids of peers, taps and tracks carry the index of their worker in their low bits, so the
 * API finds the worker of any id without asking (relay/pool.h). */
#define ROUTE_WORKER_BITS 4 /* CR_WORKERS_MAX = 1 << ROUTE_WORKER_BITS */

static inline uint64_t route_next_id(struct route_ctx *rc)
{
    return rc->next_id++ << ROUTE_WORKER_BITS | rc->worker_index;
}

static inline unsigned route_id_worker(uint64_t id)
{
    return (unsigned)(id & ((1u << ROUTE_WORKER_BITS) - 1));
}

#endif
