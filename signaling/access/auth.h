/* Who is asking, and may they: a token's text turned into a principal (a login token is
 * also checked against the store: a user deleted or disabled since is refused), and the
 * room gate that asks the permission table with the facts of the schedule (the lesson
 * behind a room, whether the principal teaches it or is booked in it, whether its window
 * is open), turning a refusal into a sentence a user understands. Finding the token in an
 * HTTP request is the front doors' (front/credentials.c); answering 401/403 too. Runs on
 * the lws thread (docs/scheduling.md). */
#ifndef CR_SIGNALING_AUTH_H
#define CR_SIGNALING_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/perm.h"
#include "access/principal.h"
#include "core/context.h"

/* At start: loads (or makes) the token key, opens the schedule store and, on a fresh one,
 * makes the user admin with a random password left in srv->first_password for main.c to
 * print. -1 if the key cannot be had (no token could be checked); a store that does not
 * open is logged and leaves srv->store NULL (only the demo room admits). */
int auth_start(struct server *srv);

/* Fills p as nobody: ROLE_NONE, sub "anonymous". */
void auth_anonymous(struct principal *p);

/* Verifies token text. Returns 0 with *out filled, or a negative token_err with a sentence
 * in *why (*out then anonymous). */
int auth_token(struct server *srv, const char *token, struct principal *out, const char **why);

/* The room gate for websocket and WHIP/WHEP actions: looks the room up in the schedule and
 * asks perm_room. PERM_OK, or the verdict with a sentence in why (which names the lesson and
 * when it opens, for PERM_NOT_OPEN). */
enum perm_verdict auth_room(struct server *srv, const struct principal *p, const char *room,
                            enum perm_action a, char *why, size_t why_len);
/* The protocol error of a refusal. */
enum srv_err auth_verdict_err(enum perm_verdict v);

#endif
