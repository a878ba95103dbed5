/* Batched UDP sends with sendmmsg(2); see udp_batch.h. A datagram the kernel refuses
 * (ENOBUFS, EAGAIN on a full send buffer, ECONNREFUSED from an earlier ICMP error) is
 * dropped and counted, as UDP would lose it anyway; the rest of the batch still goes. */
#include "net/udp_batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"

struct cr_udp_batch {
    int fd; /* borrowed */
    unsigned n;
    struct cr_udp_batch_stats stats;
    struct mmsghdr msgs[CR_UDP_BATCH];
    struct iovec iov[CR_UDP_BATCH];
    struct sockaddr_storage to[CR_UDP_BATCH];
    uint8_t slots[CR_UDP_BATCH][CR_UDP_BATCH_SLOT];
};

struct cr_udp_batch *cr_udp_batch_new(int fd)
{
    struct cr_udp_batch *b = CR_NEW(struct cr_udp_batch);
    b->fd = fd;
    for (unsigned i = 0; i < CR_UDP_BATCH; i++) {
        b->iov[i].iov_base = b->slots[i];
        b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
        b->msgs[i].msg_hdr.msg_iovlen = 1;
        b->msgs[i].msg_hdr.msg_name = &b->to[i];
    }
    return b;
}

void cr_udp_batch_free(struct cr_udp_batch *b)
{
    if (!b)
        return;
    cr_udp_batch_flush(b);
    free(b);
}

static void refused(struct cr_udp_batch *b, int err)
{
    b->stats.dropped++;
    CR_LOG_RATE(CR_LOG_WARN, "udp", "send on fd %d: %s", b->fd, strerror(err));
}

unsigned cr_udp_batch_flush(struct cr_udp_batch *b)
{
    uint64_t before = b->stats.dropped;
    unsigned i = 0;
    while (i < b->n) {
        int n = sendmmsg(b->fd, b->msgs + i, b->n - i, MSG_DONTWAIT);
        b->stats.calls++;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) { /* the datagram at i was refused: drop it, go on with the next */
            refused(b, errno);
            i++;
            continue;
        }
        b->stats.datagrams += (unsigned)n;
        i += (unsigned)n;
    }
    b->n = 0;
    return (unsigned)(b->stats.dropped - before);
}

static void send_one(struct cr_udp_batch *b, const uint8_t *buf, size_t len,
                     const struct sockaddr *to, socklen_t to_len)
{
    ssize_t n;
    do
        n = sendto(b->fd, buf, len, MSG_DONTWAIT, to, to_len);
    while (n < 0 && errno == EINTR);
    b->stats.calls++;
    if (n == (ssize_t)len)
        b->stats.datagrams++;
    else
        refused(b, n < 0 ? errno : EMSGSIZE);
}

void cr_udp_batch_add(struct cr_udp_batch *b, const uint8_t *buf, size_t len,
                      const struct sockaddr *to, socklen_t to_len)
{
    if (len > CR_UDP_BATCH_SLOT || to_len > sizeof(struct sockaddr_storage)) {
        cr_udp_batch_flush(b); /* keeps the order */
        send_one(b, buf, len, to, to_len);
        return;
    }
    unsigned i = b->n++;
    memcpy(b->slots[i], buf, len);
    b->iov[i].iov_len = len;
    memcpy(&b->to[i], to, to_len);
    b->msgs[i].msg_hdr.msg_namelen = to_len;
    if (b->n == CR_UDP_BATCH)
        cr_udp_batch_flush(b);
}

size_t cr_udp_batch_pending(const struct cr_udp_batch *b) { return b->n; }

void cr_udp_batch_get_stats(const struct cr_udp_batch *b, struct cr_udp_batch_stats *out)
{
    *out = b->stats;
}
