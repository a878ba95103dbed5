/* Tagged, levelled logging with a per-call-site rate limit.
 *
 * cr_log(LOG_WARN, "dtls", "handshake failed: %s", why) writes one line to stderr:
 *   2026-11-22T13:53:19.123Z WARN dtls: handshake failed: ...
 * CR_LOG_RATE() is for messages caused by bad bytes from the network: it writes at most
 * once per interval per call site and says how many were suppressed. Thread-safe (one
 * fprintf per line); the level is process-wide configuration, set once at start-up. */
#ifndef CR_BASE_LOG_H
#define CR_BASE_LOG_H

#include <stdint.h>

enum cr_log_level { CR_LOG_ERROR = 0, CR_LOG_WARN = 1, CR_LOG_INFO = 2, CR_LOG_DEBUG = 3 };

void cr_log_set_level(enum cr_log_level level);
enum cr_log_level cr_log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns 0 or -1. */
int cr_log_parse_level(const char *name, enum cr_log_level *out);
void cr_log(enum cr_log_level level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* State of one rate-limited call site. */
struct cr_log_rate {
    int64_t last_ms;     /* when a line was last written */
    uint32_t suppressed; /* lines dropped since then */
};
/* Returns 1 if the caller should log now (and reports suppressed count via *suppressed). */
int cr_log_rate_check(struct cr_log_rate *rate, int64_t interval_ms, uint32_t *suppressed);

#define CR_LOG_RATE(level, tag, ...)                                                               \
    do {                                                                                           \
        static struct cr_log_rate cr_rate_;                                                        \
        uint32_t cr_sup_;                                                                          \
        if (cr_log_get_level() >= (level) && cr_log_rate_check(&cr_rate_, 5000, &cr_sup_)) {       \
            if (cr_sup_)                                                                           \
                cr_log((level), (tag), "(%u similar suppressed)", cr_sup_);                        \
            cr_log((level), (tag), __VA_ARGS__);                                                   \
        }                                                                                          \
    } while (0)

#define CR_ERROR(tag, ...) cr_log(CR_LOG_ERROR, tag, __VA_ARGS__)
#define CR_WARN(tag, ...) cr_log(CR_LOG_WARN, tag, __VA_ARGS__)
#define CR_INFO(tag, ...) cr_log(CR_LOG_INFO, tag, __VA_ARGS__)
#define CR_DEBUG(tag, ...)                                                                         \
    do {                                                                                           \
        if (cr_log_get_level() >= CR_LOG_DEBUG)                                                    \
            cr_log(CR_LOG_DEBUG, tag, __VA_ARGS__);                                                \
    } while (0)

#endif
