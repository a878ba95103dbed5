/* Batched UDP sends on one socket (sendmmsg(2)): datagrams to any destinations are copied
 * into a batch and leave in one system call when the batch is full or flushed. The relay's
 * fan-out sends one packet to hundreds of subscribers in a row; on the shared media port
 * (net/ice_mux.h) they all leave through one socket, so one call carries up to
 * CR_UDP_BATCH of them. Order is kept: a datagram too large for a slot flushes what waits
 * and leaves on its own. */
#ifndef CR_NET_UDP_BATCH_H
#define CR_NET_UDP_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CR_UDP_BATCH 64        /* datagrams per sendmmsg */
#define CR_UDP_BATCH_SLOT 1536 /* bytes per queued datagram (our datagrams are ≤ 1300) */

struct cr_udp_batch_stats {
    uint64_t datagrams; /* handed to the kernel */
    uint64_t calls;     /* sendmmsg/sendto calls */
    uint64_t dropped;   /* refused by the kernel (buffer full, unreachable): counted, not retried */
};

struct cr_udp_batch;

/* A batch for fd (borrowed: the caller keeps it open while the batch lives). */
struct cr_udp_batch *cr_udp_batch_new(int fd);
/* Sends what waits, then frees. cr_udp_batch_free(NULL) does nothing. */
void cr_udp_batch_free(struct cr_udp_batch *b);

/* Queues one datagram to `to` (copied); sends the batch when it is full. */
void cr_udp_batch_add(struct cr_udp_batch *b, const uint8_t *buf, size_t len,
                      const struct sockaddr *to, socklen_t to_len);
/* Sends everything queued; returns how many datagrams the kernel refused. */
unsigned cr_udp_batch_flush(struct cr_udp_batch *b);
size_t cr_udp_batch_pending(const struct cr_udp_batch *b);
void cr_udp_batch_get_stats(const struct cr_udp_batch *b, struct cr_udp_batch_stats *out);

#endif
