/* ICE-TCP on the shared media port (net/ice_mux.h): passive host candidates (RFC 6544
 * §4.5, tcptype passive) on the same port number as the UDP sockets, for classrooms whose
 * firewall lets no UDP out. The browser connects (it is the active side); each connection
 * carries RFC 4571 frames (net/tcp_frame.h), each frame what a datagram would be: STUN,
 * DTLS, SRTP. Which peer a connection belongs to is the mux's business, as for a
 * datagram: here a connection is a number and its remote address.
 *
 * Sends are framed into the connection's queue and written once per loop iteration
 * (cr_ice_tcp_flush, from the mux's prepare hook) or as the socket drains; a connection
 * whose queue is full (a classroom's congested TCP path) drops whole packets, counted, and
 * the quality loop sees the loss as it would on UDP. Connections are closed on a read
 * error, a frame out of step, or 30 s without a byte; past CR_ICE_TCP_MAX connections new
 * ones are refused at once. Everything runs on the thread that iterates the context. */
#ifndef CR_NET_ICE_TCP_H
#define CR_NET_ICE_TCP_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CR_ICE_TCP_MAX 2048           /* connections per worker */
#define CR_ICE_TCP_QUEUE (512u << 10) /* bytes queued per connection before it drops */
#define CR_ICE_TCP_IDLE_MS 30000      /* RFC 7675 consent alone sends every 5 s */

struct cr_ice_tcp_callbacks {
    /* One frame on connection conn (accepted on listener `listener`) from `from`; buf is
     * writable and valid during the call. */
    void (*on_packet)(void *user, uint32_t conn, unsigned listener, uint8_t *buf, size_t len,
                      const struct sockaddr *from);
};

struct cr_ice_tcp_stats {
    uint64_t accepted, refused, closed; /* connections */
    uint64_t packets_in, packets_out;
    uint64_t out_dropped; /* packets dropped: the connection's queue was full, or it closed */
    uint32_t connections; /* open now */
};

struct cr_ice_tcp;

struct cr_ice_tcp *cr_ice_tcp_new(GMainContext *ctx, const struct cr_ice_tcp_callbacks *cb,
                                  void *user);
/* Closes every connection and listener. cr_ice_tcp_free(NULL) does nothing. */
void cr_ice_tcp_free(struct cr_ice_tcp *t);
/* Listens on addr (its port included); the listener's index, or -1 with errno. */
int cr_ice_tcp_listen(struct cr_ice_tcp *t, const struct sockaddr *addr);
/* Queues one packet, framed; -1 (counted) when the connection is gone or its queue full. */
int cr_ice_tcp_send(struct cr_ice_tcp *t, uint32_t conn, const uint8_t *buf, size_t len);
/* Writes what every connection has queued, as far as the kernel takes it now. */
void cr_ice_tcp_flush(struct cr_ice_tcp *t);
void cr_ice_tcp_get_stats(const struct cr_ice_tcp *t, struct cr_ice_tcp_stats *out);

#endif
