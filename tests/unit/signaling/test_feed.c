/* Tests floor_parse_feed (signaling/lesson/floor.c), how a client names what feeds a receive
 * line (docs/protocol.md, "Stage lines"): every accepted spelling with what it fills in
 * (feed, slot, camera_only, who, codec), and refusals (unknown names, stage slots out of
 * range, an empty classroom id, codecs other than VP8 and H.264, an over-long text). */
#include <string.h>

#include "lesson/floor.h"
#include "test.h"

static struct reg_line parsed(const char *text, bool *ok)
{
    struct reg_line l;
    memset(&l, 0xab, sizeof l);
    *ok = floor_parse_feed(text, &l);
    return l;
}

static void test_accepted(void)
{
    bool ok;
    struct reg_line l = parsed("teacher", &ok);
    CHECK(ok && l.feed == REG_FEED_TEACHER && !l.camera_only && l.codec[0] == '\0');
    l = parsed("teacher:camera@VP8", &ok);
    CHECK(ok && l.feed == REG_FEED_TEACHER && l.camera_only);
    CHECK_STR(l.codec, "VP8");
    l = parsed("teacher:camera", &ok);
    CHECK(ok && l.camera_only && l.codec[0] == '\0');
    l = parsed("stage", &ok);
    CHECK(ok && l.feed == REG_FEED_STAGE && l.slot == 0);
    l = parsed("stage:3@h264", &ok);
    CHECK(ok && l.feed == REG_FEED_STAGE && l.slot == 2);
    CHECK_STR(l.codec, "H264");
    l = parsed("classroom:p7", &ok);
    CHECK(ok && l.feed == REG_FEED_CLASSROOM);
    CHECK_STR(l.who, "p7");
}

static void test_refused(void)
{
    static const char *bad[] = {"",
                                "teacher:screen",
                                "teacher:",
                                "Teacher",
                                "stage:0",
                                "stage:9",
                                "stage:1x",
                                "classroom:",
                                "teacher@VP9",
                                "stage@",
                                "teacher:camera@AV1",
                                "classroom:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool ok;
        parsed(bad[i], &ok);
        if (ok)
            fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
        CHECK(!ok);
    }
}

int main(void)
{
    test_accepted();
    test_refused();
    return test_report();
}
