/* One epoll set per GMainContext for the UDP sockets the relay reads itself: the context
 * sees a single GSource however many sockets are registered, so a wakeup costs
 * O(ready sockets), not O(peers). Ready sockets are drained with recvmmsg in batches.
 * Each registered socket also gets a coarse tick (for consent timers) from the same
 * GSource, so per-peer timers add no sources either. */
#ifndef CR_NET_UDP_POLLER_H
#define CR_NET_UDP_POLLER_H

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#define CR_UDP_POLLER_TICK_MS 100

struct cr_udp_poller;
struct cr_udp_reader;

struct cr_udp_reader_callbacks {
    /* One datagram from `from`. buf is writable and valid only during the call. The
     * callee may remove any reader, itself included, and free what it likes. */
    void (*on_datagram)(void *user, uint8_t *buf, size_t len, const struct sockaddr *from);
    /* About every CR_UDP_POLLER_TICK_MS while registered; same freedom as on_datagram. */
    void (*on_tick)(void *user, int64_t now_ms);
};

struct cr_udp_poller_stats {
    uint64_t wakeups;   /* dispatches of the poller's GSource */
    uint64_t batches;   /* recvmmsg calls that returned datagrams */
    uint64_t datagrams; /* delivered */
    uint64_t dropped;   /* truncated (larger than a slot) */
    uint64_t errors;    /* recvmmsg failures other than "nothing to read" */
};

/* The poller of ctx, created on first use (one per context, shared, reference counted).
 * All other calls must come from the thread that iterates ctx. */
struct cr_udp_poller *cr_udp_poller_ref(GMainContext *ctx);
void cr_udp_poller_unref(struct cr_udp_poller *p);

/* Starts reading fd (a non-blocking-safe UDP socket the caller keeps open until it
 * removes the reader). NULL if epoll refuses it. */
struct cr_udp_reader *cr_udp_poller_add(struct cr_udp_poller *p, int fd,
                                        const struct cr_udp_reader_callbacks *cb, void *user);
/* Stops reading; no callback for r comes after this. Safe inside any callback.
 * cr_udp_poller_remove(NULL) does nothing. */
void cr_udp_poller_remove(struct cr_udp_reader *r);

void cr_udp_poller_get_stats(const struct cr_udp_poller *p, struct cr_udp_poller_stats *out);

/* A context that no thread ever iterates: sources attached to it cost nothing and never
 * fire. Lives as long as the process. */
GMainContext *cr_udp_park_context(void);

#endif
