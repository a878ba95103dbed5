/* ICE lite on the shared media port; see ice_lite.h.
 *
 * A check (RFC 8445 §7.3) is authenticated by stun_responder.c with our password; its
 * source address is then bound to us in the mux (datagrams from it are ours) and answered.
 * The first authenticated check selects its address at once, as mediasoup does, so our
 * DTLS flight need not wait for the nomination; a check with USE-CANDIDATE (§7.3.1.5,
 * §8.2) from another address moves our sends there. Datagrams from any bound address are
 * taken (a browser may send its ClientHello on a pair before it nominates one); sends go
 * to the selected one. Consent (RFC 7675 §5.1) is kept as on the full agent's taken-over
 * socket: our own Binding requests every 5 s, and without an answer for 30 s the state is
 * CR_ICE_FAILED and nothing more is sent. An ICE-TCP connection (net/ice_tcp.h) is one more
 * "socket" of the mux here: checked, selected and sent on like a UDP address. */
#include "net/ice_lite.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "net/addr.h"
#include "net/stun_responder.h"
#include "wire/stun.h"

#define UFRAG_LEN 8 /* RFC 8445 §5.3: at least 24 bits of randomness; 48 here */
#define PWD_LEN 24  /* at least 128 bits: 144 here */
/* RFC 8445 §5.1.2.1: type preference 126 (host), local preference by address; ICE-TCP
 * (RFC 6544 §4.2) below every UDP candidate, so a browser that can send UDP does. */
#define HOST_PRIORITY(i) ((126u << 24) | ((65535u - (unsigned)(i)) << 8) | 255u)
#define TCP_PRIORITY(i) ((126u << 24) | ((32767u - (unsigned)(i)) << 8) | 255u)

static uint32_t sock_priority(unsigned sock)
{
    unsigned i = cr_mux_sock_address(sock);
    return cr_mux_sock_is_tcp(sock) ? TCP_PRIORITY(i) : HOST_PRIORITY(i);
}

struct cr_ice_lite {
    struct cr_ice_mux *mux;     /* borrowed: the worker's */
    struct cr_mux_endpoint *ep; /* owned */
    struct cr_ice_callbacks cb;
    void *user;            /* borrowed */
    struct cr_log_ctx log; /* borrowed strings */
    char ufrag[UFRAG_LEN + 1], pwd[PWD_LEN + 1];
    char *remote_ufrag, *remote_pwd; /* owned */
    struct cr_stun_responder *stun;  /* owned, once the remote credentials are known */
    enum cr_ice_state state;
    bool selected; /* a pair: sock and addr */
    unsigned sock;
    struct sockaddr_storage addr;
    bool consent_lost;
    int consent_interval_ms, consent_timeout_ms;
    char pair_desc[128];
    struct cr_ice_rx_stats rx_stats;
};

static void random_string(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"; /* ice-char */
    uint8_t raw[64];
    if (n > sizeof(raw) || RAND_bytes(raw, (int)n) != 1)
        abort(); /* guessable credentials would let anyone take a peer's pair */
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[raw[i] & 63];
    out[n] = '\0';
}

static const struct cr_mux_endpoint_callbacks endpoint_cb;

/* New local credentials registered with the mux, the endpoint made with the first ones (a
 * few tries against a collision of ufrags; on failure the old ones stay). */
static int fresh_credentials(struct cr_ice_lite *l)
{
    char ufrag[UFRAG_LEN + 1];
    for (int tries = 0; tries < 4; tries++) {
        random_string(ufrag, UFRAG_LEN);
        if (l->ep ? cr_mux_endpoint_set_ufrag(l->ep, ufrag) == 0
                  : (l->ep = cr_mux_endpoint_new(l->mux, ufrag, &endpoint_cb, l)) != NULL) {
            memcpy(l->ufrag, ufrag, sizeof ufrag);
            random_string(l->pwd, PWD_LEN);
            return 0;
        }
    }
    return -1; /* the old ones stay */
}

static void set_state(struct cr_ice_lite *l, enum cr_ice_state state)
{
    static const char *names[] = {"new", "checking", "connected", "failed"};
    if (state == l->state)
        return;
    CR_INFO("ice", "state %s -> %s (lite, %s)", names[l->state], names[state], l->ufrag);
    l->state = state;
    if (l->cb.on_state)
        l->cb.on_state(l->user, state); /* may free l */
}

static void select_pair(struct cr_ice_lite *l, unsigned sock, const struct sockaddr *from)
{
    char r[INET6_ADDRSTRLEN + 8];
    bool renominated = l->selected;
    l->selected = true;
    l->sock = sock;
    memset(&l->addr, 0, sizeof(l->addr));
    memcpy(&l->addr, from, cr_addr_len(from));
    cr_addr_describe(from, r, sizeof(r));
    snprintf(l->pair_desc, sizeof(l->pair_desc), "%s -> %s", cr_ice_mux_sock_desc(l->mux, sock), r);
    /* in ice.c's words: tests read them to check where media went */
    if (renominated) {
        l->rx_stats.renominations++;
        CR_INFO("ice", "peer nominated a new remote address: %s", l->pair_desc);
    } else {
        CR_INFO("ice", "selected pair %s", l->pair_desc);
    }
}

static bool is_selected(const struct cr_ice_lite *l, unsigned sock, const struct sockaddr *from)
{
    return l->selected && sock == l->sock && cr_addr_equal(from, (const struct sockaddr *)&l->addr);
}

static void stun_input(struct cr_ice_lite *l, unsigned sock, const uint8_t *buf, size_t len,
                       const struct sockaddr *from)
{
    uint8_t reply[CR_STUN_MAX_MESSAGE];
    size_t reply_len;
    bool nominate;
    if (!l->stun) { /* no remote credentials yet: nothing can authenticate */
        l->rx_stats.stun_bad++;
        return;
    }
    switch (cr_stun_responder_input(l->stun, buf, len, from, (const struct sockaddr *)&l->addr,
                                    cr_now_ms(), reply, &reply_len, &nominate)) {
    case CR_STUN_REPLY:
        l->rx_stats.stun_answered++;
        cr_mux_endpoint_bind(l->ep, sock, from);
        cr_mux_endpoint_send(l->ep, sock, reply, reply_len, from);
        if (!l->consent_lost && (!l->selected || (nominate && !is_selected(l, sock, from))))
            select_pair(l, sock, from);
        if (l->selected && !l->consent_lost)
            set_state(l, CR_ICE_CONNECTED); /* may free l */
        break;
    case CR_STUN_CONSENT:
        l->rx_stats.consent_ok++;
        break;
    case CR_STUN_BAD:
        l->rx_stats.stun_bad++;
        CR_LOG_RATE(CR_LOG_WARN, "ice", "dropped bad or unauthenticated STUN for %s", l->ufrag);
        break;
    case CR_STUN_IGNORED:
        break;
    }
}

static void on_datagram(void *user, unsigned sock, uint8_t *buf, size_t len,
                        const struct sockaddr *from)
{
    struct cr_ice_lite *l = user;
    CR_LOG_SCOPE(l->log.room, l->log.peer, NULL);
    if (len == 0) { /* nothing to read (RFC 7983 cannot even classify it) */
        l->rx_stats.stray++;
        return;
    }
    if (buf[0] < 4) { /* RFC 7983 §7: 0-3 is STUN */
        if (stun_is_message(buf, len))
            stun_input(l, sock, buf, len, from);
        else
            l->rx_stats.stun_bad++;
        return;
    }
    l->rx_stats.datagrams++; /* from an address a check authenticated (the mux bound it) */
    if (l->cb.on_recv)
        l->cb.on_recv(l->user, buf, len); /* may free l */
}

/* RFC 7675 §5.1 on the selected pair. */
static void on_tick(void *user, int64_t now_ms)
{
    struct cr_ice_lite *l = user;
    CR_LOG_SCOPE(l->log.room, l->log.peer, NULL);
    uint8_t req[CR_STUN_MAX_MESSAGE];
    if (!l->selected || !l->stun || l->consent_lost)
        return;
    if (cr_stun_responder_consent_expired(l->stun, now_ms)) {
        CR_WARN("ice", "consent expired on %s: no answer to our checks", l->pair_desc);
        l->consent_lost = true;
        set_state(l, CR_ICE_FAILED); /* may free l */
        return;
    }
    size_t n = cr_stun_responder_consent_request(l->stun, now_ms, req);
    if (n) {
        l->rx_stats.consent_sent++;
        cr_mux_endpoint_send(l->ep, l->sock, req, n, (const struct sockaddr *)&l->addr);
    }
}

static const struct cr_mux_endpoint_callbacks endpoint_cb = {.on_datagram = on_datagram,
                                                             .on_tick = on_tick};

struct cr_ice_lite *cr_ice_lite_new(struct cr_ice_mux *mux, const struct cr_ice_callbacks *cb,
                                    void *user, const struct cr_log_ctx *log)
{
    struct cr_ice_lite *l = CR_NEW(struct cr_ice_lite);
    l->mux = mux;
    l->cb = *cb;
    l->user = user;
    l->log = *log;
    l->state = CR_ICE_NEW;
    if (fresh_credentials(l) < 0) {
        free(l);
        return NULL;
    }
    l->rx_stats.takeovers = 1; /* we read our datagrams from the start */
    return l;
}

void cr_ice_lite_free(struct cr_ice_lite *l)
{
    if (!l)
        return;
    cr_mux_endpoint_free(l->ep);
    cr_stun_responder_free(l->stun);
    free(l->remote_ufrag);
    free(l->remote_pwd);
    free(l);
}

const char *cr_ice_lite_ufrag(const struct cr_ice_lite *l) { return l->ufrag; }

const char *cr_ice_lite_pwd(const struct cr_ice_lite *l) { return l->pwd; }

void cr_ice_lite_write_candidates(const struct cr_ice_lite *l, struct strbuf *out)
{
    uint16_t port = cr_ice_mux_port(l->mux);
    size_t n = cr_ice_mux_n_sockets(l->mux);
    for (size_t i = 0; i < n; i++)
        strbuf_printf(out, "a=candidate:%zu 1 udp %u %s %u typ host\r\n", i + 1, HOST_PRIORITY(i),
                      cr_ice_mux_announced_ip(l->mux, i), port);
    for (size_t i = 0; i < n; i++) /* RFC 6544 §4.5: port 9 would be an active candidate's */
        if (cr_ice_mux_has_tcp(l->mux, i))
            strbuf_printf(out, "a=candidate:%zu 1 tcp %u %s %u typ host tcptype passive\r\n",
                          n + i + 1, TCP_PRIORITY(i), cr_ice_mux_announced_ip(l->mux, i),
                          cr_ice_mux_tcp_port(l->mux));
}

static void make_responder(struct cr_ice_lite *l)
{
    cr_stun_responder_free(l->stun);
    struct cr_stun_responder_config sc = {.local_ufrag = l->ufrag,
                                          .local_pwd = l->pwd,
                                          .remote_ufrag = l->remote_ufrag,
                                          .remote_pwd = l->remote_pwd,
                                          .controlling = false,
                                          .priority = sock_priority(l->sock)};
    l->stun = cr_stun_responder_new(&sc, cr_now_ms());
    cr_stun_responder_set_timing(l->stun, l->consent_interval_ms, l->consent_timeout_ms);
}

int cr_ice_lite_set_remote_credentials(struct cr_ice_lite *l, const char *ufrag, const char *pwd)
{
    if (!ufrag || !pwd || !*ufrag || !*pwd)
        return -1;
    if (l->remote_ufrag) {
        if (strcmp(l->remote_ufrag, ufrag) == 0 && strcmp(l->remote_pwd, pwd) == 0)
            return 0; /* the same SDP again */
        if (fresh_credentials(l) < 0)
            return -1;
        l->consent_lost = false;
        CR_INFO("ice", "ICE restart: new local ufrag %s", l->ufrag);
    }
    free(l->remote_ufrag);
    free(l->remote_pwd);
    l->remote_ufrag = cr_strdup(ufrag);
    l->remote_pwd = cr_strdup(pwd);
    make_responder(l);
    return 0;
}

int cr_ice_lite_send(struct cr_ice_lite *l, const uint8_t *buf, size_t len)
{
    if (!l->selected || l->consent_lost)
        return -1;
    cr_mux_endpoint_send(l->ep, l->sock, buf, len, (const struct sockaddr *)&l->addr);
    return 0;
}

enum cr_ice_state cr_ice_lite_state(const struct cr_ice_lite *l) { return l->state; }

void cr_ice_lite_describe_pair(const struct cr_ice_lite *l, char *buf, size_t len)
{
    if (len)
        snprintf(buf, len, "%s", l->pair_desc[0] ? l->pair_desc : "none");
}

void cr_ice_lite_get_rx_stats(const struct cr_ice_lite *l, struct cr_ice_rx_stats *out)
{
    *out = l->rx_stats;
}

void cr_ice_lite_set_consent_timing(struct cr_ice_lite *l, int interval_ms, int timeout_ms)
{
    l->consent_interval_ms = interval_ms;
    l->consent_timeout_ms = timeout_ms;
    if (l->stun)
        cr_stun_responder_set_timing(l->stun, interval_ms, timeout_ms);
}
