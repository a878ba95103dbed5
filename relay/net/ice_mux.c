/* The shared media port; see ice_mux.h. One socket per served local address (all on the
 * same port: replies leave from the address the peer sent to without IP_PKTINFO), an
 * ICE-TCP listener beside each when asked (net/ice_tcp.c), two
 * tables (ufrag → endpoint for checks, address → endpoint for the rest), and a GSource whose only
 * job is its prepare hook: GLib calls it once per loop iteration before polling, so datagrams
 * queued by any dispatch leave in batches before the worker sleeps. Endpoints freed while a
 * datagram or tick is being delivered are unlinked at once and freed when the delivery ends. */
#include "net/ice_mux.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nice/interfaces.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"
#include "net/addr.h"
#include "net/ice_tcp.h"
#include "net/udp_batch.h"
#include "net/udp_poller.h"
#include "wire/stun.h"

#define SOCKET_BUFFER (4 << 20) /* one socket carries every peer's traffic */
#define BIND_TRIES 8            /* port 0 on several addresses: retries for one free on all */

struct mux_key { /* a remote address on one of our sockets */
    uint32_t sock;
    uint16_t family, port;
    uint8_t ip[16];
};

struct cr_mux_endpoint {
    struct cr_ice_mux *m; /* borrowed */
    char ufrag[CR_MUX_UFRAG_MAX + 1];
    struct cr_mux_endpoint_callbacks cb;
    void *user; /* borrowed */
    struct mux_key keys[CR_MUX_ADDRS];
    bool key_used[CR_MUX_ADDRS];
    uint32_t key_stamp[CR_MUX_ADDRS]; /* when each was last bound: the oldest goes */
    uint32_t stamp;
    bool dead;
    struct cr_mux_endpoint *next_dead;
};

struct mux_sock {
    struct cr_ice_mux *m; /* borrowed */
    unsigned index;
    int fd;                   /* owned */
    struct cr_udp_reader *rx; /* owned */
    struct cr_udp_batch *tx;  /* owned */
    bool tcp;                 /* ICE-TCP listens on this address too */
    char announced[INET6_ADDRSTRLEN];
    char desc[INET6_ADDRSTRLEN + 8];
    char udp_desc[INET6_ADDRSTRLEN + 12], tcp_desc[INET6_ADDRSTRLEN + 12];
};

struct flush_source {
    GSource base;
    struct cr_ice_mux *m; /* borrowed: the mux owns the source */
};

struct cr_ice_mux {
    struct cr_udp_poller *poller; /* owned reference */
    GSource *flush;               /* owned */
    struct cr_ice_tcp *tcp;       /* owned: ICE-TCP on the port, or NULL */
    uint16_t port, tcp_port;
    struct mux_sock socks[CR_MUX_MAX_SOCKETS];
    size_t n_socks;
    GHashTable *by_ufrag; /* endpoint's ufrag → endpoint */
    GHashTable *by_addr;  /* endpoint's struct mux_key → endpoint */
    int delivering;       /* deliveries on the stack */
    struct cr_mux_endpoint *graveyard;
    uint64_t datagrams, unknown;
};

/* ---- addresses ---- */

static void make_key(struct mux_key *k, unsigned sock, const struct sockaddr *sa)
{
    memset(k, 0, sizeof(*k));
    k->sock = sock;
    k->family = sa->sa_family;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        k->port = a->sin_port;
        memcpy(k->ip, &a->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        k->port = a->sin6_port;
        memcpy(k->ip, &a->sin6_addr, 16);
    }
}

static guint key_hash(gconstpointer p)
{
    uint32_t w[sizeof(struct mux_key) / 4], h = 2166136261u;
    memcpy(w, p, sizeof(w));
    for (size_t i = 0; i < sizeof(w) / 4; i++)
        h = (h ^ w[i]) * 16777619u;
    return h ^ (h >> 15);
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(struct mux_key)) == 0;
}

/* ---- endpoints ---- */

static void forget_key(struct cr_mux_endpoint *e, unsigned i)
{
    if (!e->key_used[i])
        return;
    g_hash_table_remove(e->m->by_addr, &e->keys[i]);
    e->key_used[i] = false;
}

static void unlink_endpoint(struct cr_mux_endpoint *e)
{
    for (unsigned i = 0; i < CR_MUX_ADDRS; i++)
        forget_key(e, i);
    if (e->ufrag[0])
        g_hash_table_remove(e->m->by_ufrag, e->ufrag);
}

static void reap(struct cr_ice_mux *m)
{
    while (m->delivering == 0 && m->graveyard) {
        struct cr_mux_endpoint *e = m->graveyard;
        m->graveyard = e->next_dead;
        free(e);
    }
}

struct cr_mux_endpoint *cr_mux_endpoint_new(struct cr_ice_mux *m, const char *ufrag,
                                            const struct cr_mux_endpoint_callbacks *cb, void *user)
{
    if (strlen(ufrag) > CR_MUX_UFRAG_MAX || g_hash_table_contains(m->by_ufrag, ufrag))
        return NULL;
    struct cr_mux_endpoint *e = CR_NEW(struct cr_mux_endpoint);
    e->m = m;
    e->cb = *cb;
    e->user = user;
    snprintf(e->ufrag, sizeof(e->ufrag), "%s", ufrag);
    g_hash_table_insert(m->by_ufrag, e->ufrag, e);
    return e;
}

void cr_mux_endpoint_free(struct cr_mux_endpoint *e)
{
    if (!e)
        return;
    struct cr_ice_mux *m = e->m;
    unlink_endpoint(e);
    e->dead = true;
    e->next_dead = m->graveyard;
    m->graveyard = e;
    reap(m);
}

int cr_mux_endpoint_set_ufrag(struct cr_mux_endpoint *e, const char *ufrag)
{
    if (strlen(ufrag) > CR_MUX_UFRAG_MAX || g_hash_table_contains(e->m->by_ufrag, ufrag))
        return -1;
    g_hash_table_remove(e->m->by_ufrag, e->ufrag);
    snprintf(e->ufrag, sizeof(e->ufrag), "%s", ufrag);
    g_hash_table_insert(e->m->by_ufrag, e->ufrag, e);
    return 0;
}

void cr_mux_endpoint_bind(struct cr_mux_endpoint *e, unsigned sock, const struct sockaddr *from)
{
    struct mux_key k;
    make_key(&k, sock, from);
    struct cr_mux_endpoint *owner = g_hash_table_lookup(e->m->by_addr, &k);
    for (unsigned i = 0; owner && i < CR_MUX_ADDRS; i++) {
        if (!owner->key_used[i] || !key_equal(&owner->keys[i], &k))
            continue;
        if (owner == e) { /* bound already: now the most recently checked */
            e->key_stamp[i] = ++e->stamp;
            return;
        }
        forget_key(owner, i); /* the address moved to e */
    }
    unsigned slot = 0;
    for (unsigned i = 0; i < CR_MUX_ADDRS; i++) { /* a free slot, else the oldest */
        if (!e->key_used[i]) {
            slot = i;
            break;
        }
        if (e->key_stamp[i] < e->key_stamp[slot])
            slot = i;
    }
    forget_key(e, slot);
    e->keys[slot] = k;
    e->key_used[slot] = true;
    e->key_stamp[slot] = ++e->stamp;
    g_hash_table_insert(e->m->by_addr, &e->keys[slot], e);
}

void cr_mux_endpoint_send(struct cr_mux_endpoint *e, unsigned sock, const uint8_t *buf, size_t len,
                          const struct sockaddr *to)
{
    struct cr_ice_mux *m = e->m;
    if (cr_mux_sock_is_tcp(sock) && m->tcp)
        cr_ice_tcp_send(m->tcp, (sock & ~CR_MUX_TCP) >> 3, buf, len);
    else if (sock < m->n_socks)
        cr_udp_batch_add(m->socks[sock].tx, buf, len, to, cr_addr_len(to));
}

/* ---- receiving ---- */

/* The endpoint a Binding request names: "<our ufrag>:<theirs>" (RFC 8445 §7.2.2). */
static struct cr_mux_endpoint *named_by_check(struct cr_ice_mux *m, const uint8_t *buf, size_t len)
{
    struct stun_view v;
    if (len < 20 || buf[0] >= 4 || !stun_is_message(buf, len) || stun_parse(buf, len, &v) != 0 ||
        v.cls != STUN_REQUEST || !v.username)
        return NULL;
    const uint8_t *colon = memchr(v.username, ':', v.username_len);
    size_t n = colon ? (size_t)(colon - v.username) : 0;
    if (n == 0 || n > CR_MUX_UFRAG_MAX)
        return NULL;
    char ufrag[CR_MUX_UFRAG_MAX + 1];
    memcpy(ufrag, v.username, n);
    ufrag[n] = '\0';
    return g_hash_table_lookup(m->by_ufrag, ufrag);
}

void cr_ice_mux_input(struct cr_ice_mux *m, unsigned sock, uint8_t *buf, size_t len,
                      const struct sockaddr *from)
{
    if (cr_mux_sock_address(sock) >= m->n_socks ||
        (from->sa_family != AF_INET && from->sa_family != AF_INET6))
        return;
    /* a check goes to the peer it names, wherever it comes from (an address bound to
     * another peer included); anything else by its source address */
    struct cr_mux_endpoint *e = named_by_check(m, buf, len);
    if (!e) {
        struct mux_key k;
        make_key(&k, sock, from);
        e = g_hash_table_lookup(m->by_addr, &k);
    }
    if (!e) {
        m->unknown++;
        CR_LOG_RATE(CR_LOG_INFO, "ice", "dropped a datagram from an unknown sender on %s",
                    cr_ice_mux_sock_desc(m, sock));
        return;
    }
    m->datagrams++;
    m->delivering++;
    e->cb.on_datagram(e->user, sock, buf, len, from);
    m->delivering--;
    reap(m);
}

static void on_datagram(void *user, uint8_t *buf, size_t len, const struct sockaddr *from)
{
    struct mux_sock *s = user;
    cr_ice_mux_input(s->m, s->index, buf, len, from);
}

static void on_tick(void *user, int64_t now_ms)
{
    struct cr_ice_mux *m = ((struct mux_sock *)user)->m;
    GPtrArray *all = g_ptr_array_sized_new(g_hash_table_size(m->by_ufrag));
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, m->by_ufrag);
    while (g_hash_table_iter_next(&it, &key, &value))
        g_ptr_array_add(all, value);
    m->delivering++;
    for (guint i = 0; i < all->len; i++) {
        struct cr_mux_endpoint *e = g_ptr_array_index(all, i);
        if (!e->dead && e->cb.on_tick)
            e->cb.on_tick(e->user, now_ms);
    }
    m->delivering--;
    g_ptr_array_unref(all);
    reap(m);
}

static void on_tcp_packet(void *user, uint32_t conn, unsigned listener, uint8_t *buf, size_t len,
                          const struct sockaddr *from)
{
    struct cr_ice_mux *m = user;
    cr_ice_mux_input(m, CR_MUX_TCP | ((conn << 3) & ~CR_MUX_TCP) | (listener & 7u), buf, len, from);
}

static const struct cr_ice_tcp_callbacks tcp_cb = {.on_packet = on_tcp_packet};

static const struct cr_udp_reader_callbacks first_socket = {.on_datagram = on_datagram,
                                                            .on_tick = on_tick};
static const struct cr_udp_reader_callbacks other_socket = {.on_datagram = on_datagram};

/* ---- sending: before the loop sleeps ---- */

void cr_ice_mux_flush(struct cr_ice_mux *m)
{
    for (size_t i = 0; i < m->n_socks; i++)
        if (cr_udp_batch_pending(m->socks[i].tx))
            cr_udp_batch_flush(m->socks[i].tx);
    if (m->tcp)
        cr_ice_tcp_flush(m->tcp);
}

static gboolean flush_prepare(GSource *source, gint *timeout)
{
    *timeout = -1;
    cr_ice_mux_flush(((struct flush_source *)source)->m);
    return FALSE;
}

static gboolean flush_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    (void)source;
    (void)callback;
    (void)data;
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_funcs = {.prepare = flush_prepare, .dispatch = flush_dispatch};

/* ---- sockets ---- */

static int parse_ip(const char *ip, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1 && !IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) {
        a6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void set_buffer(int fd, int opt_force, int opt)
{
    int size = SOCKET_BUFFER;
    if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof(size)) != 0)
        setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size)); /* capped by the kernel's max */
}

/* A socket on ip:port; its port in *bound. -1 with errno on failure. */
static int open_socket(const struct sockaddr_storage *addr, uint16_t port, uint16_t *bound)
{
    struct sockaddr_storage ss = *addr;
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
    set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
    socklen_t len = cr_addr_len((struct sockaddr *)&ss);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    *bound = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                           : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static void close_sockets(struct cr_ice_mux *m)
{
    for (size_t i = 0; i < m->n_socks; i++) {
        struct mux_sock *s = &m->socks[i];
        cr_udp_poller_remove(s->rx);
        cr_udp_batch_free(s->tx); /* sends what waits */
        close(s->fd);
    }
    m->n_socks = 0;
}

/* The addresses to serve: bind_ip, or every usable local one (loopback included). */
static size_t local_addresses(const char *bind_ip, struct sockaddr_storage *out)
{
    if (bind_ip)
        return parse_ip(bind_ip, &out[0]) == 0;
    size_t n = 0;
    GList *ips = nice_interfaces_get_local_ips(TRUE);
    for (GList *i = ips; i && n < CR_MUX_MAX_SOCKETS; i = i->next)
        n += parse_ip(i->data, &out[n]) == 0;
    g_list_free_full(ips, g_free);
    return n;
}

static int open_all(struct cr_ice_mux *m, const struct cr_ice_mux_config *config,
                    const struct sockaddr_storage *addrs, size_t n)
{
    uint16_t port = config->port;
    for (size_t i = 0; i < n; i++) {
        struct mux_sock *s = &m->socks[i];
        char ip[INET6_ADDRSTRLEN];
        const void *raw = addrs[i].ss_family == AF_INET
                              ? (const void *)&((const struct sockaddr_in *)&addrs[i])->sin_addr
                              : (const void *)&((const struct sockaddr_in6 *)&addrs[i])->sin6_addr;
        inet_ntop(addrs[i].ss_family, raw, ip, sizeof(ip));
        s->fd = open_socket(&addrs[i], port, &port);
        if (s->fd < 0) {
            CR_WARN("ice", "cannot bind the media port on %s:%u: %s", ip, port, strerror(errno));
            return -1;
        }
        m->n_socks++;
        s->m = m;
        s->index = (unsigned)i;
        s->tx = cr_udp_batch_new(s->fd);
        struct sockaddr_storage pub;
        bool announce_public = config->public_ip && parse_ip(config->public_ip, &pub) == 0 &&
                               pub.ss_family == addrs[i].ss_family && !is_loopback(&addrs[i]);
        snprintf(s->announced, sizeof(s->announced), "%s",
                 announce_public ? config->public_ip : ip);
        char desc[sizeof(s->desc)];
        snprintf(desc, sizeof(desc), addrs[i].ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
                 port);
        memcpy(s->desc, desc, sizeof(desc));
        snprintf(s->udp_desc, sizeof(s->udp_desc), "udp %s", desc);
        uint16_t tcp_port = config->tcp_port ? config->tcp_port : port;
        snprintf(s->tcp_desc, sizeof(s->tcp_desc),
                 addrs[i].ss_family == AF_INET6 ? "tcp [%s]:%u" : "tcp %s:%u", ip, tcp_port);
    }
    m->port = port;
    m->tcp_port = config->tcp_port ? config->tcp_port : port;
    return 0;
}

/* ICE-TCP on every address, on the port the UDP sockets took or the one configured; an
 * address whose TCP port is taken goes without (its UDP candidate stays). The listeners'
 * indexes are the sockets'. */
static void listen_tcp(struct cr_ice_mux *m, GMainContext *ctx,
                       const struct sockaddr_storage *addrs)
{
    m->tcp = cr_ice_tcp_new(ctx, &tcp_cb, m);
    for (size_t i = 0; i < m->n_socks; i++) {
        struct sockaddr_storage ss = addrs[i];
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons(m->tcp_port);
        else
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons(m->tcp_port);
        int index = cr_ice_tcp_listen(m->tcp, (const struct sockaddr *)&ss);
        if (index == (int)i) {
            m->socks[i].tcp = true;
            CR_INFO("ice", "ICE-TCP on %s", m->socks[i].tcp_desc + 4);
            continue;
        }
        CR_WARN("ice", "no ICE-TCP on %s: %s", m->socks[i].desc, strerror(errno));
        if (index < 0) /* keep the listeners' indexes the sockets' */
            break;
    }
}

struct cr_ice_mux *cr_ice_mux_new(GMainContext *ctx, const struct cr_ice_mux_config *config)
{
    struct sockaddr_storage addrs[CR_MUX_MAX_SOCKETS];
    size_t n = local_addresses(config->bind_ip, addrs);
    if (n == 0) {
        CR_ERROR("ice", "no usable local address for the media port (bind_ip %s)",
                 config->bind_ip ? config->bind_ip : "unset");
        return NULL;
    }
    struct cr_ice_mux *m = CR_NEW(struct cr_ice_mux);
    int tries = config->port ? 1 : BIND_TRIES;
    int r = -1;
    while (tries-- > 0 && (r = open_all(m, config, addrs, n)) != 0)
        close_sockets(m);
    if (r != 0) {
        CR_ERROR("ice", "cannot open the media port %u", config->port);
        free(m);
        return NULL;
    }
    m->by_ufrag = g_hash_table_new(g_str_hash, g_str_equal);
    m->by_addr = g_hash_table_new(key_hash, key_equal);
    m->poller = cr_udp_poller_ref(ctx);
    for (size_t i = 0; i < m->n_socks; i++) {
        struct mux_sock *s = &m->socks[i];
        s->rx = cr_udp_poller_add(m->poller, s->fd, i == 0 ? &first_socket : &other_socket, s);
        CR_INFO("ice", "media port %s (announced as %s)", s->desc, s->announced);
    }
    if (config->tcp)
        listen_tcp(m, ctx, addrs);
    m->flush = g_source_new(&flush_funcs, sizeof(struct flush_source));
    ((struct flush_source *)m->flush)->m = m;
    g_source_set_priority(m->flush, G_PRIORITY_HIGH); /* prepared first, every iteration */
    g_source_attach(m->flush, ctx);
    return m;
}

void cr_ice_mux_free(struct cr_ice_mux *m)
{
    if (!m)
        return;
    if (g_hash_table_size(m->by_ufrag))
        CR_WARN("ice", "media port closed with %u endpoints", g_hash_table_size(m->by_ufrag));
    g_source_destroy(m->flush);
    g_source_unref(m->flush);
    cr_ice_tcp_free(m->tcp);
    close_sockets(m);
    reap(m);
    g_hash_table_destroy(m->by_ufrag);
    g_hash_table_destroy(m->by_addr);
    cr_udp_poller_unref(m->poller);
    free(m);
}

uint16_t cr_ice_mux_port(const struct cr_ice_mux *m) { return m->port; }

uint16_t cr_ice_mux_tcp_port(const struct cr_ice_mux *m) { return m->tcp_port; }

size_t cr_ice_mux_n_sockets(const struct cr_ice_mux *m) { return m->n_socks; }

const char *cr_ice_mux_announced_ip(const struct cr_ice_mux *m, size_t i)
{
    return i < m->n_socks ? m->socks[i].announced : "";
}

bool cr_ice_mux_has_tcp(const struct cr_ice_mux *m, size_t i)
{
    return i < m->n_socks && m->socks[i].tcp;
}

const char *cr_ice_mux_sock_desc(const struct cr_ice_mux *m, unsigned sock)
{
    unsigned i = cr_mux_sock_address(sock);
    if (i >= m->n_socks)
        return "";
    return cr_mux_sock_is_tcp(sock) ? m->socks[i].tcp_desc : m->socks[i].udp_desc;
}

void cr_ice_mux_get_stats(const struct cr_ice_mux *m, struct cr_ice_mux_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->datagrams = m->datagrams;
    out->unknown = m->unknown;
    for (size_t i = 0; i < m->n_socks; i++) {
        struct cr_udp_batch_stats b;
        cr_udp_batch_get_stats(m->socks[i].tx, &b);
        out->sent += b.datagrams;
        out->send_calls += b.calls;
        out->send_dropped += b.dropped;
    }
    out->endpoints = g_hash_table_size(m->by_ufrag);
    out->addresses = g_hash_table_size(m->by_addr);
    if (m->tcp) {
        struct cr_ice_tcp_stats t;
        cr_ice_tcp_get_stats(m->tcp, &t);
        out->tcp_connections = t.connections;
        out->tcp_dropped = t.out_dropped;
    }
}
