/* Cascade links over REST, for the other nodes of a cluster (docs/cluster.md):
 *   GET    /api/v1/rooms/<room>/links        {"sources":[{"source","role"}]}: the publishers a
 *                                            POST would link now (an edge polls it)
 *   POST   /api/v1/rooms/<room>/links        one link per publisher of the lesson (its
 *                                            teacher, who is on stage): 201 {"links":[{"id",
 *                                            "source","role","sdp","hints"}]}, each sdp an
 *                                            offer the asking node's relay answers as a publish
 *   POST   /api/v1/rooms/<room>/links/<id>   the answer (application/sdp): 204
 *   DELETE /api/v1/rooms/<room>/links/<id>   close it: 204
 *   PUT    /api/v1/rooms/<room>/links/edge/<node>  an edge's report of its classrooms
 *                                            (lesson/edge_report.h): 200 {"sources","stage"}
 *                                            (lesson/edges.h); a malformed one 400, counted
 * ?node=<id> names the asking node (its own classrooms are not linked back to it), ?source=<id>
 * asks for that one publisher (the origin pulling an edge's classroom on stage).
 * Only a token whose role may open cascade links (PERM_CASCADE: a node's, signed with the
 * key every node shares) is let in. */
#ifndef CR_SIGNALING_REST_LINKS_H
#define CR_SIGNALING_REST_LINKS_H

#include "core/context.h"
#include "transport/http.h"

struct reg_room;

/* sub: the path after "/api/v1/rooms/<room>/" ("links" or "links/<id>"). */
void rest_links_api(struct server *srv, struct lws *wsi, struct http_req *req,
                    struct reg_room *room, const char *sub);

#endif
