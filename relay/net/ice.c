/* ICE for one peer connection over libnice: a full agent in the controlled role (RFC 8445
 * §6.1.1: the browser offers and controls), trickle (RFC 8838), consent freshness (RFC 7675),
 * one stream with one component (BUNDLE and rtcp-mux), host candidates over UDP and, when
 * configured, passive ICE-TCP ones (RFC 6544 §4.5). Candidates are written in the SDP
 * grammar of RFC 8839 §5.1; with a public address configured, host candidates on
 * non-loopback addresses of its family announce it instead (a server behind a 1:1 NAT, like
 * Janus's nat_1_1_mapping; the NAT forwards to the same port). New remote credentials mean
 * an ICE restart (RFC 8445 §9).
 *
 * Everything runs on the GMainContext given at creation. libnice emits its signals after
 * releasing its lock and calls the receive callback unlocked on the context's thread, so
 * our callbacks never run under libnice's lock. Sending: once libnice selects a UDP pair we
 * keep a duplicate of the selected socket's descriptor and the remote address and send
 * with one sendto() (no libnice lock, no allocation); TCP pairs and the time before
 * selection go through nice_agent_send (RFC 4571 framing for TCP is libnice's).
 *
 * Receiving: libnice keeps a GSource per socket in the context, which made every wakeup of
 * the worker cost O(peers). Once libnice reports the component READY (checks done, a
 * nominated pair selected) on a UDP pair with the send fast path, we take the receive side
 * over: the selected socket joins the context's single epoll set (udp_poller.c), and
 * libnice's socket sources move to a context nobody iterates. (nice_agent_attach_recv with
 * a NULL callback on the same context would leave them polled, and spinning on unread data,
 * in libnice 0.1.21; moving them to another context is what detaches them.) The takeover
 * happens from an idle callback, never inside libnice's own dispatch. From then on we
 * deliver datagrams from the selected remote address to on_recv, answer the peer's
 * authenticated Binding requests (RFC 8445 §7.3, stun_responder.c), follow a nomination
 * (USE-CANDIDATE) from a new address on that socket by sending there, and keep consent
 * ourselves (RFC 7675 §5.1): libnice's consent freshness is off, since its checks would be
 * answered to a socket it no longer reads. Consent lost means CR_ICE_FAILED and no more
 * sends. Whenever libnice has to check again (it leaves READY, a new pair is selected, an
 * ICE restart), the sockets go back to libnice first and are taken again at READY. TCP
 * and relayed pairs stay with libnice throughout, without consent checks (a TCP pair's
 * connection is its consent; its death is for the layers above to notice). Checks that
 * reach our other local sockets (another address family, say) go unanswered after the
 * takeover: the peer loses those backup pairs, not the selected one.
 *
 * Left to others: DTLS and SRTP (dtls.c, srtp.c), demultiplexing what arrives (wire/demux),
 * STUN/TURN servers (browsers get TURN; the server needs only host candidates). */
#include "net/ice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <nice/agent.h>
#include <nice/interfaces.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "net/addr.h"
#include "net/ice_lite.h"
#include "net/stun_responder.h"
#include "net/udp_poller.h"
#include "wire/stun.h"

#define COMPONENT 1 /* rtcp-mux: RTP component only */

struct cr_ice {
    GMainContext *ctx;        /* borrowed: the worker's */
    struct cr_ice_lite *lite; /* owned: on the shared media port, everything is its */
    NiceAgent *agent;         /* owned */
    guint stream_id;
    struct cr_ice_callbacks cb;
    struct cr_log_ctx log;           /* borrowed strings: cr_ice_config.log */
    void *user;                      /* borrowed */
    char *public_ip;                 /* owned, or NULL */
    int public_family;               /* AF_INET or AF_INET6 when public_ip is set */
    gchar *ufrag, *pwd;              /* owned (g_free): local credentials */
    char *remote_ufrag, *remote_pwd; /* owned: the last remote credentials set */
    enum cr_ice_state state;
    bool constructing; /* inside cr_ice_new: report nothing */
    bool gathering_done;
    GSource *done_source; /* owned: reports the end of gathering seen during cr_ice_new */
    /* send fast path, valid while fast_fd >= 0 */
    int fast_fd; /* owned: our duplicate of libnice's selected UDP socket, or -1 */
    struct sockaddr_storage fast_addr;
    socklen_t fast_addr_len;
    char pair_local[INET6_ADDRSTRLEN + 8]; /* "127.0.0.1:40002" */
    char pair_desc[128];                   /* "udp 127.0.0.1:40002 -> 127.0.0.1:53211" or "" */
    uint32_t local_priority;               /* of the selected pair's local candidate */
    /* receive takeover, active while rx != NULL */
    struct cr_udp_poller *poller;   /* owned reference: the context's epoll set */
    struct cr_udp_reader *rx;       /* owned: reads fast_fd */
    struct cr_stun_responder *stun; /* owned while rx: answers checks, keeps consent */
    GSource *takeover_source;       /* owned: a takeover waiting for the loop */
    bool nice_ready;                /* libnice reports the component READY */
    bool consent_lost;              /* RFC 7675 §5.1: no more sending until an ICE restart */
    int consent_interval_ms, consent_timeout_ms; /* 0: the RFC's */
    struct cr_ice_rx_stats rx_stats;
};

static void release(struct cr_ice *ice);
static void schedule_takeover(struct cr_ice *ice);

/* ---- candidates out ---- */

static bool is_loopback(const NiceAddress *a)
{
    if (a->s.addr.sa_family == AF_INET)
        return (ntohl(a->s.ip4.sin_addr.s_addr) >> 24) == 127;
    return a->s.addr.sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->s.ip6.sin6_addr);
}

static const char *type_name(NiceCandidateType t)
{
    switch (t) {
    case NICE_CANDIDATE_TYPE_HOST:
        return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
        return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
        return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
        return "relay";
    }
    return "host";
}

/* The address to announce for c: the configured public one for a host candidate on a
 * non-loopback address of the same family (1:1 NAT), else its own. */
static void announced_ip(const struct cr_ice *ice, const NiceCandidate *c, char *ip)
{
    if (ice->public_ip && c->type == NICE_CANDIDATE_TYPE_HOST && !is_loopback(&c->addr) &&
        c->addr.s.addr.sa_family == ice->public_family)
        snprintf(ip, INET6_ADDRSTRLEN, "%s", ice->public_ip);
    else
        nice_address_to_string(&c->addr, ip);
}

/* RFC 8839 §5.1: "candidate:<foundation> <component> <transport> <priority> <address>
 * <port> typ <type> [raddr <a> rport <p>] [tcptype <t>]" (RFC 6544 §4.5). Returns -1 for
 * candidates we do not announce: TCP active (browsers connect to us, never the reverse),
 * TCP simultaneous-open, and peer-reflexive (learnt from checks, never signalled). */
static int format_candidate(const struct cr_ice *ice, const NiceCandidate *c, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN];
    bool tcp = c->transport == NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE;
    if ((c->transport != NICE_CANDIDATE_TRANSPORT_UDP && !tcp) ||
        c->type == NICE_CANDIDATE_TYPE_PEER_REFLEXIVE)
        return -1;
    announced_ip(ice, c, ip);
    int n = snprintf(out, cap, "candidate:%s %u %s %u %s %u typ %s", c->foundation, c->component_id,
                     tcp ? "tcp" : "udp", c->priority, ip, nice_address_get_port(&c->addr),
                     type_name(c->type));
    if (n > 0 && (size_t)n < cap && c->type != NICE_CANDIDATE_TYPE_HOST) {
        nice_address_to_string(&c->base_addr, raddr);
        n += snprintf(out + n, cap - (size_t)n, " raddr %s rport %u", raddr,
                      nice_address_get_port(&c->base_addr));
    }
    if (n > 0 && (size_t)n < cap && tcp)
        n += snprintf(out + n, cap - (size_t)n, " tcptype passive");
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

void cr_ice_write_candidates(struct cr_ice *ice, struct strbuf *out)
{
    char line[256];
    if (ice->lite) {
        cr_ice_lite_write_candidates(ice->lite, out);
        return;
    }
    GSList *cands = nice_agent_get_local_candidates(ice->agent, ice->stream_id, COMPONENT);
    for (GSList *i = cands; i; i = i->next)
        if (format_candidate(ice, i->data, line, sizeof(line)) == 0)
            strbuf_printf(out, "a=%s\r\n", line);
    g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
}

/* ---- send fast path ---- */

static void fast_path_clear(struct cr_ice *ice)
{
    if (ice->fast_fd >= 0)
        close(ice->fast_fd);
    ice->fast_fd = -1;
}

/* Caches the selected UDP socket and the remote address; leaves the fast path off when
 * libnice has no plain socket for the pair (TCP, TURN). We keep a duplicate of the
 * descriptor: the socket stays open for us whatever libnice does with its own, so a
 * descriptor number libnice closed and the kernel reused can never be written to, and no
 * per-packet check (g_socket_is_closed) is needed. */
static void fast_path_set(struct cr_ice *ice, const NiceCandidate *remote)
{
    GSocket *sock = nice_agent_get_selected_socket(ice->agent, ice->stream_id, COMPONENT);
    if (!sock)
        return;
    memset(&ice->fast_addr, 0, sizeof(ice->fast_addr));
    nice_address_copy_to_sockaddr(&remote->addr, (struct sockaddr *)&ice->fast_addr);
    int family = ice->fast_addr.ss_family;
    ice->fast_addr_len = family == AF_INET    ? sizeof(struct sockaddr_in)
                         : family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : 0;
    int fd = g_socket_get_fd(sock);
    bool usable = fd >= 0 && ice->fast_addr_len != 0 && (int)g_socket_get_family(sock) == family;
    g_object_unref(sock);
    if (!usable)
        return;
    ice->fast_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (ice->fast_fd < 0)
        CR_LOG_RATE(CR_LOG_WARN, "ice", "cannot duplicate the selected socket: %s",
                    strerror(errno));
}

static void describe(const NiceCandidate *c, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    nice_address_to_string(&c->addr, ip);
    snprintf(out, cap, c->addr.s.addr.sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
             nice_address_get_port(&c->addr));
}

/* ---- libnice signals (emitted with libnice's lock released) ---- */

static void set_state(struct cr_ice *ice, enum cr_ice_state state)
{
    static const char *names[] = {"new", "checking", "connected", "failed"};
    if (state == ice->state)
        return;
    CR_INFO("ice", "state %s -> %s", names[ice->state], names[state]);
    ice->state = state;
    if (!ice->constructing && ice->cb.on_state)
        ice->cb.on_state(ice->user, state);
}

static void on_component_state(NiceAgent *agent, guint stream_id, guint component_id, guint state,
                               gpointer data)
{
    struct cr_ice *ice = data;
    CR_LOG_SCOPE(ice->log.room, ice->log.peer, NULL);
    (void)agent;
    if (stream_id != ice->stream_id || component_id != COMPONENT)
        return;
    /* Anything but READY means libnice is checking again: it must see what arrives. */
    ice->nice_ready = state == NICE_COMPONENT_STATE_READY;
    if (!ice->nice_ready)
        release(ice);
    switch (state) {
    case NICE_COMPONENT_STATE_CONNECTING:
        /* After a pair is selected libnice goes back to CONNECTING while it checks pairs
         * made from late trickled candidates; the selected pair keeps working, so that
         * is not news for the layers above. */
        if (ice->state != CR_ICE_CONNECTED)
            set_state(ice, CR_ICE_CHECKING);
        break;
    case NICE_COMPONENT_STATE_READY:
        schedule_takeover(ice);
        set_state(ice, CR_ICE_CONNECTED);
        break;
    case NICE_COMPONENT_STATE_CONNECTED:
        set_state(ice, CR_ICE_CONNECTED);
        break;
    case NICE_COMPONENT_STATE_FAILED:
        fast_path_clear(ice);
        set_state(ice, CR_ICE_FAILED);
        break;
    default: /* DISCONNECTED, GATHERING: nothing to report */
        break;
    }
}

static void on_selected_pair(NiceAgent *agent, guint stream_id, guint component_id,
                             NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
    struct cr_ice *ice = data;
    CR_LOG_SCOPE(ice->log.room, ice->log.peer, NULL);
    char l[INET6_ADDRSTRLEN + 8], r[INET6_ADDRSTRLEN + 8];
    (void)agent;
    if (stream_id != ice->stream_id || component_id != COMPONENT)
        return;
    release(ice); /* the socket may change */
    fast_path_clear(ice);
    if (local->transport == NICE_CANDIDATE_TRANSPORT_UDP &&
        local->type != NICE_CANDIDATE_TYPE_RELAYED)
        fast_path_set(ice, remote);
    ice->local_priority = local->priority;
    describe(local, l, sizeof(l));
    describe(remote, r, sizeof(r));
    snprintf(ice->pair_local, sizeof(ice->pair_local), "%s", l);
    snprintf(ice->pair_desc, sizeof(ice->pair_desc), "%s %s -> %s",
             local->transport == NICE_CANDIDATE_TRANSPORT_UDP ? "udp" : "tcp", l, r);
    CR_INFO("ice", "selected pair %s (%s)", ice->pair_desc,
            ice->fast_fd >= 0 ? "direct sendto" : "sent through libnice");
    if (ice->nice_ready)
        schedule_takeover(ice);
}

static void on_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer data)
{
    struct cr_ice *ice = data;
    char line[256];
    (void)agent;
    /* Candidates found inside cr_ice_new are in cr_ice_write_candidates. */
    if (ice->constructing || c->stream_id != ice->stream_id || c->component_id != COMPONENT)
        return;
    if (format_candidate(ice, c, line, sizeof(line)) == 0 && ice->cb.on_candidate)
        ice->cb.on_candidate(ice->user, line);
}

static void on_gathering_done(NiceAgent *agent, guint stream_id, gpointer data)
{
    struct cr_ice *ice = data;
    (void)agent;
    if (stream_id != ice->stream_id || ice->gathering_done)
        return;
    ice->gathering_done = true;
    if (!ice->constructing && ice->cb.on_candidate)
        ice->cb.on_candidate(ice->user, NULL);
}

/* Reports, from the loop, an end of gathering that happened inside cr_ice_new. */
static gboolean report_gathering_done(gpointer data)
{
    struct cr_ice *ice = data;
    g_source_unref(ice->done_source);
    ice->done_source = NULL;
    if (ice->cb.on_candidate)
        ice->cb.on_candidate(ice->user, NULL); /* may free ice: touch nothing after */
    return G_SOURCE_REMOVE;
}

static void on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                    gpointer data)
{
    struct cr_ice *ice = data;
    CR_LOG_SCOPE(ice->log.room, ice->log.peer, NULL);
    (void)agent;
    (void)stream_id;
    (void)component_id;
    /* libnice's receive buffer, writable for the duration of the call. */
    if (ice->cb.on_recv)
        ice->cb.on_recv(ice->user, (uint8_t *)buf, len);
}

/* ---- receive takeover (see the top of this file) ---- */

static void send_to(struct cr_ice *ice, const uint8_t *buf, size_t len, const struct sockaddr *to,
                    socklen_t to_len)
{
    ssize_t n;
    do
        n = sendto(ice->fast_fd, buf, len, 0, to, to_len);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len)
        CR_LOG_RATE(CR_LOG_WARN, "ice", "STUN sendto on %s failed: %s", ice->pair_desc,
                    n < 0 ? strerror(errno) : "short write");
}

/* RFC 8445 §7.3.1.5, §8.1.1: the controlling peer nominated the pair from `from` to our
 * socket (it renominated, or its address changed): send there from now on. */
static void renominate(struct cr_ice *ice, const struct sockaddr *from)
{
    char r[INET6_ADDRSTRLEN + 8];
    socklen_t len = cr_addr_len(from);
    memset(&ice->fast_addr, 0, sizeof(ice->fast_addr));
    memcpy(&ice->fast_addr, from, len);
    ice->fast_addr_len = len;
    cr_addr_describe(from, r, sizeof(r));
    snprintf(ice->pair_desc, sizeof(ice->pair_desc), "udp %s -> %s", ice->pair_local, r);
    ice->rx_stats.renominations++;
    CR_INFO("ice", "peer nominated a new remote address: %s", ice->pair_desc);
}

static void stun_input(struct cr_ice *ice, const uint8_t *buf, size_t len,
                       const struct sockaddr *from)
{
    uint8_t reply[CR_STUN_MAX_MESSAGE];
    size_t reply_len;
    bool nominate;
    switch (cr_stun_responder_input(ice->stun, buf, len, from,
                                    (const struct sockaddr *)&ice->fast_addr, cr_now_ms(), reply,
                                    &reply_len, &nominate)) {
    case CR_STUN_REPLY:
        ice->rx_stats.stun_answered++;
        send_to(ice, reply, reply_len, from, cr_addr_len(from));
        if (nominate && !cr_addr_equal(from, (const struct sockaddr *)&ice->fast_addr))
            renominate(ice, from);
        break;
    case CR_STUN_CONSENT:
        ice->rx_stats.consent_ok++;
        break;
    case CR_STUN_BAD:
        ice->rx_stats.stun_bad++;
        CR_LOG_RATE(CR_LOG_WARN, "ice", "dropped bad or unauthenticated STUN on %s",
                    ice->pair_desc);
        break;
    case CR_STUN_IGNORED:
        break;
    }
}

static void rx_datagram(void *user, uint8_t *buf, size_t len, const struct sockaddr *from)
{
    struct cr_ice *ice = user;
    CR_LOG_SCOPE(ice->log.room, ice->log.peer, NULL);
    if (len > 0 && buf[0] < 4) { /* RFC 7983 §7: 0-3 is STUN */
        if (stun_is_message(buf, len))
            stun_input(ice, buf, len, from);
        else
            ice->rx_stats.stun_bad++;
        return;
    }
    if (!cr_addr_equal(from, (const struct sockaddr *)&ice->fast_addr)) {
        ice->rx_stats.stray++;
        CR_LOG_RATE(CR_LOG_INFO, "ice", "dropped a datagram from outside the pair %s",
                    ice->pair_desc);
        return;
    }
    ice->rx_stats.datagrams++;
    if (ice->cb.on_recv)
        ice->cb.on_recv(ice->user, buf, len); /* may free ice */
}

/* RFC 7675 §5.1: a consent request when one is due; failure after 30 s without answer. */
static void rx_tick(void *user, int64_t now_ms)
{
    struct cr_ice *ice = user;
    CR_LOG_SCOPE(ice->log.room, ice->log.peer, NULL);
    uint8_t req[CR_STUN_MAX_MESSAGE];
    if (cr_stun_responder_consent_expired(ice->stun, now_ms)) {
        CR_WARN("ice", "consent expired on %s: no answer to our checks", ice->pair_desc);
        ice->consent_lost = true;
        release(ice);
        fast_path_clear(ice);
        set_state(ice, CR_ICE_FAILED); /* may free ice */
        return;
    }
    size_t n = cr_stun_responder_consent_request(ice->stun, now_ms, req);
    if (n) {
        ice->rx_stats.consent_sent++;
        send_to(ice, req, n, (const struct sockaddr *)&ice->fast_addr, ice->fast_addr_len);
    }
}

static const struct cr_udp_reader_callbacks rx_callbacks = {.on_datagram = rx_datagram,
                                                            .on_tick = rx_tick};

static void on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                    gpointer data);

static void takeover(struct cr_ice *ice)
{
    if (ice->rx || !ice->nice_ready || ice->fast_fd < 0 || !ice->poller || !ice->remote_ufrag ||
        ice->consent_lost)
        return;
    ice->rx = cr_udp_poller_add(ice->poller, ice->fast_fd, &rx_callbacks, ice);
    if (!ice->rx)
        return; /* libnice keeps receiving */
    gboolean controlling = FALSE;
    g_object_get(ice->agent, "controlling-mode", &controlling, NULL);
    struct cr_stun_responder_config sc = {.local_ufrag = ice->ufrag,
                                          .local_pwd = ice->pwd,
                                          .remote_ufrag = ice->remote_ufrag,
                                          .remote_pwd = ice->remote_pwd,
                                          .controlling = controlling,
                                          .priority = ice->local_priority};
    ice->stun = cr_stun_responder_new(&sc, cr_now_ms());
    cr_stun_responder_set_timing(ice->stun, ice->consent_interval_ms, ice->consent_timeout_ms);
    /* libnice's socket sources leave the worker's context; no callback of theirs runs. */
    nice_agent_attach_recv(ice->agent, ice->stream_id, COMPONENT, cr_udp_park_context(), NULL,
                           NULL);
    ice->rx_stats.takeovers++;
    CR_INFO("ice", "reading %s directly", ice->pair_desc);
}

static gboolean takeover_cb(gpointer data)
{
    struct cr_ice *ice = data;
    CR_LOG_SCOPE(ice->log.room, ice->log.peer, NULL);
    g_source_unref(ice->takeover_source);
    ice->takeover_source = NULL;
    takeover(ice);
    return G_SOURCE_REMOVE;
}

/* From the loop, never inside libnice's dispatch or signal emission. */
static void schedule_takeover(struct cr_ice *ice)
{
    if (ice->rx || ice->takeover_source || !ice->poller)
        return;
    ice->takeover_source = g_idle_source_new();
    g_source_set_callback(ice->takeover_source, takeover_cb, ice, NULL);
    g_source_attach(ice->takeover_source, ice->ctx);
}

/* Gives the sockets back to libnice (on the worker's context, with our callback). */
static void release(struct cr_ice *ice)
{
    if (ice->takeover_source) {
        g_source_destroy(ice->takeover_source);
        g_source_unref(ice->takeover_source);
        ice->takeover_source = NULL;
    }
    if (!ice->rx)
        return;
    cr_udp_poller_remove(ice->rx);
    ice->rx = NULL;
    cr_stun_responder_free(ice->stun);
    ice->stun = NULL;
    nice_agent_attach_recv(ice->agent, ice->stream_id, COMPONENT, ice->ctx, on_recv, ice);
    CR_INFO("ice", "libnice reads %s again", ice->pair_desc);
}

bool cr_ice_rx_takeover_active(const struct cr_ice *ice)
{
    return ice->lite ? cr_ice_lite_state(ice->lite) == CR_ICE_CONNECTED : ice->rx != NULL;
}

void cr_ice_get_rx_stats(const struct cr_ice *ice, struct cr_ice_rx_stats *out)
{
    if (ice->lite)
        cr_ice_lite_get_rx_stats(ice->lite, out);
    else
        *out = ice->rx_stats;
}

void cr_ice_set_consent_timing(struct cr_ice *ice, int interval_ms, int timeout_ms)
{
    if (ice->lite)
        cr_ice_lite_set_consent_timing(ice->lite, interval_ms, timeout_ms);
    ice->consent_interval_ms = interval_ms;
    ice->consent_timeout_ms = timeout_ms;
    if (ice->stun)
        cr_stun_responder_set_timing(ice->stun, interval_ms, timeout_ms);
}

/* ---- creation ---- */

/* Adds one local address; returns 1 if added, 0 if skipped or refused. */
static int add_address(NiceAgent *agent, const char *ip)
{
    NiceAddress addr;
    nice_address_init(&addr);
    if (!nice_address_set_from_string(&addr, ip)) {
        CR_WARN("ice", "ignoring unusable local address \"%s\"", ip);
        return 0;
    }
    if (addr.s.addr.sa_family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&addr.s.ip6.sin6_addr))
        return 0; /* needs a scope id and is useless to browsers */
    if (!nice_agent_add_local_address(agent, &addr)) {
        CR_WARN("ice", "libnice refused local address %s", ip);
        return 0;
    }
    return 1;
}

/* bind_ip, or every local address (loopback included: tests and same-host peers). */
static int add_local_addresses(NiceAgent *agent, const char *bind_ip)
{
    if (bind_ip)
        return add_address(agent, bind_ip);
    int added = 0;
    GList *ips = nice_interfaces_get_local_ips(TRUE);
    for (GList *i = ips; i; i = i->next)
        added += add_address(agent, i->data);
    g_list_free_full(ips, g_free);
    return added;
}

static NiceAgent *make_agent(GMainContext *ctx, const struct cr_ice_config *config)
{
    /* Regular nomination only matters if a role conflict makes us controlling (RFC 8445
     * §8.1.1 dropped aggressive nomination). No consent freshness in libnice: we keep
     * consent ourselves once we read the socket (see the top of this file). */
    NiceAgent *agent =
        nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245,
                            NICE_AGENT_OPTION_ICE_TRICKLE | NICE_AGENT_OPTION_REGULAR_NOMINATION);
    if (!agent) {
        CR_ERROR("ice", "nice_agent_new_full failed");
        return NULL;
    }
    g_object_set(agent, "controlling-mode", (gboolean)config->controlling, "ice-udp", TRUE,
                 "ice-tcp", (gboolean)config->tcp, NULL);
    /* Debian's libnice has UPnP: it would probe the LAN's gateway for every agent. */
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "upnp"))
        g_object_set(agent, "upnp", FALSE, NULL);
    return agent;
}

static void connect_signals(struct cr_ice *ice)
{
    g_signal_connect(ice->agent, "component-state-changed", G_CALLBACK(on_component_state), ice);
    g_signal_connect(ice->agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), ice);
    g_signal_connect(ice->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), ice);
    g_signal_connect(ice->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), ice);
}

static int set_public_ip(struct cr_ice *ice, const char *public_ip)
{
    NiceAddress addr;
    nice_address_init(&addr);
    if (!nice_address_set_from_string(&addr, public_ip)) {
        CR_ERROR("ice", "public_ip \"%s\" is not an IP address", public_ip);
        return -1;
    }
    ice->public_ip = cr_strdup(public_ip);
    ice->public_family = addr.s.addr.sa_family;
    return 0;
}

/* Local addresses, stream, port range, gathering and receiving. */
static int start_agent(struct cr_ice *ice, const struct cr_ice_config *config)
{
    if (add_local_addresses(ice->agent, config->bind_ip) == 0) {
        CR_ERROR("ice", "no usable local address (bind_ip %s)",
                 config->bind_ip ? config->bind_ip : "unset");
        return -1;
    }
    ice->stream_id = nice_agent_add_stream(ice->agent, 1);
    if (ice->stream_id == 0) {
        CR_ERROR("ice", "nice_agent_add_stream failed");
        return -1;
    }
    if (config->port_min || config->port_max)
        nice_agent_set_port_range(ice->agent, ice->stream_id, COMPONENT, config->port_min,
                                  config->port_max ? config->port_max : 65535);
    connect_signals(ice);
    if (!nice_agent_gather_candidates(ice->agent, ice->stream_id)) {
        CR_ERROR("ice", "gathering failed: no port free in %u-%u or no usable address",
                 config->port_min, config->port_max);
        return -1;
    }
    if (!nice_agent_attach_recv(ice->agent, ice->stream_id, COMPONENT, ice->ctx, on_recv, ice)) {
        CR_ERROR("ice", "nice_agent_attach_recv failed");
        return -1;
    }
    if (!nice_agent_get_local_credentials(ice->agent, ice->stream_id, &ice->ufrag, &ice->pwd)) {
        CR_ERROR("ice", "nice_agent_get_local_credentials failed");
        return -1;
    }
    return 0;
}

struct cr_ice *cr_ice_new(GMainContext *ctx, const struct cr_ice_config *config,
                          const struct cr_ice_callbacks *cb, void *user)
{
    struct cr_ice *ice = CR_NEW(struct cr_ice);
    ice->ctx = ctx;
    ice->cb = *cb;
    ice->log = config->log;
    ice->user = user;
    ice->fast_fd = -1;
    ice->state = CR_ICE_NEW;
    ice->constructing = true;
    if (config->mux) {
        ice->lite = cr_ice_lite_new(config->mux, cb, user, &config->log);
        if (!ice->lite)
            goto fail;
        ice->gathering_done = true; /* its candidates are known now */
    } else {
        ice->poller = cr_udp_poller_ref(ctx); /* NULL: libnice receives throughout */
        if (config->public_ip && set_public_ip(ice, config->public_ip) < 0)
            goto fail;
        ice->agent = make_agent(ctx, config);
        if (!ice->agent || start_agent(ice, config) < 0)
            goto fail;
    }
    ice->constructing = false;
    if (ice->gathering_done) {
        ice->done_source = g_idle_source_new();
        g_source_set_callback(ice->done_source, report_gathering_done, ice, NULL);
        g_source_attach(ice->done_source, ctx);
    }
    return ice;
fail:
    cr_ice_free(ice);
    return NULL;
}

void cr_ice_free(struct cr_ice *ice)
{
    if (!ice)
        return;
    if (ice->done_source) {
        g_source_destroy(ice->done_source);
        g_source_unref(ice->done_source);
    }
    if (ice->takeover_source) {
        g_source_destroy(ice->takeover_source);
        g_source_unref(ice->takeover_source);
    }
    /* Out of the epoll set while our reference still keeps the socket open. */
    bool parked = ice->rx != NULL;
    cr_udp_poller_remove(ice->rx);
    cr_stun_responder_free(ice->stun);
    if (ice->agent) {
        /* No callback after this: detach the receive callback and our signal handlers
         * before dropping our reference. libnice holds its own reference while it is
         * dispatching, so this is safe from inside any of our callbacks. Parked sockets
         * stay parked (no source of theirs is ever dispatched). */
        if (ice->stream_id)
            nice_agent_attach_recv(ice->agent, ice->stream_id, COMPONENT,
                                   parked ? cr_udp_park_context() : ice->ctx, NULL, NULL);
        g_signal_handlers_disconnect_by_data(ice->agent, ice);
        g_object_unref(ice->agent);
    }
    cr_ice_lite_free(ice->lite);
    fast_path_clear(ice);
    cr_udp_poller_unref(ice->poller);
    g_free(ice->ufrag);
    g_free(ice->pwd);
    free(ice->remote_ufrag);
    free(ice->remote_pwd);
    free(ice->public_ip);
    free(ice);
}

/* ---- remote side ---- */

const char *cr_ice_local_ufrag(const struct cr_ice *ice)
{
    return ice->lite ? cr_ice_lite_ufrag(ice->lite) : ice->ufrag;
}

const char *cr_ice_local_pwd(const struct cr_ice *ice)
{
    return ice->lite ? cr_ice_lite_pwd(ice->lite) : ice->pwd;
}

bool cr_ice_is_lite(const struct cr_ice *ice) { return ice->lite != NULL; }

/* RFC 8445 §9, RFC 8839 §4.4.1.1.1: new remote credentials mean the peer restarts ICE, and
 * ours must change too. libnice keeps the selected pair working meanwhile. */
static int restart(struct cr_ice *ice)
{
    gchar *ufrag = NULL, *pwd = NULL;
    if (!nice_agent_restart_stream(ice->agent, ice->stream_id) ||
        !nice_agent_get_local_credentials(ice->agent, ice->stream_id, &ufrag, &pwd)) {
        CR_WARN("ice", "ICE restart failed in libnice");
        g_free(ufrag);
        g_free(pwd);
        return -1;
    }
    g_free(ice->ufrag);
    g_free(ice->pwd);
    ice->ufrag = ufrag;
    ice->pwd = pwd;
    CR_INFO("ice", "ICE restart: new local ufrag %s", ufrag);
    return 0;
}

int cr_ice_set_remote_credentials(struct cr_ice *ice, const char *ufrag, const char *pwd)
{
    if (ice->lite)
        return cr_ice_lite_set_remote_credentials(ice->lite, ufrag, pwd);
    if (!ufrag || !pwd || !*ufrag || !*pwd)
        return -1;
    if (ice->remote_ufrag) {
        if (strcmp(ice->remote_ufrag, ufrag) == 0 && strcmp(ice->remote_pwd, pwd) == 0)
            return 0; /* the same SDP again: nothing changes */
        release(ice); /* libnice answers the new checks */
        if (restart(ice) < 0)
            return -1;
        ice->consent_lost = false;
    }
    if (!nice_agent_set_remote_credentials(ice->agent, ice->stream_id, ufrag, pwd)) {
        CR_WARN("ice", "libnice refused remote credentials");
        return -1;
    }
    free(ice->remote_ufrag);
    free(ice->remote_pwd);
    ice->remote_ufrag = cr_strdup(ufrag);
    ice->remote_pwd = cr_strdup(pwd);
    return 0;
}

/* True when the address field (the fifth after "candidate:") is an mDNS name. */
static bool names_mdns_host(const char *line)
{
    const char *p = line;
    for (int field = 0; field < 4; field++) {
        p = strchr(p, ' ');
        if (!p)
            return false;
        while (*p == ' ')
            p++;
    }
    size_t n = strcspn(p, " ");
    return n > 6 && strncasecmp(p + n - 6, ".local", 6) == 0;
}

int cr_ice_add_remote_candidate(struct cr_ice *ice, const char *candidate)
{
    char line[512];
    if (!candidate)
        return -1;
    if (strncmp(candidate, "a=", 2) == 0)
        candidate += 2;
    size_t n = strcspn(candidate, "\r\n");
    if (n == 17 && strncmp(candidate, "end-of-candidates", n) == 0) { /* RFC 8840 attribute */
        cr_ice_remote_gathering_done(ice);
        return 0;
    }
    if (strncmp(candidate, "candidate:", 10) != 0 || n + 3 > sizeof(line)) {
        CR_LOG_RATE(CR_LOG_WARN, "ice", "not a candidate line: \"%.60s\"", candidate);
        return -1;
    }
    if (names_mdns_host(candidate) || ice->lite)
        return 0; /* peer-reflexive discovery finds the address (RFC 8445 §7.3.1.3); a lite
                     agent learns addresses from the checks only */
    /* libnice's parser wants the "a=" form. */
    snprintf(line, sizeof(line), "a=%.*s", (int)n, candidate);
    NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(ice->agent, ice->stream_id, line);
    if (!c) {
        CR_LOG_RATE(CR_LOG_WARN, "ice", "unparsable candidate \"%s\"", line + 2);
        return -1;
    }
    int added = 0;
    if (c->component_id == COMPONENT) { /* component 2 is RTCP without rtcp-mux: unused */
        GSList one = {.data = c, .next = NULL};
        added = nice_agent_set_remote_candidates(ice->agent, ice->stream_id, COMPONENT, &one);
        if (added < 0)
            CR_LOG_RATE(CR_LOG_WARN, "ice", "libnice refused candidate \"%s\"", line + 2);
    }
    nice_candidate_free(c);
    return added < 0 ? -1 : 0;
}

void cr_ice_remote_gathering_done(struct cr_ice *ice)
{
    /* RFC 8838: after end-of-candidates the agent may conclude failure. */
    if (!ice->lite)
        nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream_id);
}

/* ---- sending ---- */

int cr_ice_send(struct cr_ice *ice, const uint8_t *buf, size_t len)
{
    if (ice->lite)
        return cr_ice_lite_send(ice->lite, buf, len);
    if (ice->consent_lost)
        return -1; /* RFC 7675 §5.1: cease transmission */
    if (ice->fast_fd >= 0) {
        ssize_t n;
        do
            n = sendto(ice->fast_fd, buf, len, 0, (const struct sockaddr *)&ice->fast_addr,
                       ice->fast_addr_len);
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)len)
            return 0;
        CR_LOG_RATE(CR_LOG_WARN, "ice", "sendto on %s failed: %s", ice->pair_desc,
                    n < 0 ? strerror(errno) : "short write");
        return -1;
    }
    if (len > G_MAXUINT)
        return -1;
    gint n = nice_agent_send(ice->agent, ice->stream_id, COMPONENT, (guint)len, (const gchar *)buf);
    return n == (gint)len ? 0 : -1;
}

enum cr_ice_state cr_ice_get_state(const struct cr_ice *ice)
{
    return ice->lite ? cr_ice_lite_state(ice->lite) : ice->state;
}

void cr_ice_describe_pair(const struct cr_ice *ice, char *buf, size_t len)
{
    if (ice->lite)
        cr_ice_lite_describe_pair(ice->lite, buf, len);
    else if (len)
        snprintf(buf, len, "%s", ice->pair_desc[0] ? ice->pair_desc : "none");
}

bool cr_ice_fast_path_active(const struct cr_ice *ice)
{
    return ice->lite ? cr_ice_lite_state(ice->lite) == CR_ICE_CONNECTED : ice->fast_fd >= 0;
}
