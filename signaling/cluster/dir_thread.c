/* The directory thread (see directory.h): connects to Redis (again, with backoff 0.25 to
 * 2 s, less 0 to 20 %), and once a second — at once when dir_claim waits, a room is new or
 * released, or a cr:hint arrives — makes a pass: the lease written, the claims this node keeps
 * renewed (all of them again after a reconnect: a restarted Redis is empty), releases,
 * the rooms asked about and the live nodes read; then the results put into the snapshot.
 * Between passes it sleeps in poll() on its wake pipe and the subscribed connection. An
 * outage is logged once when it starts and once when it ends. */
#include "cluster/dir_priv.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 2000

struct pass {
    struct dir_job *jobs; /* owned */
    size_t n;
    char lease[512];
    bool full; /* a tick: lease, renewals, reads of everything */
};

/* Copies the work of a pass out of the snapshot (mu held). */
static void plan(struct directory *d, struct pass *p, int64_t now)
{
    p->jobs = cr_calloc(d->n_rooms ? d->n_rooms : 1, sizeof *p->jobs);
    p->n = 0;
    for (size_t i = 0; i < d->n_rooms; i++) {
        struct dir_room *e = &d->rooms[i];
        struct dir_job *j = &p->jobs[p->n];
        if (e->release)
            j->kind = DIR_JOB_RELEASE;
        else if (e->want && (p->full || e->pending))
            j->kind = DIR_JOB_CLAIM;
        else if (!e->want && (e->unread || (p->full && now - e->asked_ms < DIR_ASKED_MS)))
            j->kind = DIR_JOB_READ;
        else
            continue;
        snprintf(j->room, sizeof j->room, "%s", e->name);
        j->seq = e->asked_seq;
        j->asked = e->pending;
        e->unread = false;
        p->n++;
    }
    node_format(&d->self, p->lease, sizeof p->lease);
}

static void remove_room(struct directory *d, struct dir_room *e) { *e = d->rooms[--d->n_rooms]; }

/* A claim's result into e (mu held). */
static void claimed(struct directory *d, struct dir_room *e, const struct dir_job *j)
{
    bool mine = strcmp(j->owner, d->self.id) == 0;
    if (e->want && mine && strcmp(e->owner, d->self.id) != 0) {
        d->st.claims++;
        d->st.takeovers += j->took_over;
        CR_INFO("cluster", "this node is the origin of %s%s", e->name,
                j->took_over ? " (taken over from a node that is gone)" : "");
    } else if (e->want && !mine && j->owner[0]) {
        if (!j->asked) /* renewing: Redis came back and another node claimed first */
            CR_WARN("cluster", "%s is claimed by node %s (%s): it is still served here", e->name,
                    j->owner, j->owner_url);
        d->st.claims_refused++;
        e->want = false;
    }
    snprintf(e->owner, sizeof e->owner, "%s", j->owner);
    snprintf(e->owner_url, sizeof e->owner_url, "%s", j->owner_url);
    if (j->seq == e->asked_seq) {
        e->pending = false;
        e->done_seq = j->seq;
    }
}

/* Puts a pass's results into the snapshot (mu held). */
static void apply(struct directory *d, struct pass *p, struct dir_node *nodes, size_t n_nodes)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct dir_job *j = &p->jobs[i];
        struct dir_room *e = dir_room_find(d, j->room);
        if (!e)
            continue;
        if (j->kind == DIR_JOB_RELEASE && e->release && !e->want)
            remove_room(d, e);
        else if (j->kind == DIR_JOB_CLAIM && e->want)
            claimed(d, e, j);
        else if (j->kind == DIR_JOB_READ && !e->want)
            snprintf(e->owner, sizeof e->owner, "%s", j->owner);
    }
    int64_t now = cr_now_ms();
    for (size_t i = 0; p->full && i < d->n_rooms;) { /* forget rooms nobody asks about */
        struct dir_room *e = &d->rooms[i];
        if (!e->want && !e->pending && !e->release && now - e->asked_ms > DIR_ASKED_MS)
            remove_room(d, e);
        else
            i++;
    }
    if (p->full) {
        memcpy(d->nodes, nodes, n_nodes * sizeof *nodes);
        d->n_nodes = n_nodes;
        d->nodes_read_ms = now;
        d->st.nodes = (uint32_t)n_nodes;
    }
    pthread_cond_broadcast(&d->answered);
}

/* One pass; -1 when the connection failed. */
static int run_pass(struct directory *d, bool full)
{
    struct pass p = {.full = full};
    pthread_mutex_lock(&d->mu);
    plan(d, &p, cr_now_ms());
    d->hinted = false;
    pthread_mutex_unlock(&d->mu);
    static struct dir_node nodes[DIR_NODES_MAX]; /* this thread's only */
    size_t n_nodes = 0;
    int rc = full ? dir_redis_lease(d, p.lease) : 0;
    for (size_t i = 0; rc == 0 && i < p.n; i++) {
        rc = dir_redis_job(d, &p.jobs[i]);
        if (rc == 0 && p.jobs[i].kind == DIR_JOB_CLAIM && p.jobs[i].asked &&
            strcmp(p.jobs[i].owner, d->self.id) == 0)
            rc = dir_redis_hint(d, "lesson", p.jobs[i].room);
    }
    if (rc == 0 && full)
        rc = dir_redis_nodes(d, nodes, DIR_NODES_MAX, &n_nodes);
    if (rc == 0) {
        pthread_mutex_lock(&d->mu);
        apply(d, &p, nodes, n_nodes);
        pthread_mutex_unlock(&d->mu);
    }
    free(p.jobs);
    return rc;
}

static void set_up(struct directory *d, bool up)
{
    pthread_mutex_lock(&d->mu);
    if (!up)
        d->st.failures++;
    else if (d->was_up)
        d->st.reconnects++;
    d->st.up = up;
    pthread_cond_broadcast(&d->answered); /* a waiting dir_claim answers from the snapshot */
    pthread_mutex_unlock(&d->mu);
}

/* The connection is lost: logged once an outage, dropped. */
static void lost(struct directory *d, int64_t now)
{
    if (d->c && !d->down_since_ms)
        CR_WARN("cluster",
                "redis %s:%u is unreachable: lessons go on, claims are kept, "
                "retrying",
                d->host, d->port);
    if (!d->down_since_ms)
        d->down_since_ms = now;
    dir_redis_drop(d);
    set_up(d, false);
}

/* Tries to connect; true if connected. */
static bool reconnect(struct directory *d, int64_t now)
{
    if (dir_redis_connect(d) != 0) {
        if (!d->was_up && !d->down_since_ms)
            CR_WARN("cluster", "redis %s:%u cannot be reached yet: retrying", d->host, d->port);
        if (!d->down_since_ms)
            d->down_since_ms = now;
        set_up(d, false);
        return false;
    }
    if (d->down_since_ms)
        CR_INFO("cluster", "redis %s:%u is back after %lld ms: lease and claims written again",
                d->host, d->port, (long long)(now - d->down_since_ms));
    set_up(d, true);
    d->was_up = true;
    d->down_since_ms = 0;
    return true;
}

/* Sleeps until woken, a hint, or timeout_ms; -1 if the subscribed connection failed. */
static int sleep_until(struct directory *d, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = d->wake[0], .events = POLLIN},
                            {.fd = d->sub ? d->sub->fd : -1, .events = POLLIN}};
    if (poll(fds, 2, timeout_ms < 0 ? 0 : timeout_ms) <= 0)
        return 0;
    char buf[64];
    while (fds[0].revents && read(d->wake[0], buf, sizeof buf) > 0) {
    }
    if (fds[1].revents) {
        int hints = dir_redis_read_hints(d);
        if (hints < 0)
            return -1;
        pthread_mutex_lock(&d->mu);
        d->st.hints += (uint64_t)hints;
        d->hinted |= hints > 0;
        pthread_mutex_unlock(&d->mu);
    }
    return 0;
}

static void goodbye(struct directory *d)
{
    pthread_mutex_lock(&d->mu);
    size_t n = 0;
    char(*rooms)[DIR_ROOM_MAX] = cr_calloc(d->n_rooms + 1, DIR_ROOM_MAX);
    for (size_t i = 0; i < d->n_rooms; i++) {
        if (d->rooms[i].want || d->rooms[i].release)
            snprintf(rooms[n++], DIR_ROOM_MAX, "%s", d->rooms[i].name);
    }
    pthread_mutex_unlock(&d->mu);
    dir_redis_goodbye(d, rooms, n);
    free(rooms);
}

void *dir_thread_run(void *arg)
{
    struct directory *d = arg;
    int64_t backoff = BACKOFF_MIN_MS, next_try = 0, next_tick = 0;
    for (;;) {
        int64_t now = cr_now_ms();
        pthread_mutex_lock(&d->mu);
        bool stop = d->stop, hinted = d->hinted;
        pthread_mutex_unlock(&d->mu);
        if (stop)
            break;
        if (!d->c && now >= next_try) {
            if (reconnect(d, now)) {
                backoff = BACKOFF_MIN_MS;
                next_tick = now;
            } else {
                next_try = now + backoff * (80 + rand() % 21) / 100;
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            }
        }
        if (d->c && (now >= next_tick || hinted)) { /* a hint: everything read again */
            if (run_pass(d, true) != 0)
                lost(d, now);
            else if (now >= next_tick)
                next_tick = now + DIR_TICK_MS;
        }
        int64_t until = d->c ? next_tick : next_try;
        if (sleep_until(d, (int)(until - cr_now_ms())) != 0)
            lost(d, cr_now_ms());
    }
    if (d->c)
        goodbye(d);
    dir_redis_drop(d);
    return NULL;
}
