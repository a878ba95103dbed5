/* The media workers (relay/worker.h: one thread and loop each, one per core by default)
 * and where each lesson lives. A room opens on the worker with the fewest rooms (its home)
 * and stays there until it closes. Each new peer of a room goes to the room's part with
 * the fewest of its peers while that part holds fewer than config room_spread; past that,
 * to the least busy worker (fewest peers), which opens a part of the room there if it has
 * none (route/shard.h: the parts forward each other's tracks). Ids of peers, taps and
 * tracks name their worker (route/ctx.h), so the API finds a worker from an id without
 * visiting the workers. The DTLS certificate is one for the process, lent to every worker,
 * and so are the rings between the workers. */
#ifndef CR_RELAY_POOL_H
#define CR_RELAY_POOL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "classrelay/relay.h"
#include "route/shard.h"
#include "worker.h"

struct cr_pool {
    struct cr_worker *w[CR_WORKERS_MAX]; /* owned */
    unsigned n;
    unsigned spread;                     /* config room_spread */
    struct cr_dtls_cert *cert;           /* owned */
    struct shard_hub hub;                /* owned: the rings between the workers */
    gint live_peers;                     /* every worker's peers (atomic; admission control) */
    GMutex lock;                         /* guards rooms and the counts */
    GMutex open_lock;                    /* held by the API while a room opens a part or closes */
    GHashTable *rooms;                   /* room name (owned) → struct pool_room * (owned) */
    unsigned room_count[CR_WORKERS_MAX]; /* rooms whose home each worker is */
    unsigned peer_count[CR_WORKERS_MAX]; /* peers placed on each worker */
};

/* Starts config->workers workers (0: one per core). -1 (nothing left running) on failure. */
int pool_init(struct cr_pool *p, const struct cr_relay_config *config,
              const struct cr_relay_events *events, void *user);
void pool_free(struct cr_pool *p);

/* The home worker of an open room, or NULL. */
struct cr_worker *pool_room_worker(struct cr_pool *p, const char *room);
/* The home of room, placing it on the worker with the fewest rooms if it has none yet. */
struct cr_worker *pool_place_room(struct cr_pool *p, const char *room);
/* The room closed (or failed to open): it has no worker any more. */
void pool_forget_room(struct cr_pool *p, const char *room);
/* The workers holding a part of room (bit i: worker i; the home among them); 0: not open. */
uint32_t pool_room_parts(struct cr_pool *p, const char *room);
/* Where a new peer of room goes (see above); false when the room is not open. */
bool pool_place_peer(struct cr_pool *p, const char *room, unsigned *index);
/* Worker index now holds a part of room (the API opened and linked it). */
void pool_part_opened(struct cr_pool *p, const char *room, unsigned index);
/* A peer of room came to worker index, or left it. */
void pool_peer_joined(struct cr_pool *p, const char *room, unsigned index);
void pool_peer_left(struct cr_pool *p, const char *room, unsigned index);
/* The worker an id of a peer, tap or track belongs to, or NULL. */
struct cr_worker *pool_id_worker(struct cr_pool *p, uint64_t id);

#endif
