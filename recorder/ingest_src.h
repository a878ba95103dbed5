/* The RTSP side of "classrelay-recorder ingest" (docs/recording.md, "RTSP ingest"): pulls a
 * camera or a classroom recording system with rtspsrc and hands on what it sends, without
 * ever giving up.
 *
 * One source pipeline at a time: rtspsrc (RTSP 1.0, RFC 2326; RTP over UDP, and RTP
 * interleaved in the RTSP TCP connection, §10.12, when UDP brings nothing) → H.264 video
 * depayloaded and parsed into access units, not decoded (RFC 6184); audio (AAC: RFC 3640
 * or RFC 6416; G.711: RFC 3551; Opus: RFC 7587) depayloaded, decoded and encoded as Opus
 * 48 kHz stereo. Each H.264 access unit and each Opus packet goes to on_sample, on a
 * streaming thread. An error, the end of the stream, or 3 s without video tears the
 * pipeline down and builds a new one 1, 2, 4, 8, then every 10 s later (back to 1 s once
 * media flows again). Messages never hold the URL's password. */
#ifndef CR_RECORDER_INGEST_SRC_H
#define CR_RECORDER_INGEST_SRC_H

#include <stdbool.h>

#include <gst/gst.h>

struct ingest_src;

struct ingest_src_cbs {
    /* An H.264 access unit (video) or an Opus packet; any thread; sample borrowed. session
     * counts the pipelines built, so a new one can be told from the old. */
    void (*on_sample)(void *ud, bool video, GstSample *sample, unsigned session);
    /* Main loop: media flows (once per pipeline). codecs as the camera named them ("H264",
     * "MPEG4-GENERIC", "PCMU", ...; "" none). */
    void (*on_playing)(void *ud, const char *video, const char *audio);
    /* Main loop: the source is gone for now; the next try comes in retry_ms. */
    void (*on_lost)(void *ud, const char *why, unsigned retry_ms);
};

/* Starts pulling url now. NULL only if GStreamer lacks rtspsrc (the reason in *err,
 * g_free it). */
struct ingest_src *ingest_src_new(const char *url, const struct ingest_src_cbs *cbs, void *ud,
                                  char **err);
void ingest_src_free(struct ingest_src *s);

#endif
