/* The relay's public API: the only relay header signaling/ includes.
 *
 * The relay is an SFU. It owns one worker thread running a GLib main loop that hosts all
 * media state (rooms, peers, libnice agents, DTLS, SRTP, forwarding). Every function here
 * may be called from any thread: the call is carried to the worker as a message and waits
 * for its result (a few hundred microseconds), so the caller never touches media state.
 *
 * Negotiation is always offer from the client, answer from the relay (a=setup:passive):
 *  - an m-line the client sends on (sendonly/sendrecv) becomes a producer (a track);
 *  - an m-line the client receives on (recvonly) is fed by one producer of the room (a
 *    consumer), chosen by hint or automatically; with none to give it is answered inactive.
 * A new offer on the same peer renegotiates it (new m-lines, same ICE/DTLS transport).
 *
 * Events are reported through struct cr_relay_events, called on the worker thread. The
 * receiver must not block and must not call into the relay from inside a callback (it
 * would wait on itself): queue the event and act on it from its own thread. */
#ifndef CR_RELAY_API_H
#define CR_RELAY_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cr_err {
    CR_OK = 0,
    CR_ERR_NOT_FOUND = -2, /* no such room, peer or track */
    CR_ERR_BAD_SDP = -3,   /* offer unparseable or unacceptable; err text says why */
    CR_ERR_LIMIT = -4,     /* too many rooms/peers/tracks */
    CR_ERR_INTERNAL = -5,  /* a library failed (libnice, OpenSSL, libsrtp2) */
    CR_ERR_ARG = -6,       /* invalid argument (empty name, too long) */
};

struct cr_relay_config {
    const char *public_ip; /* announced instead of host addresses (1:1 NAT); NULL: none */
    const char *bind_ip;   /* gather only on this local address; NULL: all interfaces */
    uint16_t port_min;     /* ICE UDP/TCP port range; 0 and 0: any port */
    uint16_t port_max;
    bool ice_tcp;              /* also offer passive ICE-TCP candidates */
    uint32_t max_publish_kbps; /* REMB cap announced to publishers */
};
#define CR_RELAY_CONFIG_DEFAULT                                                                    \
    {                                                                                              \
        .public_ip = NULL, .bind_ip = NULL, .port_min = 40000, .port_max = 49999, .ice_tcp = true, \
        .max_publish_kbps = 4000                                                                   \
    }

enum cr_peer_state {
    CR_PEER_NEW,
    CR_PEER_CONNECTING, /* ICE checks or DTLS handshake under way */
    CR_PEER_CONNECTED,  /* DTLS done, SRTP keys in place, media flows */
    CR_PEER_FAILED,     /* ICE or DTLS failed; the peer should be closed */
    CR_PEER_CLOSED,
};
const char *cr_peer_state_name(enum cr_peer_state state);

enum cr_kind { CR_KIND_AUDIO = 0, CR_KIND_VIDEO = 1 };

#define CR_MID_MAX 32
#define CR_SOURCE_MAX 16
#define CR_NAME_MAX 64

/* One track (producer) in a room. */
struct cr_track_info {
    uint64_t id;
    uint64_t peer_id; /* the publishing peer */
    enum cr_kind kind;
    char source[CR_SOURCE_MAX]; /* "mic", "camera", "screen", or as the publisher hinted */
    char codec[16];             /* "opus", "VP8", "H264" */
    uint8_t layers;             /* simulcast layers received (1: not simulcast) */
};

/* Per-m-line hint for cr_relay_peer_offer, matched by mid; in and out. */
struct cr_mline_hint {
    char mid[CR_MID_MAX];
    char source[CR_SOURCE_MAX]; /* in, for lines the client sends on: what the track is */
    uint64_t track_id;          /* in, for receive lines: the wanted track (0: automatic);
                                   out: the track created (send lines) or assigned */
};

struct cr_relay_events {
    void (*on_peer_state)(void *user, uint64_t peer_id, enum cr_peer_state state);
    /* A local ICE candidate ("candidate:..." without "a="), or candidate NULL at the end
     * of gathering. Candidates gathered before the answer was made are also in the answer. */
    void (*on_local_candidate)(void *user, uint64_t peer_id, const char *mid,
                               const char *candidate);
    /* The set of tracks in a room changed (a track was added or removed). */
    void (*on_tracks_changed)(void *user, const char *room);
};

struct cr_relay_stats {
    uint32_t rooms, peers, producers, consumers;
    uint32_t taps;            /* recording taps (not counted in peers) */
    uint64_t rtp_in, rtp_out; /* packets received from publishers / sent */
    uint64_t bytes_in, bytes_out;
    uint64_t rtcp_in, rtcp_out;
    uint64_t bad_packets;       /* dropped as malformed, unknown or failing SRTP */
    uint64_t keyframe_requests; /* PLI/FIR sent to publishers */
    uint64_t nacks_in;          /* NACK entries received from subscribers */
    uint64_t red_in, red_out;   /* audio RED (RFC 2198) packets from publishers / sent */
};

struct cr_relay;

/* Starts the worker thread. Returns NULL if the worker cannot start (certificate, ports). */
struct cr_relay *cr_relay_new(const struct cr_relay_config *config,
                              const struct cr_relay_events *events, void *user);
/* Closes every peer and room, stops the worker. cr_relay_free(NULL) does nothing. */
void cr_relay_free(struct cr_relay *relay);

int cr_relay_room_open(struct cr_relay *relay, const char *room);  /* idempotent */
int cr_relay_room_close(struct cr_relay *relay, const char *room); /* closes its peers */

int cr_relay_peer_new(struct cr_relay *relay, const char *room, uint64_t *peer_id);
/* Applies a remote offer and returns the answer (malloc'd, caller frees) in *answer.
 * On failure returns a negative cr_err and writes a human-readable reason into err. */
int cr_relay_peer_offer(struct cr_relay *relay, uint64_t peer_id, const char *offer,
                        struct cr_mline_hint *hints, size_t n_hints, char **answer, char *err,
                        size_t err_len);
/* Adds a remote trickled candidate ("candidate:..." with or without "a="); NULL or ""
 * marks the end of the remote candidates. */
int cr_relay_peer_candidate(struct cr_relay *relay, uint64_t peer_id, const char *mid,
                            const char *candidate);
int cr_relay_peer_close(struct cr_relay *relay, uint64_t peer_id);

/* Copies up to max tracks of a room into out; *n gets the total number. */
int cr_relay_room_tracks(struct cr_relay *relay, const char *room, struct cr_track_info *out,
                         size_t max, size_t *n);
int cr_relay_get_stats(struct cr_relay *relay, struct cr_relay_stats *out);

/* What one subscriber receives on one m-line. */
struct cr_consumer_stats {
    char mid[CR_MID_MAX];
    uint64_t track_id; /* 0: idle */
    enum cr_kind kind;
    int8_t layer, target; /* simulcast layer forwarded and wanted; -1: none yet */
    int8_t temporal;      /* highest VP8 temporal layer forwarded; -1: no temporal layers */
    bool paused;          /* video held back: too little bandwidth for any layer */
    uint8_t layers;       /* layers the track has */
    uint32_t bitrate_bps; /* of the layer forwarded, as received from the teacher */
    uint64_t packets, retransmitted;
    uint8_t fraction_lost; /* from the subscriber's last receiver report, /256 */
    uint32_t jitter_ms;
};

#define CR_PEER_STATS_MAX 8

/* One peer: its transport and what it receives (subscribers) or sends (publishers). */
struct cr_peer_stats {
    uint64_t peer_id;
    enum cr_peer_state state;
    char pair[96];         /* the selected ICE pair */
    uint32_t rtt_ms;       /* from receiver reports; 0 before one */
    uint32_t estimate_bps; /* bandwidth estimate toward the client; 0: none */
    size_t n_consumers;
    struct cr_consumer_stats consumers[CR_PEER_STATS_MAX];
};
int cr_relay_peer_stats(struct cr_relay *relay, uint64_t peer_id, struct cr_peer_stats *out);

/* Recording taps (docs/recording.md): a consumer of track_id in room that sends the track's
 * packets unencrypted to 127.0.0.1:port with payload type pt — one SSRC, continuous
 * numbering, the best simulcast layer (switching at keyframes), every temporal layer,
 * Opus without RED. It asks the publisher for a keyframe at once. A tap is a peer without
 * transport that reports no state events; cr_relay_peer_close removes it, and it goes idle
 * (sends nothing) when its track goes. A slow or absent receiver only loses packets. */
int cr_relay_tap_add(struct cr_relay *relay, const char *room, uint64_t track_id, uint16_t port,
                     uint8_t pt, uint64_t *tap_id);
/* Asks the publisher for a keyframe of the layer the tap forwards (throttled like every
 * keyframe request). */
int cr_relay_tap_keyframe(struct cr_relay *relay, uint64_t tap_id);

/* Stops (paused) or resumes forwarding the media of peer_id's published tracks of the kinds
 * in kinds (1 << CR_KIND_AUDIO, 1 << CR_KIND_VIDEO): a paused lesson, muted classrooms. The
 * packets still arrive and are counted; on resume the video tracks are asked for a
 * keyframe so subscribers pick up at once. */
int cr_relay_peer_pause(struct cr_relay *relay, uint64_t peer_id, unsigned kinds, bool paused);

#endif
