/* The edge's side of a cascade (docs/cluster.md, "Cascade links"): a lesson whose origin is
 * another node of the cluster (the directory says so: lesson/place.h) and which has clients
 * here is pulled from there once, however many classrooms this node serves. This node asks
 * the origin for links (POST /api/v1/rooms/<room>/links, with a short-lived token signed by
 * the key the nodes share), opens each offered link as a publish of the lesson's teacher here
 * (lesson/session.c, marked cascade: not recorded here, the origin records), returns the
 * answers, and watches: every second it asks the origin which publishers it would link (GET)
 * and links again when they changed (the teacher came back, someone went on stage), when the
 * origin changed (the lesson was claimed again elsewhere), or when a link died; it closes the
 * links when the last client here leaves. The HTTP calls run on a thread of their own
 * (cluster/node_http.h); their answers come back through the event queue
 * (EVQ_CASCADE), so the lws thread never waits on another node. */
#ifndef CR_SIGNALING_CASCADE_H
#define CR_SIGNALING_CASCADE_H

#include <stdint.h>

#include "core/context.h"
#include "lesson/evq.h"
#include "lesson/registry.h"

struct cascade;

struct cascade *cascade_new(struct server *srv);
void cascade_free(struct cascade *c);

/* A client of room arrived here: pull the lesson if its origin is another node. */
void cascade_want(struct server *srv, const char *room);
/* Something of room's floor changed here: on an edge, its classrooms are reported to the origin
 * now (a hand raised, a classroom came or went); on the origin, a classroom of an edge called
 * on stage is pulled from its node now. */
void cascade_room_changed(struct server *srv, struct reg_room *room);
/* Once a second: reports to the origins, links again, pulls classrooms of other nodes on stage
 * here, drops pulls nobody here needs. */
void cascade_tick(struct server *srv, int64_t now_ms);
/* An answer of the cascade's thread (EVQ_CASCADE). */
void cascade_on_event(struct server *srv, const struct evq_item *it);
/* A cascade session is closing (session_close): forgotten, and linked again at the next tick. */
void cascade_session_closed(struct server *srv, const struct reg_resource *r);
/* Pulls now (lessons and classrooms on stage), links open here, and offers refused unsigned,
 * for /metrics. */
void cascade_counts(const struct server *srv, unsigned *pulls, unsigned *links,
                    uint64_t *unsigned_offers);

#endif
