/* A websocket session begun over HTTP (docs/protocol.md "Joining in one request"):
 * POST /ws carries the protocol's first requests (join and the first subscribe) as a JSON
 * array; they are handled on a parked session (transport/ws_park.h) exactly as over a
 * websocket, and the answer is what the session queued — the replies, any event — with a
 * key. The page's websocket, once open, sends resume {"key"} and carries the session on.
 * On a school link losing 10 % the page's HTTP connection is already open, while the
 * websocket's TCP handshake can wait a second for the browser's retransmission. A request
 * sent again under the same Idempotency-Key (the page tries once more when its connection
 * fails) gets the first one's answer, or 409 once a websocket has taken the session over. */
#include "front/rpc_begin.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
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

/* The request's Idempotency-Key into idem (65 bytes; "" when none): 1 to 64 of
 * [A-Za-z0-9_-], else false after a 400. */
static bool idem_of(struct server *srv, struct lws *wsi, struct http_req *req, char *idem)
{
    static const char name[] = "idempotency-key:";
    idem[0] = '\0';
    int n = lws_hdr_custom_length(wsi, name, (int)strlen(name));
    if (n <= 0)
        return true;
    bool ok = n <= 64 && lws_hdr_custom_copy(wsi, idem, 65, name, (int)strlen(name)) == n;
    for (int i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)idem[i]) || idem[i] == '-' || idem[i] == '_';
    if (!ok) {
        idem[0] = '\0';
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST,
                           "Idempotency-Key must be 1 to 64 letters, digits, '-' or '_'");
    }
    return ok;
}

/* A repeat of a request already answered: the same answer, or 409 once taken over. */
static void repeat(struct server *srv, struct lws *wsi, struct http_req *req, struct ws_conn *c)
{
    srv->counters.ws_begin_repeats++;
    if (c->park_taken || !c->park_answer) {
        http_respond_error(srv, wsi, req, SRV_ERR_CONFLICT,
                           "this session's websocket has taken it over already");
        return;
    }
    char *copy = cr_malloc(c->park_answer_len + 1);
    memcpy(copy, c->park_answer, c->park_answer_len + 1);
    http_respond(wsi, req, 200, "application/json", copy, c->park_answer_len);
    http_add_header(req, "Cache-Control", "no-store");
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
    char idem[65];
    if (!idem_of(srv, wsi, req, idem))
        return;
    struct ws_conn *prev = ws_park_by_idem(srv, idem);
    if (cr_log_get_level() >= CR_LOG_DEBUG) {
        char peer[64] = "";
        lws_get_peer_simple(wsi, peer, sizeof peer);
        CR_DEBUG("rpc", "POST /ws on connection %d from %s%s%s", lws_get_socket_fd(wsi), peer,
                 prev ? ": a repeat of " : "", prev ? idem : "");
    }
    if (prev) {
        repeat(srv, wsi, req, prev);
        return;
    }
    json_t *batch = batch_of(srv, wsi, req);
    if (!batch)
        return;
    struct ws_conn *c = ws_park(srv, wsi, cr_now_ms(), idem);
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
    if (!keep) /* nothing to carry on: refused, or no join (a repeat is handled anew) */
        ws_park_close(c);
    else
        ws_park_keep_answer(c, b.s, b.len);
    size_t len = b.len;
    CR_DEBUG("rpc", "POST /ws answered with %zu bytes%s", len, keep ? "" : ", nothing kept");
    http_respond(wsi, req, 200, "application/json", strbuf_take(&b), len);
    http_add_header(req, "Cache-Control", "no-store");
}
