/* The media workers and the rooms placed on them; see pool.h. */
#include "pool.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"
#include "net/srtp.h"

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
    p->cert = cr_dtls_cert_new();
    if (!p->cert) {
        CR_ERROR("relay", "cannot make the DTLS certificate");
        return -1;
    }
    g_mutex_init(&p->lock);
    p->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
    unsigned n = worker_count(config);
    for (p->n = 0; p->n < n; p->n++) {
        p->w[p->n] = worker_new(config, p->n, p->cert, &p->live_peers, events, user);
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
    cr_dtls_cert_free(p->cert);
    p->cert = NULL;
}

static struct cr_worker *lookup_locked(struct cr_pool *p, const char *room)
{
    unsigned i = GPOINTER_TO_UINT(g_hash_table_lookup(p->rooms, room));
    return i ? p->w[i - 1] : NULL;
}

struct cr_worker *pool_room_worker(struct cr_pool *p, const char *room)
{
    g_mutex_lock(&p->lock);
    struct cr_worker *w = lookup_locked(p, room);
    g_mutex_unlock(&p->lock);
    return w;
}

struct cr_worker *pool_place_room(struct cr_pool *p, const char *room)
{
    g_mutex_lock(&p->lock);
    struct cr_worker *w = lookup_locked(p, room);
    if (!w) {
        unsigned best = 0;
        for (unsigned i = 1; i < p->n; i++)
            if (p->room_count[i] < p->room_count[best])
                best = i;
        p->room_count[best]++;
        g_hash_table_insert(p->rooms, cr_strdup(room), GUINT_TO_POINTER(best + 1));
        w = p->w[best];
    }
    g_mutex_unlock(&p->lock);
    return w;
}

void pool_forget_room(struct cr_pool *p, const char *room)
{
    g_mutex_lock(&p->lock);
    unsigned i = GPOINTER_TO_UINT(g_hash_table_lookup(p->rooms, room));
    if (i) {
        p->room_count[i - 1]--;
        g_hash_table_remove(p->rooms, room);
    }
    g_mutex_unlock(&p->lock);
}

struct cr_worker *pool_id_worker(struct cr_pool *p, uint64_t id)
{
    unsigned i = route_id_worker(id);
    return id && i < p->n ? p->w[i] : NULL;
}
