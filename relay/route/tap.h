/* A recording tap (docs/recording.md): a consumer whose sink sends a track's packets,
 * unencrypted, to the recorder on this machine (127.0.0.1:port). It reuses the consumer
 * unchanged — one SSRC, numbering continuous across layer switches and publisher
 * reconnects (RFC 3550 §5.1), the best layer the publisher sends (consumer_tick, no
 * estimator), keyframe requests through the producer's throttle — so the recorder sees
 * what a subscriber on a perfect link would. The room owns taps and binds them.
 *
 * The socket is non-blocking and connected. If the recorder is slow (its receive buffer
 * full) or gone (ECONNREFUSED), the packet is dropped and counted: the live lesson never
 * waits for the recording. */
#ifndef CR_ROUTE_TAP_H
#define CR_ROUTE_TAP_H

#include <stdint.h>

#include "classrelay/types.h"

struct consumer;
struct room;

struct tap {
    uint64_t id;
    struct room *room;            /* borrowed: the owner, for its own bookkeeping */
    struct consumer *consumer;    /* owned: connected from the start, payload type pt */
    int fd;                       /* owned */
    uint16_t port;                /* on 127.0.0.1 */
    uint64_t dropped;             /* packets the recorder could not take */
    struct cr_relay_stats *stats; /* borrowed: the relay's counters (rtp_out, bytes_out) */
};

/* A tap of a track of kind, not yet bound (room_bind); scratch: where packets are built
 * (CONSUMER_SCRATCH bytes). NULL if the socket cannot be made. */
struct tap *tap_new(uint64_t id, enum cr_kind kind, uint16_t port, uint8_t pt, uint8_t *scratch,
                    struct cr_relay_stats *stats);
/* The room unbinds its consumer first. tap_free(NULL) does nothing. */
void tap_free(struct tap *tap);
/* Periodic: follows the best layer the publisher sends. */
void tap_tick(struct tap *tap, int64_t now_ms);

#endif
