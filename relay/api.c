/* The relay's public API (api.h): each call is packed into a message, run on the worker
 * thread through its GMainContext, and waited for. Nothing here touches media state from
 * the caller's thread. */
#include "classrelay/relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "route/consumer.h"
#include "route/peer.h"
#include "route/producer.h"
#include "route/quality.h"
#include "route/room.h"
#include "route/tap.h"
#include "worker.h"

struct cr_relay {
    struct cr_worker *worker; /* owned */
};

const char *cr_peer_state_name(enum cr_peer_state state) { return peer_state_name(state); }

/* One call carried to the worker. */
struct call {
    struct cr_worker *w;
    int (*fn)(struct call *c);
    GMutex lock;
    GCond cond;
    bool done;
    int result;
    /* arguments and results; each call uses what it needs */
    const char *room;
    uint64_t peer_id;
    const char *text;
    const char *mid;
    struct cr_mline_hint *hints;
    size_t n_hints;
    char **answer;
    char *err;
    size_t err_len;
    struct cr_track_info *tracks;
    size_t max;
    size_t *n;
    struct cr_relay_stats *stats;
    unsigned kinds;
    bool paused;
    struct cr_peer_stats *peer_stats;
    uint64_t track_id;
    uint16_t port;
    uint8_t pt;
};

static gboolean dispatch(gpointer data)
{
    struct call *c = data;
    int r = c->fn(c);
    g_mutex_lock(&c->lock);
    c->result = r;
    c->done = true;
    g_cond_signal(&c->cond);
    g_mutex_unlock(&c->lock);
    return G_SOURCE_REMOVE;
}

static int run_call(struct cr_relay *relay, struct call *c)
{
    c->w = relay->worker;
    g_mutex_init(&c->lock);
    g_cond_init(&c->cond);
    c->done = false;
    g_main_context_invoke(c->w->ctx, dispatch, c);
    g_mutex_lock(&c->lock);
    while (!c->done)
        g_cond_wait(&c->cond, &c->lock);
    g_mutex_unlock(&c->lock);
    g_mutex_clear(&c->lock);
    g_cond_clear(&c->cond);
    return c->result;
}

struct cr_relay *cr_relay_new(const struct cr_relay_config *config,
                              const struct cr_relay_events *events, void *user)
{
    struct cr_worker *w = worker_new(config, events, user);
    if (!w)
        return NULL;
    struct cr_relay *relay = CR_NEW(struct cr_relay);
    relay->worker = w;
    return relay;
}

void cr_relay_free(struct cr_relay *relay)
{
    if (!relay)
        return;
    worker_free(relay->worker);
    free(relay);
}

static bool valid_name(const char *name) { return name && name[0] && strlen(name) <= CR_NAME_MAX; }

static int do_room_open(struct call *c)
{
    if (worker_room(c->w, c->room))
        return CR_OK;
    if (g_hash_table_size(c->w->rooms) >= 10000)
        return CR_ERR_LIMIT;
    struct room *room = room_new(&c->w->route, c->room);
    g_hash_table_insert(c->w->rooms, room->name, room);
    c->w->route.stats.rooms = g_hash_table_size(c->w->rooms);
    CR_INFO("room", "opened %s", c->room);
    return CR_OK;
}

int cr_relay_room_open(struct cr_relay *relay, const char *room)
{
    if (!valid_name(room))
        return CR_ERR_ARG;
    struct call c = {.fn = do_room_open, .room = room};
    return run_call(relay, &c);
}

static int do_room_close(struct call *c)
{
    if (!g_hash_table_remove(c->w->rooms, c->room))
        return CR_ERR_NOT_FOUND;
    c->w->route.stats.rooms = g_hash_table_size(c->w->rooms);
    CR_INFO("room", "closed %s", c->room);
    return CR_OK;
}

int cr_relay_room_close(struct cr_relay *relay, const char *room)
{
    if (!valid_name(room))
        return CR_ERR_ARG;
    struct call c = {.fn = do_room_close, .room = room};
    return run_call(relay, &c);
}

/* Peers and taps together: the relay's limit. */
static bool at_peer_limit(struct cr_worker *w)
{
    return g_hash_table_size(w->route.peers) + g_hash_table_size(w->route.taps) >= 20000;
}

static int do_peer_new(struct call *c)
{
    struct room *room = worker_room(c->w, c->room);
    if (!room)
        return CR_ERR_NOT_FOUND;
    if (at_peer_limit(c->w))
        return CR_ERR_LIMIT;
    struct peer *peer = room_add_peer(room);
    if (!peer)
        return CR_ERR_INTERNAL;
    c->peer_id = peer->id;
    return CR_OK;
}

int cr_relay_peer_new(struct cr_relay *relay, const char *room, uint64_t *peer_id)
{
    if (!valid_name(room))
        return CR_ERR_ARG;
    struct call c = {.fn = do_peer_new, .room = room};
    int r = run_call(relay, &c);
    if (r == CR_OK)
        *peer_id = c.peer_id;
    return r;
}

static int do_peer_offer(struct call *c)
{
    struct peer *peer = worker_peer(c->w, c->peer_id);
    if (!peer) {
        snprintf(c->err, c->err_len, "no such peer");
        return CR_ERR_NOT_FOUND;
    }
    return peer_apply_offer(peer, c->text, c->hints, c->n_hints, c->answer, c->err, c->err_len);
}

int cr_relay_peer_offer(struct cr_relay *relay, uint64_t peer_id, const char *offer,
                        struct cr_mline_hint *hints, size_t n_hints, char **answer, char *err,
                        size_t err_len)
{
    char dummy[8];
    if (!err || err_len == 0) {
        err = dummy;
        err_len = sizeof dummy;
    }
    err[0] = 0;
    *answer = NULL;
    if (!offer) {
        snprintf(err, err_len, "no offer");
        return CR_ERR_ARG;
    }
    struct call c = {.fn = do_peer_offer,
                     .peer_id = peer_id,
                     .text = offer,
                     .hints = hints,
                     .n_hints = n_hints,
                     .answer = answer,
                     .err = err,
                     .err_len = err_len};
    return run_call(relay, &c);
}

static int do_peer_candidate(struct call *c)
{
    struct peer *peer = worker_peer(c->w, c->peer_id);
    if (!peer)
        return CR_ERR_NOT_FOUND;
    return peer_add_candidate(peer, c->text);
}

int cr_relay_peer_candidate(struct cr_relay *relay, uint64_t peer_id, const char *mid,
                            const char *candidate)
{
    if (candidate && strlen(candidate) > 1024)
        return CR_ERR_ARG;
    struct call c = {.fn = do_peer_candidate, .peer_id = peer_id, .mid = mid, .text = candidate};
    return run_call(relay, &c);
}

static int do_peer_close(struct call *c)
{
    struct peer *peer = worker_peer(c->w, c->peer_id);
    struct tap *tap = peer ? NULL : worker_tap(c->w, c->peer_id);
    if (peer)
        room_close_peer(peer->room, peer);
    else if (tap)
        room_close_tap(tap->room, tap);
    else
        return CR_ERR_NOT_FOUND;
    return CR_OK;
}

int cr_relay_peer_close(struct cr_relay *relay, uint64_t peer_id)
{
    struct call c = {.fn = do_peer_close, .peer_id = peer_id};
    return run_call(relay, &c);
}

static int do_room_tracks(struct call *c)
{
    struct room *room = worker_room(c->w, c->room);
    if (!room)
        return CR_ERR_NOT_FOUND;
    *c->n = room->producers->len;
    for (size_t i = 0; i < room->producers->len && i < c->max; i++)
        producer_info(g_ptr_array_index(room->producers, i), &c->tracks[i]);
    return CR_OK;
}

int cr_relay_room_tracks(struct cr_relay *relay, const char *room, struct cr_track_info *out,
                         size_t max, size_t *n)
{
    if (!valid_name(room))
        return CR_ERR_ARG;
    struct call c = {.fn = do_room_tracks, .room = room, .tracks = out, .max = max, .n = n};
    return run_call(relay, &c);
}

static void consumer_stats(const struct consumer *c, struct cr_consumer_stats *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->mid, sizeof out->mid, "%s", c->mid);
    out->kind = c->kind;
    out->layer = (int8_t)c->layer;
    out->target = (int8_t)c->target;
    out->temporal = (int8_t)consumer_temporal(c);
    out->paused = c->paused;
    out->packets = c->packets;
    out->retransmitted = c->retransmitted;
    out->fraction_lost = c->fraction_lost;
    out->jitter_ms = c->clock_rate ? (uint32_t)((uint64_t)c->jitter * 1000 / c->clock_rate) : 0;
    const struct producer *p = c->producer;
    if (!p)
        return;
    out->track_id = p->id;
    out->layers = (uint8_t)p->n_layers;
    if (c->layer >= 0)
        out->bitrate_bps = p->layers[c->layer].bitrate_bps;
}

static int tap_stats(struct tap *tap, struct cr_peer_stats *out)
{
    memset(out, 0, sizeof *out);
    out->peer_id = tap->id;
    out->state = CR_PEER_CONNECTED;
    snprintf(out->pair, sizeof out->pair, "tap");
    out->n_consumers = 1;
    consumer_stats(tap->consumer, &out->consumers[0]);
    return CR_OK;
}

static int do_peer_stats(struct call *c)
{
    struct peer *peer = worker_peer(c->w, c->peer_id);
    struct tap *tap = peer ? NULL : worker_tap(c->w, c->peer_id);
    if (tap)
        return tap_stats(tap, c->peer_stats);
    if (!peer)
        return CR_ERR_NOT_FOUND;
    struct cr_peer_stats *out = c->peer_stats;
    memset(out, 0, sizeof *out);
    out->peer_id = peer->id;
    out->state = peer->state;
    out->rtt_ms = peer->rtt_ms;
    if (peer->quality && peer->quality->have_feedback)
        out->estimate_bps = (uint32_t)bwe_estimate(&peer->quality->bwe);
    cr_ice_describe_pair(peer->ice, out->pair, sizeof out->pair);
    for (size_t i = 0; i < peer->n_mlines && out->n_consumers < CR_PEER_STATS_MAX; i++)
        if (peer->mlines[i].consumer)
            consumer_stats(peer->mlines[i].consumer, &out->consumers[out->n_consumers++]);
    return CR_OK;
}

int cr_relay_peer_stats(struct cr_relay *relay, uint64_t peer_id, struct cr_peer_stats *out)
{
    struct call c = {.fn = do_peer_stats, .peer_id = peer_id, .peer_stats = out};
    return run_call(relay, &c);
}

static int do_get_stats(struct call *c)
{
    *c->stats = c->w->route.stats;
    return CR_OK;
}

int cr_relay_get_stats(struct cr_relay *relay, struct cr_relay_stats *out)
{
    struct call c = {.fn = do_get_stats, .stats = out};
    return run_call(relay, &c);
}

static int do_tap_add(struct call *c)
{
    struct room *room = worker_room(c->w, c->room);
    struct producer *p = room ? room_find_producer(room, c->track_id) : NULL;
    if (!p)
        return CR_ERR_NOT_FOUND;
    if (at_peer_limit(c->w))
        return CR_ERR_LIMIT;
    struct tap *tap = room_add_tap(room, p, c->port, c->pt);
    if (!tap)
        return CR_ERR_INTERNAL;
    c->peer_id = tap->id;
    return CR_OK;
}

int cr_relay_tap_add(struct cr_relay *relay, const char *room, uint64_t track_id, uint16_t port,
                     uint8_t pt, uint64_t *tap_id)
{
    if (!valid_name(room) || port == 0 || pt > 127)
        return CR_ERR_ARG;
    struct call c = {.fn = do_tap_add, .room = room, .track_id = track_id, .port = port, .pt = pt};
    int r = run_call(relay, &c);
    if (r == CR_OK)
        *tap_id = c.peer_id;
    return r;
}

static int do_tap_keyframe(struct call *c)
{
    struct tap *tap = worker_tap(c->w, c->peer_id);
    if (!tap)
        return CR_ERR_NOT_FOUND;
    consumer_want_keyframe(tap->consumer, cr_now_ms());
    return CR_OK;
}

int cr_relay_tap_keyframe(struct cr_relay *relay, uint64_t tap_id)
{
    struct call c = {.fn = do_tap_keyframe, .peer_id = tap_id};
    return run_call(relay, &c);
}

static int do_peer_pause(struct call *c)
{
    struct peer *peer = worker_peer(c->w, c->peer_id);
    if (peer)
        peer_pause(peer, c->kinds, c->paused, cr_now_ms());
    else if (!worker_tap(c->w, c->peer_id))
        return CR_ERR_NOT_FOUND;
    return CR_OK; /* a tap publishes nothing */
}

int cr_relay_peer_pause(struct cr_relay *relay, uint64_t peer_id, unsigned kinds, bool paused)
{
    struct call c = {.fn = do_peer_pause, .peer_id = peer_id, .kinds = kinds, .paused = paused};
    return run_call(relay, &c);
}
