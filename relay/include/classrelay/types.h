/* The types the relay's API and its routing layer share: error codes, kinds and states,
 * name limits, configuration, event callbacks, statistics and per-m-line hints and results.
 * Only declarations of data; the functions are in classrelay/relay.h, which includes this.
 * relay/route/ includes this header and never relay.h (tools/check_layers.sh). */
#ifndef CR_RELAY_TYPES_H
#define CR_RELAY_TYPES_H

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
    uint16_t media_port;       /* every peer on this one UDP port (ICE lite, sendmmsg batches;
                                * the range and ice_tcp are then unused); 0: a port per peer */
    uint32_t max_peers;        /* admission: new peers beyond this many are refused, except
                                * priority ones (cr_offer); 0: no limit of our own */
    uint32_t max_load_pct;     /* admission: ... and while the worker's CPU over the last second
                                * is above this share of a core; 0: not measured */
    uint32_t workers;          /* media worker threads, rooms spread over them (1 to
                                * CR_WORKERS_MAX); 0: one per core. With media_port, worker i
                                * serves port media_port + i */
    uint32_t room_spread;      /* a lesson takes another worker once each worker it is on holds
                                * this many of its peers and another worker is less busy
                                * (relay/pool.h); 0: a lesson stays on one worker */
    bool ice_tcp;              /* also offer passive ICE-TCP candidates */
    uint16_t ice_tcp_port;     /* with media_port: ICE-TCP on this port (worker i: + i) instead of
                                * the media port's number; 0: the media port's */
    bool fec;                  /* FEC (ULPFEC in RED) toward lossy classrooms that take it; off
                                * by default: see route/consumer_fec.c */
    uint32_t max_publish_kbps; /* REMB cap announced to publishers */
};
#define CR_RELAY_CONFIG_DEFAULT                                                                    \
    {                                                                                              \
        .public_ip = NULL, .bind_ip = NULL, .port_min = 40000, .port_max = 49999, .ice_tcp = true, \
        .fec = false, .max_publish_kbps = 4000, .max_load_pct = 90, .room_spread = 64              \
    }

enum cr_peer_state {
    CR_PEER_NEW,
    CR_PEER_CONNECTING, /* ICE checks or DTLS handshake under way */
    CR_PEER_CONNECTED,  /* SRTP keys in place, media flows (DTLS done, or as its client
                         * our Finished out: RFC 7918 false start) */
    CR_PEER_FAILED,     /* ICE or DTLS failed; the peer should be closed */
    CR_PEER_CLOSED,
};

enum cr_kind { CR_KIND_AUDIO = 0, CR_KIND_VIDEO = 1 };

#define CR_MID_MAX 32
#define CR_SOURCE_MAX 16
#define CR_NAME_MAX 64
#define CR_LAYERS_MAX 3 /* simulcast layers of one track (RFC 8853) */

/* One track (producer) in a room. */
struct cr_track_info {
    uint64_t id;
    uint64_t peer_id; /* the publishing peer */
    enum cr_kind kind;
    char source[CR_SOURCE_MAX]; /* "mic", "camera", "screen", or as the publisher hinted */
    char codec[16];             /* "opus", "VP8", "H264" */
    uint8_t layers;             /* simulcast layers received (1: not simulcast) */
    uint8_t loudness;           /* audio: 127 minus the RFC 6464 level the publisher sends
                                   (-dBov), averaged, the peak of the last second or two; 0:
                                   silent (speech is about 90-115) */
};

/* Per-m-line hint, matched by mid: what the caller knows of a line without reading the
 * SDP, read by cr_relay_negotiate (struct cr_answer says what each line became). Mid "*"
 * is the hint of every line without one of its own ({"*", .follow = true}: a player whose
 * lines the caller feeds). */
struct cr_mline_hint {
    char mid[CR_MID_MAX];
    char source[CR_SOURCE_MAX]; /* in, for lines the client sends on: what the track is
                                   ("": the default, see cr_relay_negotiate) */
    uint64_t track_id;          /* for receive lines: the wanted track (0: automatic) */
    bool follow;    /* a receive line the caller feeds itself (cr_relay_peer_feed): fed with
                       track_id if given (else it keeps what it had), never automatically;
                       answered sendonly even while idle (silent, black) so a track can go to
                       it at once; Opus, and for video the codec below where offered */
    char codec[16]; /* an idle follow line's video codec ("VP8", "H264": what the tracks
                       it will carry are); "": VP8, what the pages publish */
};

/* What cr_relay_negotiate demands of an offer, for endpoints with one purpose. Counted over
 * the audio and video lines the relay accepts. */
enum cr_offer_demand {
    CR_DEMAND_NONE = 0,
    CR_DEMAND_SENDS,         /* WHIP: at least one line the client sends on */
    CR_DEMAND_RECEIVES_ONLY, /* WHEP: no line the client sends on, at least one it receives on */
};

#define CR_OFFER_MAX_LINES 40 /* m-lines in one offer (wire/sdp.h SDP_MAX_MEDIA) */

/* One m-line of an offer, as the relay answered it. */
struct cr_offer_line {
    char mid[CR_MID_MAX];
    enum cr_kind kind;          /* of an audio or video line (not rejected) */
    bool rejected;              /* answered with port 0: offered with port 0, or not RTP media */
    bool client_sends;          /* sendonly or sendrecv: a track the client publishes */
    bool client_receives;       /* recvonly: the relay feeds it (inactive without a track) */
    bool data;                  /* the data channel line (m=application, RFC 8841) */
    char source[CR_SOURCE_MAX]; /* the track's source ("mic", "camera", "screen", ...) */
    char codec[16];             /* the codec answered ("opus", "VP8", "H264"); "" if none */
    uint64_t track_id;          /* the track created (client_sends) or assigned
                                   (client_receives); 0: none */
};

/* What cr_relay_negotiate returns. */
struct cr_answer {
    uint64_t peer_id;    /* the peer created or renegotiated; 0 on failure to create one */
    char *sdp;           /* the answer, malloc'd (the caller frees); NULL on failure */
    char ice_ufrag[257]; /* the offer's (a WHIP PATCH tells trickle from an ICE restart) */
    size_t n_lines;      /* one per m-line of the offer, in its order */
    struct cr_offer_line lines[CR_OFFER_MAX_LINES];
    char err[512]; /* on failure: why, for the client */
};

/* A cascade link's offer (cr_relay_link_open): the other relay answers it as a publish, with
 * hints[i] as the source of each line, so its tracks keep their names there. */
struct cr_link_offer {
    uint64_t link_id; /* the link, a peer of the source's room (cr_relay_peer_close ends it) */
    char *sdp;        /* the offer, malloc'd (the caller frees); NULL on failure */
    size_t n_hints;
    struct cr_mline_hint hints[CR_OFFER_MAX_LINES]; /* mid and source of each line */
    char err[256];                                  /* on failure: why */
};

struct cr_relay_events {
    void (*on_peer_state)(void *user, uint64_t peer_id, enum cr_peer_state state);
    /* A local ICE candidate ("candidate:..." without "a="), or candidate NULL at the end
     * of gathering. Candidates gathered before the answer was made are also in the answer. */
    void (*on_local_candidate)(void *user, uint64_t peer_id, const char *mid,
                               const char *candidate);
    /* The set of tracks in a room changed (a track was added or removed). */
    void (*on_tracks_changed)(void *user, const char *room);
    /* The client opened (open) or closed a data channel named label (RFC 8831). May be
     * NULL. */
    void (*on_channel)(void *user, uint64_t peer_id, const char *label, bool open);
    /* One message the client sent on its channel label (at most 16 KiB; binary, or UTF-8
     * text as the client claims: not checked), within the per-peer rate limit. May be
     * NULL. */
    void (*on_channel_message)(void *user, uint64_t peer_id, const char *label, const uint8_t *buf,
                               size_t len, bool binary);
};

/* A histogram of delays (base/hist.h's, copied out with its quantiles). */
#define CR_DELAY_BUCKETS 16
struct cr_delay_hist {
    uint32_t bound_us[CR_DELAY_BUCKETS - 1]; /* upper bounds; the last bucket is unbounded */
    uint64_t count[CR_DELAY_BUCKETS];
    uint64_t total, sum_us, max_us;
    uint64_t p50_us, p99_us; /* bucket bounds (max_us above the last) */
};

/* A histogram of values on another scale (base/hist.h's cr_hist_add_on): a bit rate, a
 * loss, a time; its unit says which. */
struct cr_value_hist {
    uint32_t bound[CR_DELAY_BUCKETS - 1]; /* upper bounds (inclusive), in the unit below */
    uint64_t count[CR_DELAY_BUCKETS];     /* per bucket, not cumulative; the last unbounded */
    uint64_t total, sum;
};

/* The stages of a peer's start, each timed from its creation (the offer reaching the relay). */
enum cr_join_stage {
    CR_JOIN_ICE,         /* ICE connected: a pair selected */
    CR_JOIN_CONNECTED,   /* SRTP keys in place (CR_PEER_CONNECTED) */
    CR_JOIN_FIRST_VIDEO, /* a subscriber: its first video packet handed to its transport */
    CR_JOIN_STAGES
};

#define CR_WORKERS_MAX 16

/* One media worker's share (cr_relay_stats.workers). */
struct cr_worker_stats {
    uint32_t rooms, peers;
    uint32_t load_pct; /* the busiest worker's CPU over the last second, % of a core */
    uint64_t rtp_out;  /* packets it sent */
    struct cr_delay_hist forward_delay; /* its forwarding delays */
};

struct cr_relay_stats {
    uint32_t rooms; /* lessons open (a lesson over several workers counts once) */
    uint32_t peers, producers, consumers;
    uint32_t taps;            /* recording taps (not counted in peers) */
    uint64_t rtp_in, rtp_out; /* packets received from publishers / sent */
    uint64_t bytes_in, bytes_out;
    uint64_t rtcp_in, rtcp_out;
    uint64_t bad_packets;       /* dropped as malformed, unknown or failing SRTP */
    uint64_t keyframe_requests; /* PLI/FIR sent to publishers */
    uint64_t nacks_in;          /* NACK entries received from subscribers */
    uint64_t nacks_out;         /* ... sent to publishers for what their links lost */
    uint64_t repaired_in;       /* ... of those, packets the publishers resent that arrived */
    uint64_t red_in, red_out;   /* audio RED (RFC 2198) packets from publishers / sent */
    uint64_t data_in, data_out; /* data channel messages from clients / sent to them */
    uint64_t data_dropped;      /* over a client's rate limit, or not sendable */
    uint64_t paced;             /* packets that waited in a pacer before they left */
    uint64_t pace_dropped;      /* ... dropped there: stale, or over the queue's bound */
    /* the shared media port (media_port set; all 0 otherwise) */
    uint64_t udp_sent;         /* datagrams sent through it */
    uint64_t udp_send_calls;   /* sendmmsg/sendto calls that carried them */
    uint64_t udp_send_dropped; /* refused by the kernel */
    uint64_t udp_unknown;      /* datagrams dropped: from no known peer */
    uint32_t tcp_connections;  /* ICE-TCP connections on it, open now */
    uint64_t tcp_dropped;      /* packets dropped on them: queue full, or gone */
    uint64_t refused;          /* new peers refused by admission control (full) */
    /* a lesson spread over workers (cr_relay_config.room_spread) */
    uint64_t handoff_out;                  /* packets handed to another worker's part of a lesson */
    uint64_t handoff_in;                   /* ... taken from one */
    uint64_t handoff_dropped;              /* ... dropped: the ring toward that worker was full */
    uint32_t load_pct;                     /* the worker's CPU over the last second, % of a core */
    struct cr_delay_hist forward_delay;    /* media packets: read from the socket → handed to
                                            * the socket toward a subscriber (batches leave
                                            * within 64) */
    uint64_t keyframe_requests_in;         /* PLI/FIR received from subscribers */
    uint64_t nacks_repaired;               /* NACK entries from subscribers answered with a
                                              retransmission (nacks_in those asked) */
    uint64_t layer_packets[CR_LAYERS_MAX]; /* video packets forwarded to subscribers, by the
                                              simulcast layer they came from (its index in the
                                              publisher's offer; 0: a track of one layer) */
    struct cr_value_hist estimate_bps;     /* subscribers' bandwidth estimates, each sampled
                                              once a second while connected (bit/s) */
    struct cr_value_hist loss_permille;    /* the fraction lost in each receiver report block
                                              a subscriber sends about our streams (‰) */
    struct cr_value_hist join_ms[CR_JOIN_STAGES]; /* peers' starts, by stage (ms) */
    /* cascade links to other relays (cr_relay_link_open): each a publisher's tracks, once */
    uint32_t links;         /* links open now (counted in peers too) */
    uint64_t link_rtp_out;  /* packets mirrored over them (also in rtp_out) */
    uint64_t link_nacks_in; /* NACK entries the other relays sent about them */
    uint32_t n_workers;
    struct cr_worker_stats workers[CR_WORKERS_MAX];
};

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
    uint32_t pace_bps;     /* what its pacer lets leave; 0: not paced (no estimate yet) */
    uint32_t pace_queue_bytes, pace_max_wait_ms; /* queued now; the longest wait since the
                                                    last read */
    uint64_t pace_dropped;                       /* packets the pacer dropped */
    uint8_t fec_k; /* FEC toward the client: one packet per fec_k media packets; 0: off */
    size_t n_consumers;
    struct cr_consumer_stats consumers[CR_PEER_STATS_MAX];
};
#endif
