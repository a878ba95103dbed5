/* Tests relay/media/keyframe.c: 50 classrooms asking at once make one request; a request
 * inside the interval is sent when it ends unless a keyframe came meanwhile; the layers of
 * a track share the interval, and waiting layers are served in turn. */
#include "media/keyframe.h"
#include "test.h"

static void test_one_layer(void)
{
    struct keyframe_throttle k;
    keyframe_throttle_init(&k, 1000);
    int sent = 0;
    for (int i = 0; i < 50; i++)
        sent += keyframe_throttle_request(&k, 0, 1000 + i);
    CHECK_EQ(sent, 1);
    CHECK_EQ(keyframe_throttle_poll(&k, 1900), -1);
    CHECK_EQ(keyframe_throttle_poll(&k, 2000), 0); /* the pending one, once */
    CHECK_EQ(keyframe_throttle_poll(&k, 3100), -1);
    /* pending, then a keyframe arrives: nothing more is sent */
    CHECK(!keyframe_throttle_request(&k, 0, 2100));
    keyframe_throttle_on_keyframe(&k, 0);
    CHECK_EQ(keyframe_throttle_poll(&k, 3500), -1);
    CHECK(keyframe_throttle_request(&k, 0, 3600));
    CHECK_EQ(k.sent, 3);
}

static void test_layers_share(void)
{
    struct keyframe_throttle k;
    keyframe_throttle_init(&k, 1000);
    /* three layers asked for at once: one request a second, in turn */
    CHECK(keyframe_throttle_request(&k, 2, 1000));
    CHECK(!keyframe_throttle_request(&k, 0, 1001));
    CHECK(!keyframe_throttle_request(&k, 1, 1002));
    CHECK_EQ(keyframe_throttle_poll(&k, 1500), -1);
    CHECK_EQ(keyframe_throttle_poll(&k, 2000), 0); /* after 2: 0, then 1 */
    CHECK_EQ(keyframe_throttle_poll(&k, 2500), -1);
    CHECK_EQ(keyframe_throttle_poll(&k, 3000), 1);
    /* a keyframe on a waiting layer (the encoder made one on every layer) drops it */
    CHECK(!keyframe_throttle_request(&k, 2, 3100));
    CHECK(!keyframe_throttle_request(&k, 0, 3100));
    keyframe_throttle_on_keyframe(&k, 2);
    keyframe_throttle_on_keyframe(&k, 0);
    CHECK_EQ(keyframe_throttle_poll(&k, 4000), -1);
    /* over 10 s of requests on every layer every 20 ms: at most one a second */
    keyframe_throttle_init(&k, 1000);
    int sent = 0;
    for (int64_t t = 10000; t < 20000; t += 20) {
        for (int l = 0; l < 3; l++)
            sent += keyframe_throttle_request(&k, l, t);
        sent += keyframe_throttle_poll(&k, t) >= 0;
    }
    CHECK(sent <= 10);
    CHECK(sent >= 9);
    CHECK_EQ(keyframe_throttle_request(&k, KEYFRAME_MAX_LAYERS, 30000), false);
}

int main(void)
{
    test_one_layer();
    test_layers_share();
    return test_report();
}
