/* Tests relay/base/log.c: the JSON line (its members, escaping of quotes, backslashes and
 * control characters, invalid UTF-8 replaced, a long message cut at a character with the
 * line kept whole), the thread's context (CR_LOG_SCOPE, nested and restored), and that the
 * text format is what it was. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "test.h"

static const struct timespec at = {.tv_sec = 1796666400, .tv_nsec = 123456789}; /* 2026-12-07 */

static void test_members(void)
{
    char out[512];
    struct cr_log_ctx ctx = {.room = "math-7b", .peer = 1234, .participant = "p7"};
    size_t n =
        cr_log_json_line(out, sizeof out, &at, CR_LOG_WARN, "dtls", "handshake failed", &ctx);
    CHECK_STR(out,
              "{\"time\":\"2026-12-07T18:00:00.123Z\",\"level\":\"warn\",\"component\":\"dtls\","
              "\"room\":\"math-7b\",\"peer\":1234,\"participant\":\"p7\",\"msg\":\"handshake "
              "failed\"}\n");
    CHECK_EQ(n, strlen(out));
    cr_log_json_line(out, sizeof out, &at, CR_LOG_DEBUG, "x", "", NULL);
    CHECK_STR(out, "{\"time\":\"2026-12-07T18:00:00.123Z\",\"level\":\"debug\",\"component\":\"x\","
                   "\"msg\":\"\"}\n");
}

static void test_escaping(void)
{
    char out[512];
    /* quote, backslash, newline, tab, ESC, DEL kept; é and an emoji kept as UTF-8 */
    cr_log_json_line(out, sizeof out, &at, CR_LOG_INFO, "t", "a\"b\\c\nd\te\x1b f\x7f é 😀", NULL);
    CHECK(strstr(out, "\"msg\":\"a\\\"b\\\\c\\u000ad\\u0009e\\u001b f\x7f é 😀\"}\n") != NULL);
    /* a lone continuation byte, 0xff, an overlong NUL, a surrogate, a cut sequence */
    cr_log_json_line(out, sizeof out, &at, CR_LOG_INFO, "t",
                     "\x80|\xff|\xc0\x80|\xed\xa0\x80|\xe2\x82", NULL);
    CHECK(strstr(out,
                 "\"msg\":\"\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
                 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\"}\n") != NULL);
    struct cr_log_ctx ctx = {.room = "r\"\n"};
    cr_log_json_line(out, sizeof out, &at, CR_LOG_INFO, "t", "m", &ctx);
    CHECK(strstr(out, "\"room\":\"r\\\"\\u000a\",\"msg\":\"m\"}\n") != NULL);
}

static void test_cut(void)
{
    char msg[2000], out[300];
    for (size_t i = 0; i + 2 < sizeof msg; i += 2)
        memcpy(msg + i, "é", 2); /* two bytes each: a cut must not split one */
    msg[sizeof msg - 2] = '\0';
    size_t n = cr_log_json_line(out, sizeof out, &at, CR_LOG_ERROR, "t", msg, NULL);
    CHECK(n < sizeof out);
    CHECK_EQ(n, strlen(out));
    CHECK(n > 200); /* most of the room was used */
    CHECK(strcmp(out + n - 3, "\"}\n") == 0);
    CHECK(memcmp(out + n - 5, "é", 2) == 0);
    CHECK_EQ(cr_log_json_line(out, 100, &at, CR_LOG_ERROR, "t", "m", NULL), 0); /* too small */
}

static void test_scope(void)
{
    char out[512];
    struct cr_log_ctx none = cr_log_enter(NULL, 0, NULL), inner_seen, outer_seen;
    {
        CR_LOG_SCOPE("room-a", 17, NULL);
        {
            CR_LOG_SCOPE("room-b", 0, "p2");
            inner_seen = cr_log_enter("x", 1, NULL); /* reads the context it replaces */
            cr_log_restore(&inner_seen);
        }
        outer_seen = cr_log_enter("x", 1, NULL);
        cr_log_restore(&outer_seen);
    }
    struct cr_log_ctx after = cr_log_enter(NULL, 0, NULL);
    CHECK_STR(inner_seen.room, "room-b");
    CHECK_STR(inner_seen.participant, "p2");
    CHECK_EQ(inner_seen.peer, 0);
    CHECK_STR(outer_seen.room, "room-a");
    CHECK_EQ(outer_seen.peer, 17);
    CHECK(outer_seen.participant == NULL);
    CHECK(after.room == NULL && after.peer == 0); /* restored at the end of the scope */
    cr_log_restore(&none);
    cr_log_json_line(out, sizeof out, &at, CR_LOG_INFO, "t", "m", &outer_seen);
    CHECK(strstr(out, "\"room\":\"room-a\",\"peer\":17,\"msg\"") != NULL);
}

/* The text format, written to stderr, is as before: time, LEVEL, tag, message. */
static void test_text_unchanged(void)
{
    char path[] = "/tmp/cr-test-log-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    CR_LOG_SCOPE("room-a", 17, NULL); /* not shown in text */
    cr_log(CR_LOG_WARN, "dtls", "handshake failed: %s", "timeout");
    cr_log_set_format(CR_LOG_JSON);
    cr_log(CR_LOG_INFO, "ice", "selected pair %d", 1);
    cr_log_set_format(CR_LOG_TEXT);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[1024] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    CHECK(n > 0);
    int y, mo, d, h, mi, s, ms, used = 0;
    CHECK_EQ(sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ %n", &y, &mo, &d, &h, &mi, &s, &ms, &used),
             7);
    CHECK(strncmp(buf + used, "WARN dtls: handshake failed: timeout\n{\"time\":\"", 46) == 0);
    CHECK(strstr(buf,
                 "\"component\":\"ice\",\"room\":\"room-a\",\"peer\":17,\"msg\":\"selected pair "
                 "1\"}\n") != NULL);
}

int main(void)
{
    test_members();
    test_escaping();
    test_cut();
    test_scope();
    test_text_unchanged();
    return test_report();
}
