/* The HTTP route table: which handler answers which path (docs/protocol.md, docs/scheduling.md,
 * docs/recording.md). The transport (transport/http.c) hands every complete request here through
 * the server handle's http_route; the handlers answer through transport/http.h. */
#include "routes.h"

#include <string.h>

#include "front/metrics.h"
#include "front/rest_auth.h"
#include "front/rest_recordings.h"
#include "front/rest_rooms.h"
#include "front/rest_schedule.h"
#include "front/rpc_begin.h"
#include "front/status.h"
#include "front/whip.h"
#include "listen.h"
#include "transport/http.h"

static void respond_options(struct lws *wsi, struct http_req *req)
{
    http_respond(wsi, req, 204, NULL, NULL, 0);
    bool whip = strncmp(req->path, "/whip/", 6) == 0, whep = strncmp(req->path, "/whep/", 6) == 0;
    bool resource = (whip || whep) && strchr(req->path + 6, '/');
    if (resource) {
        http_add_header(req, "Allow", "OPTIONS, PATCH, DELETE");
        http_add_header(req, "Accept-Patch", "application/trickle-ice-sdpfrag");
    } else if (whip || whep) {
        http_add_header(req, "Allow", "OPTIONS, POST");
        http_add_header(req, "Accept-Post", "application/sdp");
    } else if (strcmp(req->path, "/ws") == 0) {
        http_add_header(req, "Allow", "OPTIONS, GET, POST");
    } else if (strncmp(req->path, "/api/v1/recordings", 18) == 0 ||
               strncmp(req->path, "/api/v1/rooms/", 14) == 0) {
        http_add_header(req, "Allow", "OPTIONS, GET, HEAD, POST, DELETE");
    } else {
        http_add_header(req, "Allow", "OPTIONS, GET, HEAD");
    }
    http_add_header(req, "Access-Control-Allow-Methods",
                    "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    http_add_header(req, "Access-Control-Allow-Headers",
                    "Content-Type, Authorization, If-Match, Range");
    http_add_header(req, "Access-Control-Max-Age", "86400");
}

/* Decides what to answer once the request (and its body, if any) is in. */
void routes_http(struct server *srv, struct lws *wsi, struct http_req *req)
{
    const char *p = req->path;
    bool get = req->method == LWSHUMETH_GET || req->method == LWSHUMETH_HEAD;
    if (listen_wants_https(srv, wsi)) { /* plain HTTP where HTTPS serves: only a redirect */
        char url[4096];
        listen_https_url(srv, wsi, p, url, sizeof url);
        srv->counters.http_redirected++;
        http_redirect(wsi, req, 307, url);
    } else if (srv->metrics_vhost && lws_get_vhost(wsi) == srv->metrics_vhost &&
               strcmp(p, "/metrics") != 0) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "only /metrics is served here");
    } else if (req->method == LWSHUMETH_OPTIONS) {
        respond_options(wsi, req);
    } else if (strcmp(p, "/metrics") == 0) {
        metrics_handle(srv, wsi, req);
    } else if (strncmp(p, "/whip/", 6) == 0 || strncmp(p, "/whep/", 6) == 0) {
        whip_handle(srv, wsi, req);
    } else if (strcmp(p, "/ws") == 0) {
        rpc_begin(srv, wsi, req);
    } else if (strcmp(p, "/healthz") == 0 && get) {
        json_t *v;
        int status = status_healthz(srv, &v);
        http_respond_json(wsi, req, status, v);
        http_add_header(req, "Cache-Control", "no-store");
    } else if (strcmp(p, "/api/v1/stats") == 0 && get) {
        struct principal who;
        if (!rest_auth(srv, wsi, req, PERM_STATS_READ, false, &who))
            return;
        http_respond_json(wsi, req, 200, status_stats(srv));
        http_add_header(req, "Cache-Control", "no-store");
    } else if (strcmp(p, "/api/v1/stats") == 0 || strcmp(p, "/healthz") == 0) {
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, "method not allowed");
        req->status = 405;
        http_add_header(req, "Allow", "GET, HEAD, OPTIONS");
    } else if (strcmp(p, "/api/v1/recordings") == 0 || strncmp(p, "/api/v1/recordings/", 19) == 0) {
        rest_recordings_api(srv, wsi, req);
    } else if (strncmp(p, "/api/v1/rooms/", 14) == 0 || strcmp(p, "/api/v1/rooms") == 0) {
        rest_rooms_api(srv, wsi, req);
    } else if (strncmp(p, "/recordings/", 12) == 0 && get) {
        rest_recordings_file(srv, wsi, req);
    } else if (rest_schedule_route(srv, wsi, req)) {
        /* answered */
    } else if (strncmp(p, "/api/", 5) == 0) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such API endpoint");
    } else if (get) {
        http_serve_file(srv, wsi, req);
    } else {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such resource");
    }
}
