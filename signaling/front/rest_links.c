/* Cascade links over REST: see rest_links.h (docs/cluster.md). */
#include "front/rest_links.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "front/rest_auth.h"
#include "lesson/links.h"
#include "lesson/registry.h"

/* "<id>" of "links/<id>", or 0. */
static uint64_t link_id(const char *sub)
{
    const char *s = sub + 6;
    char *end = NULL;
    errno = 0;
    unsigned long long v = *s >= '1' && *s <= '9' ? strtoull(s, &end, 10) : 0;
    return !errno && end && !*end ? v : 0;
}

static void answer(struct server *srv, struct lws *wsi, struct http_req *req, struct reg_room *room,
                   uint64_t id)
{
    enum srv_err e = SRV_ERR_BAD_SDP;
    char why[512] = "the answer must be application/sdp";
    char *sdp = req->body ? cr_strndup(req->body, req->body_len) : NULL;
    if (sdp && strcmp(req->content_type, "application/sdp") == 0 &&
        links_answer(srv, room->name, id, sdp, &e, why, sizeof why) == 0)
        http_respond(wsi, req, 204, NULL, NULL, 0);
    else
        http_respond_error(srv, wsi, req, e, why);
    free(sdp);
}

void rest_links_api(struct server *srv, struct lws *wsi, struct http_req *req,
                    struct reg_room *room, const char *sub)
{
    struct principal who;
    if (!rest_auth(srv, wsi, req, PERM_CASCADE, false, &who))
        return;
    if (strcmp(sub, "links") == 0 && req->method == LWSHUMETH_GET) {
        http_respond_json(wsi, req, 200, links_sources(room));
        http_add_header(req, "Cache-Control", "no-store");
        return;
    }
    if (strcmp(sub, "links") == 0 && req->method == LWSHUMETH_POST) {
        enum srv_err e;
        char why[400];
        json_t *out = NULL;
        if (links_open(srv, room, &out, &e, why, sizeof why) == 0)
            http_respond_json(wsi, req, 201, out);
        else
            http_respond_error(srv, wsi, req, e, why);
        return;
    }
    uint64_t id = strncmp(sub, "links/", 6) == 0 ? link_id(sub) : 0;
    if (!id) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such API endpoint");
    } else if (req->method == LWSHUMETH_POST) {
        answer(srv, wsi, req, room, id);
    } else if (req->method == LWSHUMETH_DELETE) {
        if (links_close(srv, room->name, id) == 0)
            http_respond(wsi, req, 204, NULL, NULL, 0);
        else
            http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such link in this room");
    } else {
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, "method not allowed");
        req->status = 405;
        http_add_header(req, "Allow", "POST, DELETE, OPTIONS");
    }
}
