/* Error codes and their HTTP statuses: see errors.h. */
#include "core/errors.h"

#include "classrelay/relay.h"

static const char *const err_codes[SRV_ERR_COUNT] = {
    [SRV_ERR_BAD_JSON] = "bad_json",
    [SRV_ERR_BAD_REQUEST] = "bad_request",
    [SRV_ERR_NOT_JOINED] = "not_joined",
    [SRV_ERR_NOT_FOUND] = "not_found",
    [SRV_ERR_BAD_SDP] = "bad_sdp",
    [SRV_ERR_TOO_LARGE] = "too_large",
    [SRV_ERR_LIMIT] = "limit",
    [SRV_ERR_INTERNAL] = "internal",
    [SRV_ERR_CONFLICT] = "conflict",
    [SRV_ERR_UNAVAILABLE] = "unavailable",
    [SRV_ERR_UNAUTHORIZED] = "unauthorized",
    [SRV_ERR_FORBIDDEN] = "forbidden",
    [SRV_ERR_NOT_OPEN] = "not_open",
};

const char *srv_err_code(enum srv_err e) { return e < SRV_ERR_COUNT ? err_codes[e] : "internal"; }

int srv_err_http_status(enum srv_err e)
{
    switch (e) {
    case SRV_ERR_NOT_FOUND:
        return 404;
    case SRV_ERR_TOO_LARGE:
        return 413;
    case SRV_ERR_CONFLICT:
        return 409;
    case SRV_ERR_UNAUTHORIZED:
        return 401;
    case SRV_ERR_FORBIDDEN:
    case SRV_ERR_NOT_OPEN:
        return 403;
    case SRV_ERR_LIMIT:
    case SRV_ERR_UNAVAILABLE:
        return 503;
    case SRV_ERR_INTERNAL:
    case SRV_ERR_COUNT:
        return 500;
    default:
        return 400;
    }
}

enum srv_err srv_err_from_relay(int rc)
{
    switch (rc) {
    case CR_ERR_NOT_FOUND:
        return SRV_ERR_NOT_FOUND;
    case CR_ERR_BAD_SDP:
        return SRV_ERR_BAD_SDP;
    case CR_ERR_LIMIT:
        return SRV_ERR_LIMIT;
    case CR_ERR_ARG:
        return SRV_ERR_BAD_REQUEST;
    default:
        return SRV_ERR_INTERNAL;
    }
}
