/* Websocket sessions begun over HTTP: see ws_park.h. The key is 128 random bits from
 * getrandom(2), compared in constant time. */
#include "transport/ws_park.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/strbuf.h"

static bool make_key(char out[WS_PARK_KEY_LEN + 1])
{
    unsigned char rnd[WS_PARK_KEY_LEN / 2];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return false;
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
    return true;
}

struct ws_conn *ws_park(struct server *srv, struct lws *wsi, int64_t now_ms, const char *idem)
{
    if (srv->n_parked >= WS_PARK_MAX)
        return NULL;
    struct ws_conn *c = CR_NEW(struct ws_conn);
    if (!make_key(c->park_key)) {
        free(c);
        return NULL;
    }
    c->srv = srv;
    c->parked = true;
    snprintf(c->park_idem, sizeof c->park_idem, "%s", idem);
    c->park_until_ms = now_ms + WS_PARK_MS;
    c->next = srv->parked;
    srv->parked = c;
    srv->n_parked++;
    c->wsi = wsi; /* for the protocol to read the request's token, then never again */
    srv->ws->opened(c);
    c->wsi = NULL;
    return c;
}

char *ws_park_drain(struct ws_conn *c, size_t *len)
{
    struct strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "[");
    for (struct ws_msg *m = c->tx_head; m; m = m->next) {
        if (m != c->tx_head)
            strbuf_puts(&b, ",");
        strbuf_append(&b, (const char *)m->buf + LWS_PRE, m->len);
    }
    strbuf_puts(&b, "]");
    ws_tx_clear(c);
    *len = b.len;
    return strbuf_take(&b);
}

void ws_park_keep_answer(struct ws_conn *c, const char *text, size_t len)
{
    free(c->park_answer);
    c->park_answer = cr_malloc(len + 1);
    memcpy(c->park_answer, text, len);
    c->park_answer[len] = '\0';
    c->park_answer_len = len;
}

struct ws_conn *ws_park_by_idem(struct server *srv, const char *idem)
{
    if (!idem[0])
        return NULL;
    for (struct ws_conn *c = srv->parked; c; c = c->next) {
        if (strcmp(c->park_idem, idem) == 0)
            return c;
    }
    return NULL;
}

static bool key_eq(const char *a, const char *b)
{
    unsigned char d = 0;
    for (size_t i = 0; i < WS_PARK_KEY_LEN; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

struct ws_conn *ws_park_find(struct server *srv, const char *key)
{
    if (strlen(key) != WS_PARK_KEY_LEN)
        return NULL;
    for (struct ws_conn *c = srv->parked; c; c = c->next) {
        if (!c->kill && !c->park_taken && key_eq(c->park_key, key))
            return c;
    }
    return NULL;
}

static void unlink_free(struct ws_conn *c)
{
    struct server *srv = c->srv;
    for (struct ws_conn **pp = &srv->parked; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            srv->n_parked--;
            break;
        }
    }
    ws_tx_clear(c);
    free(c->park_answer);
    free(c);
}

/* Through the protocol's closed handler, once. */
static void park_closed(struct ws_conn *c)
{
    if (!c->park_taken)
        c->srv->ws->closed(c);
    c->park_taken = true;
    c->user = NULL;
    ws_tx_clear(c);
    free(c->park_answer);
    c->park_answer = NULL;
    c->park_answer_len = 0;
}

void ws_park_close(struct ws_conn *c)
{
    park_closed(c);
    unlink_free(c);
}

void ws_adopt(struct ws_conn *c, struct ws_conn *parked)
{
    if (parked->tx_head) {
        if (c->tx_tail)
            c->tx_tail->next = parked->tx_head;
        else
            c->tx_head = parked->tx_head;
        c->tx_tail = parked->tx_tail;
        c->tx_n += parked->tx_n;
        c->tx_bytes += parked->tx_bytes;
        parked->tx_head = parked->tx_tail = NULL;
        parked->tx_n = parked->tx_bytes = 0;
        if (c->wsi)
            lws_callback_on_writable(c->wsi);
    }
    park_closed(parked); /* listed until its time is up: a late repeat is refused */
}

void ws_park_sweep(struct server *srv, int64_t now_ms)
{
    struct ws_conn *c = srv->parked;
    while (c) {
        struct ws_conn *next = c->next;
        if (c->park_taken && now_ms >= c->park_until_ms) {
            unlink_free(c);
        } else if (!c->park_taken && (c->kill || now_ms >= c->park_until_ms)) {
            CR_INFO("ws", "a session begun over HTTP was not taken over by a websocket: closed");
            srv->counters.ws_park_expired++;
            ws_park_close(c);
        }
        c = next;
    }
}

void ws_park_close_all(struct server *srv)
{
    while (srv->parked)
        ws_park_close(srv->parked);
}
