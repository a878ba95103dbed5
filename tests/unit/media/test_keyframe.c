/* Tests relay/media/keyframe.c: 50 classrooms asking at once make one request; a request
 * inside the interval is sent when it ends unless a keyframe came meanwhile. */
#include "media/keyframe.h"
#include "test.h"

int main(void)
{
    struct keyframe_throttle k;
    keyframe_throttle_init(&k, 500);
    int sent = 0;
    for (int i = 0; i < 50; i++)
        sent += keyframe_throttle_request(&k, 1000 + i);
    CHECK_EQ(sent, 1);
    CHECK(!keyframe_throttle_poll(&k, 1400));
    CHECK(keyframe_throttle_poll(&k, 1500)); /* the pending one, once */
    CHECK(!keyframe_throttle_poll(&k, 2100));
    /* pending, then a keyframe arrives: nothing more is sent */
    CHECK(!keyframe_throttle_request(&k, 1600));
    keyframe_throttle_on_keyframe(&k);
    CHECK(!keyframe_throttle_poll(&k, 2500));
    CHECK(keyframe_throttle_request(&k, 2600));
    CHECK_EQ(k.sent, 3);
    return test_report();
}
