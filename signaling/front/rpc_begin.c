/* A websocket session begun over HTTP (docs/protocol.md "Joining in one request"):
 * POST /ws carries the protocol's first requests (join and the first subscribe) as a JSON
 * array; they are handled on a parked session (transport/ws_park.h) exactly as over a
 * websocket, and the answer is what the session queued — the replies, any event — with a
 * key. The page's websocket, once open, sends resume {"key"} and carries the session on.
 * On a school link losing 10 % the page's HTTP connection is already open, while the
 * websocket's TCP handshake can wait a second for the browser's retransmission. */
#include "front/rpc_begin.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/strbuf.h"
#include "front/rpc.h"
#include "transport/http.h"
#include "transport/ws_park.h"

#define BEGIN_MAX_MSGS 8

static struct reg_participant *joined(struct ws_conn *c)
{
    struct rpc_conn *rc = c->user;
    return rc ? rc->participant : NULL;
}

/* The request body as an array of 1..BEGIN_MAX_MSGS messages, or NULL after a 400. */
static json_t *batch_of(struct server *srv, struct lws *wsi, struct http_req *req)
{
    json_error_t jerr;
    json_t *a =
        req->body ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!a) {
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_JSON,
                           "the body must be a JSON array of protocol messages");
        return NULL;
    }
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > BEGIN_MAX_MSGS) {
        json_decref(a);
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST,
                           "the body must be a JSON array of 1 to 8 protocol messages");
        return NULL;
    }
    return a;
}

void rpc_begin(struct server *srv, struct lws *wsi, struct http_req *req)
{
    if (req->method != LWSHUMETH_POST) {
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST,
                           "GET /ws is a websocket upgrade; POST /ws begins a session over HTTP");
        req->status = 405;
        http_add_header(req, "Allow", "GET, POST, OPTIONS");
        return;
    }
    json_t *batch = batch_of(srv, wsi, req);
    if (!batch)
        return;
    struct ws_conn *c = ws_park(srv, wsi, cr_now_ms());
    if (!c) {
        json_decref(batch);
        http_respond_error(srv, wsi, req, SRV_ERR_LIMIT,
                           "too many sessions are waiting for their websocket: use the websocket");
        return;
    }
    srv->counters.ws_begun++;
    size_t i;
    json_t *msg;
    json_array_foreach(batch, i, msg) rpc_handle_json(c, msg);
    json_decref(batch);
    struct strbuf b;
    strbuf_init(&b);
    bool keep = joined(c) != NULL;
    strbuf_printf(&b, "{\"resume\":%s%s%s,\"resume_within_ms\":%d,\"messages\":", keep ? "\"" : "",
                  keep ? c->park_key : "null", keep ? "\"" : "", WS_PARK_MS);
    size_t n;
    char *messages = ws_park_drain(c, &n);
    strbuf_append(&b, messages, n);
    free(messages);
    strbuf_puts(&b, "}");
    if (!keep) /* nothing to carry on: refused, or no join */
        ws_park_close(c);
    size_t len = b.len;
    http_respond(wsi, req, 200, "application/json", strbuf_take(&b), len);
    http_add_header(req, "Cache-Control", "no-store");
}
