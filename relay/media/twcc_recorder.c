/* TWCC feedback recorder: see twcc_recorder.h. Packets that arrive after their sequence
 * number was reported are dropped from feedback (the sender has already judged them). */
#include "media/twcc_recorder.h"

#include "wire/rtcp.h"

#define MAX_PER_FEEDBACK 400 /* keeps one feedback packet well under the MTU */

void twcc_recorder_init(struct twcc_recorder *r)
{
    seq16_unwrap_init(&r->unwrap);
    r->next_seq = -1;
    r->max_seq = -1;
    r->fb_count = 0;
    for (size_t i = 0; i < TWCC_WINDOW; i++)
        r->arrival_us[i] = -1;
}

void twcc_recorder_on_packet(struct twcc_recorder *r, uint16_t twcc_seq, int64_t now_us)
{
    int64_t ext = seq16_unwrap(&r->unwrap, twcc_seq);
    if (r->next_seq < 0)
        r->next_seq = ext;
    if (ext < r->next_seq)
        return; /* already reported */
    if (ext - r->next_seq >= TWCC_WINDOW) {
        /* a jump past the window (long gap): report from the new region on */
        for (size_t i = 0; i < TWCC_WINDOW; i++)
            r->arrival_us[i] = -1;
        r->next_seq = ext;
    }
    r->arrival_us[ext % TWCC_WINDOW] = now_us;
    if (ext > r->max_seq)
        r->max_seq = ext;
}

size_t twcc_recorder_build(struct twcc_recorder *r, uint8_t *out, size_t cap, uint32_t sender_ssrc,
                           uint32_t media_ssrc)
{
    if (r->next_seq < 0 || r->max_seq < r->next_seq)
        return 0;
    int64_t count = r->max_seq - r->next_seq + 1;
    if (count > MAX_PER_FEEDBACK)
        count = MAX_PER_FEEDBACK;
    int64_t arrivals[MAX_PER_FEEDBACK] = {0};
    for (int64_t i = 0; i < count; i++) {
        size_t slot = (size_t)((r->next_seq + i) % TWCC_WINDOW);
        arrivals[i] = r->arrival_us[slot];
    }
    /* the writer refuses spans it cannot encode (arrivals more than ±8 s apart, or too
     * big for cap): report a shorter span, and drop a single packet it still refuses */
    size_t n = 0;
    while ((n = rtcp_write_twcc(out, cap, sender_ssrc, media_ssrc, (uint16_t)r->next_seq, arrivals,
                                (uint16_t)count, r->fb_count)) == 0 &&
           count > 1)
        count /= 2;
    if (n == 0) {
        r->arrival_us[r->next_seq % TWCC_WINDOW] = -1;
        r->next_seq++;
        return 0;
    }
    for (int64_t i = 0; i < count; i++)
        r->arrival_us[(r->next_seq + i) % TWCC_WINDOW] = -1;
    r->next_seq += count;
    r->fb_count++;
    return n;
}
