/* A small blocking HTTP/1.1 client (RFC 9112) for calls between the nodes of a cluster
 * (lesson/cascade.c asks an origin for cascade links; cluster/, since only nodes call nodes): one
 * request per connection
 * ("Connection: close"), plain TCP or TLS (OpenSSL; the peer's certificate is not checked:
 * the nodes prove themselves with tokens signed by the key they share, and the media's
 * DTLS fingerprints travel inside these calls — see docs/cluster.md), with a deadline for the
 * whole exchange. Runs on a thread of its own, never on the lws thread. The answer is read
 * whole (at most HTTP_CLIENT_MAX bytes) and parsed by http_client_parse, which is pure and
 * fuzzed (fuzz_sig_node_http). */
#ifndef CR_SIGNALING_NODE_HTTP_H
#define CR_SIGNALING_NODE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_CLIENT_MAX (1024 * 1024)

struct http_client_resp {
    int status; /* 100..599 */
    char *body; /* malloc'd, NUL-terminated (chunked transfer coding undone) */
    size_t body_len;
};

struct http_client_req {
    const char *base;   /* "http://HOST:PORT" or "https://HOST:PORT" */
    const char *method; /* "GET", "POST", "DELETE" */
    const char *path;   /* "/api/v1/..." */
    const char *token;  /* Bearer token; NULL: none */
    const char *type;   /* the body's Content-Type; NULL: no body */
    const char *body;
    size_t body_len;
    int timeout_ms; /* the whole exchange */
};

/* Makes the request. 0 with *out filled (the caller frees out->body), or -1 with a reason in
 * err (cannot connect, timed out, a malformed answer). */
int http_client_do(const struct http_client_req *q, struct http_client_resp *out, char *err,
                   size_t err_len);

/* Parses a whole answer (status line, headers, body by Content-Length, chunked, or to the
 * end). 0 with *out filled, or -1. */
int http_client_parse(const char *buf, size_t len, struct http_client_resp *out);

/* Whether buf holds a whole answer already (its body as long as Content-Length says, or the
 * last chunk), so the client stops reading whether or not the server closes. */
bool node_http_complete(const char *buf, size_t len);

#endif
