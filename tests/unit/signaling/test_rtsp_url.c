/* Tests signaling/store/rtsp_url.c: what a lesson's RTSP source may be (rtsp:// or rtsps://,
 * a host, printable ASCII, at most 1024 bytes), and that a refusal never quotes the URL. */
#include <string.h>

#include "store/rtsp_url.h"
#include "test.h"

static bool ok(const char *url)
{
    char why[200] = "";
    bool r = rtsp_url_ok(url, why, sizeof why);
    CHECK(r ? why[0] == '\0' : why[0] != '\0');
    CHECK(strstr(why, "secret") == NULL);
    return r;
}

int main(void)
{
    CHECK(ok("rtsp://10.0.0.5:554/live"));
    CHECK(ok("rtsp://cam:secret@10.0.0.5/Streaming/Channels/101"));
    CHECK(ok("RTSP://camera.school.example/ch1?subtype=0"));
    CHECK(ok("rtsps://user:secret@[2001:db8::1]:322/live"));
    CHECK(!ok(NULL));
    CHECK(!ok(""));
    CHECK(!ok("http://cam:secret@10.0.0.5/live"));
    CHECK(!ok("rtspu://10.0.0.5/live"));
    CHECK(!ok("rtsp://"));
    CHECK(!ok("rtsp:///live"));
    CHECK(!ok("rtsp://cam:secret@/live"));
    CHECK(!ok("rtsp://cam:secret@:554/live"));
    CHECK(!ok("rtsp://10.0.0.5/li ve"));
    CHECK(!ok("rtsp://10.0.0.5/live\nsecret"));
    CHECK(!ok("rtsp://10.0.0.5/\x7f"));
    CHECK(!ok("rtsp://10.0.0.5/caf\xc3\xa9"));
    char url[RTSP_URL_MAX + 2];
    memset(url, 'a', sizeof url - 1);
    url[sizeof url - 1] = '\0';
    memcpy(url, "rtsp://h/", 9);
    CHECK(!ok(url)); /* 1025 bytes */
    url[RTSP_URL_MAX] = '\0';
    CHECK(ok(url)); /* 1024 */
    char why[200];
    rtsp_url_ok("ftp://cam:secret@h/", why, sizeof why);
    CHECK(strstr(why, "rtsp://") != NULL);
    return test_report();
}
