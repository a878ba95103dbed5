/* HTTP requests on the lws context: see http.h. RFC 9110 for methods and status codes,
 * the Fetch standard's CORS protocol for the Access-Control-* headers (so WHIP/WHEP
 * players on other origins can call us). Static files are http_static.c's. Big files
 * (recordings, rest_recordings.c) are streamed from a file descriptor, a chunk per
 * writeable callback. */
#include "transport/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"

#define HTTP_CHUNK 16384
#define HTTP_FILE_CHUNK 65536        /* read from a streamed file per writeable callback */
#define HTTP_MAX_DRAIN (1024 * 1024) /* bigger bodies get 413 and a closed connection */

static void reset(struct http_req *req)
{
    free(req->body);
    free(req->resp);
    while (req->long_headers) {
        struct http_long_header *h = req->long_headers;
        req->long_headers = h->next;
        free(h);
    }
    if (req->has_fd)
        close(req->fd);
    memset(req, 0, sizeof *req);
    req->method = -1;
}

void http_respond(struct lws *wsi, struct http_req *req, int status, const char *type, char *body,
                  size_t len)
{
    free(req->resp);
    if (req->has_fd)
        close(req->fd);
    req->has_fd = false;
    req->responding = true;
    req->phase = 0;
    req->status = status;
    snprintf(req->resp_type, sizeof req->resp_type, "%s", type ? type : "");
    req->resp = body;
    req->resp_len = body ? len : 0;
    req->n_headers = 0;
    lws_callback_on_writable(wsi);
}

void http_respond_fd(struct lws *wsi, struct http_req *req, int status, const char *type, int fd,
                     uint64_t off, uint64_t len)
{
    http_respond(wsi, req, status, type, NULL, 0);
    req->has_fd = true;
    req->fd = fd;
    req->fd_off = off;
    req->resp_len = (size_t)len;
}

void http_add_header(struct http_req *req, const char *name, const char *value)
{
    if (req->n_headers == HTTP_MAX_HEADERS)
        return;
    struct http_header *h = &req->headers[req->n_headers++];
    size_t i = 0;
    for (; name[i] && i + 2 < sizeof h->name; i++)
        h->name[i] = (char)tolower((unsigned char)name[i]);
    h->name[i++] = ':';
    h->name[i] = '\0';
    snprintf(h->value, sizeof h->value, "%s", value);
}

void http_add_long_header(struct http_req *req, const char *name, const char *value)
{
    size_t n = strlen(value);
    struct http_long_header *h = cr_malloc(sizeof *h + n + 1), **tail = &req->long_headers;
    size_t i = 0;
    for (; name[i] && i + 2 < sizeof h->name; i++)
        h->name[i] = (char)tolower((unsigned char)name[i]);
    h->name[i++] = ':';
    h->name[i] = '\0';
    memcpy(h->value, value, n + 1);
    h->next = NULL;
    while (*tail)
        tail = &(*tail)->next;
    *tail = h;
}

void http_set_cookie(struct http_req *req, const char *value)
{
    http_add_long_header(req, "set-cookie", value);
}

void http_redirect(struct lws *wsi, struct http_req *req, int status, const char *location)
{
    static const char body[] = "moved\n";
    http_respond(wsi, req, status, "text/plain", cr_strdup(body), sizeof body - 1);
    http_add_long_header(req, "location", location);
}

void http_respond_json(struct lws *wsi, struct http_req *req, int status, json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT);
    json_decref(value);
    size_t n = text ? strlen(text) : 0;
    if (text) { /* end with a newline for people reading it with curl */
        text = cr_realloc(text, n + 2);
        text[n++] = '\n';
        text[n] = '\0';
    }
    http_respond(wsi, req, status, "application/json", text, n);
}

json_t *http_error_json(enum srv_err e, const char *message)
{
    json_t *v = json_pack("{s:{s:s, s:s}}", "error", "code", srv_err_code(e), "message", message);
    if (v)
        return v;
    /* not UTF-8 (jansson quotes the bad input near a syntax error; a bounded printf can cut
     * a character): keep the sentence, with every byte outside ASCII as '?' */
    char *ascii = cr_strdup(message);
    for (char *p = ascii; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    v = json_pack("{s:{s:s, s:s}}", "error", "code", srv_err_code(e), "message", ascii);
    free(ascii);
    return v;
}

void http_respond_error(struct server *srv, struct lws *wsi, struct http_req *req, enum srv_err e,
                        const char *message)
{
    srv_count_error(srv, e);
    http_respond_json(wsi, req, srv_err_http_status(e), http_error_json(e, message));
}

static int write_headers(struct lws *wsi, struct http_req *req)
{
    unsigned char buf[LWS_PRE + 4096];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)req->status,
                                    req->resp_type[0] ? req->resp_type : NULL,
                                    (lws_filepos_t)req->resp_len, &p, end))
        return -1;
    static const struct http_header cors[] = {
        {"access-control-allow-origin:", "*"},
        {"access-control-expose-headers:",
         "Location, Accept-Patch, Accept-Post, Link, ETag, Content-Range, Accept-Ranges"},
    };
    for (size_t i = 0; i < 2; i++) {
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)cors[i].name,
                                        (const unsigned char *)cors[i].value,
                                        (int)strlen(cors[i].value), &p, end))
            return -1;
    }
    for (int i = 0; i < req->n_headers; i++) {
        const struct http_header *h = &req->headers[i];
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)h->name,
                                        (const unsigned char *)h->value, (int)strlen(h->value), &p,
                                        end))
            return -1;
    }
    for (const struct http_long_header *h = req->long_headers; h; h = h->next) {
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)h->name,
                                        (const unsigned char *)h->value, (int)strlen(h->value), &p,
                                        end))
            return -1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    return 0;
}

/* LWS_CALLBACK_HTTP_WRITEABLE: headers, then the body in chunks, then the next request. */
static int on_writeable(struct lws *wsi, struct http_req *req)
{
    if (!req->responding)
        return 0;
    if (req->phase == 0) {
        if (write_headers(wsi, req) != 0)
            return -1;
        req->phase = 1;
        req->resp_sent = 0;
        if (req->resp_len > 0 && req->method != LWSHUMETH_HEAD) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        size_t left = req->resp_len - req->resp_sent;
        size_t max = req->has_fd ? HTTP_FILE_CHUNK : HTTP_CHUNK;
        size_t n = left > max ? max : left;
        unsigned char *chunk = cr_malloc(LWS_PRE + n);
        if (!req->has_fd) {
            memcpy(chunk + LWS_PRE, req->resp + req->resp_sent, n);
        } else if (pread(req->fd, chunk + LWS_PRE, n, (off_t)(req->fd_off + req->resp_sent)) !=
                   (ssize_t)n) { /* truncated meanwhile: the length is promised, hang up */
            CR_WARN("http", "%s: short read at %llu", req->path,
                    (unsigned long long)(req->fd_off + req->resp_sent));
            free(chunk);
            return -1;
        }
        int w =
            lws_write(wsi, chunk + LWS_PRE, n, n == left ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
        free(chunk);
        if (w < 0)
            return -1;
        req->resp_sent += n;
        if (req->resp_sent < req->resp_len) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    bool close_after = req->close_after;
    reset(req);
    if (close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void read_content_type(struct lws *wsi, struct http_req *req)
{
    char ct[sizeof req->content_type];
    if (lws_hdr_copy(wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0)
        return;
    size_t i = 0;
    for (; ct[i] && ct[i] != ';' && !isspace((unsigned char)ct[i]); i++)
        req->content_type[i] = (char)tolower((unsigned char)ct[i]);
    req->content_type[i] = '\0';
}

/* LWS_CALLBACK_HTTP: a new request; in is the decoded path. */
static int on_request(struct server *srv, struct lws *wsi, struct http_req *req, const char *path,
                      size_t path_len)
{
    reset(req);
    srv->counters.http_requests++;
    char *uri;
    int uri_len;
    req->method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    if (path_len >= sizeof req->path) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "path too long");
        return 0;
    }
    memcpy(req->path, path, path_len);
    req->path[path_len] = '\0';
    read_content_type(wsi, req);
    bool has_body = req->method == LWSHUMETH_POST || req->method == LWSHUMETH_PATCH ||
                    req->method == LWSHUMETH_PUT;
    if (has_body) {
        char cl[24] = "";
        long long n = 0;
        if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
            n = atoll(cl);
        if (n > HTTP_MAX_DRAIN) { /* answer now and hang up rather than read it all */
            req->close_after = true;
            http_respond_error(srv, wsi, req, SRV_ERR_TOO_LARGE,
                               "request body larger than 65536 bytes");
            return 0;
        }
        if (n > SERVER_MAX_BODY) /* read and drop it, so the client sees the 413 */
            req->body_too_large = true;
        if (n > 0)
            return 0; /* the body follows: LWS_CALLBACK_HTTP_BODY */
    }
    if (req->method < 0) {
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, "unsupported method");
        return 0;
    }
    srv->http_route(srv, wsi, req);
    return 0;
}

static int on_body(struct server *srv, struct lws *wsi, struct http_req *req, const char *in,
                   size_t len)
{
    if (req->responding || req->body_too_large)
        return 0;
    if (req->body_len + len > SERVER_MAX_BODY) {
        req->body_too_large = true;
        free(req->body);
        req->body = NULL;
        req->body_len = req->body_cap = 0;
        return 0;
    }
    if (req->body_len + len + 1 > req->body_cap) {
        req->body_cap = req->body_len + len + 1 < 4096 ? 4096 : 2 * (req->body_len + len + 1);
        req->body = cr_realloc(req->body, req->body_cap);
    }
    memcpy(req->body + req->body_len, in, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
    return 0;
}

int http_callback(struct server *srv, struct lws *wsi, enum lws_callback_reasons reason,
                  struct http_req *req, void *in, size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_request(srv, wsi, req, in ? (const char *)in : "/", in ? strlen(in) : 1);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(srv, wsi, req, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (req->responding)
            return 0;
        if (req->body_too_large)
            http_respond_error(srv, wsi, req, SRV_ERR_TOO_LARGE,
                               "request body larger than 65536 bytes");
        else
            srv->http_route(srv, wsi, req);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writeable(wsi, req);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        reset(req);
        return 0;
    default:
        return 0;
    }
}
