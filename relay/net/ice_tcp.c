/* ICE-TCP on the shared media port: see ice_tcp.h. One GSource per listener and per
 * connection on the worker's context (ICE-TCP is the fallback of the few classrooms
 * without UDP, not the fast path). A connection's queue is one byte array of framed
 * packets; what a write leaves is kept and written when the socket can take more. */
#include "net/ice_tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "net/addr.h"
#include "net/tcp_frame.h"

#define MAX_LISTENERS 8
#define READ_CHUNK 16384

struct conn {
    struct cr_ice_tcp *t; /* borrowed */
    uint32_t id;
    unsigned listener;
    int fd;       /* owned */
    GSource *src; /* owned */
    gpointer tag; /* the fd's in src */
    struct sockaddr_storage from;
    struct cr_tcp_frames rx;
    GByteArray *tx; /* owned: framed packets not yet written */
    bool dirty;     /* in t->dirty */
    int64_t last_rx_ms;
};

struct listener {
    struct cr_ice_tcp *t; /* borrowed */
    unsigned index;
    int fd;       /* owned */
    GSource *src; /* owned */
};

struct cr_ice_tcp {
    GMainContext *ctx; /* borrowed */
    struct cr_ice_tcp_callbacks cb;
    void *user; /* borrowed */
    struct listener listeners[MAX_LISTENERS];
    unsigned n_listeners;
    GHashTable *conns; /* id → struct conn * (owned) */
    GPtrArray *dirty;  /* struct conn * with packets to write */
    GSource *idle;     /* owned: closes silent connections */
    uint32_t next_id;
    struct cr_ice_tcp_stats st;
};

/* GSource funcs for fd sources: ready when the fd is; the callback does the work. */
static gboolean fd_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    (void)s;
    return cb ? cb(data) : G_SOURCE_REMOVE;
}

static GSourceFuncs fd_funcs = {.dispatch = fd_dispatch};

static void conn_free(gpointer data)
{
    struct conn *c = data;
    g_source_destroy(c->src);
    g_source_unref(c->src);
    close(c->fd);
    g_byte_array_unref(c->tx);
    free(c);
}

static void conn_close(struct conn *c, const char *why)
{
    struct cr_ice_tcp *t = c->t;
    char r[INET6_ADDRSTRLEN + 8];
    cr_addr_describe((const struct sockaddr *)&c->from, r, sizeof r);
    CR_INFO("ice", "ICE-TCP connection %u from %s closed: %s", c->id, r, why);
    if (c->dirty)
        g_ptr_array_remove_fast(t->dirty, c);
    t->st.closed++;
    g_hash_table_remove(t->conns, &c->id); /* frees c */
}

/* Writes what c has queued; false when it closed on an error. */
static bool conn_write(struct conn *c)
{
    while (c->tx->len) {
        ssize_t n = write(c->fd, c->tx->data, c->tx->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            conn_close(c, n < 0 ? g_strerror(errno) : "write returned 0");
            return false;
        }
        g_byte_array_remove_range(c->tx, 0, (guint)n);
    }
    GIOCondition want = G_IO_IN | (c->tx->len ? G_IO_OUT : 0);
    g_source_modify_unix_fd(c->src, c->tag, want);
    return true;
}

static int deliver(void *user, uint8_t *buf, size_t len)
{
    struct conn *c = user;
    c->t->st.packets_in++;
    c->t->cb.on_packet(c->t->user, c->id, c->listener, buf, len, (const struct sockaddr *)&c->from);
    return 0;
}

static gboolean conn_ready(gpointer data)
{
    struct conn *c = data;
    GIOCondition got = g_source_query_unix_fd(c->src, c->tag);
    if ((got & G_IO_OUT) && !conn_write(c))
        return G_SOURCE_CONTINUE; /* closed: its source is destroyed */
    if (!(got & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
        return G_SOURCE_CONTINUE;
    uint8_t buf[READ_CHUNK];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        conn_close(c, n < 0 ? g_strerror(errno) : "closed by the peer");
        return G_SOURCE_CONTINUE;
    }
    c->last_rx_ms = cr_now_ms();
    if (cr_tcp_frames_feed(&c->rx, buf, (size_t)n, deliver, c) < 0)
        conn_close(c, "a frame longer than any packet (RFC 4571 framing lost)");
    return G_SOURCE_CONTINUE;
}

static void conn_new(struct listener *l, int fd, const struct sockaddr_storage *from)
{
    struct cr_ice_tcp *t = l->t;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* media: no Nagle delay */
    struct conn *c = CR_NEW(struct conn);
    c->t = t;
    c->id = t->next_id++;
    c->listener = l->index;
    c->fd = fd;
    c->from = *from;
    c->tx = g_byte_array_new();
    c->last_rx_ms = cr_now_ms();
    c->src = g_source_new(&fd_funcs, sizeof(GSource));
    c->tag = g_source_add_unix_fd(c->src, fd, G_IO_IN);
    g_source_set_callback(c->src, conn_ready, c, NULL);
    g_source_attach(c->src, t->ctx);
    g_hash_table_insert(t->conns, &c->id, c);
    t->st.accepted++;
}

static gboolean on_accept(gpointer data)
{
    struct listener *l = data;
    struct cr_ice_tcp *t = l->t;
    for (;;) {
        struct sockaddr_storage from;
        socklen_t len = sizeof from;
        int fd = accept4(l->fd, (struct sockaddr *)&from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            break; /* EAGAIN, or a connection that went before we took it */
        if (g_hash_table_size(t->conns) >= CR_ICE_TCP_MAX) {
            close(fd);
            t->st.refused++;
            CR_LOG_RATE(CR_LOG_WARN, "ice", "ICE-TCP: %u connections, refused another",
                        CR_ICE_TCP_MAX);
            continue;
        }
        conn_new(l, fd, &from);
    }
    return G_SOURCE_CONTINUE;
}

/* Once a second: connections silent for CR_ICE_TCP_IDLE_MS go. */
static gboolean on_idle_check(gpointer data)
{
    struct cr_ice_tcp *t = data;
    int64_t now = cr_now_ms();
    GPtrArray *idle = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, t->conns);
    while (g_hash_table_iter_next(&it, &key, &value))
        if (now - ((struct conn *)value)->last_rx_ms > CR_ICE_TCP_IDLE_MS)
            g_ptr_array_add(idle, value);
    for (guint i = 0; i < idle->len; i++)
        conn_close(g_ptr_array_index(idle, i), "silent for 30 s");
    g_ptr_array_free(idle, TRUE);
    return G_SOURCE_CONTINUE;
}

struct cr_ice_tcp *cr_ice_tcp_new(GMainContext *ctx, const struct cr_ice_tcp_callbacks *cb,
                                  void *user)
{
    struct cr_ice_tcp *t = CR_NEW(struct cr_ice_tcp);
    t->ctx = ctx;
    t->cb = *cb;
    t->user = user;
    t->conns = g_hash_table_new_full(g_int_hash, g_int_equal, NULL, conn_free);
    t->dirty = g_ptr_array_new();
    t->next_id = 1;
    t->idle = g_timeout_source_new(1000);
    g_source_set_callback(t->idle, on_idle_check, t, NULL);
    g_source_attach(t->idle, ctx);
    return t;
}

void cr_ice_tcp_free(struct cr_ice_tcp *t)
{
    if (!t)
        return;
    cr_ice_tcp_flush(t);
    g_ptr_array_set_size(t->dirty, 0);
    g_hash_table_destroy(t->conns);
    g_ptr_array_free(t->dirty, TRUE);
    for (unsigned i = 0; i < t->n_listeners; i++) {
        g_source_destroy(t->listeners[i].src);
        g_source_unref(t->listeners[i].src);
        close(t->listeners[i].fd);
    }
    g_source_destroy(t->idle);
    g_source_unref(t->idle);
    free(t);
}

int cr_ice_tcp_listen(struct cr_ice_tcp *t, const struct sockaddr *addr)
{
    if (t->n_listeners == MAX_LISTENERS) {
        errno = ENOSPC;
        return -1;
    }
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0 && addr->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, addr, cr_addr_len(addr)) != 0 || listen(fd, 128) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        errno = err;
        return -1;
    }
    struct listener *l = &t->listeners[t->n_listeners];
    l->t = t;
    l->index = t->n_listeners;
    l->fd = fd;
    l->src = g_source_new(&fd_funcs, sizeof(GSource));
    g_source_add_unix_fd(l->src, fd, G_IO_IN);
    g_source_set_callback(l->src, on_accept, l, NULL);
    g_source_attach(l->src, t->ctx);
    return (int)t->n_listeners++;
}

int cr_ice_tcp_send(struct cr_ice_tcp *t, uint32_t conn, const uint8_t *buf, size_t len)
{
    struct conn *c = g_hash_table_lookup(t->conns, &conn);
    if (!c || len == 0 || len > CR_TCP_FRAME_MAX || c->tx->len + len + 2 > CR_ICE_TCP_QUEUE) {
        t->st.out_dropped++;
        return -1;
    }
    uint8_t head[2];
    cr_tcp_frame_header(head, len);
    g_byte_array_append(c->tx, head, 2);
    g_byte_array_append(c->tx, buf, (guint)len);
    t->st.packets_out++;
    if (!c->dirty) {
        c->dirty = true;
        g_ptr_array_add(t->dirty, c);
    }
    return 0;
}

void cr_ice_tcp_flush(struct cr_ice_tcp *t)
{
    while (t->dirty->len) {
        struct conn *c = g_ptr_array_steal_index_fast(t->dirty, t->dirty->len - 1);
        c->dirty = false;
        conn_write(c); /* may close c */
    }
}

void cr_ice_tcp_get_stats(const struct cr_ice_tcp *t, struct cr_ice_tcp_stats *out)
{
    *out = t->st;
    out->connections = g_hash_table_size(t->conns);
}
