/* A peer: one peer connection of one client, the transport of mediasoup's terms. It owns
 * its transport (libnice ICE, DTLS-SRTP per RFC 5764; BUNDLE and rtcp-mux, so exactly one
 * of each) and the producers and consumers of its m-lines, and the quality loop of what it
 * sends (quality.h). It demultiplexes what arrives (RFC 7983), routes RTP to producers by
 * SSRC (or by the mid extension until the SSRC is known, RFC 8843 §9.2), and answers RTCP:
 * keyframe requests and NACKs from subscribers, sender reports from publishers. It writes
 * the RTCP it owes: receiver reports, REMB and transport-wide feedback to publishers. On
 * the way out its pacer (media/pacer.h) spreads what its consumers built at a little above
 * the estimate, audio first; as each packet leaves it stamps the transport-wide sequence
 * number and records it for the estimator.
 *
 * It talks to its room only through the listener given at creation: tracks it adds and
 * closes, the bindings it asks for, the packets to fan out. */
#ifndef CR_ROUTE_PEER_H
#define CR_ROUTE_PEER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "classrelay/types.h"
#include "media/twcc_recorder.h"
#include "net/dtls.h"
#include "net/ice.h"
#include "net/sctp.h"
#include "net/srtp.h"
#include "route/consumer.h"
#include "route/producer.h"
#include "wire/sdp.h"

struct room;
struct pacer;
struct quality;
struct route_ctx;

/* What a peer tells (and asks) its room; given at creation. */
struct peer_listener {
    void *ud;
    /* A track the peer publishes from now on; and one that goes (before it is freed: the
     * room unbinds its consumers). */
    void (*producer_added)(void *ud, struct producer *p);
    void (*producer_closed)(void *ud, struct producer *p);
    /* The set of tracks changed (after a negotiation that added or closed some). */
    void (*tracks_changed)(void *ud);
    /* The room's track with this id, NULL if none; the i-th of its tracks, in the order
     * they came, NULL past the end (to choose sources). */
    struct producer *(*find_producer)(void *ud, uint64_t id);
    struct producer *(*producer_at)(void *ud, size_t i);
    /* Feeds consumer c from p (NULL: idle): the room keeps who feeds whom (room_bind). */
    void (*bind)(void *ud, struct consumer *c, struct producer *p, int64_t now_ms);
    /* A packet a producer took, to go to every consumer bound to it. */
    void (*on_rtp)(void *ud, struct producer *p, const struct producer_packet *pkt, int64_t now_ms,
                   int64_t now_us);
    /* A publisher's sender report, to be translated for every consumer bound to p. */
    void (*on_sr)(void *ud, struct producer *p, int layer, uint64_t ntp, uint32_t rtp_ts,
                  int64_t now_ms);
    /* The worst fraction lost (/256) that p's subscribers without RED report; 0: none. */
    uint8_t (*subscriber_loss)(void *ud, const struct producer *p);
};

/* DATA: the data channel line (m=application, RFC 8841), carried by the peer's SCTP. */
enum mline_role { MLINE_REJECTED = 0, MLINE_RECV, MLINE_SEND, MLINE_IDLE, MLINE_DATA };

/* What one m-line of the negotiated session is, from the relay's side. */
struct mline {
    char mid[CR_MID_MAX];
    enum cr_kind kind;
    enum mline_role role;      /* RECV: we receive (producer); SEND: we send (consumer) */
    struct producer *producer; /* owned, when RECV */
    struct consumer *consumer; /* owned, when SEND */
    uint8_t ext_mid, ext_twcc; /* the client's extension ids on this m-line */
    uint8_t ext_rid, ext_rrid; /* rtp-stream-id, repaired-rtp-stream-id (simulcast) */
    bool follow;               /* SEND: fed by the control plane (cr_mline_hint.follow) */
};

struct peer {
    uint64_t id;
    struct route_ctx *ctx; /* borrowed */
    struct room *room;     /* borrowed: the owner, for its own bookkeeping; never called */
    const char *room_name; /* borrowed: the room's, for log lines (base/log.h's context) */
    struct peer_listener listener;
    struct cr_ice *ice;   /* owned */
    struct cr_dtls *dtls; /* owned; made with the first offer */
    struct cr_srtp *srtp; /* owned; made when DTLS completes */
    enum cr_peer_state state;
    bool dtls_client;     /* the offer said setup:passive or actpass */
    bool dtls_heard;      /* state: a handshake datagram came from the peer */
    int64_t dtls_sent_us; /* state: when our first handshake datagram left (0: not yet) */
    int64_t created_ms;
    uint8_t join_timed; /* state: 1 << cr_join_stage of the start's stages timed */
    struct mline mlines[SDP_MAX_MEDIA];
    size_t n_mlines;
    uint64_t offers;            /* offers applied (answer session version) */
    uint32_t rtcp_ssrc;         /* our sender SSRC in feedback packets */
    uint16_t twcc_seq;          /* state: transport-wide seq of what we send */
    struct twcc_recorder *twcc; /* owned, when the client sends transport-cc to us */
    struct quality *quality;    /* owned, when the client receives: estimate and layers */
    struct pacer *pacer;        /* owned, with quality: what leaves toward the client */
    bool pacing;                /* its pacer holds packets (counted in ctx->pacing) */
    uint64_t pace_dropped;      /* its pacer's drops, as counted in ctx->stats */
    bool remb;                  /* the publisher accepts REMB */
    GPtrArray *dtls_held;       /* owned GBytes: DTLS datagrams made before a pair was
                                   selected, sent when ICE connects (else the browser
                                   waits a whole DTLS retransmission timeout) */
    GPtrArray *dtls_copies;     /* owned GBytes: handshake datagrams sent, to go once more
                                   at the next tick (peer.c, dtls_send) */
    int64_t last_report_ms, last_twcc_ms, last_quality_log_ms;
    uint32_t rtt_ms;        /* from the client's receiver reports; 0 before one */
    unsigned paused_kinds;  /* state: 1 << cr_kind of the tracks not forwarded (a paused lesson) */
    struct peer_data *data; /* owned, once an offer had a data channel line: peer_data.c */
    bool fixed;             /* WHIP or WHEP: no offer will follow, so never a data channel */
    bool srtp_heard;        /* state: the client's SRTP or SRTCP authenticated with the keys */
    int64_t dtls_in_ms;     /* state: when the last DTLS datagram came (or DTLS connected) */
    bool dtls_retired;      /* state: DTLS no longer needed, its memory given back (peer_tick) */
    char *offer_sdp;        /* owned: the last offer applied, while it publishes (link.h) */
    bool is_link;           /* a cascade link to another relay (link.h) */
    bool pli_held;          /* state: a keyframe request came before the keys (sent with them) */
    struct peer *link_of;   /* a link: the publisher it mirrors; NULL once that went */
    GPtrArray *links;       /* borrowed struct peer *: the links mirroring this publisher */
};

/* A peer with its ICE agent; NULL if libnice cannot make one. */
struct peer *peer_new(struct route_ctx *ctx, struct room *room, const char *room_name, uint64_t id,
                      const struct peer_listener *listener);
/* A cascade link (link.h): the ICE controlling side, on libnice even with a media port. */
struct peer *peer_new_link(struct route_ctx *ctx, struct room *room, const char *room_name,
                           uint64_t id, const struct peer_listener *listener);
/* Unbinds and frees its consumers, closes and frees its producers (through the listener),
 * then the transport. peer_free(NULL) does nothing. */
void peer_free(struct peer *peer);
const char *peer_state_name(enum cr_peer_state state);

/* Applies a remote offer and fills out (classrelay/types.h): negotiate.c. On failure the
 * peer is as it was and out->err says why. */
int peer_negotiate(struct peer *peer, const char *offer, const struct cr_mline_hint *hints,
                   size_t n_hints, enum cr_offer_demand demand, struct cr_answer *out);
int peer_add_candidate(struct peer *peer, const char *candidate);
/* The remote transport of an offer or answer s (negotiate.c): DTLS made with the first (its
 * role from a=setup), ICE credentials and candidates. */
int peer_apply_transport(struct peer *peer, const struct sdp_session *s, char *err, size_t err_len);
/* Creates the DTLS endpoint (role from peer->dtls_client) checking the remote fingerprint. */
int peer_start_dtls(struct peer *peer, const char *fp_alg, const char *fp_hex);

/* For negotiate.c: a new consumer or producer of this peer, wired to it; and the end of
 * one (unbound, forgotten by the quality loop, freed). */
struct consumer *peer_new_consumer(struct peer *peer, enum cr_kind kind, const char *mid);
struct producer *peer_new_producer(struct peer *peer, enum cr_kind kind, const char *source,
                                   const char *mid);
void peer_drop_consumer(struct peer *peer, struct mline *m);
void peer_drop_producer(struct peer *peer, struct mline *m);

/* Stops (paused) or resumes forwarding what the peer publishes of kinds (1 << cr_kind); on
 * resume video is asked for a keyframe. */
void peer_pause(struct peer *peer, unsigned kinds, bool paused, int64_t now_ms);

/* Protects and sends an RTP packet built in buf (room for CR_SRTP_MAX_TRAILER after it). */
void peer_send_rtp(struct peer *peer, uint8_t *buf, size_t len);
/* Protects and sends an RTCP compound built in buf (same room rule). */
void peer_send_rtcp(struct peer *peer, uint8_t *buf, size_t len);
/* Asks this (publishing) peer for a keyframe of ssrc: PLI (RFC 4585 §6.3.1). */
void peer_send_pli(struct peer *peer, uint32_t media_ssrc);
/* NACKs (RFC 4585 §6.2.1) to this publisher for what its link lost on track p and is due
 * to be asked for now (media/nack_list.h): at once for a new gap, then each round trip. */
void peer_send_nacks(struct peer *peer, struct producer *p, int64_t now_ms);
void peer_tick(struct peer *peer, int64_t now_ms);
/* Sends what the peer's pacer lets go now (media/pacer.h); the worker calls it every few
 * ms while ctx->pacing. */
void peer_pace(struct peer *peer, int64_t now_us);
void peer_set_state(struct peer *peer, enum cr_peer_state state);

/* Data channels: peer_data.c. want: an offer's m=application line was accepted (the
 * client's a=sctp-port, 0: 5000); start: DTLS is up; input: DTLS application data; send:
 * one message on the client's channel named label (CR_ERR_NOT_FOUND: none; CR_ERR_LIMIT:
 * refused, too large or the association's buffer is full); free: with the peer. */
void peer_data_want(struct peer *peer, uint16_t remote_port);
void peer_data_start(struct peer *peer);
void peer_data_input(struct peer *peer, const uint8_t *buf, size_t len);
int peer_data_send(struct peer *peer, const char *label, const uint8_t *buf, size_t len,
                   bool binary);
void peer_data_free(struct peer *peer);

/* RTCP from the client: peer_rtcp.c. */
void peer_on_rtcp(struct peer *peer, const uint8_t *buf, size_t len, int64_t now_us);
void peer_send_reports(struct peer *peer, int64_t now_ms);

#endif
