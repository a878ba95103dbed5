/* A shallow read of SDP text, just enough for signaling to talk about an offer: its
 * m-lines (kind, mid, direction) and the client's ICE username fragment. The relay does
 * the real parsing (relay/wire/sdp.c); this only names the lines so signaling can attach
 * source hints and answer clients in terms of mids. Also walks the lines of an
 * application/trickle-ice-sdpfrag body (RFC 8840 §9).
 *
 * Buffer in, view out: nothing is allocated, values are copied into fixed-size fields
 * (and a value too long for its field makes the scan fail). */
#ifndef CR_SIGNALING_SDPSCAN_H
#define CR_SIGNALING_SDPSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "classrelay/relay.h"

#define SDPSCAN_MAX_MLINES 128

enum sdpscan_dir { SDPSCAN_SENDRECV, SDPSCAN_SENDONLY, SDPSCAN_RECVONLY, SDPSCAN_INACTIVE };

struct sdpscan_mline {
    char kind[16];        /* "audio", "video", "application" */
    char mid[CR_MID_MAX]; /* "" if the line has no a=mid */
    enum sdpscan_dir dir; /* RFC 8866 §6.7: sendrecv when absent */
    bool rejected;        /* port 0 without a=bundle-only */
};

struct sdpscan {
    size_t n;
    struct sdpscan_mline m[SDPSCAN_MAX_MLINES];
    char ice_ufrag[64]; /* first a=ice-ufrag seen (session or media level) */
};

/* Scans an offer. Returns 0, or -1 with a reason in *why (a static string) if the text is
 * not SDP (no "v=0" first line), has too many m-lines or an over-long field. */
int sdpscan_offer(const char *sdp, size_t len, struct sdpscan *out, const char **why);

/* Iterates lines (LF or CRLF separated): returns true and the next line (without its line
 * ending) from *pos, advancing *pos; false at the end. */
bool sdpscan_next_line(const char *buf, size_t len, size_t *pos, const char **line,
                       size_t *line_len);

/* True if the line begins with prefix. */
bool sdpscan_has_prefix(const char *line, size_t line_len, const char *prefix);

/* True if the m-line carries media from the client (sendrecv or sendonly). */
bool sdpscan_client_sends(const struct sdpscan_mline *m);

#endif
