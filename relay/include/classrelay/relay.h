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

#include "classrelay/types.h"

const char *cr_peer_state_name(enum cr_peer_state state);

struct cr_relay;

/* Starts the worker thread. Returns NULL if the worker cannot start (certificate, ports). */
struct cr_relay *cr_relay_new(const struct cr_relay_config *config,
                              const struct cr_relay_events *events, void *user);
/* Closes every peer and room, stops the worker. cr_relay_free(NULL) does nothing. */
void cr_relay_free(struct cr_relay *relay);

int cr_relay_room_open(struct cr_relay *relay, const char *room);  /* idempotent */
int cr_relay_room_close(struct cr_relay *relay, const char *room); /* closes its peers */

/* One offer, one call: creates the peer or renegotiates it, and answers.
 *  - peer_id 0: a new peer in room (which must be open); else the offer renegotiates
 *    peer_id (room is not read).
 *  - The SDP is parsed once, here. hints (by mid; may be NULL) say what the caller knows
 *    without reading it: the source of a line the client sends on, the track wanted on a
 *    line it receives on (0 or no hint: the first track of the room of the line's kind that
 *    is not the peer's own and not fed to it on another line).
 *  - A send line without a source hint is "mic" (audio), "camera" (the peer's first video
 *    track) or "screen" (a later one). A track keeps its source across renegotiations.
 *  - A new peer may be refused with CR_ERR_LIMIT when the relay is full (see priority).
 *  - demand refuses offers that do not fit an endpoint (WHIP: CR_DEMAND_SENDS; WHEP:
 *    CR_DEMAND_RECEIVES_ONLY) with CR_ERR_BAD_SDP and a reason, before anything changes.
 * On success returns CR_OK and fills out: the peer id, the answer (out->sdp, the caller
 * frees it), each m-line as answered and the offer's ice-ufrag. On failure returns a
 * negative cr_err with a reason in out->err and changes nothing: an existing peer stays
 * as it was, a peer this call created is closed again (out->peer_id 0, no compensation
 * by the caller). One blocking round trip to the worker. */
struct cr_offer {
    const char *room;                  /* peer_id 0: the room of the new peer */
    uint64_t peer_id;                  /* 0: create a peer; else renegotiate this one */
    const char *sdp;                   /* the offer (NUL-terminated) */
    const struct cr_mline_hint *hints; /* borrowed, may be NULL */
    size_t n_hints;
    enum cr_offer_demand demand;
    bool priority; /* a new peer the lesson cannot do without (its teacher): admitted even
                    * when the relay is full (max_peers, max_load_pct); others then get
                    * CR_ERR_LIMIT at once, and the classrooms already in keep their picture */
};
int cr_relay_negotiate(struct cr_relay *relay, const struct cr_offer *offer, struct cr_answer *out);

/* Cascade links (docs/cluster.md): opens a link that mirrors everything peer source_id
 * publishes — every line it sends on, every simulcast layer, its sender reports — to another
 * relay, and writes the offer into out (out->sdp, the caller frees). The other relay answers
 * it as a publish (cr_relay_negotiate with CR_DEMAND_SENDS and out->hints); its answer comes
 * back through cr_relay_link_answer. This relay is the ICE controlling agent and offers DTLS
 * actpass. The link is a peer of the source's room: it reports its state like any peer,
 * cr_relay_peer_close ends it, and it closes (CR_PEER_CLOSED) when its source goes. A new
 * offer from the source (a track added) does not reach an open link: open another.
 * CR_ERR_NOT_FOUND: no such peer; CR_ERR_ARG: it publishes nothing. */
int cr_relay_link_open(struct cr_relay *relay, uint64_t source_id, struct cr_link_offer *out);
int cr_relay_link_answer(struct cr_relay *relay, uint64_t link_id, const char *sdp, char *err,
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

/* Feeds the receive line mid of peer_id from track_id (0: nothing, the line goes idle):
 * the subscriber's stream goes on, numbering continuous, from the track's next keyframe
 * (asked for at once). For lines negotiated with cr_mline_hint.follow (or fed at
 * negotiation). CR_ERR_NOT_FOUND: no such peer, line or track; CR_ERR_ARG: a line
 * answered inactive, a track of another kind or codec, or the peer's own. */
int cr_relay_peer_feed(struct cr_relay *relay, uint64_t peer_id, const char *mid,
                       uint64_t track_id);

/* Caps what the video receive line mid of peer_id forwards of a simulcast track: only the
 * max_layers lowest layers (by bit rate) the publisher sends now, chosen among as the
 * link allows; 0 lifts the cap. For a small tile, so the full layer goes only where it is
 * shown large. Applied at the quality loop's next tick, switching at a keyframe; it stays
 * with the line when another track feeds it. CR_ERR_NOT_FOUND: no such peer or line;
 * CR_ERR_ARG: an audio line, or max_layers above CR_LAYERS_MAX. */
int cr_relay_peer_layers(struct cr_relay *relay, uint64_t peer_id, const char *mid,
                         unsigned max_layers);

/* Sends one message on the data channel named label (RFC 8831) of peer_id, or, with
 * peer_id 0, of every peer in room that has such a channel open (channels are opened by
 * the clients; a peer without one is skipped). At most 16 KiB; binary, or UTF-8 text. The
 * message is copied and sent from the worker: the call does not wait, and a message a
 * peer cannot take (gone, channel closed, buffer full) is dropped and counted
 * (cr_relay_stats.data_dropped). CR_ERR_ARG for bad arguments. */
int cr_relay_channel_send(struct cr_relay *relay, const char *room, uint64_t peer_id,
                          const char *label, const void *buf, size_t len, bool binary);

/* Stops (paused) or resumes forwarding the media of peer_id's published tracks of the kinds
 * in kinds (1 << CR_KIND_AUDIO, 1 << CR_KIND_VIDEO): a paused lesson, muted classrooms. The
 * packets still arrive and are counted; on resume the video tracks are asked for a
 * keyframe so subscribers pick up at once. */
int cr_relay_peer_pause(struct cr_relay *relay, uint64_t peer_id, unsigned kinds, bool paused);

#endif
