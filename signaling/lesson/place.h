/* Where a client of a lesson is served in a cluster of nodes (issue 14, docs/cluster.md
 * "Redirects"): a teacher on the lesson's origin (the node that holds its claim in the
 * directory, cluster/directory.h), a classroom on any node that has room. The front doors
 * (front/whip.c: 307; front/rpc.c: a "redirect" reply) ask here before they open anything.
 * With one node alone everything is served here. */
#ifndef CR_SIGNALING_PLACE_H
#define CR_SIGNALING_PLACE_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster/node.h" /* DIR_URL_MAX */
#include "core/context.h"
#include "lesson/registry.h"

/* Whether a client of room with role (publishing the lesson's main stream: a teacher;
 * anything else: a classroom, observer or player) goes to another node: true with that
 * node's URL (http(s)://HOST:PORT) in url, the redirect counted. A teacher claims the
 * lesson here (waiting at most DIR_CLAIM_WAIT_MS) unless another live node holds it; a
 * classroom goes elsewhere only when this node is full and another has room. */
bool place_elsewhere(struct server *srv, const char *room, enum reg_role role, char *url,
                     size_t cap);

/* The cascade's hook (lesson/cascade.c, to come): true, with the origin's URL, when room's
 * origin is another live node, so that a classroom served here needs the lesson's media
 * pulled from there. Until the cascade lands such a classroom is served here without the
 * teacher's media. */
bool place_origin(struct server *srv, const char *room, char *url, size_t cap);

/* Whether this node takes no new classrooms: max_peers reached or its busiest worker's CPU
 * over max_load (the relay's admission control, classrelay/types.h). Its peers and load in
 * *peers and *load_pct (may be NULL). */
bool place_full(struct server *srv, uint32_t *peers, uint32_t *load_pct);

#endif
