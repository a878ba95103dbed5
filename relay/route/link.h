/* Cascade links (docs/cluster.md): a peer of this relay that mirrors one publisher's tracks
 * to another relay, which takes them as if the publisher had offered them there. The link
 * offers (this relay is the ICE controlling agent, RFC 8445 §6.1.1, full ICE over libnice
 * whatever the media port, and DTLS actpass), the other relay answers with its ordinary
 * publish path. What the publisher sends crosses verbatim, every simulcast layer, once per
 * link however many subscribers the other relay serves: each packet as the source peer took
 * it (decrypted once), sealed again for the link; the publisher's sender reports too. From
 * the other side come NACKs, answered from the source's packet store (the same sequence
 * numbers: a plain retransmission, RFC 4585 §6.2.1), and keyframe requests, passed to the
 * source's producers, which throttle them with everyone else's (both in peer_rtcp.c). Source and
 * links are on one worker and know each other; when either goes the other forgets it, and a link
 * whose source went closes (the other relay sees its DTLS close). */
#ifndef CR_ROUTE_LINK_H
#define CR_ROUTE_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "classrelay/types.h"

struct peer;

/* Makes link (a new peer of source's room, made for it: peer_new_link) the mirror of source
 * and writes its offer into out (cr_link_offer). CR_ERR_ARG when source publishes nothing. */
int link_attach(struct peer *link, struct peer *source, struct cr_link_offer *out);
struct producer_packet;
/* The source took a packet (decrypted, as its producer took it): to every link (from the
 * room's fan-out, source->links non-NULL). */
void link_mirror_rtp(struct peer *source, const struct producer_packet *pkt);
/* A sender report of the source's stream ssrc: to every link, for lip sync over there. */
void link_mirror_sr(struct peer *source, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts);
/* A source or a link is going: the other side forgets it (the room, before peer_free). */
void link_detach(struct peer *peer);

#endif
