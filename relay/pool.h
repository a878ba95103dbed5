/* The media workers (relay/worker.h: one thread and loop each, one per core by default)
 * and where each room lives. A room is placed on the worker with the fewest rooms when it
 * opens and stays there until it closes; ids of peers, taps and tracks name their worker
 * (route/ctx.h), so the API finds a worker from a room name or an id without visiting the
 * workers. The DTLS certificate is one for the process, lent to every worker. */
#ifndef CR_RELAY_POOL_H
#define CR_RELAY_POOL_H

#include <glib.h>
#include <stdint.h>

#include "classrelay/relay.h"
#include "worker.h"

struct cr_pool {
    struct cr_worker *w[CR_WORKERS_MAX]; /* owned */
    unsigned n;
    struct cr_dtls_cert *cert; /* owned */
    gint live_peers;           /* every worker's peers (atomic; admission control) */
    GMutex lock;               /* guards rooms and room_count */
    GHashTable *rooms;         /* room name (owned) → worker index + 1 */
    unsigned room_count[CR_WORKERS_MAX];
};

/* Starts config->workers workers (0: one per core). -1 (nothing left running) on failure. */
int pool_init(struct cr_pool *p, const struct cr_relay_config *config,
              const struct cr_relay_events *events, void *user);
void pool_free(struct cr_pool *p);

/* The worker of an open room, or NULL. */
struct cr_worker *pool_room_worker(struct cr_pool *p, const char *room);
/* The worker of room, placing it on the least busy one if it has none yet. */
struct cr_worker *pool_place_room(struct cr_pool *p, const char *room);
/* The room closed (or failed to open): it has no worker any more. */
void pool_forget_room(struct cr_pool *p, const char *room);
/* The worker an id of a peer, tap or track belongs to, or NULL. */
struct cr_worker *pool_id_worker(struct cr_pool *p, uint64_t id);

#endif
