/* Logging: see log.h. The rate limiter is not locked: a racing pair of threads may both
 * log once, which is harmless. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static volatile int g_level = CR_LOG_INFO; /* process-wide configuration, set at start-up */

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
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            names[level], tag, msg);
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
