/* The server's health and counters as JSON: GET /healthz and GET /api/v1/stats
 * (docs/protocol.md). The stats combine the relay's struct cr_relay_stats, the process's
 * CPU time (getrusage) and the signaling counters, for benchmarks and monitoring. */
#ifndef CR_SIGNALING_STATUS_H
#define CR_SIGNALING_STATUS_H

#include <jansson.h>

#include "core/context.h"

/* Sets *out to {"status":"ok","rooms":N,"peers":N}; returns the HTTP status (200, or 503
 * if the relay does not answer). */
int status_healthz(struct server *srv, json_t **out);
json_t *status_stats(struct server *srv);
/* One relay peer's quality as JSON (what it receives, loss, RTT, estimate), or NULL. */
json_t *status_peer(struct server *srv, uint64_t peer_id);
/* Sends each connected subscriber a "quality" event about what it receives. */
void status_send_quality(struct server *srv);

#endif
