/* Who is asking: a request's token turned into a principal, the permission checks every
 * handler runs through (perm.h decides), and the audit log of what was done
 * (docs/scheduling.md).
 *
 * A token is looked for in the Authorization header ("Bearer <token>"), then in the URL's
 * token= parameter (browsers cannot set headers on a websocket), then in the cr_session
 * cookie that POST /api/v1/login sets. A login token (sub "u<id>") is also checked against
 * the store: a user deleted or disabled since the token was made is refused. Runs on the
 * lws thread. */
#ifndef CR_SIGNALING_AUTH_H
#define CR_SIGNALING_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perm.h"
#include "server.h"

struct http_req;

struct principal {
    enum role role; /* ROLE_NONE: no token came with the request */
    bool has_room;  /* the token names a room (join links, classrelay token) */
    char room[65];
    char sub[64]; /* "u12", "link:3", "cli"; "anonymous" without a token */
    char name[257];
    int64_t user_id;   /* from a "u<id>" sub; 0 otherwise */
    int64_t classroom; /* the classroom the token speaks for; 0: none */
    int64_t exp;       /* seconds since the epoch */
};

/* Finds and verifies the request's token. Returns 0 with *out filled (ROLE_NONE and sub
 * "anonymous" when there is no token), or a negative token_err with a sentence in *why. */
int auth_http(struct server *srv, struct lws *wsi, struct principal *out, const char **why);

/* The REST gate: the request must carry a valid token whose role may do a (perm_rest, own
 * as there). On refusal it answers 401 or 403 with a clear message, counts and audits it,
 * and returns false. */
bool auth_rest(struct server *srv, struct lws *wsi, struct http_req *req, enum perm_action a,
               bool own, struct principal *out);

/* The room gate for websocket and WHIP/WHEP actions: looks the room up in the schedule and
 * asks perm_room. PERM_OK, or the verdict with a sentence in why (which names the lesson and
 * when it opens, for PERM_NOT_OPEN). */
enum perm_verdict auth_room(struct server *srv, const struct principal *p, const char *room,
                            enum perm_action a, char *why, size_t why_len);
/* The protocol error of a refusal. */
enum srv_err auth_verdict_err(enum perm_verdict v);

/* Adds a line to the audit log (actor and role from p; NULL: the server itself); detail is
 * printf-style. A store failure is logged, never passed on. */
void auth_audit(struct server *srv, const struct principal *p, const char *action, const char *room,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
