/* package_hls: the playlists around hlssink2's segments. Rewrites a rendition's media
 * playlist as a finished VOD list (RFC 8216 §4.3.3.5 PLAYLIST-TYPE:VOD, §4.3.3.4
 * ENDLIST, §4.3.3.1 TARGETDURATION = the longest segment rounded up) and measures its
 * bit rates; writes the master playlist (§4.3.4.2 EXT-X-STREAM-INF). */
#ifndef CR_RECORDER_PACKAGE_HLS_H
#define CR_RECORDER_PACKAGE_HLS_H

#include <stdint.h>

struct pkg_rendition {
    const char *name;    /* "hi", "lo"; the playlist is NAME/index.m3u8 */
    int width, height;   /* 0: audio only */
    char codecs[40];     /* RFC 6381 CODECS, e.g. "avc1.64001F,mp4a.40.2" */
    int64_t peak_bps;    /* filled by pkg_hls_finish: the largest segment bit rate */
    int64_t average_bps; /* and the whole playlist's */
};

/* Rewrites DIR/NAME/index.m3u8 and fills r's bit rates. 0, or -1 (message on stderr). */
int pkg_hls_finish(const char *dir, struct pkg_rendition *r);
/* Writes DIR/master.m3u8 listing N renditions. 0 or -1. */
int pkg_hls_master(const char *dir, const struct pkg_rendition *r, int n);

#endif
