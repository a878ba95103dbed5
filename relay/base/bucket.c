/* A token bucket: see bucket.h. */
#include "base/bucket.h"

bool cr_bucket_take(struct cr_bucket *b, double rate, double burst, int64_t now_ms)
{
    if (b->at_ms == 0)
        b->tokens = burst;
    else if (now_ms > b->at_ms)
        b->tokens += (double)(now_ms - b->at_ms) * rate / 1000.0;
    b->at_ms = now_ms;
    if (b->tokens > burst)
        b->tokens = burst;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}
