/* The REST gate: see rest_auth.h. RFC 6750 §3 (WWW-Authenticate on 401). */
#include "front/rest_auth.h"

#include <stdio.h>

#include "access/audit.h"
#include "front/credentials.h"
#include "store/role.h"

bool rest_auth(struct server *srv, struct lws *wsi, struct http_req *req, enum perm_action a,
               bool own, struct principal *out)
{
    const char *why;
    int rc = cred_http(srv, wsi, out, &why);
    if (rc != 0 || out->role == ROLE_NONE) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", rc ? why : "log in first: this needs a token");
        http_respond_error(srv, wsi, req, SRV_ERR_UNAUTHORIZED, msg);
        http_add_header(req, "WWW-Authenticate", "Bearer realm=\"classrelay\"");
        return false;
    }
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
