/* Plain HTTP on the lws context: request bodies, responses, static files and CORS. A
 * complete request goes to the server handle's http_route (routes.c, the route table).
 *
 * A request's state lives in the lws per-session data (struct http_req) and is reset at
 * the start of every request, since one keep-alive connection carries many. Bodies are
 * collected up to SERVER_MAX_BODY; a bigger one is answered 413 and the connection closed.
 * A response is prepared with http_respond*() and written from LWS_CALLBACK_HTTP_WRITEABLE:
 * headers first, then the body. */
#ifndef CR_SIGNALING_HTTP_H
#define CR_SIGNALING_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "core/context.h"

#define HTTP_MAX_HEADERS 6

struct http_header {
    char name[32]; /* lower case, with the colon: "location:" */
    char value[256];
};

/* A response header whose value may be long (a cookie or a Location carrying a token, a
 * Link with TURN credentials); a list in the order added. */
struct http_long_header {
    struct http_long_header *next;
    char name[32]; /* lower case, with the colon */
    char value[];
};

struct http_req {
    int method;             /* LWSHUMETH_*, -1: none */
    char path[256];         /* decoded URI path */
    char content_type[128]; /* the request's, lower case, parameters stripped */
    char *body;             /* owned */
    size_t body_len, body_cap;
    bool body_too_large;
    bool responding; /* a response is prepared */
    int phase;       /* 0: headers to write, 1: body to write */
    int status;
    char resp_type[64];
    char *resp; /* owned */
    size_t resp_len, resp_sent;
    bool has_fd;     /* the body is resp_len bytes of fd from fd_off, not resp */
    int fd;          /* owned if has_fd */
    uint64_t fd_off; /* where the body starts in the file */
    struct http_header headers[HTTP_MAX_HEADERS];
    int n_headers;
    struct http_long_header *long_headers; /* owned: values too long for headers[] (tokens) */
    bool close_after;
};

/* Handles the HTTP callback reasons for request req (in the lws pss). */
int http_callback(struct server *srv, struct lws *wsi, enum lws_callback_reasons reason,
                  struct http_req *req, void *in, size_t len);

/* Prepares a response; takes ownership of body (malloc'd, may be NULL). */
void http_respond(struct lws *wsi, struct http_req *req, int status, const char *type, char *body,
                  size_t len);
/* Prepares a response whose body is len bytes of the file fd from offset off, read as it is
 * sent; takes ownership of fd. */
void http_respond_fd(struct lws *wsi, struct http_req *req, int status, const char *type, int fd,
                     uint64_t off, uint64_t len);
/* Prepares a JSON response (steals value). */
void http_respond_json(struct lws *wsi, struct http_req *req, int status, json_t *value);
/* Prepares {"error":{"code":..,"message":..}} with the status that fits e; counts it. */
/* Serves a file of the web folder for a GET or HEAD of req->path ("/" is index.html), or
 * answers 404. */
void http_serve_file(struct server *srv, struct lws *wsi, struct http_req *req);

void http_respond_error(struct server *srv, struct lws *wsi, struct http_req *req, enum srv_err e,
                        const char *message);
/* The body of an error answer, {"error":{"code","message"}} (docs/protocol.md); a message
 * that is not UTF-8 keeps its ASCII, its other bytes as '?'. New reference. */
json_t *http_error_json(enum srv_err e, const char *message);
/* Query argument name: 1 and its (decoded) value in buf, 0 absent or empty, -1 too long
 * (http_query.c). */
int http_query(struct lws *wsi, const char *name, char *buf, size_t cap);
/* A numeric query argument in [min, max]: 1 set, 0 absent, -1 malformed or out of range. */
/* Appends the request's path and query (path given: the decoded one), percent-encoded
 * again, to out after its first used bytes (cap in all, NUL-terminated; cut if it does not
 * fit): the rest of a redirect's URL. Returns the length. */
size_t http_url_rest(struct lws *wsi, const char *path, char *out, size_t used, size_t cap);
int http_query_i64(struct lws *wsi, const char *name, int64_t min, int64_t max, int64_t *out);
/* Adds a response header (name without colon); call after http_respond*(). */
void http_add_header(struct http_req *req, const char *name, const char *value);
/* Adds a response header of any length (name without colon); after http_respond*(). */
void http_add_long_header(struct http_req *req, const char *name, const char *value);
/* Sends "Set-Cookie: value" with the response; call after http_respond*(). */
void http_set_cookie(struct http_req *req, const char *value);
/* Answers with a redirect (301, 302, 307, 308) to location. */
void http_redirect(struct lws *wsi, struct http_req *req, int status, const char *location);

#endif
