/* The worker thread and its loop: see worker.h. Rooms are destroyed on the worker thread
 * (worker_free posts the teardown there and then joins the thread), so libnice agents
 * are always created, used and freed on the thread whose context they are attached to. */
#include "worker.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "route/peer.h"
#include "route/room.h"
#include "route/shard.h"
#include "net/sctp.h"
#include "route/tap.h"

/* Calls fn(peer, now) for every peer of the worker. */
static void each_peer(struct cr_worker *w, void (*fn)(struct peer *, int64_t), int64_t now)
{
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, w->route.peers);
    while (g_hash_table_iter_next(&it, &key, &value))
        fn(value, now);
}

/* Memory given back in the middle of the heap (DTLS states after their handshakes: 30 KiB
 * each, while a burst of joins held them all at once) goes back to the system, once a
 * second at most and only after some went. */
static void trim(struct cr_worker *w, int64_t now_ms)
{
    if (w->route.dtls_retired == w->trimmed_at || now_ms - w->trimmed_ms < 1000)
        return;
    w->trimmed_at = w->route.dtls_retired;
    w->trimmed_ms = now_ms;
    malloc_trim(0);
}

/* The share of a core this thread used over the last second (admission control). */
static void measure_load(struct cr_worker *w, int64_t now_ms)
{
    if (now_ms - w->load_at_ms < 1000)
        return;
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        return;
    int64_t cpu = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
                  (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
    if (w->load_at_ms)
        w->route.stats.load_pct =
            (uint32_t)((cpu - w->load_cpu_us) / 10 / (now_ms - w->load_at_ms));
    w->load_at_ms = now_ms;
    w->load_cpu_us = cpu;
}

bool worker_full(const struct cr_worker *w, char *why, size_t why_len)
{
    const struct cr_relay_config *c = &w->config;
    unsigned all = (unsigned)g_atomic_int_get(w->route.live_peers);
    uint32_t load = w->route.stats.load_pct;
    if (c->max_peers && all >= c->max_peers) {
        snprintf(why, why_len, "the relay is full: %u peers, its limit (max_peers); try later",
                 all);
        return true;
    }
    if (c->max_load_pct && load > c->max_load_pct) {
        snprintf(why, why_len,
                 "the relay is full: its worker used %u %% of a core over the last second "
                 "(max_load %u %%); try later",
                 load, c->max_load_pct);
        return true;
    }
    return false;
}

static gboolean on_tick(gpointer data)
{
    struct cr_worker *w = data;
    int64_t now = cr_now_ms();
    measure_load(w, now);
    each_peer(w, peer_tick, now);
    shard_tick(&w->route, now);
    trim(w, now);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, w->route.taps);
    while (g_hash_table_iter_next(&it, &key, &value))
        tap_tick(value, now);
    cr_sctp_tick(now); /* the data channels' retransmissions and acknowledgements */
    return G_SOURCE_CONTINUE;
}

/* Every WORKER_PACE_MS while a pacer holds packets: what may leave now (media/pacer.h). */
static gboolean on_pace(gpointer data)
{
    struct cr_worker *w = data;
    if (w->route.pacing)
        each_peer(w, peer_pace, cr_now_us());
    return G_SOURCE_CONTINUE;
}

/* With several workers, worker i keeps to the i-th core the process may run on (modulo
 * their number): its rooms' state stays in that core's caches, and the fan-out, which is
 * bound by cache misses over the subscribers' state, is not moved between cores by the
 * scheduler. One worker floats. */
static void pin(const struct cr_worker *w)
{
    cpu_set_t allowed, one;
    if (w->config.workers == 1 || sched_getaffinity(0, sizeof allowed, &allowed) != 0 ||
        CPU_COUNT(&allowed) < 2)
        return;
    int want = (int)(w->route.worker_index % (unsigned)CPU_COUNT(&allowed)), cpu = -1;
    for (int c = 0; c < CPU_SETSIZE && want >= 0; c++)
        if (CPU_ISSET(c, &allowed) && want-- == 0)
            cpu = c;
    if (cpu < 0)
        return;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0)
        CR_WARN("worker", "%u: cannot keep to core %d", w->route.worker_index, cpu);
}

static gpointer run(gpointer data)
{
    struct cr_worker *w = data;
    pin(w);
    g_main_context_push_thread_default(w->ctx);
    g_main_loop_run(w->loop);
    g_main_context_pop_thread_default(w->ctx);
    return NULL;
}

static void free_room(gpointer room) { room_free(room); }

/* Records from other workers (route/shard.h): the source polls this worker's eventfd, and
 * before the loop sleeps it wakes the workers this one wrote to. */
struct links_source {
    GSource base;
    struct cr_worker *w;
    gpointer tag;
};

static gboolean links_prepare(GSource *source, gint *timeout)
{
    shard_flush(&((struct links_source *)source)->w->route);
    *timeout = -1;
    return FALSE;
}

static gboolean links_check(GSource *source)
{
    struct links_source *s = (struct links_source *)source;
    return (g_source_query_unix_fd(source, s->tag) & G_IO_IN) != 0;
}

static gboolean links_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    struct cr_worker *w = ((struct links_source *)source)->w;
    uint64_t n;
    if (read(w->route.shards.hub->wake[w->route.worker_index], &n, sizeof n) < 0 && errno != EAGAIN)
        CR_LOG_RATE(CR_LOG_WARN, "worker", "%u: cannot read its wakeup: %s", w->route.worker_index,
                    g_strerror(errno));
    shard_drain(&w->route, cr_now_ms());
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs links_funcs = {
    .prepare = links_prepare, .check = links_check, .dispatch = links_dispatch};

static void attach_links(struct cr_worker *w)
{
    w->links = g_source_new(&links_funcs, sizeof(struct links_source));
    struct links_source *s = (struct links_source *)w->links;
    s->w = w;
    s->tag =
        g_source_add_unix_fd(w->links, w->route.shards.hub->wake[w->route.worker_index], G_IO_IN);
    g_source_attach(w->links, w->ctx);
}

struct cr_worker *worker_new(const struct cr_relay_config *config, unsigned index,
                             const struct worker_shared *shared,
                             const struct cr_relay_events *events, void *user)
{
    struct cr_worker *w = CR_NEW(struct cr_worker);
    w->config = *config;
    w->config.public_ip = cr_strdup(config->public_ip);
    w->config.bind_ip = cr_strdup(config->bind_ip);
    w->cert = shared->cert;
    w->ctx = g_main_context_new();
    w->loop = g_main_loop_new(w->ctx, FALSE);
    if ((config->media_port && config->media_port + index > 65535) ||
        (config->ice_tcp_port && config->ice_tcp_port + index > 65535)) {
        CR_ERROR("worker", "%u: no media port past 65535 (media_port %u, ice_tcp_port %u)", index,
                 config->media_port, config->ice_tcp_port);
        goto fail;
    }
    if (config->media_port) {
        struct cr_ice_mux_config mc = {
            .bind_ip = w->config.bind_ip,
            .public_ip = w->config.public_ip,
            .port = (uint16_t)(config->media_port + index),
            .tcp = config->ice_tcp,
            .tcp_port = (uint16_t)(config->ice_tcp_port ? config->ice_tcp_port + index : 0)};
        w->mux = cr_ice_mux_new(w->ctx, &mc); /* before the thread: nothing else runs it yet */
        if (!w->mux)
            goto fail;
    }
    w->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, free_room);
    w->route.main = w->ctx;
    w->route.mux = w->mux;
    w->route.config = &w->config;
    w->route.cert = w->cert;
    w->route.events = *events;
    w->route.events_user = user;
    w->route.peers = g_hash_table_new(g_int64_hash, g_int64_equal);
    w->route.taps = g_hash_table_new(g_int64_hash, g_int64_equal);
    w->route.rooms = w->rooms;
    w->route.next_id = 1;
    w->route.worker_index = index;
    w->route.live_peers = shared->live_peers;
    shard_port_init(&w->route.shards, shared->hub);
    attach_links(w);
    w->tick = g_timeout_source_new(WORKER_TICK_MS);
    g_source_set_callback(w->tick, on_tick, w, NULL);
    g_source_attach(w->tick, w->ctx);
    w->pace = g_timeout_source_new(WORKER_PACE_MS);
    g_source_set_callback(w->pace, on_pace, w, NULL);
    g_source_attach(w->pace, w->ctx);
    w->thread = g_thread_new("cr-worker", run, w);
    CR_INFO("worker", "%u started", index);
    return w;
fail:
    g_main_loop_unref(w->loop);
    g_main_context_unref(w->ctx);
    free((char *)w->config.public_ip);
    free((char *)w->config.bind_ip);
    free(w);
    return NULL;
}

static gboolean teardown(gpointer data)
{
    struct cr_worker *w = data;
    g_hash_table_remove_all(w->rooms); /* closes every peer on this thread */
    cr_ice_mux_free(w->mux);           /* after its endpoints, on its thread */
    w->mux = NULL;
    g_source_destroy(w->tick);
    g_source_destroy(w->pace);
    g_source_destroy(w->links);
    g_main_loop_quit(w->loop);
    return G_SOURCE_REMOVE;
}

void worker_free(struct cr_worker *w)
{
    if (!w)
        return;
    g_main_context_invoke(w->ctx, teardown, w);
    g_thread_join(w->thread);
    g_source_unref(w->tick);
    g_source_unref(w->pace);
    g_source_unref(w->links);
    g_hash_table_destroy(w->rooms);
    shard_port_clear(&w->route.shards);
    g_hash_table_destroy(w->route.peers);
    g_hash_table_destroy(w->route.taps);
    g_main_loop_unref(w->loop);
    g_main_context_unref(w->ctx);
    free((char *)w->config.public_ip);
    free((char *)w->config.bind_ip);
    free(w);
}

struct room *worker_room(struct cr_worker *w, const char *name)
{
    return g_hash_table_lookup(w->rooms, name);
}

struct peer *worker_peer(struct cr_worker *w, uint64_t id)
{
    return g_hash_table_lookup(w->route.peers, &id);
}

struct tap *worker_tap(struct cr_worker *w, uint64_t id)
{
    return g_hash_table_lookup(w->route.taps, &id);
}
