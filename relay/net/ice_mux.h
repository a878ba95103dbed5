/* The shared media port: every peer of a worker on one UDP port (RFC 8445 §5.1.1.1 host
 * candidates; what school firewalls ask for, one port to open). One socket per local
 * address, all bound to the same port, read through the context's epoll set
 * (net/udp_poller.h) and written through sendmmsg batches (net/udp_batch.h) that leave
 * before the loop sleeps again.
 *
 * Which peer ("endpoint") a datagram belongs to: a STUN Binding request names it, by the
 * ufrag at the head of its USERNAME ("<our ufrag>:<theirs>", RFC 8445 §7.2.2), wherever it
 * comes from; anything else belongs to the endpoint that bound its source address after an
 * authenticated check from there, and from an address nobody bound it is dropped and
 * counted. Authentication, answers and selection are the endpoint's (net/ice_lite.h).
 * With tcp set, each address also listens for ICE-TCP on the same port number
 * (net/ice_tcp.h); a connection is a "socket" of its own for the endpoints (CR_MUX_TCP in
 * its number), its frames demultiplexed exactly like datagrams.
 * Everything runs on the thread that iterates the context. */
#ifndef CR_NET_ICE_MUX_H
#define CR_NET_ICE_MUX_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CR_MUX_MAX_SOCKETS 8 /* local addresses served */
#define CR_MUX_ADDRS                                                                               \
    16 /* remote addresses bound per endpoint (the least recently                                  \
          checked one goes when a new one comes) */
#define CR_MUX_UFRAG_MAX 64
/* A socket number with this bit is an ICE-TCP connection: (connection << 3) | listener. */
#define CR_MUX_TCP (1u << 31)
static inline bool cr_mux_sock_is_tcp(unsigned sock) { return (sock & CR_MUX_TCP) != 0; }
/* The local address (the UDP socket's, or the TCP listener's) a socket number is on. */
static inline unsigned cr_mux_sock_address(unsigned sock)
{
    return cr_mux_sock_is_tcp(sock) ? sock & 7u : sock;
}

struct cr_ice_mux_config {
    const char *bind_ip;   /* serve only this local address; NULL: every local address */
    const char *public_ip; /* announced for non-loopback addresses of its family; or NULL */
    uint16_t port;         /* 0: any free port (the same on every address) */
    bool tcp;              /* also ICE-TCP, passive, on the same port number */
    uint16_t tcp_port;     /* ... or on this one (443 where a school lets only it out); 0: port */
};

struct cr_mux_endpoint_callbacks {
    /* One datagram on socket `sock` from `from`; buf is writable and valid during the call.
     * The callee may free any endpoint, itself included. */
    void (*on_datagram)(void *user, unsigned sock, uint8_t *buf, size_t len,
                        const struct sockaddr *from);
    /* About every 100 ms (udp_poller's tick); same freedom. */
    void (*on_tick)(void *user, int64_t now_ms);
};

struct cr_ice_mux_stats {
    uint64_t datagrams;    /* delivered to an endpoint */
    uint64_t unknown;      /* dropped: from an unbound address and not a check naming an endpoint */
    uint64_t sent;         /* datagrams handed to the kernel */
    uint64_t send_calls;   /* sendmmsg/sendto calls that carried them */
    uint64_t send_dropped; /* refused by the kernel */
    uint32_t endpoints, addresses;
    uint32_t tcp_connections; /* ICE-TCP connections open now */
    uint64_t tcp_dropped;     /* packets dropped: a connection's queue was full, or it went */
};

struct cr_ice_mux;
struct cr_mux_endpoint;

/* Binds the sockets; NULL (with a logged reason) if an address or the port is unusable. */
struct cr_ice_mux *cr_ice_mux_new(GMainContext *ctx, const struct cr_ice_mux_config *config);
/* Sends what waits and closes the sockets; every endpoint must be freed first. */
void cr_ice_mux_free(struct cr_ice_mux *m);

uint16_t cr_ice_mux_port(const struct cr_ice_mux *m);
/* The port ICE-TCP listens on (the UDP port unless tcp_port was given). */
uint16_t cr_ice_mux_tcp_port(const struct cr_ice_mux *m);
size_t cr_ice_mux_n_sockets(const struct cr_ice_mux *m);
/* The address socket i announces in candidates: public_ip where it applies, else its own. */
const char *cr_ice_mux_announced_ip(const struct cr_ice_mux *m, size_t i);
/* Whether address i also takes ICE-TCP connections on the port. */
bool cr_ice_mux_has_tcp(const struct cr_ice_mux *m, size_t i);
/* "udp 127.0.0.1:40000", "tcp 127.0.0.1:40000": where socket number sock is */
const char *cr_ice_mux_sock_desc(const struct cr_ice_mux *m, unsigned sock);
void cr_ice_mux_get_stats(const struct cr_ice_mux *m, struct cr_ice_mux_stats *out);
/* One datagram as if read from socket sock (what the socket reader calls; also for fuzzing:
 * tests/fuzz/fuzz_net_ice_mux.c). */
void cr_ice_mux_input(struct cr_ice_mux *m, unsigned sock, uint8_t *buf, size_t len,
                      const struct sockaddr *from);
/* Sends every queued datagram now (the loop does it before it sleeps). */
void cr_ice_mux_flush(struct cr_ice_mux *m);

/* An endpoint checks reach by ufrag; NULL if the ufrag is in use or too long. */
struct cr_mux_endpoint *cr_mux_endpoint_new(struct cr_ice_mux *m, const char *ufrag,
                                            const struct cr_mux_endpoint_callbacks *cb, void *user);
/* No callback for e after this; safe inside any callback. NULL does nothing. */
void cr_mux_endpoint_free(struct cr_mux_endpoint *e);
/* An ICE restart's new ufrag; -1 (keeping the old one) if it is in use. */
int cr_mux_endpoint_set_ufrag(struct cr_mux_endpoint *e, const char *ufrag);
/* Datagrams from `from` on socket `sock` go to e from now on (taken from another endpoint
 * if one had it). Binding an address again marks it recently checked: a browser checks
 * every pair it knows, again and again, and the pair it sends on is among them. */
void cr_mux_endpoint_bind(struct cr_mux_endpoint *e, unsigned sock, const struct sockaddr *from);
/* Queues one datagram to `to` through socket `sock` (on an ICE-TCP connection: one frame;
 * `to` is its remote address). */
void cr_mux_endpoint_send(struct cr_mux_endpoint *e, unsigned sock, const uint8_t *buf, size_t len,
                          const struct sockaddr *to);

#endif
