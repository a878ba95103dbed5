/* Error codes of the websocket protocol and the HTTP API (docs/protocol.md), the HTTP
 * status each maps to, and the mapping of the relay's negative cr_err codes. The bottom of
 * signaling's vocabulary: every layer reports failures in these words. */
#ifndef CR_SIGNALING_ERRORS_H
#define CR_SIGNALING_ERRORS_H

#include <stdint.h>

enum srv_err {
    SRV_ERR_BAD_JSON,
    SRV_ERR_BAD_REQUEST,
    SRV_ERR_NOT_JOINED,
    SRV_ERR_NOT_FOUND,
    SRV_ERR_BAD_SDP,
    SRV_ERR_TOO_LARGE,
    SRV_ERR_LIMIT,
    SRV_ERR_INTERNAL,
    SRV_ERR_CONFLICT,     /* 409: refused in the current state */
    SRV_ERR_UNAVAILABLE,  /* 503: a part of the server is off (the recordings catalogue) */
    SRV_ERR_UNAUTHORIZED, /* 401: no token, or a bad one */
    SRV_ERR_FORBIDDEN,    /* 403: the token does not give this right */
    SRV_ERR_NOT_OPEN,     /* 403: a scheduled lesson outside its window */
    SRV_ERR_COUNT
};

const char *srv_err_code(enum srv_err e);
int srv_err_http_status(enum srv_err e);
/* Maps a negative cr_err to a protocol error. */
enum srv_err srv_err_from_relay(int rc);

#endif
