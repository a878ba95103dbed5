/* Packet store of one incoming track: the last N packets (decrypted RTP, header included)
 * kept by sequence number so NACKs from subscribers (RFC 4585 §6.2.1) are answered from
 * here with RTX (RFC 4588) instead of being forwarded to the publisher. Bounded in
 * packets (a power of two) and in age. This is the only place packets are copied on
 * the way in; subscribers read from it. */
#ifndef CR_MEDIA_PACKET_STORE_H
#define CR_MEDIA_PACKET_STORE_H

#include <stddef.h>
#include <stdint.h>

#define PACKET_STORE_MTU 1500

struct packet_store;

/* slots: rounded up to a power of two; max_age_ms: older packets are not returned. */
struct packet_store *packet_store_new(size_t slots, int64_t max_age_ms);
void packet_store_free(struct packet_store *ps);
/* Copies a packet in (oversized packets are not kept). */
void packet_store_put(struct packet_store *ps, uint16_t seq, const uint8_t *pkt, size_t len,
                      int64_t now_ms);
/* Returns the stored packet for seq (borrowed until the next put), or NULL. */
const uint8_t *packet_store_get(const struct packet_store *ps, uint16_t seq, int64_t now_ms,
                                size_t *len);
/* True when seq is already stored (a duplicate or a retransmission we already had). */
int packet_store_has(const struct packet_store *ps, uint16_t seq);

#endif
