/* Pure schedule arithmetic (docs/scheduling.md): a lesson's occurrences under its weekly
 * recurrence, whether two lessons overlap anywhere, which occurrence's window holds a
 * moment, and the iCalendar (RFC 5545) text of a set of lessons.
 *
 * Times are UTC milliseconds; a weekly recurrence repeats every 7 × 24 h (UTC has no
 * daylight saving, so "same weekday and time" is exact in UTC). Intervals are half-open
 * [start, end): a lesson ending at 09:45 does not clash with one starting at 09:45. No
 * I/O, no clock, no allocation except sched_ical's result. */
#ifndef CR_SIGNALING_SCHED_H
#define CR_SIGNALING_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_WEEK_MS (7LL * 24 * 3600 * 1000)
#define SCHED_MAX_OCCURRENCES 52 /* of a weekly lesson */
#define SCHED_MAX_LENGTH_MS (12LL * 3600 * 1000)

struct sched_rule {
    int64_t start_ms, end_ms; /* the first occurrence */
    int64_t until_ms;         /* 0: once; else weekly while an occurrence starts <= until */
};

struct sched_span {
    int64_t start_ms, end_ms;
};

/* Number of occurrences (1 for a single lesson), at most SCHED_MAX_OCCURRENCES. */
int sched_count(const struct sched_rule *r);
/* The end of the last occurrence. */
int64_t sched_last_end(const struct sched_rule *r);
/* Checks a rule: end > start, length <= SCHED_MAX_LENGTH_MS, until 0 or >= start and at most
 * SCHED_MAX_OCCURRENCES occurrences. NULL if fine, else a sentence. */
const char *sched_rule_invalid(const struct sched_rule *r);

/* Occurrences of r that overlap [from_ms, to_ms), in order: writes up to max into out and
 * returns how many there are in all (may exceed max). */
int sched_expand(const struct sched_rule *r, int64_t from_ms, int64_t to_ms, struct sched_span *out,
                 int max);

/* True if some occurrence of a overlaps some occurrence of b; the first such pair (by a's
 * start) goes into *a_occ and *b_occ (either may be NULL). */
bool sched_overlap(const struct sched_rule *a, const struct sched_rule *b, struct sched_span *a_occ,
                   struct sched_span *b_occ);

/* True if now_ms lies in an occurrence's window [start - early_ms, end + late_ms); that
 * occurrence goes into *occ (may be NULL). The latest-starting one wins if windows touch. */
bool sched_window_at(const struct sched_rule *r, int64_t now_ms, int64_t early_ms, int64_t late_ms,
                     struct sched_span *occ);

/* The first occurrence whose window opens after now_ms, for "opens at" messages. False if
 * none is left. */
bool sched_next(const struct sched_rule *r, int64_t now_ms, int64_t early_ms,
                struct sched_span *occ);

/* One VEVENT of a calendar. */
struct sched_event {
    int64_t id;         /* lesson id: UID "lesson-<id>@<host>" */
    const char *title;  /* SUMMARY */
    const char *detail; /* DESCRIPTION (may be NULL): subject, teacher, classrooms */
    const char *url;    /* URL (may be NULL) */
    struct sched_rule rule;
    int64_t updated_ms; /* DTSTAMP / LAST-MODIFIED */
};

/* An RFC 5545 VCALENDAR (PRODID, VERSION 2.0, X-WR-CALNAME name) with one VEVENT per event,
 * RRULE:FREQ=WEEKLY;UNTIL=... for weekly ones, times in UTC ("...Z"), text escaped
 * (§3.3.11), lines folded at 75 octets without splitting a UTF-8 character (§3.1), CRLF line
 * ends. host names the UIDs. Returns malloc'd text. */
char *sched_ical(const char *name, const char *host, const struct sched_event *events, int n);

#endif
