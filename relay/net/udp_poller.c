/* A per-GMainContext epoll set for UDP sockets, attached to the context as one GSource.
 *
 * Why: libnice keeps one GSource per socket of every agent in the context, so each wakeup
 * of the worker (every packet from a publisher, every RTCP packet from a subscriber) made
 * GLib prepare, poll and check every peer's sources. Sockets registered here are polled by
 * the kernel (epoll, level-triggered) and the context sees one descriptor: a wakeup costs
 * O(ready sockets). A ready socket is drained with recvmmsg, BATCH datagrams per call, at
 * most MAX_ROUNDS calls per wakeup so one busy socket cannot starve the others (what is
 * left stays readable and is reported again).
 *
 * The same GSource carries a coarse tick for every registered socket (consent timers in
 * ice.c), so per-peer timers add no sources either. Readers may be removed from inside any
 * callback: during a dispatch a removed reader is only marked dead and unlinked and freed
 * when the dispatch ends; the poller itself outlives a dispatch that drops its last
 * reference the same way. What a datagram means (STUN, DTLS, SRTP) is the caller's
 * business; see ice.c. */
#include "net/udp_poller.h"

#include <errno.h>
#include <glib-unix.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"

#define BATCH 32      /* datagrams per recvmmsg */
#define SLOT 2048     /* bytes per datagram: browsers send at most ~1200-byte datagrams */
#define MAX_ROUNDS 4  /* recvmmsg calls per socket per wakeup */
#define MAX_EVENTS 64 /* ready sockets taken per epoll_wait */

struct cr_udp_reader {
    struct cr_udp_poller *poller; /* borrowed */
    int fd;                       /* borrowed: the caller's socket */
    struct cr_udp_reader_callbacks cb;
    void *user; /* borrowed */
    bool dead;  /* removed during a dispatch; freed when it ends */
    struct cr_udp_reader *prev, *next;
};

struct cr_udp_poller {
    GMainContext *ctx; /* owned reference */
    GSource *source;   /* owned */
    gpointer fd_tag;
    int epfd; /* owned */
    int refs;
    int dispatching; /* dispatches on the stack */
    bool doomed;     /* last reference dropped during a dispatch */
    bool reap;       /* dead readers wait in the list */
    struct cr_udp_reader *head, *tail;
    size_t live; /* readers not dead */
    int64_t next_tick_ms;
    uint8_t *bufs; /* owned: BATCH * SLOT */
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage names[BATCH];
    struct cr_udp_poller_stats stats;
};

struct poller_source {
    GSource base;
    struct cr_udp_poller *p; /* borrowed: the poller owns the source */
};

static GMutex registry_lock;
static GHashTable *registry; /* GMainContext * -> struct cr_udp_poller * */

GMainContext *cr_udp_park_context(void)
{
    static GMainContext *park;
    if (g_once_init_enter(&park))
        g_once_init_leave(&park, g_main_context_new());
    return park;
}

/* ---- reading ---- */

static void unlink_reader(struct cr_udp_poller *p, struct cr_udp_reader *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        p->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        p->tail = r->prev;
}

/* Frees the readers removed during the dispatch that just ended. */
static void reap_dead(struct cr_udp_poller *p)
{
    p->reap = false;
    for (struct cr_udp_reader *r = p->head, *next; r; r = next) {
        next = r->next;
        if (r->dead) {
            unlink_reader(p, r);
            free(r);
        }
    }
}

/* Reads r's socket until it is empty, MAX_ROUNDS batches are done, or r is removed. */
static void drain(struct cr_udp_poller *p, struct cr_udp_reader *r)
{
    for (int round = 0; round < MAX_ROUNDS; round++) {
        for (int i = 0; i < BATCH; i++) {
            p->iov[i].iov_base = p->bufs + (size_t)i * SLOT;
            p->iov[i].iov_len = SLOT;
            p->msgs[i].msg_hdr = (struct msghdr){.msg_name = &p->names[i],
                                                 .msg_namelen = sizeof(p->names[i]),
                                                 .msg_iov = &p->iov[i],
                                                 .msg_iovlen = 1};
            p->msgs[i].msg_len = 0;
        }
        int n = recvmmsg(r->fd, p->msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                p->stats.errors++;
                CR_LOG_RATE(CR_LOG_WARN, "udp", "recvmmsg on fd %d: %s", r->fd, strerror(errno));
            }
            return;
        }
        if (n == 0)
            return;
        p->stats.batches++;
        for (int i = 0; i < n; i++) {
            if (p->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                p->stats.dropped++;
                CR_LOG_RATE(CR_LOG_WARN, "udp", "dropped a datagram larger than %d bytes", SLOT);
                continue;
            }
            p->stats.datagrams++;
            r->cb.on_datagram(r->user, p->iov[i].iov_base, p->msgs[i].msg_len,
                              (const struct sockaddr *)&p->names[i]);
            if (r->dead || p->doomed)
                return; /* the rest of the batch belonged to a reader that is gone */
        }
        if (n < BATCH)
            return;
    }
}

static void tick(struct cr_udp_poller *p, int64_t now_ms)
{
    p->next_tick_ms = now_ms + CR_UDP_POLLER_TICK_MS;
    for (struct cr_udp_reader *r = p->head; r && !p->doomed; r = r->next)
        if (!r->dead && r->cb.on_tick)
            r->cb.on_tick(r->user, now_ms);
}

static void schedule_tick(struct cr_udp_poller *p)
{
    if (p->live == 0) {
        g_source_set_ready_time(p->source, -1);
        return;
    }
    g_source_set_ready_time(p->source, p->next_tick_ms * 1000); /* same clock as GLib's */
}

static void destroy(struct cr_udp_poller *p);

static gboolean dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    struct cr_udp_poller *p = ((struct poller_source *)source)->p;
    (void)callback;
    (void)data;
    p->dispatching++;
    p->stats.wakeups++;
    if (g_source_query_unix_fd(source, p->fd_tag) & (G_IO_IN | G_IO_ERR | G_IO_HUP)) {
        struct epoll_event ev[MAX_EVENTS];
        int n = epoll_wait(p->epfd, ev, MAX_EVENTS, 0);
        for (int i = 0; i < n && !p->doomed; i++) {
            struct cr_udp_reader *r = ev[i].data.ptr;
            if (!r->dead)
                drain(p, r);
        }
    }
    int64_t now_ms = cr_now_ms();
    if (!p->doomed && p->live && now_ms >= p->next_tick_ms)
        tick(p, now_ms);
    p->dispatching--;
    if (p->doomed) {
        if (p->dispatching == 0)
            destroy(p);
        return G_SOURCE_REMOVE;
    }
    if (p->dispatching == 0 && p->reap)
        reap_dead(p);
    schedule_tick(p);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs source_funcs = {.dispatch = dispatch};

/* ---- lifetime ---- */

static struct cr_udp_poller *create(GMainContext *ctx)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        CR_ERROR("udp", "epoll_create1: %s", strerror(errno));
        return NULL;
    }
    struct cr_udp_poller *p = CR_NEW(struct cr_udp_poller);
    p->ctx = g_main_context_ref(ctx);
    p->epfd = epfd;
    p->refs = 1;
    p->bufs = cr_malloc((size_t)BATCH * SLOT);
    p->source = g_source_new(&source_funcs, sizeof(struct poller_source));
    ((struct poller_source *)p->source)->p = p;
    g_source_set_name(p->source, "cr_udp_poller");
    p->fd_tag = g_source_add_unix_fd(p->source, epfd, G_IO_IN);
    g_source_attach(p->source, ctx);
    return p;
}

static void destroy(struct cr_udp_poller *p)
{
    g_source_destroy(p->source);
    g_source_unref(p->source);
    for (struct cr_udp_reader *r = p->head, *next; r; r = next) {
        next = r->next;
        free(r);
    }
    close(p->epfd);
    g_main_context_unref(p->ctx);
    free(p->bufs);
    free(p);
}

struct cr_udp_poller *cr_udp_poller_ref(GMainContext *ctx)
{
    g_mutex_lock(&registry_lock);
    if (!registry)
        registry = g_hash_table_new(g_direct_hash, g_direct_equal);
    struct cr_udp_poller *p = g_hash_table_lookup(registry, ctx);
    if (p) {
        p->refs++;
    } else if ((p = create(ctx))) {
        g_hash_table_insert(registry, ctx, p);
    }
    g_mutex_unlock(&registry_lock);
    return p;
}

void cr_udp_poller_unref(struct cr_udp_poller *p)
{
    if (!p)
        return;
    g_mutex_lock(&registry_lock);
    bool last = --p->refs == 0;
    if (last)
        g_hash_table_remove(registry, p->ctx); /* a new ref from now on gets a new poller */
    g_mutex_unlock(&registry_lock);
    if (!last)
        return;
    if (p->dispatching)
        p->doomed = true; /* dispatch destroys it on its way out */
    else
        destroy(p);
}

/* ---- readers ---- */

struct cr_udp_reader *cr_udp_poller_add(struct cr_udp_poller *p, int fd,
                                        const struct cr_udp_reader_callbacks *cb, void *user)
{
    struct cr_udp_reader *r = CR_NEW(struct cr_udp_reader);
    r->poller = p;
    r->fd = fd;
    r->cb = *cb;
    r->user = user;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = r};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        CR_WARN("udp", "epoll_ctl(ADD, fd %d): %s", fd, strerror(errno));
        free(r);
        return NULL;
    }
    r->prev = p->tail;
    if (p->tail)
        p->tail->next = r;
    else
        p->head = r;
    p->tail = r;
    if (p->live++ == 0) {
        p->next_tick_ms = cr_now_ms() + CR_UDP_POLLER_TICK_MS;
        if (!p->dispatching)
            schedule_tick(p);
    }
    return r;
}

void cr_udp_poller_remove(struct cr_udp_reader *r)
{
    if (!r || r->dead)
        return;
    struct cr_udp_poller *p = r->poller;
    /* Before the caller can close the socket: a closed descriptor would leave epoll with
     * a registration nobody can delete if the file were still shared. */
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, r->fd, NULL);
    p->live--;
    if (p->dispatching) {
        r->dead = true;
        p->reap = true;
        return;
    }
    unlink_reader(p, r);
    free(r);
    schedule_tick(p);
}

void cr_udp_poller_get_stats(const struct cr_udp_poller *p, struct cr_udp_poller_stats *out)
{
    *out = p->stats;
}
