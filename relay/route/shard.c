/* A lesson across workers: see shard.h. Records go in fixed slots of the ring between two
 * workers: a header (what, which room, which track) and, for media, the decrypted RTP
 * packet as the publisher's worker took it (RTX already unwrapped), with the time it
 * arrived, so the forwarding delay a part measures includes the hand-off. A track is
 * announced with everything its consumers read of a producer (payload types, clock, fmtp,
 * extension ids, simulcast rids) and its place among the lesson's tracks, so automatic
 * choices (the first camera of the room) are the same on every part. */
#include "route/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/ring.h"
#include "media/packet_store.h"
#include "route/ctx.h"
#include "route/producer.h"
#include "route/room.h"

enum rec_type { REC_RTP, REC_SR, REC_TRACK, REC_UNTRACK, REC_KEYFRAME, REC_LOSS };

struct rec {
    uint8_t type;  /* enum rec_type */
    uint8_t layer; /* RTP, SR, KEYFRAME */
    uint8_t from;  /* LOSS: the worker it comes from */
    uint8_t loss;  /* LOSS: the worst fraction lost (/256) of the part's plain Opus subscribers */
    uint16_t len;  /* RTP: the packet's bytes, after the record */
    char room[CR_NAME_MAX + 1];
    uint64_t track;
    int64_t at_us;   /* RTP: when it arrived from the publisher */
    uint64_t ntp;    /* SR */
    uint32_t rtp_ts; /* SR */
};

/* REC_TRACK: after the record. */
struct track_desc {
    uint64_t peer_id;
    uint32_t order;
    uint32_t clock_rate;
    uint8_t kind, codec, pt, rtx_pt, red_pt, channels, ext_level, ext_cvo;
    char source[CR_SOURCE_MAX];
    char mid[CR_MID_MAX];
    char fmtp[160];
    uint8_t n_layers;
    char rids[PRODUCER_MAX_LAYERS][16];
    uint32_t ssrcs[PRODUCER_MAX_LAYERS];
};

#define SLOT_SIZE                                                                                  \
    (sizeof(struct rec) + (PACKET_STORE_MTU > sizeof(struct track_desc)                            \
                               ? PACKET_STORE_MTU                                                  \
                               : sizeof(struct track_desc)))

/* A producer of another part, as this part holds it. */
struct mirror {
    struct producer *p; /* owned */
    struct room *room;  /* borrowed: the part that owns the mirror */
};

/* ---- the hub ---- */

int shard_hub_init(struct shard_hub *hub, unsigned n)
{
    memset(hub, 0, sizeof *hub);
    for (unsigned i = 0; i < CR_WORKERS_MAX; i++)
        hub->wake[i] = -1;
    for (hub->n = 0; hub->n < n; hub->n++) {
        hub->wake[hub->n] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (hub->wake[hub->n] < 0) {
            CR_ERROR("shard", "cannot make an eventfd: %s", g_strerror(errno));
            shard_hub_clear(hub);
            return -1;
        }
    }
    return 0;
}

void shard_hub_clear(struct shard_hub *hub)
{
    for (unsigned a = 0; a < CR_WORKERS_MAX; a++) {
        for (unsigned b = 0; b < CR_WORKERS_MAX; b++)
            cr_ring_free(hub->ring[a][b]);
        if (hub->wake[a] >= 0)
            close(hub->wake[a]);
    }
    memset(hub, 0, sizeof *hub);
    for (unsigned i = 0; i < CR_WORKERS_MAX; i++)
        hub->wake[i] = -1;
}

static void make_ring(struct shard_hub *hub, unsigned from, unsigned to)
{
    if (!g_atomic_pointer_get(&hub->ring[from][to]))
        g_atomic_pointer_set(&hub->ring[from][to], cr_ring_new(SHARD_RING_SLOTS, SLOT_SIZE));
}

void shard_hub_pair(struct shard_hub *hub, unsigned a, unsigned b)
{
    if (a == b || a >= hub->n || b >= hub->n)
        return;
    make_ring(hub, a, b);
    make_ring(hub, b, a);
}

static struct cr_ring *ring_of(struct shard_hub *hub, unsigned from, unsigned to)
{
    return g_atomic_pointer_get(&hub->ring[from][to]);
}

/* ---- one worker's end ---- */

void shard_port_init(struct shard_port *sp, struct shard_hub *hub)
{
    memset(sp, 0, sizeof *sp);
    sp->hub = hub;
    for (unsigned i = 0; i < CR_WORKERS_MAX; i++)
        g_queue_init(&sp->held[i]);
    sp->mirrors = g_ptr_array_new();
}

void shard_port_clear(struct shard_port *sp)
{
    for (unsigned i = 0; i < CR_WORKERS_MAX; i++)
        g_queue_clear_full(&sp->held[i], free);
    if (sp->mirrors)
        g_ptr_array_free(sp->mirrors, TRUE);
    sp->mirrors = NULL;
    sp->n_held = 0;
}

uint32_t shard_next_order(struct route_ctx *rc)
{
    static gint alone; /* tests without a hub */
    return (uint32_t)g_atomic_int_add(rc->shards.hub ? &rc->shards.hub->order : &alone, 1) + 1;
}

static unsigned me(const struct route_ctx *rc) { return rc->worker_index; }

/* Held announcements to worker to, into its ring while there is room; true when none is
 * left held. */
static bool release_held(struct route_ctx *rc, unsigned to)
{
    struct shard_port *sp = &rc->shards;
    struct cr_ring *ring = ring_of(sp->hub, me(rc), to);
    while (ring && !g_queue_is_empty(&sp->held[to])) {
        void *slot = cr_ring_reserve(ring);
        if (!slot)
            return false;
        void *held = g_queue_pop_head(&sp->held[to]);
        memcpy(slot, held, SLOT_SIZE);
        free(held);
        sp->n_held--;
        cr_ring_commit(ring);
        sp->wake |= 1u << to;
    }
    return true;
}

/* An announcement or withdrawal (SLOT_SIZE bytes at r) for worker to: never dropped. */
static void send_control(struct route_ctx *rc, unsigned to, const struct rec *r)
{
    struct shard_port *sp = &rc->shards;
    struct cr_ring *ring = ring_of(sp->hub, me(rc), to);
    if (!ring)
        return;
    void *slot = release_held(rc, to) ? cr_ring_reserve(ring) : NULL;
    if (slot) {
        memcpy(slot, r, SLOT_SIZE);
        cr_ring_commit(ring);
        sp->wake |= 1u << to;
        return;
    }
    g_queue_push_tail(&sp->held[to], g_memdup2(r, SLOT_SIZE));
    sp->n_held++;
}

/* A slot for media to worker to, or NULL (counted) when the ring is full or announcements
 * wait before it. */
static struct rec *media_slot(struct route_ctx *rc, unsigned to)
{
    struct shard_port *sp = &rc->shards;
    struct cr_ring *ring = ring_of(sp->hub, me(rc), to);
    struct rec *slot = ring && g_queue_is_empty(&sp->held[to]) ? cr_ring_reserve(ring) : NULL;
    if (!slot) {
        rc->stats.handoff_dropped++;
        CR_LOG_RATE(CR_LOG_WARN, "shard", "worker %u: no room toward worker %u, media dropped",
                    me(rc), to);
    }
    return slot;
}

static void media_commit(struct route_ctx *rc, unsigned to)
{
    cr_ring_commit(ring_of(rc->shards.hub, me(rc), to));
    rc->shards.wake |= 1u << to;
    rc->stats.handoff_out++;
}

#define EACH_PART(room, i)                                                                         \
    for (unsigned i = 0; i < CR_WORKERS_MAX; i++)                                                  \
        if ((room)->parts & (1u << i))

/* ---- announcing tracks ---- */

static void describe_track(const struct room *room, const struct producer *p, uint8_t *buf)
{
    memset(buf, 0, SLOT_SIZE);
    struct rec *r = (struct rec *)buf;
    r->type = REC_TRACK;
    snprintf(r->room, sizeof r->room, "%s", room->name);
    r->track = p->id;
    struct track_desc *d = (struct track_desc *)(r + 1);
    d->peer_id = p->peer_id;
    d->order = p->order;
    d->clock_rate = p->clock_rate;
    d->kind = (uint8_t)p->kind;
    d->codec = (uint8_t)p->codec;
    d->pt = p->pt;
    d->rtx_pt = p->rtx_pt;
    d->red_pt = p->red_pt;
    d->channels = p->channels;
    d->ext_level = p->ext_level;
    d->ext_cvo = p->ext_cvo;
    snprintf(d->source, sizeof d->source, "%s", p->source);
    snprintf(d->mid, sizeof d->mid, "%s", p->mid);
    snprintf(d->fmtp, sizeof d->fmtp, "%s", p->fmtp);
    d->n_layers = (uint8_t)p->n_layers;
    for (size_t i = 0; i < p->n_layers; i++) {
        snprintf(d->rids[i], sizeof d->rids[i], "%s", p->layers[i].rid);
        d->ssrcs[i] = p->layers[i].ssrc;
    }
}

static void announce(struct room *room, unsigned to)
{
    uint8_t *buf = cr_malloc(SLOT_SIZE);
    for (size_t i = 0; i < room->producers->len; i++) {
        const struct producer *p = g_ptr_array_index(room->producers, i);
        if (p->mirror)
            continue;
        describe_track(room, p, buf);
        send_control(room->ctx, to, (const struct rec *)buf);
    }
    free(buf);
}

void shard_link(struct room *room, unsigned worker)
{
    if (worker == me(room->ctx) || worker >= CR_WORKERS_MAX)
        return;
    room->parts |= 1u << worker;
    announce(room, worker);
    CR_INFO("shard", "room %s: a part on worker %u gets this worker's tracks", room->name, worker);
}

void shard_publish(struct room *room)
{
    EACH_PART(room, i)
    announce(room, i);
}

void shard_withdraw(struct room *room, const struct producer *p)
{
    if (!room->parts)
        return;
    uint8_t *buf = cr_calloc(1, SLOT_SIZE);
    struct rec *r = (struct rec *)buf;
    r->type = REC_UNTRACK;
    snprintf(r->room, sizeof r->room, "%s", room->name);
    r->track = p->id;
    EACH_PART(room, i)
    send_control(room->ctx, i, r);
    free(buf);
}

/* ---- media ---- */

/* Wakes the workers that have records now: media must not wait for this worker's own
 * fan-out (the parts forward in parallel), and an eventfd write per packet of a lesson is
 * cheap next to the fan-out it starts. */
static void wake(struct route_ctx *rc)
{
    struct shard_port *sp = &rc->shards;
    for (unsigned to = 0; sp->wake && to < CR_WORKERS_MAX; to++) {
        if (!(sp->wake & (1u << to)))
            continue;
        sp->wake &= ~(1u << to);
        uint64_t one = 1;
        if (write(sp->hub->wake[to], &one, sizeof one) < 0 && errno != EAGAIN)
            CR_LOG_RATE(CR_LOG_WARN, "shard", "cannot wake worker %u: %s", to, g_strerror(errno));
    }
}

void shard_forward_rtp(struct room *room, const struct producer *p,
                       const struct producer_packet *pkt, int64_t now_us)
{
    const struct rtp_view *v = pkt->v;
    const uint8_t *bytes = v->payload - v->header_len; /* the view borrows the packet */
    size_t len = v->header_len + v->payload_len + v->padding_len;
    if (len > PACKET_STORE_MTU)
        return;
    EACH_PART(room, i)
    {
        struct rec *r = media_slot(room->ctx, i);
        if (!r)
            continue;
        r->type = REC_RTP;
        r->layer = (uint8_t)pkt->layer;
        r->len = (uint16_t)len;
        memcpy(r->room, room->name, sizeof r->room);
        r->track = p->id;
        r->at_us = now_us;
        memcpy(r + 1, bytes, len);
        media_commit(room->ctx, i);
    }
    wake(room->ctx);
}

void shard_forward_sr(struct room *room, const struct producer *p, int layer, uint64_t ntp,
                      uint32_t rtp_ts)
{
    EACH_PART(room, i)
    {
        struct rec *r = media_slot(room->ctx, i);
        if (!r)
            continue;
        r->type = REC_SR;
        r->layer = (uint8_t)layer;
        memcpy(r->room, room->name, sizeof r->room);
        r->track = p->id;
        r->ntp = ntp;
        r->rtp_ts = rtp_ts;
        media_commit(room->ctx, i);
    }
    wake(room->ctx);
}

/* ---- mirrors ---- */

/* A subscriber of this part wants a keyframe of the mirrored track: asked of its worker. */
static void mirror_keyframe(void *ud, uint32_t ssrc)
{
    struct mirror *m = ud;
    const struct producer *p = m->p;
    size_t layer = 0;
    while (layer < p->n_layers && p->layers[layer].ssrc != ssrc)
        layer++;
    if (layer == p->n_layers)
        return;
    uint8_t *buf = cr_calloc(1, SLOT_SIZE);
    struct rec *r = (struct rec *)buf;
    r->type = REC_KEYFRAME;
    r->layer = (uint8_t)layer;
    snprintf(r->room, sizeof r->room, "%s", m->room->name);
    r->track = p->id;
    send_control(m->room->ctx, route_id_worker(p->id), r);
    free(buf);
}

static void mirror_describe(struct producer *p, const struct track_desc *d)
{
    p->peer_id = d->peer_id;
    p->clock_rate = d->clock_rate;
    p->codec = (enum codec_id)d->codec;
    p->pt = d->pt;
    p->rtx_pt = d->rtx_pt;
    p->red_pt = d->red_pt;
    p->channels = d->channels;
    p->ext_level = d->ext_level;
    p->ext_cvo = d->ext_cvo;
    snprintf(p->source, sizeof p->source, "%.*s", (int)sizeof d->source - 1, d->source);
    snprintf(p->fmtp, sizeof p->fmtp, "%.*s", (int)sizeof d->fmtp - 1, d->fmtp);
    size_t n = d->n_layers >= 1 && d->n_layers <= PRODUCER_MAX_LAYERS ? d->n_layers : 1;
    const char *rids[PRODUCER_MAX_LAYERS];
    char copies[PRODUCER_MAX_LAYERS][16];
    for (size_t i = 0; i < n; i++) {
        snprintf(copies[i], sizeof copies[i], "%.*s", 15, d->rids[i]);
        rids[i] = copies[i];
    }
    producer_set_layers(p, rids, n);
    for (size_t i = 0; i < n; i++)
        if (d->ssrcs[i])
            p->layers[i].ssrc = d->ssrcs[i];
}

static void on_track(struct room *room, const struct rec *r)
{
    const struct track_desc *d = (const struct track_desc *)(r + 1);
    struct producer *p = room_find_producer(room, r->track);
    if (p) {
        if (p->mirror)
            mirror_describe(p, d);
        return;
    }
    if (d->kind != CR_KIND_AUDIO && d->kind != CR_KIND_VIDEO)
        return;
    struct mirror *m = CR_NEW(struct mirror);
    char mid[CR_MID_MAX];
    snprintf(mid, sizeof mid, "%.*s", (int)sizeof d->mid - 1, d->mid);
    struct producer_listener l = {.ud = m, .keyframe_needed = mirror_keyframe};
    m->p = producer_new(r->track, d->peer_id, (enum cr_kind)d->kind, "", mid, &l);
    m->room = room;
    m->p->mirror = true;
    m->p->order = d->order;
    mirror_describe(m->p, d);
    g_ptr_array_add(room->mirrors, m);
    g_ptr_array_add(room->ctx->shards.mirrors, m);
    room_add_producer(room, m->p);
}

static void mirror_free(struct room *room, struct mirror *m)
{
    g_ptr_array_remove_fast(room->ctx->shards.mirrors, m);
    producer_free(m->p);
    free(m);
}

static void on_untrack(struct room *room, uint64_t id)
{
    for (guint i = 0; i < room->mirrors->len; i++) {
        struct mirror *m = g_ptr_array_index(room->mirrors, i);
        if (m->p->id != id)
            continue;
        room_remove_producer(room, m->p);
        g_ptr_array_remove_index_fast(room->mirrors, i);
        mirror_free(room, m);
        return;
    }
}

void shard_room_free(struct room *room)
{
    for (guint i = 0; i < room->mirrors->len; i++) {
        struct mirror *m = g_ptr_array_index(room->mirrors, i);
        room_remove_producer(room, m->p);
        mirror_free(room, m);
    }
    g_ptr_array_set_size(room->mirrors, 0);
}

static void on_rtp(struct room *room, const struct rec *r, int64_t now_ms)
{
    struct producer *p = room_find_producer(room, r->track);
    struct rtp_view v;
    const uint8_t *pkt = (const uint8_t *)(r + 1);
    if (!p || !p->mirror || r->layer >= p->n_layers || r->len > PACKET_STORE_MTU ||
        rtp_parse(pkt, r->len, &v) != 0)
        return;
    p->layers[r->layer].ssrc = v.ssrc; /* what its keyframe requests name */
    struct producer_packet pp;
    if (producer_on_rtp(p, r->layer, pkt, r->len, &v, now_ms, &pp))
        room_fanout_rtp(room, p, &pp, now_ms, r->at_us);
}

static void on_sr(struct room *room, const struct rec *r, int64_t now_ms)
{
    struct producer *p = room_find_producer(room, r->track);
    if (!p || !p->mirror || r->layer >= p->n_layers)
        return;
    producer_on_sr(p, r->layer, r->ntp, r->rtp_ts, now_ms);
    room_fanout_sr(room, p, r->layer, r->ntp, r->rtp_ts, now_ms);
}

static void on_keyframe(struct room *room, const struct rec *r, int64_t now_ms)
{
    struct producer *p = room_find_producer(room, r->track);
    if (p && !p->mirror)
        producer_request_keyframe(p, r->layer, now_ms);
}

static void on_loss(struct room *room, const struct rec *r)
{
    struct producer *p = room_find_producer(room, r->track);
    if (p && !p->mirror && r->from < CR_WORKERS_MAX)
        p->part_loss[r->from] = r->loss;
}

static void apply(struct route_ctx *rc, const struct rec *r, int64_t now_ms)
{
    /* r->room is ours, NUL-terminated: written from a room's name by the other worker */
    struct room *room = rc->rooms ? g_hash_table_lookup(rc->rooms, r->room) : NULL;
    if (!room)
        return; /* closed here meanwhile */
    switch (r->type) {
    case REC_RTP:
        rc->stats.handoff_in++;
        on_rtp(room, r, now_ms);
        break;
    case REC_SR:
        on_sr(room, r, now_ms);
        break;
    case REC_TRACK:
        on_track(room, r);
        break;
    case REC_UNTRACK:
        on_untrack(room, r->track);
        break;
    case REC_KEYFRAME:
        on_keyframe(room, r, now_ms);
        break;
    case REC_LOSS:
        on_loss(room, r);
        break;
    default:
        break;
    }
}

void shard_drain(struct route_ctx *rc, int64_t now_ms)
{
    struct shard_hub *hub = rc->shards.hub;
    for (unsigned from = 0; hub && from < hub->n; from++) {
        struct cr_ring *ring = from == me(rc) ? NULL : ring_of(hub, from, me(rc));
        const struct rec *r;
        /* one ring's worth at most: a writer as fast as this reader does not hold it */
        for (size_t n = 0; ring && n < SHARD_RING_SLOTS && (r = cr_ring_peek(ring)); n++) {
            apply(rc, r, now_ms);
            cr_ring_release(ring);
        }
    }
}

void shard_flush(struct route_ctx *rc)
{
    struct shard_port *sp = &rc->shards;
    for (unsigned to = 0; sp->n_held && to < CR_WORKERS_MAX; to++)
        release_held(rc, to);
    wake(rc);
}

/* Once a second, what this part's subscribers of each mirrored audio track lose, for the
 * publisher's Opus FEC (room_subscriber_loss on the track's own part). */
static void report_loss(struct route_ctx *rc)
{
    GPtrArray *all = rc->shards.mirrors;
    uint8_t *buf = cr_calloc(1, SLOT_SIZE);
    struct rec *r = (struct rec *)buf;
    r->type = REC_LOSS;
    r->from = (uint8_t)me(rc);
    for (guint i = 0; i < all->len; i++) {
        const struct mirror *m = g_ptr_array_index(all, i);
        if (m->p->kind != CR_KIND_AUDIO)
            continue;
        snprintf(r->room, sizeof r->room, "%s", m->room->name);
        r->track = m->p->id;
        r->loss = room_subscriber_loss(m->room, m->p);
        send_control(rc, route_id_worker(m->p->id), r);
    }
    free(buf);
}

void shard_tick(struct route_ctx *rc, int64_t now_ms)
{
    struct shard_port *sp = &rc->shards;
    for (guint i = 0; sp->mirrors && i < sp->mirrors->len; i++)
        producer_tick(((struct mirror *)g_ptr_array_index(sp->mirrors, i))->p, now_ms);
    if (sp->mirrors && sp->mirrors->len && now_ms - sp->loss_ms >= 1000) {
        sp->loss_ms = now_ms;
        report_loss(rc);
    }
}
