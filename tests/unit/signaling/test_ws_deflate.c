/* Tests RFC 7692 permessage-deflate on the websocket (signaling/server.c, transport/ws.c)
 * against a real server in-process (e2e_client.c), with zlib on the client side: the
 * extension is accepted as a browser offers it; compressed requests (whole, fragmented,
 * bigger than lws's 1 KB inflate buffer, one after another on one inflater) are read;
 * replies come compressed, each decodable by the client's one inflater; a client that
 * offers nothing gets plain frames; and a compression bomb (a few KB inflating to 8 MiB)
 * closes its connection, is counted, and leaves the server serving others. */
#include <jansson.h>
#include <zlib.h>

#include "e2e_client.c"
#include "e2e_json.c"

#define BROWSER_OFFER "permessage-deflate; client_max_window_bits"

struct zclient {
    int fd;
    z_stream tx, rx; /* the client's compressor and its one inflater (context takeover) */
};

static bool zclient_open(struct zclient *z)
{
    char head[2048];
    memset(z, 0, sizeof *z);
    e2e_ws_extensions = BROWSER_OFFER;
    z->fd = e2e_ws_open_at("/ws", head, sizeof head);
    e2e_ws_extensions = NULL;
    CHECK(z->fd >= 0);
    CHECK(strstr(head, "Sec-WebSocket-Extensions: permessage-deflate") != NULL);
    CHECK_EQ(deflateInit2(&z->tx, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    CHECK_EQ(inflateInit2(&z->rx, -15), Z_OK);
    return z->fd >= 0;
}

static void zclient_close(struct zclient *z)
{
    if (z->fd >= 0)
        close(z->fd);
    deflateEnd(&z->tx);
    inflateEnd(&z->rx);
}

/* Compresses text as one message (§7.2.1: sync flush, the 00 00 ff ff tail removed);
 * returns the malloc'd bytes and their length. */
static uint8_t *compress_msg(struct zclient *z, const char *text, size_t len, size_t *out_len)
{
    size_t cap = deflateBound(&z->tx, len) + 16;
    uint8_t *out = malloc(cap);
    z->tx.next_in = (Bytef *)text;
    z->tx.avail_in = (uInt)len;
    z->tx.next_out = out;
    z->tx.avail_out = (uInt)cap;
    CHECK_EQ(deflate(&z->tx, Z_SYNC_FLUSH), Z_OK);
    *out_len = cap - z->tx.avail_out - 4;
    CHECK(memcmp(out + *out_len, "\x00\x00\xff\xff", 4) == 0);
    return out;
}

/* Sends text compressed, in frames of at most frag bytes (RSV1 on the first only, §6). */
static void send_compressed(struct zclient *z, const char *text, size_t frag)
{
    size_t n;
    uint8_t *bytes = compress_msg(z, text, strlen(text), &n);
    for (size_t off = 0; off < n || off == 0; off += frag) {
        size_t len = n - off < frag ? n - off : frag;
        int op = off == 0 ? (WS_TEXT | 0x40) : WS_CONT;
        CHECK_EQ(e2e_ws_frame(z->fd, op, off + len >= n, bytes + off, len), 0);
        if (n == 0)
            break;
    }
    free(bytes);
}

/* The next message, inflated if it came compressed (*compressed tells); NULL on close. */
static json_t *recv_msg(struct zclient *z, bool *compressed)
{
    char *payload = e2e_ws_read(z->fd, E2E_TIMEOUT_MS, NULL);
    if (!payload)
        return NULL;
    *compressed = e2e_ws_last_rsv1;
    size_t n = e2e_ws_last_len;
    char *text = payload;
    if (*compressed) {
        uint8_t *in = malloc(n + 4);
        memcpy(in, payload, n);
        memcpy(in + n, "\x00\x00\xff\xff", 4);
        text = calloc(1, 1 << 20);
        z->rx.next_in = in;
        z->rx.avail_in = (uInt)(n + 4);
        z->rx.next_out = (Bytef *)text;
        z->rx.avail_out = (1 << 20) - 1;
        CHECK_EQ(inflate(&z->rx, Z_SYNC_FLUSH), Z_OK);
        CHECK_EQ(z->rx.avail_in, 0);
        free(in);
        free(payload);
    }
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    return j;
}

static void expect_pong(struct zclient *z, long long id)
{
    bool compressed = false;
    json_t *r = recv_msg(z, &compressed);
    CHECK(r != NULL);
    CHECK(compressed);
    CHECK(json_is_true(json_object_get(r, "ok")));
    CHECK_EQ(json_integer_value(json_object_get(r, "id")), id);
    json_decref(r);
}

static void test_requests_and_replies(void)
{
    struct zclient z;
    if (!zclient_open(&z)) {
        zclient_close(&z);
        return;
    }
    /* whole messages, one after another on the same compressor and inflater */
    send_compressed(&z, "{\"type\":\"ping\",\"id\":1}", 1 << 20);
    expect_pong(&z, 1);
    send_compressed(&z, "{\"type\":\"ping\",\"id\":2}", 1 << 20);
    expect_pong(&z, 2);
    /* in fragments of 7 bytes */
    send_compressed(&z, "{\"type\":\"ping\",\"id\":3,\"pad\":\"fragmented\"}", 7);
    expect_pong(&z, 3);
    /* 40 KB of text, many times lws's inflate buffer, with little to squeeze out */
    static char big[40 * 1024];
    int head = snprintf(big, sizeof big, "{\"type\":\"ping\",\"id\":4,\"pad\":\"");
    for (size_t i = (size_t)head; i < sizeof big - 3; i++)
        big[i] = (char)('a' + (i * 7919 % 26));
    memcpy(big + sizeof big - 3, "\"}", 3);
    send_compressed(&z, big, 1 << 20);
    expect_pong(&z, 4);
    /* a bad message compressed is still answered as bad_json */
    send_compressed(&z, "{not json", 1 << 20);
    bool compressed = false;
    json_t *r = recv_msg(&z, &compressed);
    CHECK_STR(code_of(r), "bad_json");
    json_decref(r);
    zclient_close(&z);
}

static void test_plain_client_stays_plain(void)
{
    int fd = e2e_ws_open();
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_EQ(e2e_ws_text(fd, "{\"type\":\"ping\",\"id\":9}"), 0);
    char *payload = e2e_ws_read(fd, E2E_TIMEOUT_MS, NULL);
    CHECK(payload && payload[0] == '{');
    CHECK(!e2e_ws_last_rsv1);
    free(payload);
    close(fd);
}

/* 8 MiB of spaces in one message, compressed to about 8 KB: the server reads to its limit,
 * then closes this connection; another connection is served as before. */
static void test_bomb(void)
{
    struct zclient z;
    if (!zclient_open(&z)) {
        zclient_close(&z);
        return;
    }
    size_t big = 8u << 20;
    char *text = malloc(big + 1);
    memset(text, ' ', big);
    text[0] = '[';
    text[big - 1] = ']';
    text[big] = '\0';
    size_t n;
    uint8_t *bytes = compress_msg(&z, text, big, &n);
    free(text);
    CHECK(n < 64 * 1024);
    CHECK_EQ(e2e_ws_frame(z.fd, WS_TEXT | 0x40, true, bytes, n), 0);
    free(bytes);
    CHECK(e2e_closed_by_peer(z.fd, E2E_TIMEOUT_MS));
    zclient_close(&z);

    struct zclient other;
    if (zclient_open(&other)) {
        send_compressed(&other, "{\"type\":\"ping\",\"id\":5}", 1 << 20);
        expect_pong(&other, 5);
    }
    zclient_close(&other);
}

int main(void)
{
    if (e2e_start() != 0) {
        fprintf(stderr, "cannot start the server\n");
        return 1;
    }
    test_requests_and_replies();
    test_plain_client_stays_plain();
    test_bomb();
    e2e_stop_thread();
    CHECK_EQ(e2e_srv.counters.errors[SRV_ERR_TOO_LARGE], 1);
    CHECK_EQ(e2e_srv.counters.errors[SRV_ERR_BAD_JSON], 1);
    server_stop(&e2e_srv);
    return test_report();
}
