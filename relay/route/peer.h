/* A peer: one peer connection of one client. It owns its transport (libnice ICE, DTLS,
 * SRTP; BUNDLE and rtcp-mux, so exactly one of each) and the producers and consumers of
 * its m-lines. It demultiplexes what arrives (RFC 7983), routes RTP to producers by SSRC
 * (or by the mid extension until the SSRC is known), and answers RTCP: keyframe requests
 * and NACKs from subscribers, sender reports from publishers. It also writes the RTCP it
 * owes: receiver reports, REMB and transport-wide feedback to publishers. */
#ifndef CR_RELAY_PEER_H
#define CR_RELAY_PEER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "classrelay/types.h"
#include "media/twcc_recorder.h"
#include "net/dtls.h"
#include "net/ice.h"
#include "net/srtp.h"
#include "wire/sdp.h"

struct room;
struct producer;
struct consumer;
struct quality;
struct tap;

enum mline_role { MLINE_REJECTED = 0, MLINE_RECV, MLINE_SEND, MLINE_IDLE };

/* What one m-line of the negotiated session is, from the relay's side. */
struct mline {
    char mid[CR_MID_MAX];
    enum cr_kind kind;
    enum mline_role role;      /* RECV: we receive (producer); SEND: we send (consumer) */
    struct producer *producer; /* owned, when RECV */
    struct consumer *consumer; /* owned, when SEND */
    uint8_t ext_mid, ext_twcc; /* the client's extension ids on this m-line */
    uint8_t ext_rid, ext_rrid; /* rtp-stream-id, repaired-rtp-stream-id (simulcast) */
};

struct peer {
    uint64_t id;
    struct room *room;        /* borrowed: the room owns the peer */
    struct cr_worker *worker; /* borrowed */
    struct cr_ice *ice;       /* owned */
    struct cr_dtls *dtls;     /* owned; made with the first offer */
    struct cr_srtp *srtp;     /* owned; made when DTLS completes */
    enum cr_peer_state state;
    bool dtls_client; /* the offer said setup:passive */
    int64_t created_ms;
    struct mline mlines[SDP_MAX_MEDIA];
    size_t n_mlines;
    uint64_t offers;            /* offers applied (answer session version) */
    uint32_t rtcp_ssrc;         /* our sender SSRC in feedback packets */
    uint16_t twcc_seq;          /* transport-wide seq of what we send */
    struct twcc_recorder *twcc; /* owned, when the client sends transport-cc to us */
    struct quality *quality;    /* owned, when the client receives: estimate and layers */
    bool remb;                  /* the publisher accepts REMB */
    GPtrArray *dtls_held;       /* owned GBytes: DTLS datagrams made before a pair was
                                   selected, sent when ICE connects (else the browser
                                   waits a whole DTLS retransmission timeout) */
    int64_t last_report_ms, last_twcc_ms;
    uint32_t rtt_ms;       /* from the client's receiver reports; 0 before one */
    unsigned paused_kinds; /* state: 1 << cr_kind of the tracks not forwarded (a paused lesson) */
    struct tap *tap;       /* owned, when the peer is a recording tap (tap.c): no ICE, DTLS or
                              SRTP; plain RTP to a port on this machine */
};

/* The peer can send media: SRTP keys in place, or a tap. */
static inline bool peer_sends(const struct peer *peer) { return peer->srtp || peer->tap; }

struct peer *peer_new(struct room *room, uint64_t id);
/* The fields every peer starts with, and no transport (peer_new and tap.c add theirs). */
struct peer *peer_alloc(struct room *room, uint64_t id);
void peer_free(struct peer *peer);

/* Applies a remote offer: negotiate.c. */
int peer_apply_offer(struct peer *peer, const char *offer, struct cr_mline_hint *hints,
                     size_t n_hints, char **answer, char *err, size_t err_len);
int peer_add_candidate(struct peer *peer, const char *candidate);
/* Creates the DTLS endpoint (role from peer->dtls_client) checking the remote fingerprint. */
int peer_start_dtls(struct peer *peer, const char *fp_alg, const char *fp_hex);

/* Protects and sends an RTP packet built in buf (room for CR_SRTP_MAX_TRAILER after it). */
void peer_send_rtp(struct peer *peer, uint8_t *buf, size_t len);
/* Protects and sends an RTCP compound built in buf (same room rule). */
void peer_send_rtcp(struct peer *peer, uint8_t *buf, size_t len);
/* Asks this (publishing) peer for a keyframe of ssrc: PLI (RFC 4585 §6.3.1). */
void peer_send_pli(struct peer *peer, uint32_t media_ssrc);
void peer_tick(struct peer *peer, int64_t now_ms);

/* tap.c: a recording tap in room, fed by track producer (docs/recording.md): a peer with one
 * consumer whose packets go unencrypted, with payload type pt, to 127.0.0.1:port. NULL if
 * the socket cannot be made. */
struct peer *peer_new_tap(struct room *room, uint64_t id, struct producer *producer, uint16_t port,
                          uint8_t pt);
/* Sends a plain RTP packet to the tap's port; frees the tap's socket with tap_free. */
int tap_send(struct tap *tap, const uint8_t *buf, size_t len);
void tap_free(struct tap *tap);
void peer_set_state(struct peer *peer, enum cr_peer_state state);

/* RTCP from the client: peer_rtcp.c. */
void peer_on_rtcp(struct peer *peer, const uint8_t *buf, size_t len, int64_t now_ms);
void peer_send_reports(struct peer *peer, int64_t now_ms);

#endif
