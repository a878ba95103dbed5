/* The worker: one thread running one GLib main loop that owns all media state of the
 * rooms pinned to it (rooms, peers, their libnice agents, DTLS, SRTP). Its fast path takes
 * no locks: other threads reach it only through api.c, which posts calls to its context.
 * A periodic tick drives timers that are per peer (RTCP reports, TWCC feedback, DTLS
 * retransmission, keyframe-request throttles, connect timeouts). */
#ifndef CR_RELAY_WORKER_H
#define CR_RELAY_WORKER_H

#include <glib.h>
#include <stdint.h>

#include "classrelay/relay.h"
#include "media/packet_store.h"
#include "net/dtls.h"
#include "net/srtp.h"

#define WORKER_TICK_MS 20
#define WORKER_SCRATCH (PACKET_STORE_MTU + 128 + CR_SRTP_MAX_TRAILER)

struct room;
struct peer;

struct cr_worker {
    GMainContext *ctx;             /* owned */
    GMainLoop *loop;               /* owned */
    GThread *thread;               /* owned; joined in worker_free */
    GSource *tick;                 /* owned */
    struct cr_relay_config config; /* strings owned (copies) */
    struct cr_dtls_cert *cert;     /* owned: one certificate for the process */
    struct cr_relay_events events;
    void *events_user;               /* borrowed */
    GHashTable *rooms;               /* name → struct room *, owned */
    GHashTable *peers;               /* id → struct peer *, borrowed (rooms own peers) */
    uint64_t next_id;                /* ids of peers and tracks, never reused */
    struct cr_relay_stats stats;     /* state: counters, read by cr_relay_get_stats */
    uint8_t scratch[WORKER_SCRATCH]; /* state: the buffer each outgoing packet is built in */
};

struct cr_worker *worker_new(const struct cr_relay_config *config,
                             const struct cr_relay_events *events, void *user);
void worker_free(struct cr_worker *w);
uint64_t worker_next_id(struct cr_worker *w);
struct room *worker_room(struct cr_worker *w, const char *name);
struct peer *worker_peer(struct cr_worker *w, uint64_t id);

#endif
