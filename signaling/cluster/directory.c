/* The directory's signaling side: see directory.h. Every call takes mu for a few
 * microseconds to read the snapshot or post a request; only dir_claim waits, at most
 * DIR_CLAIM_WAIT_MS, for the directory thread (dir_thread.c). */
#include "cluster/dir_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"

/* A random id: 16 bytes as 32 hex digits (a restarted node is a new node). */
static void new_id(char *out)
{
    uint8_t b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) { /* never in practice: time and pid */
        uint64_t t = (uint64_t)cr_wall_ms() ^ ((uint64_t)getpid() << 40);
        memcpy(b, &t, sizeof t);
        memcpy(b + 8, &t, sizeof t);
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

struct directory *dir_open(const struct config *cfg, const char *url)
{
    if (!cfg->redis[0])
        return NULL;
    struct directory *d = CR_NEW(struct directory);
    char err[256];
    if (config_split_host_port(cfg->redis + 8, d->host, sizeof d->host, &d->port, err,
                               sizeof err) != 0) {
        CR_ERROR("cluster", "redis %s: %s", cfg->redis, err);
        free(d);
        return NULL;
    }
    new_id(d->self.id);
    snprintf(d->self.url, sizeof d->self.url, "%s", url);
    d->self.max_peers = cfg->max_peers;
    d->self.started_ms = cr_wall_ms();
    if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        CR_ERROR("cluster", "pipe: %s", strerror(errno));
        free(d);
        return NULL;
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->answered, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&d->thread, NULL, dir_thread_run, d) != 0) {
        CR_ERROR("cluster", "cannot start the directory thread");
        close(d->wake[0]);
        close(d->wake[1]);
        free(d);
        return NULL;
    }
    CR_INFO("cluster", "node %s at %s, directory %s", d->self.id, d->self.url, cfg->redis);
    return d;
}

static void wake(struct directory *d)
{
    char b = 1;
    if (write(d->wake[1], &b, 1) < 0 && errno != EAGAIN) /* full: it is awake anyway */
        CR_LOG_RATE(CR_LOG_WARN, "cluster", "cannot wake the directory thread");
}

void dir_close(struct directory *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stop = true;
    pthread_mutex_unlock(&d->mu);
    wake(d);
    pthread_join(d->thread, NULL);
    close(d->wake[0]);
    close(d->wake[1]);
    pthread_cond_destroy(&d->answered);
    pthread_mutex_destroy(&d->mu);
    free(d->rooms);
    free(d);
}

const char *dir_node_id(const struct directory *d) { return d ? d->self.id : ""; }
const char *dir_url(const struct directory *d) { return d ? d->self.url : ""; }

void dir_set_load(struct directory *d, uint32_t peers, uint32_t load_pct, bool full)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->self.peers = peers;
    d->self.load_pct = load_pct;
    d->self.full = full;
    pthread_mutex_unlock(&d->mu);
}

struct dir_room *dir_room_find(struct directory *d, const char *name)
{
    for (size_t i = 0; i < d->n_rooms; i++) {
        if (strcmp(d->rooms[i].name, name) == 0)
            return &d->rooms[i];
    }
    return NULL;
}

/* The entry of name, made if new (mu held); asked now. */
static struct dir_room *room_ask(struct directory *d, const char *name)
{
    struct dir_room *e = dir_room_find(d, name);
    if (!e) {
        if (d->n_rooms == d->cap_rooms) {
            d->cap_rooms = d->cap_rooms ? 2 * d->cap_rooms : 16;
            d->rooms = cr_realloc(d->rooms, d->cap_rooms * sizeof *d->rooms);
        }
        e = &d->rooms[d->n_rooms++];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", name);
        e->unread = true;
        d->hinted = true;
    }
    e->asked_ms = cr_now_ms();
    return e;
}

/* Whether the nodes were read within a lease (mu held): Redis away longer than that, no node
 * is known to be alive. */
static bool nodes_fresh(const struct directory *d)
{
    return d->nodes_read_ms && cr_now_ms() - d->nodes_read_ms <= DIR_LEASE_MS;
}

bool dir_node_live(struct directory *d, const char *id, struct dir_node *out)
{
    if (!nodes_fresh(d))
        return false;
    for (size_t i = 0; i < d->n_nodes; i++) {
        if (strcmp(d->nodes[i].id, id) == 0) {
            if (out)
                *out = d->nodes[i];
            return true;
        }
    }
    return false;
}

/* The answer for e from the snapshot (mu held). */
static enum dir_answer answer_of(struct directory *d, const struct dir_room *e, char *url,
                                 size_t cap)
{
    struct dir_node n;
    if (e->want)
        return DIR_MINE;
    if (!e->owner[0] || strcmp(e->owner, d->self.id) == 0 || !dir_node_live(d, e->owner, &n) ||
        strcmp(n.url, d->self.url) == 0) /* this node's previous run: it claims it back */
        return DIR_UNKNOWN;
    snprintf(url, cap, "%s", n.url);
    return DIR_OTHER;
}

/* Waits until the thread answered seq for room name, at most DIR_CLAIM_WAIT_MS (mu held). */
static void wait_answer(struct directory *d, const char *name, uint64_t seq)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += DIR_CLAIM_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    for (;;) {
        struct dir_room *e = dir_room_find(d, name);
        if (!e || e->done_seq >= seq || !d->st.up ||
            pthread_cond_timedwait(&d->answered, &d->mu, &until) == ETIMEDOUT)
            return;
    }
}

enum dir_answer dir_claim(struct directory *d, const char *room, char *url, size_t cap)
{
    if (!d)
        return DIR_UNKNOWN;
    pthread_mutex_lock(&d->mu);
    struct dir_room *e = room_ask(d, room);
    if (!e->want) {
        enum dir_answer a = answer_of(d, e, url, cap);
        if (a == DIR_OTHER && !d->st.up) { /* Redis away: the last word stands */
            pthread_mutex_unlock(&d->mu);
            return a;
        }
        e->want = e->pending = true;
        e->release = false; /* claimed again before the thread let it go: it keeps it */
        d->hinted = true;
        uint64_t seq = ++e->asked_seq;
        if (d->st.up) {
            wake(d);
            wait_answer(d, room, seq);
        }
        e = dir_room_find(d, room);
    }
    enum dir_answer a = e ? answer_of(d, e, url, cap) : DIR_UNKNOWN;
    if (a == DIR_UNKNOWN) { /* not answered in time: serve it, the thread claims it */
        e = room_ask(d, room);
        e->want = true;
        e->release = false;
        a = DIR_MINE;
    }
    pthread_mutex_unlock(&d->mu);
    return a;
}

void dir_release(struct directory *d, const char *room)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    struct dir_room *e = dir_room_find(d, room);
    if (e && e->want) {
        e->want = e->pending = false;
        e->release = true;
        d->hinted = true;
        wake(d);
    }
    pthread_mutex_unlock(&d->mu);
}

enum dir_answer dir_owner(struct directory *d, const char *room, char *url, size_t cap)
{
    if (!d)
        return DIR_UNKNOWN;
    pthread_mutex_lock(&d->mu);
    bool fresh = !dir_room_find(d, room);
    enum dir_answer a = answer_of(d, room_ask(d, room), url, cap);
    pthread_mutex_unlock(&d->mu);
    if (fresh)
        wake(d);
    return a;
}

bool dir_origin(struct directory *d, const char *room, char *url, size_t cap)
{
    return dir_owner(d, room, url, cap) == DIR_OTHER;
}

/* How busy n is, 0 to 100+: its CPU or its share of max_peers, whichever is higher. */
static uint32_t busy(const struct dir_node *n)
{
    uint32_t share = n->max_peers ? (uint32_t)(100ull * n->peers / n->max_peers) : 0;
    return share > n->load_pct ? share : n->load_pct;
}

bool dir_pick(struct directory *d, const char *room, char *url, size_t cap)
{
    if (!d)
        return false;
    pthread_mutex_lock(&d->mu);
    const struct dir_node *best = NULL;
    struct dir_room *e = room ? dir_room_find(d, room) : NULL;
    struct dir_node origin;
    if (e && !e->want && e->owner[0] && dir_node_live(d, e->owner, &origin) && !origin.full &&
        strcmp(origin.id, d->self.id) != 0 && strcmp(origin.url, d->self.url) != 0) {
        snprintf(url, cap, "%s", origin.url);
        pthread_mutex_unlock(&d->mu);
        return true;
    }
    for (size_t i = 0; nodes_fresh(d) && i < d->n_nodes; i++) {
        const struct dir_node *n = &d->nodes[i];
        if (!n->full && strcmp(n->id, d->self.id) != 0 && strcmp(n->url, d->self.url) != 0 &&
            (!best || busy(n) < busy(best)))
            best = n;
    }
    if (best)
        snprintf(url, cap, "%s", best->url);
    pthread_mutex_unlock(&d->mu);
    return best != NULL;
}

size_t dir_nodes(struct directory *d, struct dir_node *out, size_t max)
{
    if (!d)
        return 0;
    pthread_mutex_lock(&d->mu);
    size_t n = 0;
    for (size_t i = 0; nodes_fresh(d) && i < d->n_nodes && n < max; i++)
        out[n++] = d->nodes[i];
    pthread_mutex_unlock(&d->mu);
    return n;
}

void dir_count_redirect(struct directory *d, enum dir_redirect why)
{
    if (!d || why >= DIR_REDIRECT_COUNT)
        return;
    pthread_mutex_lock(&d->mu);
    d->st.redirects[why]++;
    pthread_mutex_unlock(&d->mu);
}

void dir_stats(struct directory *d, struct dir_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    *out = d->st;
    pthread_mutex_unlock(&d->mu);
}
