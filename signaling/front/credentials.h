/* A request's credentials: finds the token of an HTTP request or websocket upgrade and
 * verifies it (front/credentials.c). */
#ifndef CR_SIGNALING_CREDENTIALS_H
#define CR_SIGNALING_CREDENTIALS_H

#include <libwebsockets.h>

#include "access/auth.h"

/* Finds and verifies the request's token. Returns 0 with *out filled (ROLE_NONE and sub
 * "anonymous" when there is no token), or a negative token_err with a sentence in *why. */
int cred_http(struct server *srv, struct lws *wsi, struct principal *out, const char **why);

#endif
