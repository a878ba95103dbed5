/* The media workers and the lessons placed on them; see pool.h. */
#include "pool.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"
#include "net/srtp.h"

/* Where one room is. */
struct pool_room {
    unsigned home;
    uint32_t parts;                 /* bit i: worker i holds a part (the home's included) */
    unsigned peers[CR_WORKERS_MAX]; /* its peers on each worker */
};

/* One per core the process may run on (a container's cpuset, taskset), else per core. */
static unsigned worker_count(const struct cr_relay_config *config)
{
    unsigned n = config->workers;
    cpu_set_t set;
    if (n == 0 && sched_getaffinity(0, sizeof set, &set) == 0)
        n = (unsigned)CPU_COUNT(&set);
    if (n == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (unsigned)cores : 1;
    }
    return n > CR_WORKERS_MAX ? CR_WORKERS_MAX : n;
}

int pool_init(struct cr_pool *p, const struct cr_relay_config *config,
              const struct cr_relay_events *events, void *user)
{
    memset(p, 0, sizeof(*p));
    if (cr_srtp_global_init() != 0)
        return -1;
    unsigned n = worker_count(config);
    if (shard_hub_init(&p->hub, n) != 0)
        return -1;
    p->cert = cr_dtls_cert_new();
    if (!p->cert) {
        CR_ERROR("relay", "cannot make the DTLS certificate");
        shard_hub_clear(&p->hub);
        return -1;
    }
    p->spread = config->room_spread;
    g_mutex_init(&p->lock);
    g_mutex_init(&p->open_lock);
    p->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
    struct worker_shared shared = {p->cert, &p->live_peers, &p->hub};
    for (p->n = 0; p->n < n; p->n++) {
        p->w[p->n] = worker_new(config, p->n, &shared, events, user);
        if (!p->w[p->n]) {
            pool_free(p);
            return -1;
        }
    }
    CR_INFO("relay", "%u media worker%s, DTLS fingerprint %s", p->n, p->n == 1 ? "" : "s",
            cr_dtls_cert_fingerprint(p->cert));
    return 0;
}

void pool_free(struct cr_pool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        worker_free(p->w[i]);
    p->n = 0;
    if (p->rooms)
        g_hash_table_destroy(p->rooms);
    p->rooms = NULL;
    g_mutex_clear(&p->lock);
    g_mutex_clear(&p->open_lock);
    cr_dtls_cert_free(p->cert);
    p->cert = NULL;
    shard_hub_clear(&p->hub);
}

struct cr_worker *pool_room_worker(struct cr_pool *p, const char *room)
{
    g_mutex_lock(&p->lock);
    struct pool_room *r = g_hash_table_lookup(p->rooms, room);
    struct cr_worker *w = r ? p->w[r->home] : NULL;
    g_mutex_unlock(&p->lock);
    return w;
}

struct cr_worker *pool_place_room(struct cr_pool *p, const char *room)
{
    g_mutex_lock(&p->lock);
    struct pool_room *r = g_hash_table_lookup(p->rooms, room);
    if (!r) {
        unsigned best = 0;
        for (unsigned i = 1; i < p->n; i++)
            if (p->room_count[i] < p->room_count[best])
                best = i;
        p->room_count[best]++;
        r = CR_NEW(struct pool_room);
        r->home = best;
        r->parts = 1u << best;
        g_hash_table_insert(p->rooms, cr_strdup(room), r);
    }
    struct cr_worker *w = p->w[r->home];
    g_mutex_unlock(&p->lock);
    return w;
}

void pool_forget_room(struct cr_pool *p, const char *room)
{
    g_mutex_lock(&p->lock);
    struct pool_room *r = g_hash_table_lookup(p->rooms, room);
    if (r) {
        p->room_count[r->home]--;
        for (unsigned i = 0; i < p->n; i++)
            p->peer_count[i] -= r->peers[i];
        g_hash_table_remove(p->rooms, room);
    }
    g_mutex_unlock(&p->lock);
}

uint32_t pool_room_parts(struct cr_pool *p, const char *room)
{
    g_mutex_lock(&p->lock);
    struct pool_room *r = g_hash_table_lookup(p->rooms, room);
    uint32_t parts = r ? r->parts : 0;
    g_mutex_unlock(&p->lock);
    return parts;
}

/* The room's part with the fewest of its peers while it holds fewer than spread; else the
 * least busy worker, the room's own part when it is as little busy. */
static unsigned place(const struct cr_pool *p, const struct pool_room *r)
{
    int part = -1;
    for (unsigned i = 0; i < p->n; i++)
        if ((r->parts & (1u << i)) && (part < 0 || r->peers[i] < r->peers[part]))
            part = (int)i;
    if (part < 0)
        part = (int)r->home;
    if (!p->spread || r->peers[part] < p->spread)
        return (unsigned)part;
    unsigned least = (unsigned)part;
    for (unsigned i = 0; i < p->n; i++)
        if (p->peer_count[i] < p->peer_count[least])
            least = i;
    return least;
}

bool pool_place_peer(struct cr_pool *p, const char *room, unsigned *index)
{
    g_mutex_lock(&p->lock);
    struct pool_room *r = g_hash_table_lookup(p->rooms, room);
    if (r)
        *index = place(p, r);
    g_mutex_unlock(&p->lock);
    return r != NULL;
}

void pool_part_opened(struct cr_pool *p, const char *room, unsigned index)
{
    g_mutex_lock(&p->lock);
    struct pool_room *r = g_hash_table_lookup(p->rooms, room);
    if (r)
        r->parts |= 1u << index;
    g_mutex_unlock(&p->lock);
}

void pool_peer_joined(struct cr_pool *p, const char *room, unsigned index)
{
    g_mutex_lock(&p->lock);
    struct pool_room *r = g_hash_table_lookup(p->rooms, room);
    if (r && index < p->n) {
        r->peers[index]++;
        p->peer_count[index]++;
    }
    g_mutex_unlock(&p->lock);
}

void pool_peer_left(struct cr_pool *p, const char *room, unsigned index)
{
    g_mutex_lock(&p->lock);
    struct pool_room *r = g_hash_table_lookup(p->rooms, room);
    if (r && index < p->n && r->peers[index]) {
        r->peers[index]--;
        p->peer_count[index]--;
    }
    g_mutex_unlock(&p->lock);
}

struct cr_worker *pool_id_worker(struct cr_pool *p, uint64_t id)
{
    unsigned i = route_id_worker(id);
    return id && i < p->n ? p->w[i] : NULL;
}
