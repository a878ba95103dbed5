/* Transport-wide congestion control feedback for a publisher
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01): records the arrival time of each
 * transport-wide sequence number and, every feedback interval, writes one RTCP feedback
 * packet covering everything since the last one. The publisher's browser runs its own
 * send-side estimator on it, so the teacher's encoder ramps up fast and backs off on
 * congestion. Time is passed in (microseconds). */
#ifndef CR_MEDIA_TWCC_RECORDER_H
#define CR_MEDIA_TWCC_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "base/seq.h"

#define TWCC_WINDOW 1024 /* sequence numbers held between two feedback packets */

struct twcc_recorder {
    struct seq16_unwrap unwrap;
    int64_t next_seq; /* first seq the next feedback reports; -1 before any packet */
    int64_t max_seq;  /* highest seq seen */
    uint8_t fb_count;
    int64_t arrival_us[TWCC_WINDOW]; /* by extended seq mod window; -1 not received */
};

void twcc_recorder_init(struct twcc_recorder *r);
void twcc_recorder_on_packet(struct twcc_recorder *r, uint16_t twcc_seq, int64_t now_us);
/* Writes one feedback packet (0 bytes if nothing new arrived). Several calls may be needed
 * when more than fits in one packet arrived. */
size_t twcc_recorder_build(struct twcc_recorder *r, uint8_t *out, size_t cap, uint32_t sender_ssrc,
                           uint32_t media_ssrc);

#endif
