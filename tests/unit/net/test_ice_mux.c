/* Tests the shared media port below ICE: relay/net/ice_mux.c (which endpoint a datagram
 * belongs to: a STUN Binding request by the ufrag in its USERNAME, everything else by a
 * source address an endpoint bound; unknown senders dropped and counted; endpoints freed
 * inside callbacks; ticks) and relay/net/udp_batch.c (sendmmsg batches: order kept, a
 * datagram too large for a slot, a refused datagram dropped and counted while the rest go),
 * and ICE-TCP on the same port or one of its own (relay/net/ice_tcp.c: framed checks, answers
 * and packets).
 * Real sockets on loopback; the loop is iterated against a deadline, nothing sleeps. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/ice_mux.h"
#include "net/udp_batch.h"
#include "test.h"
#include "wire/stun.h"

struct ep {
    struct cr_mux_endpoint *e;
    int got, ticks;
    unsigned sock;
    struct sockaddr_in from;
    uint8_t first;
    bool bind_on_recv, free_on_recv;
};

static void ep_datagram(void *user, unsigned sock, uint8_t *buf, size_t len,
                        const struct sockaddr *from)
{
    struct ep *p = user;
    p->got++;
    p->sock = sock;
    p->first = len ? buf[0] : 0;
    memcpy(&p->from, from, sizeof(p->from));
    if (p->bind_on_recv)
        cr_mux_endpoint_bind(p->e, sock, from);
    if (p->free_on_recv) {
        cr_mux_endpoint_free(p->e);
        p->e = NULL;
    }
}

static void ep_tick(void *user, int64_t now_ms)
{
    (void)now_ms;
    ((struct ep *)user)->ticks++;
}

static const struct cr_mux_endpoint_callbacks ep_cb = {.on_datagram = ep_datagram,
                                                       .on_tick = ep_tick};

static int client_socket(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    return fd;
}

static void send_to_port(int fd, uint16_t port, const uint8_t *buf, size_t len)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (long long)len);
}

/* Iterates ctx until *count moves past before or ms pass. */
static void wait_for(GMainContext *ctx, const int *count, int before, int ms)
{
    int64_t end = cr_now_ms() + ms;
    while (*count == before && cr_now_ms() < end)
        g_main_context_iteration(ctx, FALSE);
}

static size_t check_named(uint8_t *buf, size_t cap, const char *user)
{
    static const uint8_t txid[12] = "mux-test-tx";
    struct stun_writer w;
    stun_writer_init(&w, buf, cap, STUN_METHOD_BINDING, STUN_REQUEST, txid);
    stun_put_attr(&w, STUN_ATTR_USERNAME, user, strlen(user));
    stun_put_fingerprint(&w);
    int n = stun_finish(&w);
    return n > 0 ? (size_t)n : 0;
}

static void test_demux(GMainContext *ctx)
{
    struct cr_ice_mux_config mc = {.bind_ip = "127.0.0.1"};
    struct cr_ice_mux *m = cr_ice_mux_new(ctx, &mc);
    CHECK(m != NULL);
    if (!m)
        return;
    uint16_t port = cr_ice_mux_port(m);
    CHECK(port != 0 && cr_ice_mux_n_sockets(m) == 1);
    CHECK_STR(cr_ice_mux_announced_ip(m, 0), "127.0.0.1");
    struct ep a = {0}, b = {0};
    a.e = cr_mux_endpoint_new(m, "ufragA", &ep_cb, &a);
    b.e = cr_mux_endpoint_new(m, "ufragB", &ep_cb, &b);
    CHECK(a.e && b.e);
    CHECK(cr_mux_endpoint_new(m, "ufragA", &ep_cb, &b) == NULL); /* taken */
    int x = client_socket(), y = client_socket();
    uint8_t buf[256], dtls[] = {22, 0xfe, 0xfd, 0, 0};
    struct cr_ice_mux_stats st;

    /* unknown sender, not a check: dropped and counted */
    send_to_port(x, port, dtls, sizeof(dtls));
    int unknown_before = 0;
    wait_for(ctx, &unknown_before, 0, 100);
    cr_ice_mux_get_stats(m, &st);
    CHECK_EQ(st.unknown, 1);
    CHECK_EQ(a.got + b.got, 0);

    /* a check names B by its ufrag; B binds the address; then DTLS from it is B's */
    size_t n = check_named(buf, sizeof(buf), "ufragB:remote");
    b.bind_on_recv = true;
    send_to_port(x, port, buf, n);
    wait_for(ctx, &b.got, 0, 2000);
    CHECK_EQ(b.got, 1);
    CHECK_EQ(a.got, 0);
    CHECK_EQ(b.first, 0); /* STUN */
    b.bind_on_recv = false;
    send_to_port(x, port, dtls, sizeof(dtls));
    wait_for(ctx, &b.got, 1, 2000);
    CHECK_EQ(b.got, 2);
    CHECK_EQ(b.first, 22);
    /* the same from y, which nobody bound: dropped */
    send_to_port(y, port, dtls, sizeof(dtls));
    n = check_named(buf, sizeof(buf), "nobody:remote");
    send_to_port(y, port, buf, n); /* a check naming no endpoint: dropped */
    int none = 0;
    wait_for(ctx, &none, 0, 100);
    cr_ice_mux_get_stats(m, &st);
    CHECK_EQ(st.unknown, 3);
    CHECK_EQ(b.got, 2);

    /* the address moves to A when A binds it */
    cr_mux_endpoint_bind(a.e, b.sock, (struct sockaddr *)&b.from);
    send_to_port(x, port, dtls, sizeof(dtls));
    wait_for(ctx, &a.got, 0, 2000);
    CHECK_EQ(a.got, 1);
    CHECK_EQ(b.got, 2);

    /* an endpoint keeps the addresses checked most recently: x, bound again midway through
     * twenty others, stays; sixteen more without it push it out */
    struct sockaddr_in fake = {.sin_family = AF_INET};
    fake.sin_addr.s_addr = htonl(0x7f000002);
    for (int i = 0; i < 20; i++) {
        fake.sin_port = htons((uint16_t)(1000 + i));
        cr_mux_endpoint_bind(a.e, 0, (struct sockaddr *)&fake);
        if (i == 10)
            cr_mux_endpoint_bind(a.e, a.sock, (struct sockaddr *)&a.from);
    }
    send_to_port(x, port, dtls, sizeof(dtls));
    wait_for(ctx, &a.got, 1, 2000);
    CHECK_EQ(a.got, 2);
    cr_ice_mux_get_stats(m, &st);
    CHECK_EQ(st.addresses, CR_MUX_ADDRS);
    for (int i = 0; i < CR_MUX_ADDRS; i++) {
        fake.sin_port = htons((uint16_t)(2000 + i));
        cr_mux_endpoint_bind(a.e, 0, (struct sockaddr *)&fake);
    }
    send_to_port(x, port, dtls, sizeof(dtls));
    wait_for(ctx, &none, 0, 100);
    cr_ice_mux_get_stats(m, &st);
    CHECK_EQ(st.unknown, 4);
    CHECK_EQ(a.got, 2);
    cr_mux_endpoint_bind(a.e, a.sock, (struct sockaddr *)&a.from);

    /* sends go out through the batch before the loop sleeps */
    cr_mux_endpoint_send(a.e, a.sock, (const uint8_t *)"\x80reply", 6, (struct sockaddr *)&a.from);
    ssize_t r = -1;
    int64_t end = cr_now_ms() + 2000;
    while (r <= 0 && cr_now_ms() < end) {
        g_main_context_iteration(ctx, FALSE);
        r = recv(x, buf, sizeof(buf), MSG_DONTWAIT);
    }
    CHECK(r == 6 && memcmp(buf, "\x80reply", 6) == 0);

    /* ticks reach every endpoint; an endpoint freed inside its callback gets no more */
    wait_for(ctx, &a.ticks, 0, 1000);
    CHECK(a.ticks >= 1 && b.ticks >= 1);
    a.free_on_recv = true;
    for (int i = 0; i < 3; i++)
        send_to_port(x, port, dtls, sizeof(dtls));
    wait_for(ctx, &a.got, 2, 2000);
    int after = 0;
    wait_for(ctx, &after, 0, 200);
    CHECK_EQ(a.got, 3);
    CHECK(a.e == NULL);
    cr_ice_mux_get_stats(m, &st);
    CHECK_EQ(st.endpoints, 1);
    CHECK_EQ(st.unknown, 6);                              /* the two datagrams after A went */
    CHECK(cr_mux_endpoint_set_ufrag(b.e, "ufragA") == 0); /* A's ufrag is free again */
    cr_mux_endpoint_free(b.e);
    cr_ice_mux_get_stats(m, &st);
    CHECK_EQ(st.endpoints + st.addresses, 0);
    cr_ice_mux_free(m);
    close(x);
    close(y);

    struct cr_ice_mux_config bad = {.bind_ip = "203.0.113.77"}; /* not ours */
    CHECK(cr_ice_mux_new(ctx, &bad) == NULL);
}

static void test_batch(void)
{
    int rx = client_socket(), tx = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to;
    socklen_t len = sizeof(to);
    getsockname(rx, (struct sockaddr *)&to, &len);
    struct cr_udp_batch *b = cr_udp_batch_new(tx);
    uint8_t buf[4000];
    struct sockaddr_in6 wrong = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
    for (int i = 0; i < 100; i++) {
        memset(buf, i, sizeof(buf));
        size_t n = i == 70 ? 3000 : 100 + (size_t)i; /* 70: larger than a slot */
        if (i == 30) /* refused (an IPv6 address on an IPv4 socket) */
            cr_udp_batch_add(b, buf, 10, (struct sockaddr *)&wrong, sizeof(wrong));
        cr_udp_batch_add(b, buf, n, (struct sockaddr *)&to, len);
    }
    CHECK(cr_udp_batch_pending(b) > 0);
    CHECK_EQ(cr_udp_batch_flush(b), 0);
    struct cr_udp_batch_stats st;
    cr_udp_batch_get_stats(b, &st);
    CHECK_EQ(st.datagrams, 100);
    CHECK_EQ(st.dropped, 1);
    CHECK(st.calls <= 6);
    for (int i = 0; i < 100; i++) { /* all there, in order */
        ssize_t n = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
        CHECK_EQ(n, i == 70 ? 3000 : 100 + i);
        CHECK_EQ(buf[0], i);
    }
    cr_udp_batch_free(b);
    cr_udp_batch_free(NULL);
    close(rx);
    close(tx);
}

/* A TCP client of the media port on loopback. */
static int tcp_client(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
    return fd;
}

static void tcp_send_frame(int fd, const uint8_t *buf, size_t len, size_t split)
{
    uint8_t framed[300] = {(uint8_t)(len >> 8), (uint8_t)len};
    memcpy(framed + 2, buf, len);
    CHECK_EQ(write(fd, framed, split), (long long)split); /* a frame in two pieces */
    CHECK_EQ(write(fd, framed + split, len + 2 - split), (long long)(len + 2 - split));
}

/* Reads from fd while iterating ctx until want bytes came or ms passed. */
static size_t tcp_read(GMainContext *ctx, int fd, uint8_t *out, size_t want, int ms)
{
    size_t got = 0;
    int64_t end = cr_now_ms() + ms;
    while (got < want && cr_now_ms() < end) {
        g_main_context_iteration(ctx, FALSE);
        ssize_t n = recv(fd, out + got, want - got, MSG_DONTWAIT);
        if (n == 0)
            break;
        if (n > 0)
            got += (size_t)n;
    }
    return got;
}

/* ICE-TCP on the same port (RFC 6544 passive): a framed check over a connection names the
 * endpoint, which binds the connection and answers on it, framed (RFC 4571); frames split
 * across reads arrive whole; a frame longer than any packet closes the connection. */
static void test_tcp(GMainContext *ctx)
{
    struct cr_ice_mux_config mc = {.bind_ip = "127.0.0.1", .tcp = true};
    struct cr_ice_mux *m = cr_ice_mux_new(ctx, &mc);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(cr_ice_mux_has_tcp(m, 0));
    uint16_t port = cr_ice_mux_port(m);
    struct ep a = {.bind_on_recv = true};
    a.e = cr_mux_endpoint_new(m, "ufragT", &ep_cb, &a);
    int fd = tcp_client(port);
    uint8_t buf[256], dtls[] = {22, 0xfe, 0xfd, 0, 0}, got[16];
    size_t n = check_named(buf, sizeof(buf), "ufragT:remote");
    tcp_send_frame(fd, buf, n, 1);
    wait_for(ctx, &a.got, 0, 2000);
    CHECK_EQ(a.got, 1);
    CHECK(cr_mux_sock_is_tcp(a.sock));
    CHECK(strncmp(cr_ice_mux_sock_desc(m, a.sock), "tcp 127.0.0.1:", 14) == 0);
    a.bind_on_recv = false;
    tcp_send_frame(fd, dtls, sizeof(dtls), 4); /* not STUN: by the bound connection */
    wait_for(ctx, &a.got, 1, 2000);
    CHECK_EQ(a.got, 2);
    CHECK_EQ(a.first, 22);
    cr_mux_endpoint_send(a.e, a.sock, (const uint8_t *)"hello", 5, (struct sockaddr *)&a.from);
    cr_ice_mux_flush(m);
    CHECK_EQ(tcp_read(ctx, fd, got, 7, 2000), 7);
    CHECK(memcmp(got, "\0\5hello", 7) == 0);
    struct cr_ice_mux_stats st;
    cr_ice_mux_get_stats(m, &st);
    CHECK_EQ(st.tcp_connections, 1);
    const uint8_t huge[2] = {0xff, 0xff}; /* out of step: closed */
    CHECK_EQ(write(fd, huge, 2), 2);
    CHECK_EQ(tcp_read(ctx, fd, got, 1, 2000), 0);
    cr_ice_mux_get_stats(m, &st);
    CHECK_EQ(st.tcp_connections, 0);
    cr_mux_endpoint_send(a.e, a.sock, dtls, sizeof(dtls), (struct sockaddr *)&a.from);
    cr_ice_mux_get_stats(m, &st);
    CHECK_EQ(st.tcp_dropped, 1); /* its connection is gone */
    close(fd);
    cr_mux_endpoint_free(a.e);
    cr_ice_mux_free(m);
}

/* A free TCP port on loopback (the kernel's pick, released). */
static uint16_t free_tcp_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ICE-TCP on a port of its own (ice_tcp_port: 443 where a school lets only that out): the
 * UDP port stays, connections come to the other one and bind like any. */
static void test_tcp_port(GMainContext *ctx)
{
    uint16_t tcp_port = free_tcp_port();
    struct cr_ice_mux_config mc = {.bind_ip = "127.0.0.1", .tcp = true, .tcp_port = tcp_port};
    struct cr_ice_mux *m = cr_ice_mux_new(ctx, &mc);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(cr_ice_mux_has_tcp(m, 0));
    CHECK_EQ(cr_ice_mux_tcp_port(m), tcp_port);
    CHECK(cr_ice_mux_port(m) != tcp_port);
    struct ep a = {.bind_on_recv = true};
    a.e = cr_mux_endpoint_new(m, "ufragP", &ep_cb, &a);
    int fd = tcp_client(tcp_port);
    uint8_t buf[256];
    size_t n = check_named(buf, sizeof(buf), "ufragP:remote");
    tcp_send_frame(fd, buf, n, 1);
    wait_for(ctx, &a.got, 0, 2000);
    CHECK_EQ(a.got, 1);
    char want[32];
    snprintf(want, sizeof(want), "tcp 127.0.0.1:%u", tcp_port);
    CHECK_STR(cr_ice_mux_sock_desc(m, a.sock), want);
    close(fd);
    cr_mux_endpoint_free(a.e);
    cr_ice_mux_free(m);
}

int main(void)
{
    GMainContext *ctx = g_main_context_new();
    test_batch();
    test_demux(ctx);
    test_tcp(ctx);
    test_tcp_port(ctx);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
    return test_report();
}
