/* Recording taps: see tap.h. The sink writes each packet the consumer built, as plain RTP
 * (RFC 3550), with one send() on a connected UDP socket; nothing here encrypts or stamps
 * transport-wide sequence numbers (a tap negotiates no extensions). */
#include "route/tap.h"

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
#include "route/consumer.h"

#define TAP_SNDBUF (1 << 20) /* a keyframe burst of a 4 Mbit/s layer, and then some */

static int open_socket(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int sndbuf = TAP_SNDBUF;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_rtp(void *ud, uint8_t *buf, size_t len, const struct consumer_sent *sent)
{
    struct tap *tap = ud;
    if (send(tap->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len) {
        tap->stats->rtp_out++;
        tap->stats->bytes_out += len;
        return;
    }
    tap->dropped++;
    CR_LOG_RATE(CR_LOG_WARN, "tap", "port %u: recorder not taking packets (%s), %llu dropped",
                tap->port, strerror(errno), (unsigned long long)tap->dropped);
}

static void send_rtcp(void *ud, uint8_t *buf, size_t len)
{
    /* translated sender reports: the recorder times by RTP timestamps alone */
}

static void keyframe_wanted(void *ud, struct producer *p, int layer, int64_t now_ms)
{
    producer_request_keyframe(p, layer, now_ms);
}

struct tap *tap_new(uint64_t id, enum cr_kind kind, uint16_t port, uint8_t pt, uint8_t *scratch,
                    struct cr_relay_stats *stats)
{
    int fd = open_socket(port);
    if (fd < 0)
        return NULL;
    struct tap *tap = CR_NEW(struct tap);
    tap->id = id;
    tap->fd = fd;
    tap->port = port;
    tap->stats = stats;
    struct consumer_sink sink = {
        .ud = tap,
        .scratch = scratch,
        .stats = stats,
        .send_rtp = send_rtp,
        .send_rtcp = send_rtcp,
        .keyframe_wanted = keyframe_wanted,
    };
    tap->consumer = consumer_new(kind, "tap", &sink);
    tap->consumer->pt = pt;
    consumer_set_connected(tap->consumer, cr_now_ms()); /* nothing to negotiate */
    return tap;
}

void tap_free(struct tap *tap)
{
    if (!tap)
        return;
    if (tap->dropped)
        CR_INFO("tap", "port %u: %llu packets dropped in all", tap->port,
                (unsigned long long)tap->dropped);
    consumer_free(tap->consumer);
    close(tap->fd);
    free(tap);
}

void tap_tick(struct tap *tap, int64_t now_ms) { consumer_tick(tap->consumer, now_ms); }
