/* The origin's book of other nodes' classrooms (docs/cluster.md, "Classrooms and the stage
 * across nodes"): an edge that pulls one of this node's lessons reports its own classrooms of
 * it every second and on change (edge_report.h); each becomes a reg_resource of the room with
 * its global id ("<node prefix>.<id>"), role classroom and node set, listed to the room like a
 * WHIP classroom (participant_joined / left, GET /api/v1/rooms/<room>, the patrol list), its
 * hand in the room's queue. The teacher calls it on stage like any classroom; lesson/cascade.c
 * then pulls its media from its node into this very resource. An edge's classrooms are
 * forgotten when it reports them gone or stops reporting (EDGES_FORGET_MS).
 *
 * The answer to a report is the stage as the origin holds it, in global ids, and the
 * publishers the edge should have linked (its own classrooms left out). */
#ifndef CR_SIGNALING_EDGES_H
#define CR_SIGNALING_EDGES_H

#include <jansson.h>
#include <stdint.h>

#include "core/context.h"
#include "lesson/edge_report.h"

#define EDGES_FORGET_MS 5000

/* node's report for room applied at now_ms (monotonic); the answer:
 * {"sources":[{"source","role"}],"stage":{"max","on","hands","muted"}} (new reference). room
 * may close meanwhile (the edge's last classroom left it): the answer is then empty. */
json_t *edges_report(struct server *srv, struct reg_room *room, const char *node,
                     const struct edge_report *rep, int64_t now_ms);
/* Once a second: classrooms of nodes that stopped reporting are forgotten. */
void edges_tick(struct server *srv, int64_t now_ms);
/* room's stage with this node's own ids made global (edge_report.h); new reference. */
json_t *edges_stage_json(struct server *srv, const struct reg_room *room);

#endif
