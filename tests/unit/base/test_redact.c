/* Tests relay/base/redact.c: the password of every "scheme://user:password@" in a text is
 * replaced by "***"; user names, hosts, paths and texts without userinfo stay as they were;
 * output is truncated safely. */
#include <string.h>

#include "base/redact.h"
#include "test.h"

static void same(const char *in, const char *want)
{
    char out[256];
    cr_redact_userinfo(in, out, sizeof out);
    if (strcmp(out, want) != 0)
        fprintf(stderr, "redact(%s) = %s, want %s\n", in, out, want);
    CHECK_STR(out, want);
}

int main(void)
{
    same("rtsp://cam:s3cret@10.0.0.5:554/live", "rtsp://cam:***@10.0.0.5:554/live");
    same("rtsps://admin:p%40ss@cam.school/ch1?x=1", "rtsps://admin:***@cam.school/ch1?x=1");
    same("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live");
    same("rtsp://cam@10.0.0.5/live", "rtsp://cam@10.0.0.5/live"); /* no password */
    same("rtsp://:pw@host/", "rtsp://:***@host/");
    same("rtsp://a:b@c@host/p", "rtsp://a:***@host/p"); /* the last '@' ends userinfo */
    same("rtsp://host/path@x", "rtsp://host/path@x");   /* an '@' in the path is not userinfo */
    same("could not open rtsp://u:pw@h/a, then rtsp://v:q@k/b",
         "could not open rtsp://u:***@h/a, then rtsp://v:***@k/b");
    same("rtsp://c'':s3:cr!et@'host'/p", "rtsp://c'':***@'host'/p"); /* sub-delims (fuzz) */
    same("'rtsp://u:p@h' failed", "'rtsp://u:***@h' failed");
    same("no url here", "no url here");
    same("", "");
    same("trailing ://", "trailing ://");
    char small[12];
    CHECK_EQ(cr_redact_userinfo("rtsp://user:pw@host/", small, sizeof small), 11);
    CHECK_STR(small, "rtsp://user");
    CHECK(strstr(small, "pw") == NULL);
    CHECK_EQ(cr_redact_userinfo("x", small, 0), 0);
    return test_report();
}
