/* Logging: see log.h. The rate limiter is not locked: a racing pair of threads may both
 * log once, which is harmless. JSON lines follow RFC 8259 §7 (strings: quotation mark,
 * reverse solidus and control characters escaped) and RFC 3629 (what valid UTF-8 is). */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static volatile int g_level = CR_LOG_INFO; /* process-wide configuration, set at start-up */
static volatile int g_format = CR_LOG_TEXT;
__thread struct cr_log_ctx cr_log_ctx_now; /* the calling thread's context (CR_LOG_SCOPE) */

void cr_log_set_format(enum cr_log_format format) { g_format = format; }
enum cr_log_format cr_log_get_format(void) { return (enum cr_log_format)g_format; }

/* A bounded line: a piece that does not fit is left out whole, and so is every piece after
 * it. cap leaves LINE_TAIL bytes of the buffer for what closes it: the quote of an open
 * string, "}\n" and a NUL. */
struct line {
    char *s;
    size_t len, cap;
    bool full;
};

#define LINE_TAIL 4

static void put(struct line *o, const char *s, size_t n)
{
    if (o->full || o->len + n > o->cap) {
        o->full = true;
        return;
    }
    memcpy(o->s + o->len, s, n);
    o->len += n;
}

/* The length of the valid UTF-8 sequence at s (RFC 3629 §4: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0. Reads no further than a NUL. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0], cp, min;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        n = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : n;
}

/* One member whose value is s as a JSON string: head is its name, colon and opening quote
 * (',"room":"'). Left out if head does not fit; the string is cut at a character that
 * does not fit, and closed. */
static void put_member(struct line *o, const char *head, const char *s)
{
    put(o, head, strlen(head));
    if (o->full)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p && !o->full;) {
        size_t n = utf8_seq(p);
        char esc[8];
        if (n == 0) {
            put(o, "\xef\xbf\xbd", 3); /* U+FFFD for each byte that is not UTF-8 */
            n = 1;
        } else if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            put(o, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            put(o, esc, 6);
        } else {
            put(o, (const char *)p, n);
        }
        p += n;
    }
    o->s[o->len++] = '"'; /* in the tail when full; nothing is put after that */
}

static void format_time(char *buf, size_t cap, const struct timespec *ts)
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000);
}

size_t cr_log_json_line(char *out, size_t cap, const struct timespec *ts, enum cr_log_level level,
                        const char *tag, const char *msg, const struct cr_log_ctx *ctx)
{
    static const char *levels[] = {"error", "warn", "info", "debug"};
    if (cap < 256) { /* too small for the fixed part: a bug of the caller */
        if (cap)
            out[0] = '\0';
        return 0;
    }
    char head[96];
    format_time(head, sizeof head, ts);
    struct line o = {out, 0, cap - LINE_TAIL, false};
    put(&o, "{\"time\":\"", 9);
    put(&o, head, strlen(head));
    snprintf(head, sizeof head, "\",\"level\":\"%s\",\"component\":\"", levels[level & 3]);
    put_member(&o, head, tag);
    if (ctx && ctx->room)
        put_member(&o, ",\"room\":\"", ctx->room);
    if (ctx && ctx->peer) {
        snprintf(head, sizeof head, ",\"peer\":%llu", (unsigned long long)ctx->peer);
        put(&o, head, strlen(head));
    }
    if (ctx && ctx->participant)
        put_member(&o, ",\"participant\":\"", ctx->participant);
    put_member(&o, ",\"msg\":\"", msg); /* last: a long message is cut, the line stays whole */
    memcpy(out + o.len, "}\n", 3);
    return o.len + 2;
}

void cr_log_set_level(enum cr_log_level level) { g_level = level; }
enum cr_log_level cr_log_get_level(void) { return (enum cr_log_level)g_level; }

int cr_log_parse_level(const char *name, enum cr_log_level *out)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum cr_log_level)i;
            return 0;
        }
    }
    return -1;
}

void cr_log(enum cr_log_level level, const char *tag, const char *fmt, ...)
{
    static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    if ((int)level > g_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (g_format == CR_LOG_JSON) {
        char line[8192];
        size_t n = cr_log_json_line(line, sizeof line, &ts, level, tag, msg, &cr_log_ctx_now);
        fwrite(line, 1, n, stderr);
        return;
    }
    char time[40];
    format_time(time, sizeof time, &ts);
    fprintf(stderr, "%s %s %s: %s\n", time, names[level], tag, msg);
}

int cr_log_rate_check(struct cr_log_rate *rate, int64_t interval_ms, uint32_t *suppressed)
{
    int64_t now = cr_now_ms();
    if (rate->last_ms != 0 && now - rate->last_ms < interval_ms) {
        rate->suppressed++;
        return 0;
    }
    *suppressed = rate->suppressed;
    rate->suppressed = 0;
    rate->last_ms = now;
    return 1;
}
