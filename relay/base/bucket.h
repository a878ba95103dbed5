/* A token bucket: at most burst at once, rate a second sustained. For per-client limits
 * (data channel messages in route/peer_data.c, chat in signaling). Time is the caller's. */
#ifndef CR_BASE_BUCKET_H
#define CR_BASE_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct cr_bucket {
    double tokens;
    int64_t at_ms; /* the last take; 0: never (the bucket starts full) */
};

/* Takes one token at now_ms if there is one. */
bool cr_bucket_take(struct cr_bucket *b, double rate, double burst, int64_t now_ms);

#endif
