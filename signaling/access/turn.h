/* Short-lived TURN credentials for pages and WHIP/WHEP clients (turn.c): the shared-secret
 * scheme of draft-uberti-behave-turn-rest-00 §2.2 that coturn's use-auth-secret checks. */
#ifndef CR_SIGNALING_TURN_H
#define CR_SIGNALING_TURN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define TURN_USER_MAX 96
#define TURN_PASS_MAX 32 /* base64 of a 20-byte HMAC-SHA1: 28 characters */

struct turn_cred {
    char username[TURN_USER_MAX]; /* "EXPIRY:ID", EXPIRY in Unix seconds */
    char password[TURN_PASS_MAX]; /* base64(HMAC-SHA1(turn_secret, username)) */
    int64_t expires_s;
};

/* Whether TURN is configured (turn_uri and turn_secret both set). */
bool turn_enabled(const struct config *cfg);

/* Credentials for id (a participant or session id; only [A-Za-z0-9_.-] of it are kept),
 * valid turn_ttl seconds from now_s. Returns 0, or -1 if TURN is not configured. */
int turn_credentials(const struct config *cfg, const char *id, int64_t now_s,
                     struct turn_cred *out);

struct server;
/* turn_credentials() for a client of srv now, counted; 0, or -1 without TURN. */
int turn_issue(struct server *srv, const char *id, struct turn_cred *out);

/* The WebRTC RTCIceServer list for them: [{"urls": [...], "username", "credential"}]. */
json_t *turn_ice_servers_json(const struct config *cfg, const struct turn_cred *c);

/* Calls fn with each configured URI as an RFC 9725 §4.6 Link header value:
 * <turn:...>; rel="ice-server"; username="..."; credential="..."; credential-type="password" */
void turn_each_link(const struct config *cfg, const struct turn_cred *c,
                    void (*fn)(void *user, const char *link), void *user);

#endif
