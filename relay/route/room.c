/* Lesson room: see room.h. The fan-out (room_fanout_rtp) is the one loop of the forwarding
 * path: one consumer_forward per subscriber of the producer, with the time read once by
 * the receiving peer; publishers' sender reports are fanned out the same way, for each
 * consumer to translate (RFC 3550 §6.4.1). Closing order (docs/lifecycle.md): a peer is taken out
 * of the directory, then freed — its consumers are unbound from their producers, its producers
 * unbind their consumers (which go idle) and leave the room's track list — then the room
 * tells the control plane its tracks changed. A room may be one part of a lesson spread over
 * workers (route/shard.h): its fan-out also hands each packet of its own tracks to the
 * other parts, and its track list holds theirs as mirrors. */
#include "route/room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "route/consumer.h"
#include "route/ctx.h"
#include "route/link.h"
#include "route/peer.h"
#include "route/producer.h"
#include "route/shard.h"
#include "route/tap.h"

/* The consumers one producer feeds. */
struct fanout {
    struct consumer **c; /* owned array of borrowed pointers */
    size_t n, cap;
};

static void fanout_free(gpointer data)
{
    struct fanout *f = data;
    free(f->c);
    free(f);
}

struct room *room_new(struct route_ctx *ctx, const char *name)
{
    struct room *room = CR_NEW(struct room);
    snprintf(room->name, sizeof room->name, "%s", name);
    room->ctx = ctx;
    room->peers = g_ptr_array_new();
    room->taps = g_ptr_array_new();
    room->producers = g_ptr_array_new();
    room->fanout = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, fanout_free);
    room->mirrors = g_ptr_array_new();
    return room;
}

static void unlist_peer(struct room *room, struct peer *peer)
{
    g_hash_table_remove(room->ctx->peers, &peer->id);
    room->ctx->stats.peers = g_hash_table_size(room->ctx->peers);
    g_atomic_int_dec_and_test(room->ctx->live_peers);
    g_ptr_array_remove_fast(room->peers, peer);
}

static void unlist_tap(struct room *room, struct tap *tap)
{
    g_hash_table_remove(room->ctx->taps, &tap->id);
    room->ctx->stats.taps = g_hash_table_size(room->ctx->taps);
    g_ptr_array_remove_fast(room->taps, tap);
}

void room_close_tap(struct room *room, struct tap *tap)
{
    unlist_tap(room, tap);
    room_bind(room, tap->consumer, NULL, 0);
    tap_free(tap);
}

void room_free(struct room *room)
{
    if (!room)
        return;
    while (room->taps->len)
        room_close_tap(room, g_ptr_array_index(room->taps, room->taps->len - 1));
    while (room->peers->len) {
        struct peer *peer = g_ptr_array_index(room->peers, room->peers->len - 1);
        unlist_peer(room, peer);
        link_detach(peer);
        peer_free(peer);
    }
    shard_room_free(room);
    g_ptr_array_free(room->mirrors, TRUE);
    g_ptr_array_free(room->peers, TRUE);
    g_ptr_array_free(room->taps, TRUE);
    g_ptr_array_free(room->producers, TRUE);
    g_hash_table_destroy(room->fanout);
    free(room);
}

/* The other parts hear of the change before the control plane does: what it asks of them
 * next finds the tracks there (route/shard.h). */
static void tracks_changed(void *ud)
{
    struct room *room = ud;
    struct route_ctx *rc = room->ctx;
    shard_publish(room);
    if (rc->events.on_tracks_changed)
        rc->events.on_tracks_changed(rc->events_user, room->name);
}

void room_close_peer(struct room *room, struct peer *peer)
{
    unlist_peer(room, peer);
    bool had_tracks = false;
    for (size_t i = 0; i < peer->n_mlines; i++)
        had_tracks |= peer->mlines[i].producer != NULL;
    link_detach(peer);
    room->n_links -= peer->is_link;
    peer_free(peer);
    if (had_tracks)
        tracks_changed(room);
}

struct producer *room_find_producer(struct room *room, uint64_t id)
{
    for (size_t i = 0; i < room->producers->len; i++) {
        struct producer *p = g_ptr_array_index(room->producers, i);
        if (p->id == id)
            return p;
    }
    return NULL;
}

/* ---- who feeds whom ---- */

static void fanout_remove(struct room *room, struct producer *p, struct consumer *c)
{
    struct fanout *f = g_hash_table_lookup(room->fanout, p);
    for (size_t i = 0; f && i < f->n; i++) {
        if (f->c[i] == c) {
            f->c[i] = f->c[--f->n];
            room->ctx->stats.consumers--;
            return;
        }
    }
}

static void fanout_add(struct room *room, struct producer *p, struct consumer *c)
{
    struct fanout *f = g_hash_table_lookup(room->fanout, p);
    if (!f) {
        f = CR_NEW(struct fanout);
        g_hash_table_insert(room->fanout, p, f);
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->c = cr_realloc(f->c, f->cap * sizeof *f->c);
    }
    f->c[f->n++] = c;
    room->ctx->stats.consumers++;
}

void room_bind(struct room *room, struct consumer *c, struct producer *p, int64_t now_ms)
{
    if (c->producer == p)
        return;
    if (c->producer)
        fanout_remove(room, c->producer, c);
    if (p)
        fanout_add(room, p, c);
    consumer_set_source(c, p, now_ms);
}

/* ---- the tracks and the fan-out ---- */

void room_add_producer(struct room *room, struct producer *p)
{
    if (!p->mirror) {
        p->order = shard_next_order(room->ctx);
        room->ctx->stats.producers++;
    }
    guint at = room->producers->len;
    while (at > 0 &&
           ((struct producer *)g_ptr_array_index(room->producers, at - 1))->order > p->order)
        at--;
    g_ptr_array_insert(room->producers, (gint)at, p);
}

void room_remove_producer(struct room *room, struct producer *p)
{
    struct fanout *f = g_hash_table_lookup(room->fanout, p);
    while (f && f->n) { /* its subscribers go idle */
        struct consumer *c = f->c[--f->n];
        room->ctx->stats.consumers--;
        consumer_set_source(c, NULL, 0);
    }
    g_hash_table_remove(room->fanout, p);
    if (!g_ptr_array_remove(room->producers, p) || p->mirror)
        return;
    room->ctx->stats.producers--;
    shard_withdraw(room, p);
}

static struct producer *find_producer(void *ud, uint64_t id) { return room_find_producer(ud, id); }

static struct producer *producer_at(void *ud, size_t i)
{
    struct room *room = ud;
    return i < room->producers->len ? g_ptr_array_index(room->producers, i) : NULL;
}

static void bind_consumer(void *ud, struct consumer *c, struct producer *p, int64_t now_ms)
{
    room_bind(ud, c, p, now_ms);
}

/* The publisher of p when cascade links mirror it (link.h), else NULL. */
static struct peer *linked_source(struct room *room, const struct producer *p)
{
    if (!room->n_links || p->mirror)
        return NULL;
    struct peer *src = g_hash_table_lookup(room->ctx->peers, &p->peer_id);
    return src && src->links && src->links->len ? src : NULL;
}

void room_fanout_rtp(struct room *room, struct producer *p, const struct producer_packet *pkt,
                     int64_t now_ms, int64_t now_us)
{
    if (room->parts && !p->mirror)
        shard_forward_rtp(room, p, pkt, now_us); /* first: the other workers start sooner */
    struct peer *src = linked_source(room, p);
    if (src)
        link_mirror_rtp(src, pkt);
    struct fanout *f = g_hash_table_lookup(room->fanout, p);
    for (size_t i = 0; f && i < f->n; i++)
        consumer_forward(f->c[i], pkt, now_ms, now_us);
}

void room_fanout_sr(struct room *room, struct producer *p, int layer, uint64_t ntp, uint32_t rtp_ts,
                    int64_t now_ms)
{
    if (room->parts && !p->mirror)
        shard_forward_sr(room, p, layer, ntp, rtp_ts);
    struct peer *src = linked_source(room, p);
    if (src && layer >= 0 && (size_t)layer < p->n_layers)
        link_mirror_sr(src, p->layers[layer].ssrc, ntp, rtp_ts);
    struct fanout *f = g_hash_table_lookup(room->fanout, p);
    for (size_t i = 0; f && i < f->n; i++)
        consumer_on_sr(f->c[i], layer, ntp, rtp_ts, now_ms);
}

/* Opus in-band FEC follows the loss the publisher hears of (peer_rtcp.c): that of the
 * subscribers that take plain Opus (RED subscribers are covered by consumer_red.c). */
uint8_t room_subscriber_loss(struct room *room, const struct producer *p)
{
    struct fanout *f = g_hash_table_lookup(room->fanout, p);
    uint8_t worst = 0;
    for (size_t i = 0; f && i < f->n; i++)
        if (!f->c[i]->red_pt && f->c[i]->fraction_lost > worst)
            worst = f->c[i]->fraction_lost;
    for (size_t i = 0; i < CR_WORKERS_MAX; i++) /* those of the other parts (route/shard.h) */
        if (p->part_loss[i] > worst)
            worst = p->part_loss[i];
    return worst;
}

/* ---- the listener of its peers ---- */

static void producer_added(void *ud, struct producer *p) { room_add_producer(ud, p); }
static void producer_closed(void *ud, struct producer *p) { room_remove_producer(ud, p); }

static void on_rtp(void *ud, struct producer *p, const struct producer_packet *pkt, int64_t now_ms,
                   int64_t now_us)
{
    room_fanout_rtp(ud, p, pkt, now_ms, now_us);
}

static void on_sr(void *ud, struct producer *p, int layer, uint64_t ntp, uint32_t rtp_ts,
                  int64_t now_ms)
{
    room_fanout_sr(ud, p, layer, ntp, rtp_ts, now_ms);
}

static uint8_t subscriber_loss(void *ud, const struct producer *p)
{
    return room_subscriber_loss(ud, p);
}

static const struct peer_listener listener = {
    .producer_added = producer_added,
    .producer_closed = producer_closed,
    .tracks_changed = tracks_changed,
    .find_producer = find_producer,
    .producer_at = producer_at,
    .bind = bind_consumer,
    .on_rtp = on_rtp,
    .on_sr = on_sr,
    .subscriber_loss = subscriber_loss,
};

static struct peer *add_peer(struct room *room, bool link)
{
    struct peer_listener l = listener;
    l.ud = room;
    uint64_t id = route_next_id(room->ctx);
    struct peer *peer = link ? peer_new_link(room->ctx, room, room->name, id, &l)
                             : peer_new(room->ctx, room, room->name, id, &l);
    if (!peer)
        return NULL;
    g_ptr_array_add(room->peers, peer);
    g_hash_table_insert(room->ctx->peers, &peer->id, peer);
    room->ctx->stats.peers = g_hash_table_size(room->ctx->peers);
    g_atomic_int_inc(room->ctx->live_peers);
    return peer;
}

struct peer *room_add_peer(struct room *room) { return add_peer(room, false); }

struct peer *room_add_link(struct room *room)
{
    struct peer *link = add_peer(room, true);
    room->n_links += link != NULL;
    return link;
}

struct tap *room_add_tap(struct room *room, struct producer *p, uint16_t port, uint8_t pt)
{
    struct route_ctx *rc = room->ctx;
    struct tap *tap = tap_new(route_next_id(rc), p->kind, port, pt, rc->scratch, &rc->stats);
    if (!tap)
        return NULL;
    tap->room = room;
    g_ptr_array_add(room->taps, tap);
    g_hash_table_insert(rc->taps, &tap->id, tap);
    rc->stats.taps = g_hash_table_size(rc->taps);
    room_bind(room, tap->consumer, p, cr_now_ms()); /* asks for a keyframe */
    CR_INFO("tap", "tap %llu records track %llu to port %u", (unsigned long long)tap->id,
            (unsigned long long)p->id, port);
    return tap;
}
