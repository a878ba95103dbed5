/* Recording taps (docs/recording.md): a peer with no transport whose one consumer sends a
 * track's packets, unencrypted, to the recorder on this machine. It reuses the consumer
 * unchanged — one SSRC, numbering continuous across layer switches and publisher
 * reconnects, the best layer the publisher sends (consumer_tick, no estimator), keyframe
 * requests through the producer's throttle — so the recorder sees what a subscriber on a
 * perfect link would.
 *
 * The socket is non-blocking and connected to 127.0.0.1:port. If the recorder is slow
 * (its receive buffer full) or gone (ECONNREFUSED), the packet is dropped and counted:
 * the live lesson never waits for the recording. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "consumer.h"
#include "peer.h"
#include "producer.h"
#include "room.h"
#include "worker.h"

#define TAP_SNDBUF (1 << 20) /* a keyframe burst of a 4 Mbit/s layer, and then some */

struct tap {
    int fd;           /* owned */
    uint16_t port;    /* on 127.0.0.1 */
    uint64_t dropped; /* packets the recorder could not take */
};

static struct tap *tap_open(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    int sndbuf = TAP_SNDBUF;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return NULL;
    }
    struct tap *tap = CR_NEW(struct tap);
    tap->fd = fd;
    tap->port = port;
    return tap;
}

void tap_free(struct tap *tap)
{
    if (!tap)
        return;
    if (tap->dropped)
        CR_INFO("tap", "port %u: %llu packets dropped in all", tap->port,
                (unsigned long long)tap->dropped);
    close(tap->fd);
    free(tap);
}

int tap_send(struct tap *tap, const uint8_t *buf, size_t len)
{
    if (send(tap->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len)
        return 0;
    tap->dropped++;
    CR_LOG_RATE(CR_LOG_WARN, "tap", "port %u: recorder not taking packets (%s), %llu dropped",
                tap->port, strerror(errno), (unsigned long long)tap->dropped);
    return -1;
}

struct peer *peer_new_tap(struct room *room, uint64_t id, struct producer *producer, uint16_t port,
                          uint8_t pt)
{
    struct tap *tap = tap_open(port);
    if (!tap)
        return NULL;
    struct peer *peer = peer_alloc(room, id);
    peer->tap = tap;
    peer->state = CR_PEER_CONNECTED; /* nothing to negotiate; no event: nobody waits */
    struct mline *m = &peer->mlines[peer->n_mlines++];
    snprintf(m->mid, sizeof m->mid, "tap");
    m->kind = producer->kind;
    m->role = MLINE_SEND;
    m->consumer = consumer_new(peer, producer->kind, m->mid);
    m->consumer->pt = pt;
    consumer_bind(m->consumer, producer, cr_now_ms()); /* asks for a keyframe */
    CR_INFO("tap", "peer %llu records track %llu to port %u", (unsigned long long)id,
            (unsigned long long)producer->id, port);
    return peer;
}
