/* ICE transport for one peer connection, over libnice (RFC 8445, full agent in the
 * controlled role; RFC 8838 trickle; RFC 6544 ICE-TCP passive candidates where libnice
 * offers them). One stream, one component: BUNDLE and rtcp-mux only.
 *
 * The agent runs on the GMainContext it is given (the worker's), so every callback comes
 * on the worker thread. Sending takes a fast path once a pair is selected: a UDP pair is
 * sent on with one sendto() on the selected socket, bypassing libnice's locks. Once ICE
 * has completed on a UDP pair, receiving takes one too: the selected socket moves from
 * libnice's per-socket GSources to one epoll set per context (net/udp_poller.h), and
 * this module answers the peer's checks and keeps consent (RFC 7675) itself.
 *
 * With a shared media port in the configuration, every call goes to net/ice_lite.h instead
 * (the same callbacks, states and statistics). */
#ifndef CR_NET_ICE_H
#define CR_NET_ICE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "base/strbuf.h"

enum cr_ice_state { CR_ICE_NEW, CR_ICE_CHECKING, CR_ICE_CONNECTED, CR_ICE_FAILED };

struct cr_ice_mux;

struct cr_ice_config {
    struct cr_ice_mux *mux;      /* the shared media port: ICE lite there (net/ice_lite.h), and
                                    the fields below are the mux's business; NULL: a libnice
                                    agent with sockets of its own */
    const char *public_ip;       /* announce this address for host candidates (1:1 NAT); or NULL */
    const char *bind_ip;         /* gather only on this address; NULL: every local address,
                                    loopback included */
    uint16_t port_min, port_max; /* 0, 0: any */
    bool tcp;                    /* also gather passive ICE-TCP candidates */
    bool controlling;            /* the offerer's role (RFC 8445 §6.1.1), for clients of the
                                    relay built on this module (benchmarks); the relay answers
                                    and is controlled */
    struct cr_log_ctx log;       /* what its log lines are about (the peer), set around the
                                    callbacks it takes from libnice or the mux; the strings
                                    must outlive the agent */
};

struct cr_ice_callbacks {
    void (*on_state)(void *user, enum cr_ice_state state);
    /* A local candidate "candidate:..." (no "a="), or NULL when gathering is done. */
    void (*on_candidate)(void *user, const char *candidate);
    /* A packet arrived on the selected (or any checked) pair. buf is writable and valid
     * only during the call (the callee may decrypt in place). */
    void (*on_recv)(void *user, uint8_t *buf, size_t len);
};

struct cr_ice;

/* Creates the agent and gathers host candidates (done when this returns, for host
 * candidates). NULL on failure (no usable address, port range exhausted). */
struct cr_ice *cr_ice_new(GMainContext *ctx, const struct cr_ice_config *config,
                          const struct cr_ice_callbacks *cb, void *user);
void cr_ice_free(struct cr_ice *ice);

const char *cr_ice_local_ufrag(const struct cr_ice *ice);
const char *cr_ice_local_pwd(const struct cr_ice *ice);
/* True on the shared media port: the SDP says a=ice-lite (RFC 8839 §5.3). */
bool cr_ice_is_lite(const struct cr_ice *ice);
/* Appends the gathered local candidates as "a=candidate:...\r\n" lines. */
void cr_ice_write_candidates(struct cr_ice *ice, struct strbuf *out);

/* Sets the remote credentials (once, or again on an ICE restart). */
int cr_ice_set_remote_credentials(struct cr_ice *ice, const char *ufrag, const char *pwd);
/* Adds one remote candidate ("candidate:..." with or without "a="). Candidates naming an
 * mDNS host (".local") are ignored (return 0): peer-reflexive discovery covers them. */
int cr_ice_add_remote_candidate(struct cr_ice *ice, const char *candidate);
void cr_ice_remote_gathering_done(struct cr_ice *ice);

/* Sends one packet on the selected pair; -1 if none is selected or the send failed. */
int cr_ice_send(struct cr_ice *ice, const uint8_t *buf, size_t len);
enum cr_ice_state cr_ice_get_state(const struct cr_ice *ice);
/* Describes the selected pair ("udp 127.0.0.1:40002 -> 127.0.0.1:53211") into buf. */
void cr_ice_describe_pair(const struct cr_ice *ice, char *buf, size_t len);
/* True while sends go straight to the selected UDP socket with sendto() (a UDP pair is
 * selected); false before that, on TCP and relayed pairs, and after failure. For tests
 * and stats. */
bool cr_ice_fast_path_active(const struct cr_ice *ice);

/* True while we read the selected UDP socket ourselves (ICE completed on a UDP pair)
 * instead of libnice. For tests and stats. */
bool cr_ice_rx_takeover_active(const struct cr_ice *ice);

struct cr_ice_rx_stats {
    uint64_t takeovers;     /* times reading moved from libnice to us */
    uint64_t datagrams;     /* delivered to on_recv by us */
    uint64_t stun_answered; /* the peer's Binding requests we answered (RFC 8445 §7.3) */
    uint64_t stun_bad;      /* dropped: malformed or unauthenticated STUN */
    uint64_t stray;         /* dropped: not STUN, from another address than the selected one */
    uint64_t consent_sent;  /* our consent requests (RFC 7675 §5.1) */
    uint64_t consent_ok;    /* their authenticated responses */
    uint64_t renominations; /* USE-CANDIDATE from a new address moved our sends there */
};
void cr_ice_get_rx_stats(const struct cr_ice *ice, struct cr_ice_rx_stats *out);

/* Consent freshness timers (RFC 7675 §5.1: a check every 5 s, consent lost after 30 s
 * without an answer). Tests shorten them; 0 keeps the default. */
void cr_ice_set_consent_timing(struct cr_ice *ice, int interval_ms, int timeout_ms);

#endif
