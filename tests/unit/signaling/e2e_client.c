/* The end-to-end fixture shared by test_ws_protocol.c and test_http.c (#included by both;
 * not a test of its own, the build takes test_*.c only): a real classrelay server started
 * in-process on an ephemeral 127.0.0.1 port with its relay on any ICE port of 127.0.0.1,
 * serviced by a thread until the test stops it, and a minimal client written by hand over
 * a plain TCP socket, so the bytes on the wire are exactly what a test says: HTTP/1.1
 * requests, the websocket opening handshake (RFC 6455 §4.1) and masked client frames
 * (§5.2, §5.3).
 * Every read has a deadline, so a missing reply fails a check instead of hanging. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "core/config.h"
#include "server.h"
#include "test.h"
#include "access/token.h"
#include "lesson/registry.h"

#define E2E_TIMEOUT_MS 5000
/* each including test uses only some of the helpers */
#define E2E_FN static __attribute__((unused))

static struct server e2e_srv;
static struct config e2e_cfg;
/* An admin token of this server, sent with every request and websocket upgrade unless
 * e2e_anonymous is set (docs/scheduling.md): the tests use rooms outside the schedule. */
static char e2e_token[TOKEN_MAX + 1];
static bool e2e_anonymous;
static pthread_t e2e_thread;
static int e2e_port;

E2E_FN void *e2e_run(void *arg)
{
    server_run(&e2e_srv);
    return NULL;
}

/* Starts the server (demo room open, as by default). Returns 0 or -1. */
E2E_FN int e2e_start(void)
{
    signal(SIGPIPE, SIG_IGN);
    e2e_cfg = config_defaults;
    e2e_cfg.listen_port = 0; /* the kernel picks; config_set would refuse 0, on purpose */
    e2e_cfg.ice_port_min = e2e_cfg.ice_port_max = 0;
    e2e_cfg.media_port = 0; /* a port per peer: any free one, never a running server's */
    e2e_cfg.ice_tcp = false;
    snprintf(e2e_cfg.bind_ip, sizeof e2e_cfg.bind_ip, "127.0.0.1"); /* test media: loopback */
    e2e_cfg.log_level = CR_LOG_WARN;
    char dir[] = "/tmp/cr-e2e-XXXXXX"; /* left behind: the test's database and key, small */
    if (!mkdtemp(dir))
        return -1;
    snprintf(e2e_cfg.data_dir, sizeof e2e_cfg.data_dir, "%s", dir);
    cr_log_set_level(CR_LOG_WARN);
    if (server_start(&e2e_srv, &e2e_cfg) != 0)
        return -1;
    struct token_claims admin = {.role = ROLE_ADMIN, .exp = time(NULL) + 3600};
    snprintf(admin.sub, sizeof admin.sub, "cli");
    if (token_sign(e2e_srv.key, &admin, e2e_token, sizeof e2e_token) != 0)
        return -1;
    e2e_port = lws_get_vhost_listen_port(lws_get_vhost_by_name(e2e_srv.lws, "classrelay"));
    if (e2e_port <= 0)
        return -1;
    return pthread_create(&e2e_thread, NULL, e2e_run, NULL) == 0 ? 0 : -1;
}

/* Stops the service thread; the server's state may be read after this, then freed. */
E2E_FN void e2e_stop_thread(void)
{
    server_request_stop(&e2e_srv);
    pthread_join(e2e_thread, NULL);
}

E2E_FN int64_t e2e_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

E2E_FN int e2e_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)e2e_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

E2E_FN int e2e_write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads exactly len bytes before the deadline. Returns 0, or -1 (timeout, EOF, error). */
E2E_FN int e2e_read_all(int fd, void *buf, size_t len, int64_t deadline)
{
    uint8_t *p = buf;
    while (len > 0) {
        int64_t left = deadline - e2e_now_ms();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return -1;
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* True if the peer closes the connection (EOF or reset) before the deadline. */
E2E_FN bool e2e_closed_by_peer(int fd, int timeout_ms)
{
    int64_t deadline = e2e_now_ms() + timeout_ms;
    char buf[4096];
    for (;;) {
        int64_t left = deadline - e2e_now_ms();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return false;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return true;
    }
}

/* Reads an HTTP response head (up to the blank line) into head. Returns its length or -1. */
E2E_FN int e2e_read_head(int fd, char *head, size_t cap)
{
    int64_t deadline = e2e_now_ms() + E2E_TIMEOUT_MS;
    size_t n = 0;
    while (n + 1 < cap) {
        if (e2e_read_all(fd, head + n, 1, deadline) != 0)
            return -1;
        n++;
        head[n] = '\0';
        if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0)
            return (int)n;
    }
    return -1;
}

/* ---- HTTP ---- */

struct e2e_response {
    int status;
    char head[4096]; /* status line and headers, header names lower-cased */
    char *body;      /* malloc'd, NUL-terminated */
    size_t body_len;
};

/* The value of header name (lower case, no colon) in r, copied into out; false if absent. */
E2E_FN bool e2e_header(const struct e2e_response *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(e - v), v);
            return true;
        }
    }
    return false;
}

/* Reads one response (Content-Length framed) from fd. Returns 0 or -1. */
E2E_FN int e2e_read_response(int fd, bool head_request, struct e2e_response *r)
{
    memset(r, 0, sizeof *r);
    if (e2e_read_head(fd, r->head, sizeof r->head) < 0)
        return -1;
    /* lower-case the header names */
    for (char *line = strstr(r->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        for (char *c = line + 2; *c && *c != ':' && *c != '\r'; c++)
            *c = (char)tolower((unsigned char)*c);
    }
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    char cl[32];
    size_t len = 0;
    if (e2e_header(r, "content-length", cl, sizeof cl))
        len = (size_t)atol(cl);
    if (head_request || r->status == 204 || r->status == 304)
        len = 0;
    r->body = malloc(len + 1);
    if (e2e_read_all(fd, r->body, len, e2e_now_ms() + E2E_TIMEOUT_MS) != 0) {
        free(r->body);
        r->body = NULL;
        return -1;
    }
    r->body[len] = '\0';
    r->body_len = len;
    return 0;
}

/* One request on a fresh connection. extra: more header lines, each ending "\r\n". */
E2E_FN int e2e_http(const char *method, const char *path, const char *extra, const char *body,
                    size_t body_len, struct e2e_response *r)
{
    int fd = e2e_connect();
    if (fd < 0)
        return -1;
    char head[2048 + TOKEN_MAX];
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path,
                     extra ? extra : "");
    if (!e2e_anonymous)
        n += snprintf(head + n, sizeof head - (size_t)n, "Authorization: Bearer %s\r\n", e2e_token);
    if (body)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", body_len);
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    int rc = e2e_write_all(fd, head, (size_t)n);
    if (rc == 0 && body && body_len)
        rc = e2e_write_all(fd, body, body_len);
    if (rc == 0)
        rc = e2e_read_response(fd, strcmp(method, "HEAD") == 0, r);
    close(fd);
    return rc;
}

E2E_FN void e2e_response_free(struct e2e_response *r)
{
    free(r->body);
    r->body = NULL;
}

/* ---- websocket ---- */

enum { WS_CONT = 0, WS_TEXT = 1, WS_BINARY = 2, WS_CLOSE = 8, WS_PING = 9, WS_PONG = 10 };

/* Opens a websocket at path. Returns the socket, or -1 (with the response head in head, if
 * given, when the server refused the upgrade). */
E2E_FN int e2e_ws_open_at(const char *path, char *head_out, size_t head_cap)
{
    int fd = e2e_connect();
    if (fd < 0)
        return -1;
    char req[512 + TOKEN_MAX];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                     path, e2e_anonymous ? "" : "Authorization: Bearer ",
                     e2e_anonymous ? "" : e2e_token, e2e_anonymous ? "" : "\r\n");
    char head[2048];
    if (e2e_write_all(fd, req, (size_t)n) != 0 || e2e_read_head(fd, head, sizeof head) < 0) {
        close(fd);
        return -1;
    }
    if (head_out)
        snprintf(head_out, head_cap, "%s", head);
    /* RFC 6455 §1.3: the accept value for the sample nonce */
    if (strncmp(head, "HTTP/1.1 101", 12) != 0 || !strstr(head, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")) {
        close(fd);
        return -1;
    }
    return fd;
}

E2E_FN int e2e_ws_open(void) { return e2e_ws_open_at("/ws", NULL, 0); }

/* Sends one masked frame (RFC 6455 §5.2). */
E2E_FN int e2e_ws_frame(int fd, int opcode, bool fin, const void *data, size_t len)
{
    uint8_t hdr[14];
    size_t h = 0;
    hdr[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        hdr[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (uint8_t)(len >> 8);
        hdr[h++] = (uint8_t)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    memcpy(hdr + h, mask, 4);
    h += 4;
    uint8_t *buf = malloc(h + len + 1);
    memcpy(buf, hdr, h);
    for (size_t i = 0; i < len; i++)
        buf[h + i] = ((const uint8_t *)data)[i] ^ mask[i & 3];
    int rc = e2e_write_all(fd, buf, h + len);
    free(buf);
    return rc;
}

E2E_FN int e2e_ws_text(int fd, const char *text)
{
    return e2e_ws_frame(fd, WS_TEXT, true, text, strlen(text));
}

/* Reads the next data frame's payload (malloc'd, NUL-terminated), answering nothing and
 * skipping control frames. Returns NULL on timeout or close. */
E2E_FN char *e2e_ws_read(int fd, int timeout_ms, int *opcode_out)
{
    int64_t deadline = e2e_now_ms() + timeout_ms;
    for (;;) {
        uint8_t h[2];
        if (e2e_read_all(fd, h, 2, deadline) != 0)
            return NULL;
        uint64_t len = h[1] & 0x7f;
        uint8_t ext[8];
        if (len == 126) {
            if (e2e_read_all(fd, ext, 2, deadline) != 0)
                return NULL;
            len = (uint64_t)ext[0] << 8 | ext[1];
        } else if (len == 127) {
            if (e2e_read_all(fd, ext, 8, deadline) != 0)
                return NULL;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | ext[i];
        }
        if ((h[1] & 0x80) || len > (64u << 20)) /* a server never masks */
            return NULL;
        char *payload = malloc((size_t)len + 1);
        if (e2e_read_all(fd, payload, (size_t)len, deadline) != 0) {
            free(payload);
            return NULL;
        }
        payload[len] = '\0';
        int opcode = h[0] & 0x0f;
        if (opcode == WS_CLOSE) {
            free(payload);
            return NULL;
        }
        if (opcode == WS_PING || opcode == WS_PONG) {
            free(payload);
            continue;
        }
        if (opcode_out)
            *opcode_out = opcode;
        return payload;
    }
}
