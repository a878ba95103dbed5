/* Tagged, levelled logging with a per-call-site rate limit.
 *
 * cr_log(LOG_WARN, "dtls", "handshake failed: %s", why) writes one line to stderr:
 *   2026-11-22T13:53:19.123Z WARN dtls: handshake failed: ...
 * or, in the JSON format (cr_log_set_format; --log-format json), one JSON object a line
 * (RFC 8259; docs/metrics.md):
 *   {"time":"2026-11-22T13:53:19.123Z","level":"warn","component":"dtls",
 *    "room":"math-7b","peer":1234,"msg":"handshake failed: ..."}
 * with "room", "peer" (a relay peer id) and "participant" (signaling's "p7") when the
 * calling thread's log context names them. The context is set for a scope with
 * CR_LOG_SCOPE by whoever knows them: a relay worker around a peer's work (its packets,
 * timers and negotiation), signaling around a participant's or a session's request; a
 * line written outside any scope has none. Strings are escaped, invalid UTF-8 replaced by
 * U+FFFD. The text format does not show the context.
 * CR_LOG_RATE() is for messages caused by bad bytes from the network: it writes at most
 * once per interval per call site and says how many were suppressed. Thread-safe (one
 * fprintf per line); level and format are process-wide configuration, set once at
 * start-up. */
#ifndef CR_BASE_LOG_H
#define CR_BASE_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum cr_log_level { CR_LOG_ERROR = 0, CR_LOG_WARN = 1, CR_LOG_INFO = 2, CR_LOG_DEBUG = 3 };
enum cr_log_format { CR_LOG_TEXT = 0, CR_LOG_JSON = 1 };

/* What a log line is about, per thread. The strings are borrowed: they must outlive the
 * scope that sets them (a caller whose room may close inside copies its name first). */
struct cr_log_ctx {
    const char *room;        /* NULL: none */
    const char *participant; /* NULL: none */
    uint64_t peer;           /* 0: none */
};

/* The calling thread's context (log.c reads it when it writes a JSON line). */
extern __thread struct cr_log_ctx cr_log_ctx_now;

/* Sets the calling thread's context; returns the one before, for cr_log_restore. Inline:
 * a relay worker sets it around every datagram it reads. */
static inline struct cr_log_ctx cr_log_enter(const char *room, uint64_t peer,
                                             const char *participant)
{
    struct cr_log_ctx prev = cr_log_ctx_now;
    cr_log_ctx_now = (struct cr_log_ctx){.room = room, .participant = participant, .peer = peer};
    return prev;
}

static inline void cr_log_restore(struct cr_log_ctx *prev) { cr_log_ctx_now = *prev; }
#define CR_LOG_CAT2_(a, b) a##b
#define CR_LOG_CAT_(a, b) CR_LOG_CAT2_(a, b)
/* The context for the rest of the enclosing block, restored when it ends. */
#define CR_LOG_SCOPE(room, peer, participant)                                                      \
    __attribute__((cleanup(cr_log_restore), unused)) struct cr_log_ctx CR_LOG_CAT_(                \
        cr_log_prev_, __LINE__) = cr_log_enter((room), (peer), (participant))

void cr_log_set_format(enum cr_log_format format);
enum cr_log_format cr_log_get_format(void);
/* The JSON line of one message (with its newline) into out, cap bytes: at least 256, else
 * nothing is written. A message too long for it is cut at a character. Returns the
 * length. Pure, for tests. */
size_t cr_log_json_line(char *out, size_t cap, const struct timespec *ts, enum cr_log_level level,
                        const char *tag, const char *msg, const struct cr_log_ctx *ctx);

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
