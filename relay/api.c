/* The relay's public API (include/classrelay/relay.h): each call is packed into a message —
 * a function and its own argument struct — run on the thread of the worker that owns the
 * room or id it names (pool.h) through its GMainContext, and waited for. Nothing here
 * touches media state from the caller's thread. A worker reads what the other workers
 * handed it (route/shard.h) before it runs a call, so the tracks a call names are there.
 * A lesson spread over workers is opened, linked and closed here, part by part. */
#include "classrelay/relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/hist.h"
#include "base/log.h"
#include "media/pacer.h"
#include "route/consumer.h"
#include "route/link.h"
#include "route/peer.h"
#include "route/producer.h"
#include "route/quality.h"
#include "route/room.h"
#include "route/shard.h"
#include "route/tap.h"
#include "wire/sdp.h"
#include "pool.h"
#include "worker.h"

struct cr_relay {
    struct cr_pool pool;
};

const char *cr_peer_state_name(enum cr_peer_state state) { return peer_state_name(state); }

/* One call carried to the worker: fn(w, args) runs there; the caller waits for its result. */
struct call {
    struct cr_worker *w;
    int (*fn)(struct cr_worker *w, void *args);
    void *args; /* borrowed: the call's own argument struct */
    GMutex lock;
    GCond cond;
    bool done;
    int result;
};

static gboolean dispatch(gpointer data)
{
    struct call *c = data;
    shard_drain(&c->w->route, cr_now_ms());
    int r = c->fn(c->w, c->args);
    g_mutex_lock(&c->lock);
    c->result = r;
    c->done = true;
    g_cond_signal(&c->cond);
    g_mutex_unlock(&c->lock);
    return G_SOURCE_REMOVE;
}

static int run_call(struct cr_worker *w, int (*fn)(struct cr_worker *, void *), void *args)
{
    if (!w)
        return CR_ERR_NOT_FOUND; /* no worker has that room or id */
    struct call c = {.w = w, .fn = fn, .args = args};
    g_mutex_init(&c.lock);
    g_cond_init(&c.cond);
    g_main_context_invoke(c.w->ctx, dispatch, &c);
    g_mutex_lock(&c.lock);
    while (!c.done)
        g_cond_wait(&c.cond, &c.lock);
    g_mutex_unlock(&c.lock);
    g_mutex_clear(&c.lock);
    g_cond_clear(&c.cond);
    return c.result;
}

struct cr_relay *cr_relay_new(const struct cr_relay_config *config,
                              const struct cr_relay_events *events, void *user)
{
    struct cr_relay *relay = CR_NEW(struct cr_relay);
    if (pool_init(&relay->pool, config, events, user) != 0) {
        free(relay);
        return NULL;
    }
    return relay;
}

void cr_relay_free(struct cr_relay *relay)
{
    if (!relay)
        return;
    pool_free(&relay->pool);
    free(relay);
}

static bool valid_name(const char *name) { return name && name[0] && strlen(name) <= CR_NAME_MAX; }

/* Peers and taps together: the relay's limit. */
static bool at_peer_limit(struct cr_worker *w)
{
    return g_hash_table_size(w->route.peers) + g_hash_table_size(w->route.taps) >= 20000;
}

/* ---- rooms ---- */

/* stats.rooms: the lessons whose home the worker is (parts of others' are not lessons). */
static void count_rooms(struct cr_worker *w)
{
    GHashTableIter it;
    gpointer key, value;
    uint32_t n = 0;
    g_hash_table_iter_init(&it, w->rooms);
    while (g_hash_table_iter_next(&it, &key, &value))
        n += !((struct room *)value)->part;
    w->route.stats.rooms = n;
}

static int do_room_open(struct cr_worker *w, void *args)
{
    const char *name = args;
    if (worker_room(w, name))
        return CR_OK;
    if (g_hash_table_size(w->rooms) >= 10000)
        return CR_ERR_LIMIT;
    struct room *room = room_new(&w->route, name);
    g_hash_table_insert(w->rooms, room->name, room);
    count_rooms(w);
    CR_INFO("room", "opened %s on worker %u", name, w->route.worker_index);
    return CR_OK;
}

int cr_relay_room_open(struct cr_relay *relay, const char *room)
{
    if (!valid_name(room))
        return CR_ERR_ARG;
    int r = run_call(pool_place_room(&relay->pool, room), do_room_open, (void *)room);
    if (r != CR_OK)
        pool_forget_room(&relay->pool, room);
    return r;
}

static int do_room_close(struct cr_worker *w, void *args)
{
    const char *name = args;
    if (!g_hash_table_remove(w->rooms, name))
        return CR_ERR_NOT_FOUND;
    count_rooms(w);
    CR_INFO("room", "closed %s", name);
    return CR_OK;
}

/* Every part of the room, its home last. */
int cr_relay_room_close(struct cr_relay *relay, const char *room)
{
    if (!valid_name(room))
        return CR_ERR_ARG;
    struct cr_pool *p = &relay->pool;
    g_mutex_lock(&p->open_lock);
    struct cr_worker *home = pool_room_worker(p, room);
    uint32_t parts = pool_room_parts(p, room);
    for (unsigned i = 0; i < p->n; i++)
        if ((parts & (1u << i)) && p->w[i] != home)
            run_call(p->w[i], do_room_close, (void *)room);
    int r = run_call(home, do_room_close, (void *)room);
    pool_forget_room(p, room);
    g_mutex_unlock(&p->open_lock);
    return r;
}

/* ---- a lesson over several workers ---- */

struct part_args {
    const char *room;
    uint32_t parts;  /* open: the parts there are already */
    unsigned worker; /* link: the new part's */
};

static int do_part_open(struct cr_worker *w, void *args)
{
    struct part_args *a = args;
    int r = do_room_open(w, (void *)a->room);
    struct room *room = worker_room(w, a->room);
    if (room) {
        room->part = true;
        room->parts |= a->parts & ~(1u << w->route.worker_index);
    }
    count_rooms(w);
    return r;
}

static int do_part_link(struct cr_worker *w, void *args)
{
    struct part_args *a = args;
    struct room *room = worker_room(w, a->room);
    if (!room)
        return CR_ERR_NOT_FOUND;
    shard_link(room, a->worker);
    return CR_OK;
}

/* Opens a part of room on worker index, linked both ways to every part there is: the new
 * part knows every track of the lesson before any call runs on it. */
static int open_part(struct cr_relay *relay, const char *room, unsigned index)
{
    struct cr_pool *p = &relay->pool;
    g_mutex_lock(&p->open_lock);
    uint32_t parts = pool_room_parts(p, room);
    int r = parts ? CR_OK : CR_ERR_NOT_FOUND; /* closed meanwhile */
    if (parts && !(parts & (1u << index))) {
        for (unsigned i = 0; i < p->n; i++)
            if (parts & (1u << i))
                shard_hub_pair(&p->hub, i, index);
        struct part_args a = {.room = room, .parts = parts, .worker = index};
        r = run_call(p->w[index], do_part_open, &a);
        for (unsigned i = 0; r == CR_OK && i < p->n; i++)
            if (parts & (1u << i))
                r = run_call(p->w[i], do_part_link, &a);
        if (r == CR_OK)
            pool_part_opened(p, room, index);
        else
            run_call(p->w[index], do_room_close, (void *)room);
    }
    g_mutex_unlock(&p->open_lock);
    return r;
}

struct room_tracks_args {
    const char *room;
    struct cr_track_info *out;
    size_t max;
    size_t *n;
};

static int do_room_tracks(struct cr_worker *w, void *args)
{
    struct room_tracks_args *a = args;
    struct room *room = worker_room(w, a->room);
    if (!room)
        return CR_ERR_NOT_FOUND;
    *a->n = room->producers->len;
    for (size_t i = 0; i < room->producers->len && i < a->max; i++)
        producer_info(g_ptr_array_index(room->producers, i), &a->out[i]);
    return CR_OK;
}

int cr_relay_room_tracks(struct cr_relay *relay, const char *room, struct cr_track_info *out,
                         size_t max, size_t *n)
{
    if (!valid_name(room))
        return CR_ERR_ARG;
    struct room_tracks_args a = {room, out, max, n};
    return run_call(pool_room_worker(&relay->pool, room), do_room_tracks, &a);
}

/* ---- negotiation ---- */

struct negotiate_args {
    const struct cr_offer *in;
    struct cr_answer *out;
};

/* The peer the offer is for: the one named, or a new one in the room. */
static int offer_peer(struct cr_worker *w, const struct cr_offer *in, struct cr_answer *out,
                      struct peer **peer)
{
    if (in->peer_id) {
        if (!(*peer = worker_peer(w, in->peer_id))) {
            snprintf(out->err, sizeof out->err, "no such peer");
            return CR_ERR_NOT_FOUND;
        }
        return CR_OK;
    }
    struct room *room = worker_room(w, in->room);
    if (!room) {
        snprintf(out->err, sizeof out->err, "no room %s", in->room);
        return CR_ERR_NOT_FOUND;
    }
    if (at_peer_limit(w) || (!in->priority && worker_full(w, out->err, sizeof out->err))) {
        if (!out->err[0])
            snprintf(out->err, sizeof out->err, "too many peers");
        w->route.stats.refused++;
        CR_LOG_RATE(CR_LOG_WARN, "relay", "refused a new peer in room %s: %s", in->room, out->err);
        return CR_ERR_LIMIT;
    }
    if (!(*peer = room_add_peer(room))) {
        snprintf(out->err, sizeof out->err, "cannot make an ICE agent");
        return CR_ERR_INTERNAL;
    }
    return CR_OK;
}

static int do_negotiate(struct cr_worker *w, void *args)
{
    struct negotiate_args *a = args;
    struct peer *peer;
    int r = offer_peer(w, a->in, a->out, &peer);
    if (r != CR_OK)
        return r;
    r = peer_negotiate(peer, a->in->sdp, a->in->hints, a->in->n_hints, a->in->demand, a->out);
    if (r == CR_OK)
        a->out->peer_id = peer->id;
    else if (!a->in->peer_id) /* made for this offer: it goes with it */
        room_close_peer(peer->room, peer);
    return r;
}

int cr_relay_negotiate(struct cr_relay *relay, const struct cr_offer *offer, struct cr_answer *out)
{
    memset(out, 0, sizeof *out);
    if (!offer->sdp) {
        snprintf(out->err, sizeof out->err, "no offer");
        return CR_ERR_ARG;
    }
    if (!offer->peer_id && !valid_name(offer->room)) {
        snprintf(out->err, sizeof out->err, "no valid room name");
        return CR_ERR_ARG;
    }
    struct negotiate_args a = {offer, out};
    if (offer->peer_id) {
        int r = run_call(pool_id_worker(&relay->pool, offer->peer_id), do_negotiate, &a);
        if (r == CR_ERR_NOT_FOUND && !out->err[0])
            snprintf(out->err, sizeof out->err, "no such peer");
        return r;
    }
    unsigned index;
    if (!pool_place_peer(&relay->pool, offer->room, &index) ||
        open_part(relay, offer->room, index) != CR_OK) {
        snprintf(out->err, sizeof out->err, "no room %s", offer->room);
        return CR_ERR_NOT_FOUND;
    }
    int r = run_call(relay->pool.w[index], do_negotiate, &a);
    if (r == CR_OK)
        pool_peer_joined(&relay->pool, offer->room, index);
    return r;
}

/* ---- cascade links ---- */

struct link_args {
    uint64_t id;
    struct cr_link_offer *out;
    const char *sdp;
    char *err;
    size_t err_len;
};

static int do_link_open(struct cr_worker *w, void *args)
{
    struct link_args *a = args;
    struct peer *source = worker_peer(w, a->id);
    if (!source || source->is_link) {
        snprintf(a->out->err, sizeof a->out->err, "no such peer");
        return CR_ERR_NOT_FOUND;
    }
    struct peer *link = room_add_link(source->room);
    if (!link) {
        snprintf(a->out->err, sizeof a->out->err, "cannot make an ICE agent");
        return CR_ERR_INTERNAL;
    }
    int r = link_attach(link, source, a->out);
    if (r != CR_OK)
        room_close_peer(link->room, link);
    return r;
}

int cr_relay_link_open(struct cr_relay *relay, uint64_t source_id, struct cr_link_offer *out)
{
    memset(out, 0, sizeof *out);
    struct link_args a = {.id = source_id, .out = out};
    struct cr_worker *w = pool_id_worker(&relay->pool, source_id);
    if (!w) {
        snprintf(out->err, sizeof out->err, "no such peer");
        return CR_ERR_NOT_FOUND;
    }
    return run_call(w, do_link_open, &a);
}

static int do_link_answer(struct cr_worker *w, void *args)
{
    struct link_args *a = args;
    struct peer *link = worker_peer(w, a->id);
    if (!link || !link->is_link) {
        snprintf(a->err, a->err_len, "no such link");
        return CR_ERR_NOT_FOUND;
    }
    if (link->dtls) {
        snprintf(a->err, a->err_len, "the link has its answer already");
        return CR_ERR_ARG;
    }
    size_t len = strlen(a->sdp);
    struct sdp_session *s = cr_malloc(sizeof *s);
    int line = 0, r = len <= 64 * 1024 ? sdp_parse(a->sdp, len, s, &line) : SDP_ERR_LIMIT;
    if (r != SDP_OK || s->n_media == 0) {
        snprintf(a->err, a->err_len, "unusable answer (SDP error at line %d)", line);
        r = CR_ERR_BAD_SDP;
    } else { /* its ICE credentials and candidates, fingerprint and setup */
        r = peer_apply_transport(link, s, a->err, a->err_len);
    }
    free(s);
    return r;
}

int cr_relay_link_answer(struct cr_relay *relay, uint64_t link_id, const char *sdp, char *err,
                         size_t err_len)
{
    struct link_args a = {.id = link_id, .sdp = sdp, .err = err, .err_len = err_len};
    struct cr_worker *w = sdp ? pool_id_worker(&relay->pool, link_id) : NULL;
    if (!w) {
        snprintf(err, err_len, sdp ? "no such link" : "no answer");
        return sdp ? CR_ERR_NOT_FOUND : CR_ERR_ARG;
    }
    return run_call(w, do_link_answer, &a);
}

/* ---- peers and taps ---- */

struct candidate_args {
    uint64_t peer_id;
    const char *candidate;
};

static int do_peer_candidate(struct cr_worker *w, void *args)
{
    struct candidate_args *a = args;
    struct peer *peer = worker_peer(w, a->peer_id);
    if (!peer)
        return CR_ERR_NOT_FOUND;
    return peer_add_candidate(peer, a->candidate);
}

int cr_relay_peer_candidate(struct cr_relay *relay, uint64_t peer_id, const char *mid,
                            const char *candidate)
{
    if (candidate && strlen(candidate) > 1024)
        return CR_ERR_ARG;
    struct candidate_args a = {peer_id, candidate};
    return run_call(pool_id_worker(&relay->pool, peer_id), do_peer_candidate, &a);
}

struct close_args {
    uint64_t id;
    char room[CR_NAME_MAX + 1]; /* out: the room a peer (not a tap) left */
};

static int do_peer_close(struct cr_worker *w, void *args)
{
    struct close_args *a = args;
    struct peer *peer = worker_peer(w, a->id);
    struct tap *tap = peer ? NULL : worker_tap(w, a->id);
    if (peer) {
        snprintf(a->room, sizeof a->room, "%s", peer->room->name);
        room_close_peer(peer->room, peer);
    } else if (tap) {
        room_close_tap(tap->room, tap);
    } else {
        return CR_ERR_NOT_FOUND;
    }
    return CR_OK;
}

int cr_relay_peer_close(struct cr_relay *relay, uint64_t peer_id)
{
    struct close_args a = {.id = peer_id};
    int r = run_call(pool_id_worker(&relay->pool, peer_id), do_peer_close, &a);
    if (r == CR_OK && a.room[0])
        pool_peer_left(&relay->pool, a.room, route_id_worker(peer_id));
    return r;
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

struct peer_stats_args {
    uint64_t peer_id;
    struct cr_peer_stats *out;
};

static int do_peer_stats(struct cr_worker *w, void *args)
{
    struct peer_stats_args *a = args;
    struct cr_peer_stats *out = a->out;
    memset(out, 0, sizeof *out);
    out->peer_id = a->peer_id;
    struct tap *tap = worker_tap(w, a->peer_id);
    if (tap) {
        out->state = CR_PEER_CONNECTED;
        snprintf(out->pair, sizeof out->pair, "tap");
        out->n_consumers = 1;
        consumer_stats(tap->consumer, &out->consumers[0]);
        return CR_OK;
    }
    struct peer *peer = worker_peer(w, a->peer_id);
    if (!peer)
        return CR_ERR_NOT_FOUND;
    out->state = peer->state;
    out->rtt_ms = peer->rtt_ms;
    if (peer->quality && peer->quality->have_feedback)
        out->estimate_bps = (uint32_t)bwe_estimate(&peer->quality->bwe);
    if (peer->quality)
        out->fec_k = (uint8_t)peer->quality->fec_k;
    if (peer->pacer) {
        struct pacer_stats ps;
        pacer_read_stats(peer->pacer, &ps);
        out->pace_bps = ps.pace_bps < PACER_UNPACED_BPS ? (uint32_t)ps.pace_bps : 0;
        out->pace_queue_bytes = (uint32_t)ps.queue_bytes;
        out->pace_max_wait_ms = (uint32_t)(ps.max_wait_us / 1000);
        out->pace_dropped = ps.dropped;
    }
    cr_ice_describe_pair(peer->ice, out->pair, sizeof out->pair);
    for (size_t i = 0; i < peer->n_mlines && out->n_consumers < CR_PEER_STATS_MAX; i++)
        if (peer->mlines[i].consumer)
            consumer_stats(peer->mlines[i].consumer, &out->consumers[out->n_consumers++]);
    return CR_OK;
}

int cr_relay_peer_stats(struct cr_relay *relay, uint64_t peer_id, struct cr_peer_stats *out)
{
    struct peer_stats_args a = {peer_id, out};
    return run_call(pool_id_worker(&relay->pool, peer_id), do_peer_stats, &a);
}

_Static_assert(CR_DELAY_BUCKETS == CR_HIST_BUCKETS, "one bucket layout");

static void delay_out(const struct cr_hist *h, struct cr_delay_hist *out)
{
    for (unsigned i = 0; i < CR_HIST_BUCKETS; i++) {
        out->count[i] = h->count[i];
        if (i < CR_HIST_BUCKETS - 1)
            out->bound_us[i] = cr_hist_bounds_us[i];
    }
    out->total = h->total;
    out->sum_us = h->sum_us;
    out->max_us = h->max_us;
    out->p50_us = cr_hist_quantile_us(h, 0.5);
    out->p99_us = cr_hist_quantile_us(h, 0.99);
}

/* A histogram on another scale (base/hist.h) as the API gives it. */
static void value_out(const struct cr_hist *h, const uint32_t *bounds, struct cr_value_hist *out)
{
    memcpy(out->bound, bounds, sizeof out->bound);
    memcpy(out->count, h->count, sizeof out->count);
    out->total = h->total;
    out->sum = h->sum_us;
}

/* The worker's histograms other than its forwarding delay, each on its scale. */
struct worker_hists {
    struct cr_hist estimate, loss, join[CR_JOIN_STAGES];
};

static void hists_merge(struct worker_hists *dst, const struct worker_hists *src)
{
    cr_hist_merge(&dst->estimate, &src->estimate);
    cr_hist_merge(&dst->loss, &src->loss);
    for (unsigned i = 0; i < CR_JOIN_STAGES; i++)
        cr_hist_merge(&dst->join[i], &src->join[i]);
}

static void hists_out(const struct worker_hists *h, struct cr_relay_stats *out)
{
    value_out(&h->estimate, cr_hist_bounds_bps, &out->estimate_bps);
    value_out(&h->loss, cr_hist_bounds_permille, &out->loss_permille);
    for (unsigned i = 0; i < CR_JOIN_STAGES; i++)
        value_out(&h->join[i], cr_hist_bounds_ms, &out->join_ms[i]);
}

struct worker_stats_args {
    struct cr_relay_stats st;
    struct cr_hist delay;
    struct worker_hists hists;
};

static int do_get_stats(struct cr_worker *w, void *args)
{
    struct worker_stats_args *a = args;
    a->st = w->route.stats;
    a->delay = w->route.forward_delay;
    a->hists.estimate = w->route.estimate;
    a->hists.loss = w->route.loss;
    memcpy(a->hists.join, w->route.join, sizeof a->hists.join);
    if (w->mux) {
        struct cr_ice_mux_stats ms;
        cr_ice_mux_get_stats(w->mux, &ms);
        a->st.udp_sent = ms.sent;
        a->st.udp_send_calls = ms.send_calls;
        a->st.udp_send_dropped = ms.send_dropped;
        a->st.udp_unknown = ms.unknown;
        a->st.tcp_connections = ms.tcp_connections;
        a->st.tcp_dropped = ms.tcp_dropped;
    }
    return CR_OK;
}

/* Adds one worker's counters (and gauges) to sum; load_pct is the busiest worker's. */
static void add_stats(struct cr_relay_stats *sum, const struct cr_relay_stats *one)
{
#define ADD(f) sum->f += one->f
    ADD(rooms), ADD(peers), ADD(producers), ADD(consumers), ADD(taps);
    ADD(rtp_in), ADD(rtp_out), ADD(bytes_in), ADD(bytes_out), ADD(rtcp_in), ADD(rtcp_out);
    ADD(bad_packets), ADD(keyframe_requests), ADD(nacks_in), ADD(nacks_out), ADD(repaired_in);
    ADD(red_in), ADD(red_out), ADD(data_in), ADD(data_out), ADD(data_dropped), ADD(paced);
    ADD(pace_dropped), ADD(udp_sent), ADD(udp_send_calls), ADD(udp_send_dropped);
    ADD(udp_unknown), ADD(tcp_connections), ADD(tcp_dropped), ADD(refused), ADD(handoff_out),
        ADD(handoff_in), ADD(handoff_dropped), ADD(keyframe_requests_in), ADD(nacks_repaired);
    ADD(links), ADD(link_rtp_out), ADD(link_nacks_in);
    for (unsigned i = 0; i < CR_LAYERS_MAX; i++)
        ADD(layer_packets[i]);
#undef ADD
    if (one->load_pct > sum->load_pct)
        sum->load_pct = one->load_pct;
}

int cr_relay_get_stats(struct cr_relay *relay, struct cr_relay_stats *out)
{
    struct worker_stats_args *a = cr_malloc(sizeof *a);
    struct cr_hist all = {0};
    struct worker_hists hists = {0};
    memset(out, 0, sizeof *out);
    int r = CR_OK;
    for (unsigned i = 0; i < relay->pool.n && r == CR_OK; i++) {
        r = run_call(relay->pool.w[i], do_get_stats, a);
        add_stats(out, &a->st);
        cr_hist_merge(&all, &a->delay);
        hists_merge(&hists, &a->hists);
        struct cr_worker_stats *ws = &out->workers[i];
        ws->rooms = a->st.rooms;
        ws->peers = a->st.peers;
        ws->load_pct = a->st.load_pct;
        ws->rtp_out = a->st.rtp_out;
        delay_out(&a->delay, &ws->forward_delay);
    }
    out->n_workers = relay->pool.n;
    delay_out(&all, &out->forward_delay);
    hists_out(&hists, out);
    free(a);
    return r;
}

struct tap_args {
    const char *room;
    uint64_t track_id;
    uint16_t port;
    uint8_t pt;
    uint64_t tap_id; /* out */
};

static int do_tap_add(struct cr_worker *w, void *args)
{
    struct tap_args *a = args;
    struct room *room = worker_room(w, a->room);
    struct producer *p = room ? room_find_producer(room, a->track_id) : NULL;
    if (!p)
        return CR_ERR_NOT_FOUND;
    if (at_peer_limit(w))
        return CR_ERR_LIMIT;
    struct tap *tap = room_add_tap(room, p, a->port, a->pt);
    if (!tap)
        return CR_ERR_INTERNAL;
    a->tap_id = tap->id;
    return CR_OK;
}

int cr_relay_tap_add(struct cr_relay *relay, const char *room, uint64_t track_id, uint16_t port,
                     uint8_t pt, uint64_t *tap_id)
{
    if (!valid_name(room) || port == 0 || pt > 127)
        return CR_ERR_ARG;
    struct tap_args a = {.room = room, .track_id = track_id, .port = port, .pt = pt};
    int r = run_call(pool_room_worker(&relay->pool, room), do_tap_add, &a);
    if (r == CR_OK)
        *tap_id = a.tap_id;
    return r;
}

static int do_tap_keyframe(struct cr_worker *w, void *args)
{
    struct tap *tap = worker_tap(w, *(const uint64_t *)args);
    if (!tap)
        return CR_ERR_NOT_FOUND;
    consumer_want_keyframe(tap->consumer, cr_now_ms());
    return CR_OK;
}

int cr_relay_tap_keyframe(struct cr_relay *relay, uint64_t tap_id)
{
    return run_call(pool_id_worker(&relay->pool, tap_id), do_tap_keyframe, &tap_id);
}

struct pause_args {
    uint64_t peer_id;
    unsigned kinds;
    bool paused;
};

static int do_peer_pause(struct cr_worker *w, void *args)
{
    struct pause_args *a = args;
    struct peer *peer = worker_peer(w, a->peer_id);
    if (peer)
        peer_pause(peer, a->kinds, a->paused, cr_now_ms());
    else if (!worker_tap(w, a->peer_id))
        return CR_ERR_NOT_FOUND;
    return CR_OK; /* a tap publishes nothing */
}

int cr_relay_peer_pause(struct cr_relay *relay, uint64_t peer_id, unsigned kinds, bool paused)
{
    struct pause_args a = {peer_id, kinds, paused};
    return run_call(pool_id_worker(&relay->pool, peer_id), do_peer_pause, &a);
}

/* ---- feeding lines ---- */

struct feed_args {
    uint64_t peer_id, track_id;
    const char *mid;
};

static int do_peer_feed(struct cr_worker *w, void *args)
{
    struct feed_args *a = args;
    struct peer *peer = worker_peer(w, a->peer_id);
    struct mline *ml = NULL;
    for (size_t i = 0; peer && i < peer->n_mlines && !ml; i++)
        if (strcmp(peer->mlines[i].mid, a->mid) == 0 && peer->mlines[i].consumer)
            ml = &peer->mlines[i];
    if (!ml)
        return CR_ERR_NOT_FOUND;
    if (!ml->follow && !ml->consumer->producer)
        return CR_ERR_ARG; /* answered inactive: the client would drop what we send */
    struct producer *p = a->track_id ? room_find_producer(peer->room, a->track_id) : NULL;
    if (a->track_id && !p)
        return CR_ERR_NOT_FOUND;
    if (p && (p->kind != ml->kind || p->codec != ml->consumer->codec || p->peer_id == peer->id))
        return CR_ERR_ARG;
    room_bind(peer->room, ml->consumer, p, cr_now_ms());
    return CR_OK;
}

int cr_relay_peer_feed(struct cr_relay *relay, uint64_t peer_id, const char *mid, uint64_t track_id)
{
    if (!mid)
        return CR_ERR_ARG;
    struct feed_args a = {peer_id, track_id, mid};
    return run_call(pool_id_worker(&relay->pool, peer_id), do_peer_feed, &a);
}

struct layers_args {
    uint64_t peer_id;
    const char *mid;
    unsigned max_layers;
};

static int do_peer_layers(struct cr_worker *w, void *args)
{
    struct layers_args *a = args;
    struct peer *peer = worker_peer(w, a->peer_id);
    for (size_t i = 0; peer && i < peer->n_mlines; i++) {
        struct mline *ml = &peer->mlines[i];
        if (strcmp(ml->mid, a->mid) != 0 || !ml->consumer)
            continue;
        if (ml->kind != CR_KIND_VIDEO)
            return CR_ERR_ARG;
        ml->consumer->max_layers = (uint8_t)a->max_layers; /* the next quality tick applies it */
        return CR_OK;
    }
    return CR_ERR_NOT_FOUND;
}

int cr_relay_peer_layers(struct cr_relay *relay, uint64_t peer_id, const char *mid,
                         unsigned max_layers)
{
    if (!mid || max_layers > CR_LAYERS_MAX)
        return CR_ERR_ARG;
    struct layers_args a = {peer_id, mid, max_layers};
    return run_call(pool_id_worker(&relay->pool, peer_id), do_peer_layers, &a);
}

/* ---- data channels ---- */

/* A message for the worker to send: posted, not waited for (room events go to every
 * peer of a room and must not hold the control plane up). */
struct channel_job {
    struct cr_worker *w;
    uint64_t peer_id; /* 0: every peer of room with such a channel */
    char room[CR_NAME_MAX + 1];
    char label[CR_SCTP_LABEL_MAX + 1];
    bool binary;
    size_t len;
    uint8_t buf[]; /* owned with the job */
};

static gboolean do_channel_send(gpointer data)
{
    struct channel_job *j = data;
    if (j->peer_id) {
        struct peer *peer = worker_peer(j->w, j->peer_id);
        if (peer)
            peer_data_send(peer, j->label, j->buf, j->len, j->binary);
        return G_SOURCE_REMOVE;
    }
    struct room *room = worker_room(j->w, j->room);
    for (guint i = 0; room && i < room->peers->len; i++)
        peer_data_send(g_ptr_array_index(room->peers, i), j->label, j->buf, j->len, j->binary);
    return G_SOURCE_REMOVE;
}

int cr_relay_channel_send(struct cr_relay *relay, const char *room, uint64_t peer_id,
                          const char *label, const void *buf, size_t len, bool binary)
{
    if (!label || strlen(label) > CR_SCTP_LABEL_MAX || len > CR_SCTP_MAX_MESSAGE || (len && !buf) ||
        (!peer_id && !valid_name(room)))
        return CR_ERR_ARG;
    struct cr_pool *p = &relay->pool;
    struct cr_worker *one = peer_id ? pool_id_worker(p, peer_id) : NULL;
    uint32_t parts = peer_id ? 0 : pool_room_parts(p, room); /* a room: each of its parts */
    for (unsigned i = 0; i < p->n; i++) {
        struct cr_worker *w = p->w[i];
        if (w != one && !(parts & (1u << i)))
            continue; /* nobody to send to there, as for a room without such a channel */
        struct channel_job *j = cr_malloc(sizeof *j + len);
        j->w = w;
        j->peer_id = peer_id;
        snprintf(j->room, sizeof j->room, "%s", peer_id ? "" : room);
        snprintf(j->label, sizeof j->label, "%s", label);
        j->binary = binary;
        j->len = len;
        if (len)
            memcpy(j->buf, buf, len);
        g_main_context_invoke_full(w->ctx, G_PRIORITY_DEFAULT, do_channel_send, j, free);
    }
    return CR_OK;
}
