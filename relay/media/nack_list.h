/* The receiver's NACK list for one incoming video stream (RFC 4585 §6.2.1, as libwebrtc's
 * receiver keeps it): the sequence numbers missing from a publisher's stream, asked for
 * again every round trip until they arrive (by RTX, RFC 4588), grow too old to help
 * (NACK_LIST_MAX_AGE_MS) or were asked for NACK_LIST_MAX_TRIES times. Without it a packet
 * the teacher's or a classroom's uplink lost is lost for every listener at once, and the
 * only repair left is a keyframe.
 *
 * A gap wider than the list (a long outage, or a publisher that restarted its numbering)
 * is not asked for packet by packet: the list starts again after it, and the keyframe a
 * decoder then needs is asked for by the keyframe path (media/keyframe.h).
 * Time is passed in (ms). */
#ifndef CR_MEDIA_NACK_LIST_H
#define CR_MEDIA_NACK_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NACK_LIST_MAX 128         /* missing packets remembered: ≈ 0.3 s of a 3 Mbit/s layer */
#define NACK_LIST_MAX_TRIES 10    /* requests per packet */
#define NACK_LIST_MAX_AGE_MS 1000 /* a repair older than this no longer reaches the screen */
#define NACK_LIST_MIN_RETRY_MS 20 /* however short the round trip */

struct nack_entry {
    uint16_t seq;
    uint8_t tries;    /* requests sent */
    int64_t first_ms; /* when it was found missing */
    int64_t last_ms;  /* when it was last asked for */
};

struct nack_list {
    bool started;
    uint16_t highest; /* the newest sequence number received */
    size_t n;         /* entries, oldest first */
    struct nack_entry e[NACK_LIST_MAX];
    uint64_t missed, repaired, given_up, reset; /* counters */
};

void nack_list_init(struct nack_list *l);
/* A packet of the stream arrived (original or repaired). Returns true when it was one the
 * list waited for. */
bool nack_list_on_packet(struct nack_list *l, uint16_t seq, int64_t now_ms);
/* Whether seq is missing and still wanted (an RTX packet that answers a request). */
bool nack_list_wants(const struct nack_list *l, uint16_t seq);
/* The sequence numbers to ask for now (at most max into out), each counted as asked:
 * those never asked for, and those asked for a round trip ago or more (rtt_ms; 0:
 * unknown, 100 ms assumed). Entries too old or asked for too often leave the list. */
size_t nack_list_due(struct nack_list *l, int64_t now_ms, uint32_t rtt_ms, uint16_t *out,
                     size_t max);

#endif
