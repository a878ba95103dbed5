/* Websocket framing and send queue: see ws.h. RFC 6455 §5.4 for fragmentation: a message
 * is complete when the final fragment's last bytes have arrived (lws may split one frame
 * into several callbacks, hence lws_remaining_packet_payload()). */
#include "transport/ws.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/alloc.h"
#include "base/log.h"
#include "core/context.h"

/* A signaling connection is a thin stream (a message or two in flight), and on a school
 * link losing 10 % one lost segment of a subscribe answer waited 1.2, 2.4 s... for TCP's
 * doubling retransmission timeouts: 4.7 s once. Linear timeouts for thin streams (tcp(7),
 * TCP_THIN_LINEAR_TIMEOUTS) retry at the same timeout the first six times. */
static void thin_stream(struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi), on = 1;
    if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, &on, sizeof on) != 0)
        CR_DEBUG("ws", "no linear timeouts on this socket");
}

void ws_tx_clear(struct ws_conn *c)
{
    while (c->tx_head) {
        struct ws_msg *m = c->tx_head;
        c->tx_head = m->next;
        free(m);
    }
    c->tx_tail = NULL;
    c->tx_n = c->tx_bytes = 0;
}

void ws_send(struct ws_conn *c, json_t *msg)
{
    if (!msg)
        return;
    if (c->kill || (!c->wsi && !c->parked)) {
        json_decref(msg);
        return;
    }
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text)
        return;
    size_t n = strlen(text);
    if (c->tx_n >= WS_TX_MAX_MSGS || c->tx_bytes + n > WS_TX_MAX_BYTES) {
        CR_WARN("ws", "client not reading (%zu messages, %zu bytes queued): disconnecting", c->tx_n,
                c->tx_bytes);
        c->srv->counters.ws_dropped_slow++;
        free(text);
        c->kill = true;
        ws_tx_clear(c);
        if (!c->parked) /* a parked one is closed by the sweep */
            lws_callback_on_writable(c->wsi);
        return;
    }
    struct ws_msg *m = cr_malloc(sizeof *m + LWS_PRE + n);
    m->next = NULL;
    m->len = n;
    memcpy(m->buf + LWS_PRE, text, n);
    free(text);
    if (c->tx_tail)
        c->tx_tail->next = m;
    else
        c->tx_head = m;
    c->tx_tail = m;
    c->tx_n++;
    c->tx_bytes += n;
    if (!c->parked)
        lws_callback_on_writable(c->wsi);
}

static int on_writeable(struct ws_conn *c)
{
    if (c->kill)
        return -1;
    struct ws_msg *m = c->tx_head;
    if (!m)
        return 0;
    c->tx_head = m->next;
    if (!c->tx_head)
        c->tx_tail = NULL;
    c->tx_n--;
    c->tx_bytes -= m->len;
    int n = lws_write(c->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    free(m);
    if (n < 0)
        return -1;
    c->srv->counters.ws_messages_out++;
    if (c->tx_head)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static void on_receive(struct ws_conn *c, const char *in, size_t len)
{
    if (c->rx_len == 0 && !c->rx_too_large && lws_is_first_fragment(c->wsi))
        c->rx_binary = lws_frame_is_binary(c->wsi);
    if (!c->rx_too_large) {
        if (c->rx_len + len > SERVER_MAX_BODY) {
            c->rx_too_large = true;
            free(c->rx);
            c->rx = NULL;
            c->rx_len = c->rx_cap = 0;
        } else {
            if (c->rx_len + len + 1 > c->rx_cap) {
                size_t cap = c->rx_cap ? c->rx_cap : 1024;
                while (cap < c->rx_len + len + 1)
                    cap *= 2;
                c->rx = cr_realloc(c->rx, cap);
                c->rx_cap = cap;
            }
            memcpy(c->rx + c->rx_len, in, len);
            c->rx_len += len;
            c->rx[c->rx_len] = '\0';
        }
    }
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi) > 0)
        return;
    /* a whole message */
    c->srv->counters.ws_messages_in++;
    if (c->rx_too_large)
        c->srv->ws->refused(c, SRV_ERR_TOO_LARGE, "message larger than 65536 bytes");
    else if (c->rx_binary)
        c->srv->ws->refused(c, SRV_ERR_BAD_REQUEST, "binary messages are not accepted");
    else
        c->srv->ws->message(c, c->rx ? c->rx : "", c->rx_len);
    c->rx_len = 0;
    c->rx_too_large = c->rx_binary = false;
    if (c->rx_cap > 16 * 1024) { /* do not keep a big buffer for an idle connection */
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
    }
}

int ws_callback(struct server *srv, struct lws *wsi, enum lws_callback_reasons reason,
                struct ws_conn *c, void *in, size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, sizeof *c);
        c->srv = srv;
        c->wsi = wsi;
        c->next = srv->conns;
        srv->conns = c;
        srv->counters.ws_connections++;
        srv->counters.ws_connections_total++;
        thin_stream(wsi);
        srv->ws->opened(c); /* headers are still here */
        CR_DEBUG("ws", "connection open");
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c->kill)
            return -1;
        lws_validity_confirmed(wsi); /* the client spoke: alive, whatever became of a ping */
        on_receive(c, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(c);
    case LWS_CALLBACK_CLOSED:
        if (!c->srv)
            return 0;
        srv->ws->closed(c);
        for (struct ws_conn **pp = &srv->conns; *pp; pp = &(*pp)->next) {
            if (*pp == c) {
                *pp = c->next;
                break;
            }
        }
        srv->counters.ws_connections--;
        ws_tx_clear(c);
        free(c->rx);
        c->rx = NULL;
        c->wsi = NULL;
        c->srv = NULL;
        CR_DEBUG("ws", "connection closed");
        return 0;
    default:
        return 0;
    }
}
