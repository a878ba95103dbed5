/* A lesson room, the router of mediasoup's terms. It owns its peers and recording taps,
 * keeps the directory in which subscribers find tracks (producers, which the publishing
 * peers own), and holds the index of who feeds whom: for each producer, the consumers
 * bound to it. The fan-out loop lives here — a producer's packet and its sender reports
 * go to every consumer bound to it — so producers and consumers never call each other.
 * Peers report to the room through the listener it gives them (peer.h). */
#ifndef CR_ROUTE_ROOM_H
#define CR_ROUTE_ROOM_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "classrelay/types.h"

struct route_ctx;
struct peer;
struct producer;
struct consumer;
struct tap;

struct room {
    char name[CR_NAME_MAX + 1];
    struct route_ctx *ctx; /* borrowed: the worker's */
    GPtrArray *peers;      /* struct peer *, owned */
    GPtrArray *taps;       /* struct tap *, owned */
    GPtrArray *producers;  /* struct producer *, borrowed (peers own them), in arrival order */
    GHashTable *fanout;    /* struct producer * → struct fanout * (owned): its consumers */
    uint32_t parts;        /* bit i: worker i holds another part of the room (route/shard.h) */
    bool part;             /* this is a part whose lesson's home is another worker's room */
    GPtrArray *mirrors;    /* struct mirror *, owned: the other parts' tracks */
    unsigned n_links;      /* its peers that are cascade links (link.h) */
};

struct room *room_new(struct route_ctx *ctx, const char *name);
/* Frees every peer and tap (no tracks-changed event). room_free(NULL) does nothing. */
void room_free(struct room *room);
/* A new peer of the room, listed in ctx->peers; NULL if its ICE agent cannot be made. */
struct peer *room_add_peer(struct room *room);
/* ... a cascade link of the room (link.h), listed the same way. */
struct peer *room_add_link(struct room *room);
/* Takes a peer out of ctx->peers and frees it; tells the control plane when tracks went. */
void room_close_peer(struct room *room, struct peer *peer);
/* A recording tap of producer p (tap.h), listed in ctx->taps; NULL if no socket. */
struct tap *room_add_tap(struct room *room, struct producer *p, uint16_t port, uint8_t pt);
void room_close_tap(struct room *room, struct tap *tap);
struct producer *room_find_producer(struct room *room, uint64_t id);
/* Feeds consumer c from producer p (NULL: idle), moving it between fan-out lists. */
void room_bind(struct room *room, struct consumer *c, struct producer *p, int64_t now_ms);

/* What the room does for its peers (their listener, peer.h), callable alone for tests. */
/* A producer joins the room's tracks, in the lesson's order (producer.order; a new one of
 * the room's own peers gets the next place); one leaves (its consumers go idle, and the
 * other parts hear of it). */
void room_add_producer(struct room *room, struct producer *p);
void room_remove_producer(struct room *room, struct producer *p);
struct producer_packet;
/* The fan-out: a packet p took, to every consumer bound to p; now_us read once for all. */
void room_fanout_rtp(struct room *room, struct producer *p, const struct producer_packet *pkt,
                     int64_t now_ms, int64_t now_us);
/* A sender report of p's layer, translated by every consumer bound to p. */
void room_fanout_sr(struct room *room, struct producer *p, int layer, uint64_t ntp, uint32_t rtp_ts,
                    int64_t now_ms);
/* The worst fraction lost (/256) reported by p's consumers that take no RED, on this part
 * and (as they last reported) the lesson's other parts; 0: none. */
uint8_t room_subscriber_loss(struct room *room, const struct producer *p);

#endif
