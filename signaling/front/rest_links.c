/* Cascade links over REST: see rest_links.h (docs/cluster.md). */
#include "front/rest_links.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/node_sig.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "cluster/node.h"
#include "front/rest_auth.h"
#include "lesson/edges.h"
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
    char why[512] = "the answer must be application/sdp", sig[NODE_SIG_LEN + 2] = "", ids[24];
    char *sdp = req->body ? cr_strndup(req->body, req->body_len) : NULL;
    snprintf(ids, sizeof ids, "%llu", (unsigned long long)id);
    http_query(wsi, "sig", sig, sizeof sig);
    bool sdp_ok = sdp && strcmp(req->content_type, "application/sdp") == 0;
    if (sdp_ok && !node_sig_ok(srv->key, "answer", room->name, ids, sdp, req->body_len, sig)) {
        e = SRV_ERR_FORBIDDEN; /* its DTLS fingerprint must come from a node of this cluster */
        snprintf(why, sizeof why, "the answer is not signed with this cluster's key (?sig=)");
    } else if (sdp_ok && links_answer(srv, room->name, id, sdp, &e, why, sizeof why) == 0) {
        e = SRV_ERR_COUNT;
    }
    if (e == SRV_ERR_COUNT)
        http_respond(wsi, req, 204, NULL, NULL, 0);
    else
        http_respond_error(srv, wsi, req, e, why);
    free(sdp);
}

/* PUT links/edge/<node>: an edge's report of its classrooms, answered with the stage. */
static void edge_report(struct server *srv, struct lws *wsi, struct http_req *req,
                        struct reg_room *room, const char *node)
{
    static struct edge_report rep; /* lws thread only; 80 kB */
    char why[256] = "";
    if (!node_id_ok(node))
        snprintf(why, sizeof why, "not a node id");
    else if (strcmp(req->content_type, "application/json") != 0)
        snprintf(why, sizeof why, "a report is application/json");
    else
        edge_report_parse(req->body ? req->body : "", req->body_len, &rep, why, sizeof why);
    if (why[0]) {
        srv->counters.edge_reports_bad++;
        CR_LOG_RATE(CR_LOG_WARN, "links", "room %s: a bad report from node %.40s: %s", room->name,
                    node, why);
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, why);
        return;
    }
    srv->counters.edge_reports++;
    http_respond_json(wsi, req, 200, edges_report(srv, room, node, &rep, cr_now_ms()));
    http_add_header(req, "Cache-Control", "no-store");
}

/* ?source= and ?node= into w (buffers given); false with a 400 answered if malformed. */
static bool want_of(struct server *srv, struct lws *wsi, struct http_req *req, struct links_want *w,
                    char *source, char *node)
{
    int s = http_query(wsi, "source", source, REG_ID_MAX);
    int n = http_query(wsi, "node", node, REG_NODE_MAX);
    if (s < 0 || n < 0 || (n > 0 && !node_id_ok(node))) {
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, "bad ?source= or ?node=");
        return false;
    }
    *w = (struct links_want){s > 0 ? source : NULL, n > 0 ? node : NULL};
    return true;
}

void rest_links_api(struct server *srv, struct lws *wsi, struct http_req *req,
                    struct reg_room *room, const char *sub)
{
    struct principal who;
    struct links_want w;
    char source[REG_ID_MAX], node[REG_NODE_MAX];
    if (!rest_auth(srv, wsi, req, PERM_CASCADE, false, &who) ||
        !want_of(srv, wsi, req, &w, source, node))
        return;
    if (strncmp(sub, "links/edge/", 11) == 0 && req->method == LWSHUMETH_PUT) {
        edge_report(srv, wsi, req, room, sub + 11);
        return;
    }
    if (strcmp(sub, "links") == 0 && req->method == LWSHUMETH_GET) {
        http_respond_json(wsi, req, 200,
                          json_pack("{s:o}", "sources", links_sources(srv, room, &w)));
        http_add_header(req, "Cache-Control", "no-store");
        return;
    }
    if (strcmp(sub, "links") == 0 && req->method == LWSHUMETH_POST) {
        enum srv_err e;
        char why[400];
        json_t *out = NULL;
        if (links_open(srv, room, &w, &out, &e, why, sizeof why) == 0)
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
