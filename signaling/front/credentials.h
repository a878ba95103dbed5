/* A request's credentials: finds the token of an HTTP request or websocket upgrade and
 * verifies it (front/credentials.c). */
#ifndef CR_SIGNALING_CREDENTIALS_H
#define CR_SIGNALING_CREDENTIALS_H

#include <libwebsockets.h>
#include <stdbool.h>

#include "access/auth.h"

/* The token text of a request into buf (TOKEN_MAX + 1 bytes), from its Authorization
 * header, its token= URL argument (decoded) and its Cookie header, in that order; each NULL
 * when the request has none. False when it carries no token. A token too long to be one
 * (from the header or the argument) leaves buf empty but counts as present, so that it is
 * refused as malformed. Pure: fuzzed alone (tests/fuzz/fuzz_sig_credentials.c). */
bool cred_find_token(const char *authorization, const char *token_arg, const char *cookie,
                     char *buf);

/* Whether the request carries a token= URL argument (a link that must carry access on). */
bool cred_in_url(struct lws *wsi);

/* Finds and verifies the request's token. Returns 0 with *out filled (ROLE_NONE and sub
 * "anonymous" when there is no token), or a negative token_err with a sentence in *why. */
int cred_http(struct server *srv, struct lws *wsi, struct principal *out, const char **why);

#endif
