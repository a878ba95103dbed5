/* Cascade links this node's relay opened for other nodes (the origin's side of a cascade,
 * docs/cluster.md): an edge asks for a lesson's publishers — its teacher and whoever is on
 * stage — and gets one relay link per publisher (cr_relay_link_open), each an offer the
 * edge's relay answers as a publish there. This keeps which relay peers are links and of
 * which room, so a link that fails or closes, or whose room ends, is closed and forgotten. */
#ifndef CR_SIGNALING_LINKS_H
#define CR_SIGNALING_LINKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "classrelay/relay.h"
#include "core/context.h"
#include "core/errors.h"

struct reg_room;
struct link_set;

/* Which publishers an asking node wants linked. */
struct links_want {
    const char *source; /* only this participant or session of the room (its id here), whatever
                           its role: the origin pulling one of this node's classrooms on stage;
                           NULL: the lesson's teacher and whoever is on stage */
    const char *node;   /* the asking node's id: its own classrooms are never linked back to it
                           (a classroom of its on stage here); NULL: none */
};

struct link_set *links_new(void);
void links_free(struct link_set *ls);

/* Opens a link for each publisher of room that w wants; *out gets {"links":[{"id","source",
 * "role","participant","sdp","hints":[{"mid","source"}]}]}, "participant" the publisher's id
 * across the cluster (edge_report.h: this node's prefixed with its own). 0, or -1 with e and
 * why (no publisher: SRV_ERR_NOT_FOUND). */
int links_open(struct server *srv, struct reg_room *room, const struct links_want *w, json_t **out,
               enum srv_err *e, char *why, size_t why_len);
/* What links_open would mirror now: [{"source","role"}], each source "<participant>:<peer>"
 * as in links_open's answer (an edge compares them to see when to link again). New
 * reference. */
json_t *links_sources(struct server *srv, struct reg_room *room, const struct links_want *w);
/* The edge's answer to link id of room. 0, or -1 with e and why. */
int links_answer(struct server *srv, const char *room, uint64_t id, const char *sdp,
                 enum srv_err *e, char *why, size_t why_len);
/* Closes link id of room; -1 if there is none. */
int links_close(struct server *srv, const char *room, uint64_t id);
/* A relay peer's new state: true if it is a link (closed and forgotten when it failed or
 * closed). */
bool links_on_state(struct server *srv, uint64_t peer_id, enum cr_peer_state state);
/* The room closed in the relay, and its links with it: forgotten. */
void links_room_closed(struct server *srv, const char *room);
/* Links open now. */
unsigned links_count(const struct server *srv);

#endif
