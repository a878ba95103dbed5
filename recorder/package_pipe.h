/* package_pipe: the writer pipeline of the packager. Two appsrcs (video and audio, time
 * format, not live, no clock; a third for audio mixed in, the stage's microphones) fed with
 * buffers already placed on the lesson timeline; out
 * come HLS hi + lo (hlssink2) and one MP4 (hi). Which buffers go in is the caller's. */
#ifndef CR_RECORDER_PACKAGE_PIPE_H
#define CR_RECORDER_PACKAGE_PIPE_H

#include <stdbool.h>

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

struct pkg_writer_cfg {
    const char *out_dir;     /* hi/, lo/ and lesson.mp4 go there */
    GstCaps *video_caps;     /* borrowed; NULL: no video */
    GstCaps *audio_caps;     /* borrowed; NULL: no audio */
    GstCaps *mix_caps;       /* borrowed: audio mixed into it (the stage's); NULL: none */
    bool copy_video;         /* H.264 in: hi is copied, only lo is transcoded */
    int hi_w, hi_h, hi_kbps; /* hi_kbps only when transcoding */
    int lo_w, lo_h, lo_kbps;
    bool with_lo; /* false: hi only (benchmarks of the copy path) */
    int audio_bps;
};

struct pkg_writer {
    GstElement *pipe; /* owned */
    GstAppSrc *vsrc;  /* borrowed from pipe; NULL without video */
    GstAppSrc *asrc;  /* borrowed from pipe; NULL without audio */
    GstAppSrc *msrc;  /* borrowed from pipe: audio mixed in; NULL without */
};

/* Appends "DECODER ! " for the caps' codec (ending in raw video) to D; package_side
 * decodes with it too. */
void pkg_pipe_add_decoder(GString *d, const GstCaps *caps);
/* Builds the pipeline and sets it PLAYING. 0, or -1 with *err set (g_free). */
int pkg_writer_open(struct pkg_writer *w, const struct pkg_writer_cfg *cfg, char **err);
/* How long the AAC encoder in use delays the audio it stamps (ns). */
int64_t pkg_aac_delay_ns(void);
/* RFC 6381 §3.3 "avc1.PPCCLL" of the H.264 leaving for rendition NAME ("hi", "lo"), read
 * from the negotiated caps; call before pkg_writer_close. Falls back to High 4.0. */
void pkg_writer_codec(struct pkg_writer *w, const char *name, char out[16]);
void pkg_writer_close(struct pkg_writer *w);

#endif
