/* The REST gate: see rest_auth.h. RFC 6750 §3 (WWW-Authenticate on 401). */
#include "front/rest_auth.h"

#include <stdio.h>

#include "access/audit.h"
#include "front/credentials.h"
#include "store/role.h"

/* A valid token, or 401 (RFC 6750 §3) and false. */
static bool need_token(struct server *srv, struct lws *wsi, struct http_req *req,
                       struct principal *out)
{
    const char *why;
    int rc = cred_http(srv, wsi, out, &why);
    if (rc == 0 && out->role != ROLE_NONE)
        return true;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", rc ? why : "log in first: this needs a token");
    http_respond_error(srv, wsi, req, SRV_ERR_UNAUTHORIZED, msg);
    http_add_header(req, "WWW-Authenticate", "Bearer realm=\"classrelay\"");
    return false;
}

bool rest_auth_room(struct server *srv, struct lws *wsi, struct http_req *req, const char *room,
                    enum perm_action a, struct principal *out)
{
    if (!need_token(srv, wsi, req, out))
        return false;
    char msg[400];
    enum perm_verdict v = auth_room(srv, out, room, a, msg, sizeof msg);
    if (v == PERM_OK)
        return true;
    http_respond_error(srv, wsi, req, auth_verdict_err(v), msg);
    audit_log(srv, out, "refused", room, "%s %s", perm_action_name(a), req->path);
    return false;
}

bool rest_auth(struct server *srv, struct lws *wsi, struct http_req *req, enum perm_action a,
               bool own, struct principal *out)
{
    if (!need_token(srv, wsi, req, out))
        return false;
    if (!perm_rest(out->role, out->has_room, a, own)) {
        char msg[256];
        if (out->has_room)
            snprintf(msg, sizeof msg, "a token for room %s cannot %s", out->room,
                     perm_action_name(a));
        else
            snprintf(msg, sizeof msg, "the role %s may not %s", role_name(out->role),
                     perm_action_name(a));
        http_respond_error(srv, wsi, req, SRV_ERR_FORBIDDEN, msg);
        audit_log(srv, out, "refused", NULL, "%s %s", perm_action_name(a), req->path);
        return false;
    }
    return true;
}
