/* GET /metrics: the server's figures for Prometheus (docs/metrics.md lists every metric),
 * from the same sources as /api/v1/stats (the relay's struct cr_relay_stats, the signaling
 * counters, the registry, the recording controller), written by front/prom_text.c.
 *
 * Closed unless allowed: open on the metrics_listen address (srv->metrics_vhost), else only
 * to a request carrying "Authorization: Bearer <metrics_token>" (RFC 6750 §2.1) when the
 * token is set, compared in constant time; anything else is answered 401, counted like
 * every error. */
#ifndef CR_SIGNALING_METRICS_H
#define CR_SIGNALING_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "core/context.h"
#include "transport/http.h"

/* Whether the request may read /metrics: on the metrics vhost, or with the token. The
 * Authorization header's value is authorization (NULL: none). */
bool metrics_allowed(const struct server *srv, const struct lws_vhost *vhost,
                     const char *authorization);
/* The exposition text (the caller frees it), its length in *len. */
char *metrics_text(struct server *srv, size_t *len);
/* Answers GET or HEAD /metrics (or 401, or 405 for another method). */
void metrics_handle(struct server *srv, struct lws *wsi, struct http_req *req);

#endif
