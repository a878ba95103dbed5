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
#include "principal.h"
#include "server.h"

struct http_req;

/* At start: loads (or makes) the token key, opens the schedule store and, on a fresh one,
 * makes the user admin with a random password left in srv->first_password for main.c to
 * print. -1 if the key cannot be had (no token could be checked); a store that does not
 * open is logged and leaves srv->store NULL (only the demo room admits). */
int auth_start(struct server *srv);

/* Finds and verifies the request's token. Returns 0 with *out filled (ROLE_NONE and sub
 * "anonymous" when there is no token), or a negative token_err with a sentence in *why. */
int auth_http(struct server *srv, struct lws *wsi, struct principal *out, const char **why);

/* Verifies token text (a websocket join may carry one); as auth_http otherwise. */
int auth_token(struct server *srv, const char *token, struct principal *out, const char **why);

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
/* The gate of every way into a room (websocket join, WHIP, WHEP): who (from auth_http or
 * auth_token, whose result token_rc/token_why were) may do a in room? A bad token still
 * enters a room open to all as anonymous — a stale cookie must not lock anyone out of the
 * demo; elsewhere it is refused with the token's problem. A lesson the teacher ended
 * admits only admins. On refusal: *err and msg for the reply, counted by the caller's
 * reply, audited here with what ("join as classroom", "WHIP"). */
enum perm_verdict auth_enter(struct server *srv, struct principal *who, int token_rc,
                             const char *token_why, const char *room, enum perm_action a,
                             const char *what, enum srv_err *err, char *msg, size_t msg_len);
/* The protocol error of a refusal. */
enum srv_err auth_verdict_err(enum perm_verdict v);

/* Adds a line to the audit log (actor and role from p; NULL: the server itself); detail is
 * printf-style. A store failure is logged, never passed on. */
void auth_audit(struct server *srv, const struct principal *p, const char *action, const char *room,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
