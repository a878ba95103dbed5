/* WHIP and WHEP sessions as the lesson keeps them: an SDP offer becomes a relay peer held by
 * a reg_resource of the room, and its answer; closing one closes the peer and, with the last
 * user, an ad-hoc room. front/whip.c serves them over HTTP (RFC 9725); lesson/ingest.c opens
 * one for an RTSP camera that publishes as the lesson's teacher. Lines of a WHEP player are
 * fed by lesson/floor.c. */
#ifndef CR_SIGNALING_SESSION_H
#define CR_SIGNALING_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/context.h"
#include "lesson/registry.h"

struct session_req {
    const char *room; /* a valid room name: opened if it is not */
    const char *sdp;  /* the client's offer (NUL-terminated) */
    bool whep;        /* a player (recvonly) rather than a publisher */
    enum reg_role role;
    const char *name;            /* as listed to the room (a WHIP classroom) */
    const struct reg_line *want; /* WHEP: what its lines carry (?feed=) */
    bool cascade;                /* a cascade link's publisher (reg_resource.cascade): not
                                    recorded on this node */
};

/* Negotiates q with the relay and records the session: the resource, with the answer in
 * *answer (malloc'd: the caller's), or NULL with *e and a reason in why (the room
 * released again). */
struct reg_resource *session_open(struct server *srv, const struct session_req *q, char **answer,
                                  enum srv_err *e, char *why, size_t cap);
/* Closes a session's peer and removes it (and its room if that was the last user). */
void session_close(struct server *srv, struct reg_resource *r);
/* A WHIP classroom as the room lists it, like a page's participant:
 * {"id","role":"classroom","name","via":"whip"} (new reference). */
json_t *session_participant_json(const struct reg_resource *r);

#endif
