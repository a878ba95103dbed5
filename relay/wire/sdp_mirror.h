/* The offer a relay makes to mirror one publisher's tracks to another relay (a cascade link,
 * docs/cluster.md): the publisher's own offer (RFC 8829 JSEP, as it was last applied), cut to
 * the m-lines it sends on now, with the relay's transport in place of the publisher's — its
 * ICE credentials and candidates (RFC 8839), DTLS fingerprint and setup:actpass (RFC 8842) —
 * and the SSRCs the relay has learnt (RFC 5576 a=ssrc; a=ssrc-group:SIM for the layers of a
 * simulcast line, in a=simulcast order), so the other relay routes packets that no longer
 * carry the mid and rid extensions. Codecs, payload types, extension ids, rids and msids stay
 * the publisher's, so its packets cross verbatim. Pure text work. */
#ifndef CR_WIRE_SDP_MIRROR_H
#define CR_WIRE_SDP_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "wire/sdp.h"

struct sdp_mirror_line {
    const char *mid;
    uint32_t ssrcs[SDP_MAX_RIDS]; /* the line's RTP streams (a simulcast line's layers in
                                     a=simulcast order); 0: not known yet */
    size_t n_ssrcs;
};

struct sdp_mirror {
    uint64_t sess_id;
    const char *ufrag, *pwd;
    const char *fingerprint; /* "sha-256 AB:CD:..." */
    const char *candidates;  /* "a=candidate:...\r\n" lines, for the first m-line */
    const struct sdp_mirror_line *lines;
    size_t n_lines;
};

/* Writes into out the mirror offer of offer (the publisher's SDP text). Returns the number
 * of m-lines written (0: none of lines is in the offer), or -1 for an offer without m-lines
 * or with a line longer than 4 KiB. */
int sdp_mirror_offer(const char *offer, const struct sdp_mirror *mr, struct strbuf *out);

#endif
