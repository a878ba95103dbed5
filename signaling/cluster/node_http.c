/* A small blocking HTTP/1.1 client between nodes: see node_http.h (RFC 9112; TLS 1.2+). */
#include "cluster/node_http.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"

struct conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int64_t deadline_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable (in) or writable; false at the deadline. */
static bool wait_fd(const struct conn *c, bool in)
{
    int left = (int)(c->deadline_ms - mono_ms());
    struct pollfd p = {.fd = c->fd, .events = in ? POLLIN : POLLOUT};
    return left > 0 && poll(&p, 1, left) == 1;
}

static int dial(struct conn *c, const char *host, const char *port, char *err, size_t err_len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_len, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    c->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    rc = c->fd < 0 ? -1 : connect(c->fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 && errno == EINPROGRESS && wait_fd(c, false)) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        rc = soerr ? -1 : 0;
        errno = soerr ? soerr : errno;
    }
    if (rc != 0)
        snprintf(err, err_len, "cannot connect to %s:%s: %s", host, port,
                 errno == EINPROGRESS ? "timed out" : strerror(errno));
    return rc;
}

static int tls_start(struct conn *c, const char *host, char *err, size_t err_len)
{
    c->ctx = SSL_CTX_new(TLS_client_method());
    c->ssl = c->ctx ? SSL_new(c->ctx) : NULL;
    if (!c->ssl) {
        snprintf(err, err_len, "no TLS");
        return -1;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_set_tlsext_host_name(c->ssl, host);
    SSL_set_fd(c->ssl, c->fd);
    for (;;) {
        int r = SSL_connect(c->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
            !wait_fd(c, e == SSL_ERROR_WANT_READ)) {
            snprintf(err, err_len, "TLS handshake with %s failed", host);
            return -1;
        }
    }
}

/* Writes or reads some bytes: >0, 0 at the end of the stream, -1 on error or timeout. */
static ssize_t io(struct conn *c, bool in, void *buf, size_t len)
{
    for (;;) {
        ssize_t n;
        if (c->ssl) {
            n = in ? SSL_read(c->ssl, buf, (int)len) : SSL_write(c->ssl, buf, (int)len);
            if (n > 0)
                return n;
            int e = SSL_get_error(c->ssl, (int)n);
            if (e == SSL_ERROR_ZERO_RETURN)
                return 0;
            if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
                wait_fd(c, e == SSL_ERROR_WANT_READ))
                continue;
            return in && e == SSL_ERROR_SYSCALL ? 0 : -1; /* a close without close_notify */
        }
        n = in ? recv(c->fd, buf, len, 0) : send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if ((errno != EAGAIN && errno != EINTR) || !wait_fd(c, in))
            return -1;
    }
}

static int send_all(struct conn *c, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = io(c, false, (void *)buf, len);
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads a whole answer (or to the end of the stream) into a malloc'd buffer (*len bytes); NULL on
 * error. */
static char *read_all(struct conn *c, size_t *len)
{
    size_t cap = 16384, n = 0;
    char *buf = cr_malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= HTTP_CLIENT_MAX)
                break;
            cap *= 2;
            buf = cr_realloc(buf, cap + 1);
        }
        ssize_t r = io(c, true, buf + n, cap - n);
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if (node_http_complete(buf, n))
            break;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* base "http(s)://HOST:PORT" into host and port; tls set for https. */
static int split_base(const char *base, char *host, size_t hcap, char *port, size_t pcap, bool *tls)
{
    *tls = strncmp(base, "https://", 8) == 0;
    if (!*tls && strncmp(base, "http://", 7) != 0)
        return -1;
    const char *h = base + (*tls ? 8 : 7), *colon = strrchr(h, ':'), *end = h + strlen(h);
    if (h[0] == '[') { /* [v6]:port */
        const char *rb = strchr(h, ']');
        if (!rb)
            return -1;
        colon = rb[1] == ':' ? rb + 1 : NULL;
        snprintf(host, hcap, "%.*s", (int)(rb - h - 1), h + 1);
    } else {
        snprintf(host, hcap, "%.*s", (int)((colon ? colon : end) - h), h);
    }
    snprintf(port, pcap, "%s", colon ? colon + 1 : (*tls ? "443" : "80"));
    return host[0] ? 0 : -1;
}

static void conn_close(struct conn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->ctx)
        SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
}

int http_client_do(const struct http_client_req *q, struct http_client_resp *out, char *err,
                   size_t err_len)
{
    char host[256], port[16];
    bool tls;
    memset(out, 0, sizeof *out);
    if (split_base(q->base, host, sizeof host, port, sizeof port, &tls) != 0) {
        snprintf(err, err_len, "not an http(s)://HOST:PORT URL: %s", q->base);
        return -1;
    }
    struct conn c = {.fd = -1, .deadline_ms = mono_ms() + q->timeout_ms};
    char head[4096];
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
                      "User-Agent: classrelay-node\r\n%s%s%s",
                      q->method, q->path, host, port, q->token ? "Authorization: Bearer " : "",
                      q->token ? q->token : "", q->token ? "\r\n" : "");
    if (q->type)
        hn += snprintf(head + hn, sizeof head - (size_t)hn,
                       "Content-Type: %s\r\nContent-Length: %zu\r\n", q->type, q->body_len);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "\r\n");
    int rc = -1;
    size_t len = 0;
    char *buf = NULL;
    if ((size_t)hn >= sizeof head)
        snprintf(err, err_len, "request head too long");
    else if (dial(&c, host, port, err, err_len) == 0 &&
             (!tls || tls_start(&c, host, err, err_len) == 0)) {
        if (send_all(&c, head, (size_t)hn) != 0 || (q->type && send_all(&c, q->body, q->body_len)))
            snprintf(err, err_len, "cannot send to %s", q->base);
        else if (!(buf = read_all(&c, &len)))
            snprintf(err, err_len, "no answer from %s (timed out or reset)", q->base);
        else if ((rc = http_client_parse(buf, len, out)) != 0)
            snprintf(err, err_len, "a malformed answer from %s", q->base);
    }
    free(buf);
    conn_close(&c);
    return rc;
}
