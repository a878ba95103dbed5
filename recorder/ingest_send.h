/* The WebRTC side of "classrelay-recorder ingest": one webrtcbin that publishes the camera
 * to the relay as a WHIP encoder would (RFC 9725's media profile: one offer, BUNDLE,
 * rtcp-mux, sendonly), and lives as long as the process, whatever the camera does.
 *
 * appsrc (H.264 access units) → h264parse → rtph264pay (RFC 6184, packetization-mode 1,
 * SPS/PPS before every IDR) and appsrc (Opus) → rtpopuspay (RFC 7587) → webrtcbin. Samples
 * are restamped on this pipeline's clock: within one camera session they keep the camera's
 * spacing, and a new session (after the camera was lost) starts at "now", so RTP timestamps
 * and sequence numbers run on across a gap and the relay keeps one track. ICE gathers on
 * one address only (the relay's, loopback by default). */
#ifndef CR_RECORDER_INGEST_SEND_H
#define CR_RECORDER_INGEST_SEND_H

#include <stdbool.h>

#include <gst/gst.h>

struct ingest_send;

struct ingest_send_cbs {
    /* Main loop: the offer, with every candidate gathered (ICE gathering complete). */
    void (*on_offer)(void *ud, const char *sdp);
    /* Main loop: the peer connection's state changed ("connected", "failed", ...). */
    void (*on_state)(void *ud, const char *state);
};

/* Builds and starts the sender for the kinds the camera sends; the offer follows once
 * media has flowed (or after 3 s). NULL with *err (g_free it) when it cannot. */
struct ingest_send *ingest_send_new(bool video, bool audio, const char *ice_ip,
                                    const struct ingest_send_cbs *cbs, void *ud, char **err);
/* Sends a sample of the camera's session (any thread). */
void ingest_send_push(struct ingest_send *s, bool video, GstSample *sample, unsigned session);
/* Applies the relay's answer. 0, or -1 with *err. */
int ingest_send_answer(struct ingest_send *s, const char *sdp, char **err);
void ingest_send_free(struct ingest_send *s);

#endif
